import { asOrgId } from '@tenantry/core';
import { hashRefreshToken, mintRefreshToken, parseRefreshToken } from './refresh-token';

describe('refresh token format', () => {
  const orgId = asOrgId('3f1c2b9e-7d3a-4c8e-9b1f-2a6d4e8c0b7a');

  it('mints a routable token with 32 random bytes and parses it back to its scope and hash', () => {
    const minted = mintRefreshToken({ kind: 'organization', orgId });
    expect(minted.token).toMatch(new RegExp(`^rt_${orgId}_[A-Za-z0-9_-]{43}$`));
    const parsed = parseRefreshToken(minted.token);
    expect(parsed?.scope).toEqual({ kind: 'organization', orgId });
    expect(parsed?.hash.equals(minted.hash)).toBe(true);
    expect(minted.hash).toEqual(hashRefreshToken(minted.token));
  });

  it('mints platform tokens for the superadmin', () => {
    const minted = mintRefreshToken({ kind: 'platform' });
    expect(parseRefreshToken(minted.token)?.scope).toEqual({ kind: 'platform' });
  });

  it('never mints the same token twice', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => mintRefreshToken({ kind: 'platform' }).token));
    expect(tokens.size).toBe(1000);
  });

  it.each([
    ['a number', 42],
    ['an empty string', ''],
    ['a JWT', 'eyJhbGciOiJIUzI1NiJ9.e30.x'],
    ['a bad scope', `rt_not-a-uuid_${'a'.repeat(43)}`],
    ['a short random part', `rt_platform_${'a'.repeat(42)}`],
    ['a non-hex uuid', `rt_zzzzzzzz-7d3a-4c8e-9b1f-2a6d4e8c0b7a_${'a'.repeat(43)}`],
    ['trailing garbage', `rt_platform_${'a'.repeat(43)}x`],
  ])('rejects %s', (_case, token) => {
    expect(parseRefreshToken(token)).toBeNull();
  });
});
