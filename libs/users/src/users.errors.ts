import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum UserErrorCode {
  NotFound = 'user_not_found',
  EmailTaken = 'user_email_taken',
}

export class UserError extends DomainError<UserErrorCode> {
  problem(): ProblemShape {
    switch (this.code) {
      case UserErrorCode.NotFound:
        return { status: 404, title: 'Not Found' };
      case UserErrorCode.EmailTaken:
        return { status: 409, title: 'Conflict' };
      default:
        return assertNever(this.code);
    }
  }
}
