import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum AuthErrorCode {
  InvalidCredentials = 'invalid_credentials',
  InvalidToken = 'invalid_token',
  InvalidRefreshToken = 'invalid_refresh_token',
  Forbidden = 'forbidden',
}

export class AuthError extends DomainError<AuthErrorCode> {
  /** One message for every login mismatch: unknown organization, unknown e-mail, wrong password, deactivated. */
  static invalidCredentials(): AuthError {
    return new AuthError(AuthErrorCode.InvalidCredentials, 'The organization, e-mail or password is not correct');
  }

  static invalidToken(): AuthError {
    return new AuthError(AuthErrorCode.InvalidToken, 'The access token is missing, invalid, expired or revoked');
  }

  /** One message for every refusal (unknown, malformed, spent, revoked, expired, subject changed): it tells a thief nothing. */
  static invalidRefreshToken(): AuthError {
    return new AuthError(AuthErrorCode.InvalidRefreshToken, 'The refresh token is invalid, expired or revoked; log in again');
  }

  problem(): ProblemShape {
    switch (this.code) {
      case AuthErrorCode.InvalidCredentials:
      case AuthErrorCode.InvalidToken:
      case AuthErrorCode.InvalidRefreshToken:
        return { status: 401, title: 'Unauthorized' };
      case AuthErrorCode.Forbidden:
        return { status: 403, title: 'Forbidden' };
      default:
        return assertNever(this.code);
    }
  }
}
