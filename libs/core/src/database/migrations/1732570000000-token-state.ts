import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, quoteIdent } from '../rls';

export const TOKEN_STATE_CHANNEL = 'tenantry_token_state';

/**
 * What every authenticated request checks, made cheap:
 * - `token_state(org, subject)` answers the state a token depends on (status, role, token version, and the
 *   organization's status) in one call. It runs with the owner's rights, so it needs no tenant bound first and can
 *   share a round trip with the statement that binds one. A NULL organization means a platform admin.
 * - Triggers NOTIFY `tenantry_token_state` when any of that state changes. PostgreSQL delivers a NOTIFY only when its
 *   transaction commits, to every API process listening, whichever path made the change (the app, a migration, an
 *   operator in psql): that is what invalidates the per-process token-state caches.
 */
export class TokenState1732570000000 implements MigrationInterface {
  name = 'TokenState1732570000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const role = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`
      create function token_state(p_org uuid, p_subject uuid)
      returns table (status text, role text, token_version integer, org_status text)
      language sql stable security definer set search_path = public
      as $$
        select u.status, u.role, u.token_version, o.status
          from users u join organizations o on o.id = u.org_id
         where p_org is not null and u.org_id = p_org and u.id = p_subject
        union all
        select a.status, 'superadmin', a.token_version, 'active'
          from platform_admins a
         where p_org is null and a.id = p_subject
      $$`);
    await queryRunner.query(`revoke all on function token_state(uuid, uuid) from public`);
    await queryRunner.query(`grant execute on function token_state(uuid, uuid) to ${role}`);

    await queryRunner.query(`
      create function notify_token_state() returns trigger
      language plpgsql as $$
      begin
        perform pg_notify('${TOKEN_STATE_CHANNEL}', tg_table_name || ':' || coalesce(new.id, old.id)::text);
        return null;
      end $$`);
    await queryRunner.query(`
      create trigger users_token_state after update of status, role, token_version or delete on users
      for each row execute function notify_token_state()`);
    await queryRunner.query(`
      create trigger organizations_token_state after update of status or delete on organizations
      for each row execute function notify_token_state()`);
    await queryRunner.query(`
      create trigger platform_admins_token_state after update of status, token_version or delete on platform_admins
      for each row execute function notify_token_state()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop trigger platform_admins_token_state on platform_admins`);
    await queryRunner.query(`drop trigger organizations_token_state on organizations`);
    await queryRunner.query(`drop trigger users_token_state on users`);
    await queryRunner.query(`drop function notify_token_state()`);
    await queryRunner.query(`drop function token_state(uuid, uuid)`);
  }
}
