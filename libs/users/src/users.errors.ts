import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum UserErrorCode {
  NotFound = 'user_not_found',
  EmailTaken = 'user_email_taken',
  /** The user exists in the caller's organization, but the policy does not let the caller do this to them. */
  Forbidden = 'user_forbidden',
  /** The change would leave the organization without an active admin. */
  LastAdmin = 'user_last_admin',
  CurrentPasswordIncorrect = 'user_current_password_incorrect',
}

export class UserError extends DomainError<UserErrorCode> {
  static notFound(): UserError {
    return new UserError(UserErrorCode.NotFound, 'User not found');
  }

  static forbidden(message: string): UserError {
    return new UserError(UserErrorCode.Forbidden, message);
  }

  static lastAdmin(): UserError {
    return new UserError(
      UserErrorCode.LastAdmin,
      'This would leave the organization without an active admin: promote another admin first',
    );
  }

  static currentPasswordIncorrect(): UserError {
    return new UserError(UserErrorCode.CurrentPasswordIncorrect, 'The current password is not correct');
  }

  problem(): ProblemShape {
    switch (this.code) {
      case UserErrorCode.NotFound:
        return { status: 404, title: 'Not Found' };
      case UserErrorCode.EmailTaken:
        return { status: 409, title: 'Conflict' };
      case UserErrorCode.Forbidden:
        return { status: 403, title: 'Forbidden' };
      case UserErrorCode.LastAdmin:
        return { status: 409, title: 'Conflict' };
      case UserErrorCode.CurrentPasswordIncorrect:
        return {
          status: 400,
          title: 'Bad Request',
          errors: [{ field: 'currentPassword', message: 'currentPassword is not correct' }],
        };
      default:
        return assertNever(this.code);
    }
  }
}
