import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, quoteIdent } from '../rls';

/**
 * The webhook inbox insert as one statement that binds its own tenant: `set_config('app.tenant_id', …, true)` lasts
 * for the implicit transaction of the single statement that calls it, so the insert runs under the same RLS policy as
 * any unit of work, in one round trip instead of three (begin + binding, insert, commit). SECURITY INVOKER: it runs
 * as the app role, with no right the caller does not have; the organization it binds is the one whose secret
 * verified the request. Rows go in in event-id order, so overlapping concurrent batches take their unique-index
 * locks in the same order and cannot deadlock.
 */
export class WebhookInboxInsert1732640000000 implements MigrationInterface {
  name = 'WebhookInboxInsert1732640000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      create function webhook_inbox_insert(p_org uuid, p_provider text, p_events jsonb)
      returns table (id uuid, event_id text)
      language plpgsql security invoker set search_path = public
      as $$
      #variable_conflict use_column
      begin
        perform set_config('app.tenant_id', p_org::text, true);
        return query
          insert into webhook_events as w (org_id, provider, event_id, type, occurred_at, data)
          select p_org, p_provider, e.id, e.type, e."occurredAt", e.data
            from jsonb_to_recordset(p_events) as e(id text, type text, "occurredAt" timestamptz, data jsonb)
           order by e.id
          on conflict (org_id, provider, event_id) do nothing
          returning w.id, w.event_id;
      end
      $$`);
    await queryRunner.query(`revoke all on function webhook_inbox_insert(uuid, text, jsonb) from public`);
    await queryRunner.query(`grant execute on function webhook_inbox_insert(uuid, text, jsonb) to ${quoteIdent(appRoleFromEnv().name)}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function webhook_inbox_insert(uuid, text, jsonb)`);
  }
}
