import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, enableTenantRls, grantRowAccess, quoteIdent } from '../rls';

/**
 * The webhook inbox: every accepted event, stored before the sender hears 202. `(org_id, provider, event_id)` is
 * unique, so a duplicate is refused by the database itself, under any concurrency. `generation` moves with every
 * replay: a job id is `{org}:{id}:{generation}`, so re-adding the job of an event is a no-op until it is replayed.
 *
 * The relay reads across organizations (events whose job may have been lost with Redis) through one SECURITY DEFINER
 * function that returns ids only; everything else runs bound to the event's organization.
 */
export class WebhookEvents1732620000000 implements MigrationInterface {
  name = 'WebhookEvents1732620000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const app = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`
      create table webhook_events (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        provider text not null check (provider in ('user-service', 'payment-service', 'communication-service')),
        event_id text not null,
        type text not null,
        occurred_at timestamptz not null,
        data jsonb not null,
        status text not null default 'received' check (status in ('received', 'processing', 'processed', 'failed', 'dead')),
        attempts integer not null default 0,
        last_error text,
        generation integer not null default 0,
        received_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        processed_at timestamptz
      )`);
    await queryRunner.query(`create unique index webhook_events_org_provider_event_key on webhook_events (org_id, provider, event_id)`);
    await queryRunner.query(`create index webhook_events_org_received_idx on webhook_events (org_id, received_at desc, id)`);
    await queryRunner.query(`create index webhook_events_org_status_idx on webhook_events (org_id, status, provider)`);
    await queryRunner.query(`create index webhook_events_pending_idx on webhook_events (updated_at) where status in ('received', 'processing', 'failed')`);
    await enableTenantRls(queryRunner, 'webhook_events');
    await grantRowAccess(queryRunner, 'webhook_events');

    await queryRunner.query(`
      create function webhook_events_to_relay(p_older_than interval, p_limit integer)
      returns table (id uuid, org_id uuid, provider text, generation integer)
      language sql stable security definer set search_path = public, pg_temp as $$
        select e.id, e.org_id, e.provider, e.generation from webhook_events e
        where e.status in ('received', 'processing', 'failed') and e.updated_at < now() - p_older_than
        order by e.updated_at limit p_limit
      $$`);
    await queryRunner.query(`revoke all on function webhook_events_to_relay(interval, integer) from public`);
    await queryRunner.query(`grant execute on function webhook_events_to_relay(interval, integer) to ${app}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function webhook_events_to_relay(interval, integer)`);
    await queryRunner.query(`drop table webhook_events`);
  }
}
