import { createHash, randomBytes } from 'node:crypto';
import { OrgId, asOrgId } from '@tenantry/core';

/**
 * Refresh tokens are opaque: `rt_<scope>_<43 base64url chars of 32 random bytes>`. The scope (the organization's id,
 * or `platform` for the superadmin) only routes the lookup to the right tables before anyone is authenticated; it
 * grants nothing, because the hash of the whole string must match a stored row in that scope.
 */
export type RefreshTokenScope = { kind: 'organization'; orgId: OrgId } | { kind: 'platform' };

export interface ParsedRefreshToken {
  scope: RefreshTokenScope;
  hash: Buffer;
}

const PLATFORM = 'platform';
const FORMAT = /^rt_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|platform)_([A-Za-z0-9_-]{43})$/;

export const hashRefreshToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

export function mintRefreshToken(scope: RefreshTokenScope): { token: string; hash: Buffer } {
  const prefix = scope.kind === 'platform' ? PLATFORM : scope.orgId;
  const token = `rt_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

/** Null for anything that is not one of our tokens: the caller answers 401 without touching the database. */
export function parseRefreshToken(token: unknown): ParsedRefreshToken | null {
  if (typeof token !== 'string') return null;
  const match = FORMAT.exec(token);
  if (!match) return null;
  const scope: RefreshTokenScope = match[1] === PLATFORM ? { kind: 'platform' } : { kind: 'organization', orgId: asOrgId(match[1]) };
  return { scope, hash: hashRefreshToken(token) };
}
