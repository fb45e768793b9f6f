import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, enableTenantRls, grantRowAccess, quoteIdent } from '../rls';

/**
 * Each organization's signing secret per provider, sealed with ENCRYPTION_KEY (SecretBox): the database never holds
 * one in plaintext. A rotation keeps the rotated-out secret, still sealed, until `previous_valid_until`, so senders
 * can switch over without losing events.
 *
 * `webhook_endpoint_secrets(slug, provider)` serves the anonymous ingest path: in one round trip and with no tenant
 * bound, it finds the organization by slug and that provider's sealed secrets. It runs with the owner's rights, so
 * it answers nothing but these columns, and only to the app role; a deactivated organization's secrets are not
 * returned (the row says it is not active), and an unknown slug answers no row.
 */
export class WebhookSecrets1732610000000 implements MigrationInterface {
  name = 'WebhookSecrets1732610000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      create table webhook_secrets (
        org_id uuid not null references organizations (id),
        provider text not null check (provider in ('user-service', 'payment-service', 'communication-service')),
        id uuid not null default gen_random_uuid() unique,
        secret bytea not null,
        previous_secret bytea,
        previous_valid_until timestamptz,
        created_at timestamptz not null default now(),
        rotated_at timestamptz not null default now(),
        primary key (org_id, provider),
        constraint webhook_secrets_previous_has_deadline check ((previous_secret is null) = (previous_valid_until is null))
      )`);
    await enableTenantRls(queryRunner, 'webhook_secrets');
    await grantRowAccess(queryRunner, 'webhook_secrets');

    const role = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`
      create function webhook_endpoint_secrets(p_slug text, p_provider text)
      returns table (org_id uuid, org_active boolean, secret bytea, previous_secret bytea, previous_valid_until timestamptz)
      language sql stable security definer set search_path = public
      as $$
        select o.id,
               o.status = 'active',
               case when o.status = 'active' then s.secret end,
               case when o.status = 'active' and s.previous_valid_until > now() then s.previous_secret end,
               case when o.status = 'active' and s.previous_valid_until > now() then s.previous_valid_until end
          from organizations o
          left join webhook_secrets s on s.org_id = o.id and s.provider = p_provider
         where o.slug = lower(p_slug)
      $$`);
    await queryRunner.query(`revoke all on function webhook_endpoint_secrets(text, text) from public`);
    await queryRunner.query(`grant execute on function webhook_endpoint_secrets(text, text) to ${role}`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function webhook_endpoint_secrets(text, text)`);
    await queryRunner.query(`drop table webhook_secrets`);
  }
}
