import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@tenantry/core';
import { RefreshTokenScope } from './refresh-token';

export type FamilyRevocationReason = 'logout' | 'reuse' | 'subject_changed';

export interface LockedFamily {
  id: string;
  subjectId: string;
  tokenVersion: number;
  revoked: boolean;
  /** The presented token's row, read after the family lock was taken. */
  token: { id: string; used: boolean; expired: boolean };
}

interface Tables {
  families: string;
  tokens: string;
  subject: string;
  /** The tenant column, when the tables have one: RLS checks it on insert. */
  orgColumn: boolean;
}

const ORGANIZATION: Tables = { families: 'refresh_token_families', tokens: 'refresh_tokens', subject: 'user_id', orgColumn: true };
const PLATFORM: Tables = {
  families: 'platform_refresh_token_families',
  tokens: 'platform_refresh_tokens',
  subject: 'admin_id',
  orgColumn: false,
};

/**
 * Refresh token families and their tokens, on the current unit of work's transaction. The caller binds that
 * transaction to the token's scope first (its organization, or the platform), so RLS scopes every statement here.
 */
@Injectable()
export class RefreshTokensRepository {
  constructor(private readonly uow: UnitOfWork) {}

  private tables(scope: RefreshTokenScope): Tables {
    return scope.kind === 'platform' ? PLATFORM : ORGANIZATION;
  }

  async createFamily(scope: RefreshTokenScope, subjectId: string, tokenVersion: number): Promise<string> {
    const t = this.tables(scope);
    const rows: Array<{ id: string }> = t.orgColumn
      ? await this.uow.manager.query(
          `insert into ${t.families} (org_id, ${t.subject}, token_version) values ($1, $2, $3) returning id`,
          [(scope as { orgId: string }).orgId, subjectId, tokenVersion],
        )
      : await this.uow.manager.query(`insert into ${t.families} (${t.subject}, token_version) values ($1, $2) returning id`, [
          subjectId,
          tokenVersion,
        ]);
    return rows[0].id;
  }

  async addToken(scope: RefreshTokenScope, familyId: string, hash: Buffer, ttlSeconds: number): Promise<void> {
    const t = this.tables(scope);
    const expires = `now() + make_interval(secs => $3)`;
    if (t.orgColumn) {
      await this.uow.manager.query(
        `insert into ${t.tokens} (org_id, family_id, token_hash, expires_at) values ($4, $1, $2, ${expires})`,
        [familyId, hash, ttlSeconds, (scope as { orgId: string }).orgId],
      );
    } else {
      await this.uow.manager.query(`insert into ${t.tokens} (family_id, token_hash, expires_at) values ($1, $2, ${expires})`, [
        familyId,
        hash,
        ttlSeconds,
      ]);
    }
  }

  /**
   * Locks the family of the token with `hash` (`for update`), then reads the token. Every rotation, reuse check and
   * logout of one family runs one after the other, and the token row read after the lock is the committed one, so
   * two refreshes with one token cannot both find it unspent.
   */
  async lockFamilyByTokenHash(scope: RefreshTokenScope, hash: Buffer): Promise<LockedFamily | null> {
    const t = this.tables(scope);
    const families: Array<{ id: string; subject_id: string; token_version: number; revoked: boolean }> = await this.uow.manager.query(
      `select f.id, f.${t.subject} as subject_id, f.token_version, f.revoked_at is not null as revoked
         from ${t.families} f
        where f.id = (select family_id from ${t.tokens} where token_hash = $1)
          for update`,
      [hash],
    );
    const family = families[0];
    if (!family) return null;
    const tokens: Array<{ id: string; used: boolean; expired: boolean }> = await this.uow.manager.query(
      `select id, used_at is not null as used, expires_at <= now() as expired from ${t.tokens} where token_hash = $1`,
      [hash],
    );
    if (!tokens[0]) return null;
    return { id: family.id, subjectId: family.subject_id, tokenVersion: family.token_version, revoked: family.revoked, token: tokens[0] };
  }

  async markUsed(scope: RefreshTokenScope, tokenId: string): Promise<void> {
    const t = this.tables(scope);
    await this.uow.manager.query(`update ${t.tokens} set used_at = now() where id = $1`, [tokenId]);
  }

  async revokeFamily(scope: RefreshTokenScope, familyId: string, reason: FamilyRevocationReason): Promise<void> {
    const t = this.tables(scope);
    await this.uow.manager.query(
      `update ${t.families} set revoked_at = now(), revoked_reason = $2 where id = $1 and revoked_at is null`,
      [familyId, reason],
    );
  }
}
