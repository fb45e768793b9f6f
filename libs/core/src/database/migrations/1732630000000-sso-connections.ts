import { MigrationInterface, QueryRunner } from 'typeorm';
import { appRoleFromEnv, enableTenantRls, grantRowAccess, quoteIdent } from '../rls';

/**
 * One OpenID Connect connection per organization (its client secret sealed with ENCRYPTION_KEY), and the e-mail
 * domains it claims: a domain belongs to one organization only, which the primary key enforces across tenants.
 * Anonymous paths (discovery by e-mail, the login redirect and its callback) read them through two SECURITY DEFINER
 * functions that answer only what those paths need.
 */
export class SsoConnections1732630000000 implements MigrationInterface {
  name = 'SsoConnections1732630000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const role = quoteIdent(appRoleFromEnv().name);
    await queryRunner.query(`
      create table sso_connections (
        org_id uuid primary key references organizations (id),
        id uuid not null unique default gen_random_uuid(),
        provider text not null check (provider in ('azure-ad', 'okta', 'oidc')),
        issuer text not null check (length(issuer) between 1 and 500),
        client_id text not null check (length(client_id) between 1 and 200),
        client_secret bytea not null,
        default_role text not null check (default_role in ('admin', 'member', 'viewer')),
        group_roles jsonb not null default '{}',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await enableTenantRls(queryRunner, 'sso_connections');
    await grantRowAccess(queryRunner, 'sso_connections');

    await queryRunner.query(`
      create table sso_domains (
        domain text primary key check (domain = lower(domain) and length(domain) between 3 and 253),
        org_id uuid not null references organizations (id),
        created_at timestamptz not null default now()
      )`);
    await queryRunner.query(`create index sso_domains_org_idx on sso_domains (org_id)`);
    await enableTenantRls(queryRunner, 'sso_domains');
    await grantRowAccess(queryRunner, 'sso_domains');

    await queryRunner.query(`
      create function sso_discover(p_domain text)
      returns table (slug text)
      language sql stable security definer set search_path = public
      as $$
        select o.slug from sso_domains d join organizations o on o.id = d.org_id join sso_connections c on c.org_id = o.id
         where d.domain = lower(p_domain) and o.status = 'active'
      $$`);
    await queryRunner.query(`
      create function sso_connection_for(p_slug text)
      returns table (org_id uuid, provider text, issuer text, client_id text, client_secret bytea, default_role text,
                     group_roles jsonb, updated_at timestamptz)
      language sql stable security definer set search_path = public
      as $$
        select c.org_id, c.provider, c.issuer, c.client_id, c.client_secret, c.default_role, c.group_roles, c.updated_at
          from organizations o join sso_connections c on c.org_id = o.id
         where o.slug = lower(p_slug) and o.status = 'active'
      $$`);
    for (const fn of ['sso_discover(text)', 'sso_connection_for(text)']) {
      await queryRunner.query(`revoke all on function ${fn} from public`);
      await queryRunner.query(`grant execute on function ${fn} to ${role}`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop function sso_connection_for(text)`);
    await queryRunner.query(`drop function sso_discover(text)`);
    await queryRunner.query(`drop table sso_domains`);
    await queryRunner.query(`drop table sso_connections`);
  }
}
