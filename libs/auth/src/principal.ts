import { Role } from '@tenantry/core';

/** The claims of our access tokens. */
export interface AccessTokenClaims {
  sub: string;
  org: string | null;
  role: Role;
  /** The user's token version: bumping it (deactivation, password change) revokes every token issued before. */
  ver: number;
  jti: string;
  iat: number;
  exp: number;
}

/** Who is calling, once the token is verified; `request.user`. */
export interface Principal {
  userId: string;
  orgId: string | null;
  role: Role;
  tokenId: string;
}
