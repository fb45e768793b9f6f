import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum InvitationErrorCode {
  /** Unknown, malformed, spent, expired or replaced: one answer for all, it tells a guesser nothing. */
  InvalidInvitation = 'invalid_invitation',
  UserNotPending = 'invitation_user_not_pending',
}

export class InvitationError extends DomainError<InvitationErrorCode> {
  static invalid(): InvitationError {
    return new InvitationError(InvitationErrorCode.InvalidInvitation, 'The invitation is invalid, expired or already used; ask your admin for a new one');
  }

  static userNotPending(status: string): InvitationError {
    return new InvitationError(InvitationErrorCode.UserNotPending, `Only a pending user can be invited; this user is ${status}`);
  }

  problem(): ProblemShape {
    switch (this.code) {
      case InvitationErrorCode.InvalidInvitation:
        return { status: 401, title: 'Unauthorized' };
      case InvitationErrorCode.UserNotPending:
        return { status: 409, title: 'Conflict' };
      default:
        return assertNever(this.code);
    }
  }
}
