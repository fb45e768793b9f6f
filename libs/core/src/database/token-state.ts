import { Role } from '../context/tenant-context';

/** What an access token depends on, as stored now: the subject's status, role and token version, and its organization's status. */
export interface TokenState {
  status: string;
  role: Role;
  tokenVersion: number;
  orgStatus: string;
}

export interface TokenStateRow {
  status: string | null;
  role: Role | null;
  token_version: number | null;
  org_status: string | null;
}

/** The columns of `token_state(org, subject)` (see the token-state migration), under the names `toTokenState` reads. */
export const TOKEN_STATE_COLUMNS = 's.status, s.role, s.token_version, s.org_status';
/** The state of one subject: $1 the organization (null for a platform admin), $2 the subject. */
export const TOKEN_STATE_SQL = `select ${TOKEN_STATE_COLUMNS} from token_state($1, $2) as s`;

export function toTokenState(row: TokenStateRow | undefined): TokenState | null {
  if (!row || row.status === null || row.role === null || row.token_version === null || row.org_status === null) return null;
  return { status: row.status, role: row.role, tokenVersion: row.token_version, orgStatus: row.org_status };
}

/**
 * A token state that the guard took from its per-process cache, to be confirmed by the request's first transaction
 * in the same round trip that binds the tenant. `confirm` throws when the stored state no longer admits the token.
 */
export interface PendingTokenConfirmation {
  orgId: string | null;
  subject: string;
  confirm(state: TokenState | null): void;
}
