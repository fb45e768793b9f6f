import { MigrationInterface, QueryRunner } from 'typeorm';
import { enableTenantRls, grantRowAccess } from '../rls';

/**
 * What the external services tell us, kept per organization behind RLS. Every synced row has the service's id
 * (unique per organization), `source_updated_at`: the time of the change that last wrote it (the record's `updatedAt`
 * on a pull, an event's `occurredAt` later), so that an older change never overwrites a newer one, and `removed_at`
 * for what the service no longer has (kept, not deleted: the audit trail and the invoices still point at it).
 */
export class SyncedData1732590000000 implements MigrationInterface {
  name = 'SyncedData1732590000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`alter table users add column source_updated_at timestamptz`);

    await queryRunner.query(`
      create table subscriptions (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        external_id text not null,
        plan text not null,
        status text not null,
        source_updated_at timestamptz not null,
        removed_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await queryRunner.query(`create unique index subscriptions_org_external_key on subscriptions (org_id, external_id)`);
    await queryRunner.query(`create index subscriptions_org_created_idx on subscriptions (org_id, created_at desc, id)`);

    await queryRunner.query(`
      create table invoices (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        external_id text not null,
        subscription_external_id text,
        amount bigint,
        currency text,
        status text not null,
        source_updated_at timestamptz not null,
        removed_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await queryRunner.query(`create unique index invoices_org_external_key on invoices (org_id, external_id)`);
    await queryRunner.query(`create index invoices_org_created_idx on invoices (org_id, created_at desc, id)`);

    await queryRunner.query(`
      create table messages (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        external_id text not null,
        recipient text not null,
        channel text not null,
        status text not null,
        reason text,
        subject text,
        source_updated_at timestamptz not null,
        removed_at timestamptz,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await queryRunner.query(`create unique index messages_org_external_key on messages (org_id, external_id)`);
    await queryRunner.query(`create index messages_org_created_idx on messages (org_id, created_at desc, id)`);

    for (const table of ['subscriptions', 'invoices', 'messages']) {
      await enableTenantRls(queryRunner, table);
      await grantRowAccess(queryRunner, table);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop table messages`);
    await queryRunner.query(`drop table invoices`);
    await queryRunner.query(`drop table subscriptions`);
    await queryRunner.query(`alter table users drop column source_updated_at`);
  }
}
