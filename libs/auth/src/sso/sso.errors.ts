import { DomainError, ProblemShape, assertNever } from '@tenantry/core';

export enum SsoErrorCode {
  NotConfigured = 'sso_not_configured',
  DomainTaken = 'sso_domain_taken',
  NoOrganizationForDomain = 'sso_no_organization_for_domain',
  LoginFailed = 'sso_login_failed',
  IdentityProviderUnavailable = 'sso_identity_provider_unavailable',
}

export class SsoError extends DomainError<SsoErrorCode> {
  static notConfigured(): SsoError {
    return new SsoError(SsoErrorCode.NotConfigured, 'No single sign-on for this organization');
  }

  static domainTaken(domain: string): SsoError {
    return new SsoError(SsoErrorCode.DomainTaken, `The domain ${domain} is claimed by another organization`);
  }

  static noOrganizationForDomain(): SsoError {
    return new SsoError(SsoErrorCode.NoOrganizationForDomain, 'No organization signs in with this e-mail domain');
  }

  /** Every refusal of a callback (state, nonce, issuer, audience, signature, expiry, a deactivated user) says the same. */
  static loginFailed(): SsoError {
    return new SsoError(SsoErrorCode.LoginFailed, 'Single sign-on failed; start again from the login page');
  }

  static identityProviderUnavailable(): SsoError {
    return new SsoError(SsoErrorCode.IdentityProviderUnavailable, 'The identity provider did not answer; try again shortly');
  }

  problem(): ProblemShape {
    switch (this.code) {
      case SsoErrorCode.NotConfigured:
      case SsoErrorCode.NoOrganizationForDomain:
        return { status: 404, title: 'Not Found' };
      case SsoErrorCode.DomainTaken:
        return { status: 409, title: 'Conflict' };
      case SsoErrorCode.LoginFailed:
        return { status: 401, title: 'Unauthorized' };
      case SsoErrorCode.IdentityProviderUnavailable:
        return { status: 502, title: 'Bad Gateway' };
      default:
        return assertNever(this.code);
    }
  }
}
