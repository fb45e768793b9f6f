import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, enableTenantRls, grantRowAccess, quoteIdent } from '../rls';

/**
 * Invitations, behind RLS like every tenant table. The token is stored as its SHA-256 hash (unique across
 * organizations: accepting resolves it before anyone is authenticated), and, only until the message that carries it
 * was accepted by the communication service, encrypted with ENCRYPTION_KEY (`token_ciphertext`): the relay can then
 * send again what a crash or a Redis outage lost, and no plaintext token sits in Redis or the database.
 *
 * Three narrow functions run with the owner's rights, for the paths that must see every organization's rows:
 * - `invitation_by_token(hash)`: the organization and id of the invitation with that hash, nothing else (accept binds
 *   that organization next, as `token_state()` lets the auth guard read before binding one);
 * - `claim_unsent_invitations(stale, max)`: the relay's claim of unsent invitations last queued longer ago than `stale`;
 * - `purge_expired_credentials(older_than)`: the housekeeping purge, with what it removed per kind.
 */
export class Invitations1732600000000 implements MigrationInterface {
  name = 'Invitations1732600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const role = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`
      create table invitations (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        user_id uuid not null references users (id) on delete cascade,
        token_hash bytea not null,
        token_ciphertext bytea,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz,
        replaced_at timestamptz,
        sent_at timestamptz,
        enqueued_at timestamptz,
        delivery_attempts integer not null default 0,
        last_error text
      )`);
    await queryRunner.query(`create unique index invitations_token_hash_key on invitations (token_hash)`);
    await queryRunner.query(`create index invitations_org_user_idx on invitations (org_id, user_id)`);
    await queryRunner.query(
      `create index invitations_unsent_idx on invitations (enqueued_at) where sent_at is null and used_at is null and replaced_at is null`,
    );
    await enableTenantRls(queryRunner, 'invitations');
    await grantRowAccess(queryRunner, 'invitations');

    await queryRunner.query(`
      create function invitation_by_token(p_hash bytea)
      returns table (org_id uuid, id uuid)
      language sql stable security definer set search_path = public
      as $$ select i.org_id, i.id from invitations i where i.token_hash = p_hash $$`);

    await queryRunner.query(`
      create function claim_unsent_invitations(p_stale interval, p_max integer)
      returns table (org_id uuid, id uuid)
      language sql volatile security definer set search_path = public
      as $$
        update invitations i set enqueued_at = now()
         where i.id in (
           select c.id from invitations c
            where c.sent_at is null and c.used_at is null and c.replaced_at is null and c.expires_at > now()
              and c.token_ciphertext is not null
              and (c.enqueued_at is null or c.enqueued_at < now() - p_stale)
            order by c.created_at
            limit p_max
              for update skip locked)
        returning i.org_id, i.id
      $$`);

    await queryRunner.query(`
      create function purge_expired_credentials(p_older_than interval)
      returns table (kind text, removed bigint)
      language plpgsql volatile security definer set search_path = public
      as $$
      declare
        cutoff timestamptz := now() - p_older_than;
      begin
        delete from refresh_tokens t using refresh_token_families f
         where f.id = t.family_id and (t.expires_at < cutoff or f.revoked_at < cutoff);
        kind := 'refreshTokens'; get diagnostics removed = row_count; return next;
        delete from refresh_token_families f
         where f.revoked_at < cutoff
            or (f.created_at < cutoff and not exists (select 1 from refresh_tokens t where t.family_id = f.id));
        kind := 'refreshTokenFamilies'; get diagnostics removed = row_count; return next;
        delete from platform_refresh_tokens t using platform_refresh_token_families f
         where f.id = t.family_id and (t.expires_at < cutoff or f.revoked_at < cutoff);
        kind := 'platformRefreshTokens'; get diagnostics removed = row_count; return next;
        delete from platform_refresh_token_families f
         where f.revoked_at < cutoff
            or (f.created_at < cutoff and not exists (select 1 from platform_refresh_tokens t where t.family_id = f.id));
        kind := 'platformRefreshTokenFamilies'; get diagnostics removed = row_count; return next;
        delete from invitations i where i.used_at < cutoff or i.replaced_at < cutoff or i.expires_at < cutoff;
        kind := 'invitations'; get diagnostics removed = row_count; return next;
      end $$`);

    for (const fn of ['invitation_by_token(bytea)', 'claim_unsent_invitations(interval, integer)', 'purge_expired_credentials(interval)']) {
      await queryRunner.query(`revoke all on function ${fn} from public`);
      await queryRunner.query(`grant execute on function ${fn} to ${role}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function purge_expired_credentials(interval)`);
    await queryRunner.query(`drop function claim_unsent_invitations(interval, integer)`);
    await queryRunner.query(`drop function invitation_by_token(bytea)`);
    await queryRunner.query(`drop table invitations`);
  }
}
