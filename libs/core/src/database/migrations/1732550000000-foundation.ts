import { MigrationInterface, QueryRunner } from 'typeorm';
import {
  CURRENT_TENANT_SQL,
  PLATFORM_MODE_SQL,
  appRoleFromEnv,
  enablePlatformRls,
  enableTenantRls,
  grantRowAccess,
  quoteIdent,
  quoteLiteral,
} from '../rls';

/**
 * Roles, organizations, platform admins and users, with row-level security. The app role is created (or brought back
 * to the expected attributes) idempotently: it logs in, owns nothing, cannot bypass RLS and cannot run DDL.
 */
export class Foundation1732550000000 implements MigrationInterface {
  name = 'Foundation1732550000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const app = appRoleFromEnv();
    const role = quoteIdent(app.name);
    const password = app.password ? `password ${quoteLiteral(app.password)}` : '';
    await queryRunner.query(`
      do $$
      begin
        if not exists (select 1 from pg_roles where rolname = ${quoteLiteral(app.name)}) then
          begin
            create role ${role} login ${password} nosuperuser nocreatedb nocreaterole nobypassrls noinherit;
          exception when duplicate_object then null; -- another migration run created it meanwhile
          end;
        end if;
      end $$`);
    await queryRunner.query(`alter role ${role} login ${password} nosuperuser nocreatedb nocreaterole nobypassrls noinherit`);
    const [{ db }] = await queryRunner.query(`select current_database() as db`);
    await queryRunner.query(`grant connect on database ${quoteIdent(db)} to ${role}`);
    await queryRunner.query(`revoke create on schema public from public`);
    await queryRunner.query(`revoke create on schema public from ${role}`);
    await queryRunner.query(`grant usage on schema public to ${role}`);

    await queryRunner.query(`
      create table organizations (
        id uuid primary key default gen_random_uuid(),
        name text not null check (length(name) between 1 and 200),
        slug text not null check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$'),
        status text not null default 'active' check (status in ('active', 'deactivated')),
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        deactivated_at timestamptz
      )`);
    await queryRunner.query(`create unique index organizations_slug_key on organizations (slug)`);
    await queryRunner.query(`alter table organizations enable row level security`);
    await queryRunner.query(`alter table organizations force row level security`);
    await queryRunner.query(`create policy member_reads_own on organizations for select using (id = ${CURRENT_TENANT_SQL})`);
    await queryRunner.query(
      `create policy member_updates_own on organizations for update using (id = ${CURRENT_TENANT_SQL}) with check (id = ${CURRENT_TENANT_SQL})`,
    );
    await queryRunner.query(`create policy platform_manages on organizations using (${PLATFORM_MODE_SQL}) with check (${PLATFORM_MODE_SQL})`);
    await grantRowAccess(queryRunner, 'organizations');

    // Resolving a slug happens before anyone is authenticated (login, webhooks, SSO). This narrow function returns
    // only what those paths need, instead of opening the table to unauthenticated reads.
    await queryRunner.query(`
      create function resolve_organization(p_slug text)
      returns table (id uuid, slug text, name text, status text)
      language sql stable security definer set search_path = public
      as $$ select o.id, o.slug, o.name, o.status from organizations o where o.slug = lower(p_slug) $$`);
    await queryRunner.query(`revoke all on function resolve_organization(text) from public`);
    await queryRunner.query(`grant execute on function resolve_organization(text) to ${role}`);

    await queryRunner.query(`
      create table platform_admins (
        id uuid primary key default gen_random_uuid(),
        email text not null,
        name text not null,
        password_hash text not null,
        status text not null default 'active' check (status in ('active', 'deactivated')),
        token_version integer not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await queryRunner.query(`create unique index platform_admins_email_key on platform_admins (lower(email))`);
    await enablePlatformRls(queryRunner, 'platform_admins');
    await grantRowAccess(queryRunner, 'platform_admins');

    await queryRunner.query(`
      create table users (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        email text not null check (length(email) between 3 and 320),
        name text not null check (length(name) between 1 and 200),
        role text not null check (role in ('admin', 'member', 'viewer')),
        status text not null default 'active' check (status in ('active', 'pending', 'deactivated')),
        password_hash text,
        source text not null default 'local' check (source in ('local', 'sso', 'user-service')),
        external_id text,
        token_version integer not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      )`);
    await queryRunner.query(`create unique index users_org_email_key on users (org_id, lower(email))`);
    await queryRunner.query(`create index users_org_created_idx on users (org_id, created_at, id)`);
    await queryRunner.query(
      `create unique index users_org_source_external_key on users (org_id, source, external_id) where external_id is not null`,
    );
    await enableTenantRls(queryRunner, 'users');
    await grantRowAccess(queryRunner, 'users');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop table users`);
    await queryRunner.query(`drop table platform_admins`);
    await queryRunner.query(`drop function resolve_organization(text)`);
    await queryRunner.query(`drop table organizations`);
  }
}
