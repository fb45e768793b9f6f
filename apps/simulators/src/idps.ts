import { createHash } from 'node:crypto';

import { createIdentityProviderSimulator, IdentityProviderSimulator, stableUuid } from './identity-provider';

export const DEFAULT_AZURE_AD_TENANT_ID = '5f1c2b9e-7d3a-4c8e-9b1f-2a6d4e8c0b7a';

export interface AzureAdSimulatorOptions {
  /** The directory (tenant) id in the issuer and the `tid` claim. */
  tenantId?: string;
  /** The issuer's origin (default `http://127.0.0.1:{the port listened on}`). */
  issuerBase?: string;
}

export interface OktaSimulatorOptions {
  /** The issuer's origin (default `http://127.0.0.1:{the port listened on}`). */
  issuerBase?: string;
}

/**
 * Shaped like Microsoft Entra ID v2.0: issuer `{base}/{tenantId}/v2.0`, and the ID token carries `tid`, `oid`,
 * `preferred_username`, `email`, `name` and `groups`. As at Entra ID, `sub` differs from `oid`; both are stable for
 * an email at a tenant.
 */
export function createAzureAdSimulator(options: AzureAdSimulatorOptions = {}): IdentityProviderSimulator {
  const tenantId = options.tenantId ?? DEFAULT_AZURE_AD_TENANT_ID;
  if (!/^[A-Za-z0-9._-]+$/.test(tenantId)) throw new Error(`AZURE_AD_TENANT_ID must be one path segment, got "${tenantId}"`);
  const oidOf = (email: string) => stableUuid(`azure-ad|${tenantId}|oid|${email.toLowerCase()}`);
  return createIdentityProviderSimulator({
    name: 'azure-ad',
    issuerPath: `/${tenantId}/v2.0`,
    issuerBase: options.issuerBase,
    subjectOf: (email) => createHash('sha256').update(`azure-ad|${tenantId}|sub|${email}`).digest('base64url'),
    claimNames: ['tid', 'oid', 'preferred_username', 'email', 'name', 'groups'],
    claimsOf: (user) => ({
      tid: tenantId,
      oid: oidOf(user.email),
      preferred_username: user.email,
      email: user.email,
      name: user.name,
      groups: [...user.groups],
    }),
    idsOf: (user) => ({ oid: oidOf(user.email), sub: user.sub }),
  });
}

/** Shaped like an Okta custom authorization server: issuer `{base}/oauth2/default`, claims `sub`, `email`, `name`, `groups`. */
export function createOktaSimulator(options: OktaSimulatorOptions = {}): IdentityProviderSimulator {
  return createIdentityProviderSimulator({
    name: 'okta',
    issuerPath: '/oauth2/default',
    issuerBase: options.issuerBase,
    // Okta user ids look like `00u` and 17 more letters and digits.
    subjectOf: (email) => `00u${createHash('sha256').update(`okta|${email}`).digest('base64url').replace(/[-_]/g, '').slice(0, 17)}`,
    claimNames: ['email', 'name', 'groups'],
    claimsOf: (user) => ({ email: user.email, name: user.name, groups: [...user.groups] }),
    idsOf: (user) => ({ sub: user.sub }),
  });
}
