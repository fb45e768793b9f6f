import { MigrationInterface, QueryRunner } from 'typeorm';
import { enablePlatformRls, enableTenantRls, grantRowAccess } from '../rls';

/**
 * Refresh tokens, stored only as SHA-256 hashes and grouped into families (one per login). An organization's users
 * keep theirs in tenant tables behind RLS; the superadmin's live in platform tables behind the platform policy.
 * Locking a family row serializes every rotation, reuse check and logout of that family.
 */
export class RefreshTokens1732560000000 implements MigrationInterface {
  name = 'RefreshTokens1732560000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      create table refresh_token_families (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        user_id uuid not null references users (id) on delete cascade,
        token_version integer not null,
        created_at timestamptz not null default now(),
        revoked_at timestamptz,
        revoked_reason text check (revoked_reason in ('logout', 'reuse', 'subject_changed'))
      )`);
    await queryRunner.query(`create index refresh_token_families_org_user_idx on refresh_token_families (org_id, user_id)`);
    await enableTenantRls(queryRunner, 'refresh_token_families');
    await grantRowAccess(queryRunner, 'refresh_token_families');

    await queryRunner.query(`
      create table refresh_tokens (
        id uuid primary key default gen_random_uuid(),
        org_id uuid not null references organizations (id),
        family_id uuid not null references refresh_token_families (id) on delete cascade,
        token_hash bytea not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz
      )`);
    await queryRunner.query(`create unique index refresh_tokens_org_hash_key on refresh_tokens (org_id, token_hash)`);
    await queryRunner.query(`create index refresh_tokens_org_family_idx on refresh_tokens (org_id, family_id)`);
    await enableTenantRls(queryRunner, 'refresh_tokens');
    await grantRowAccess(queryRunner, 'refresh_tokens');

    await queryRunner.query(`
      create table platform_refresh_token_families (
        id uuid primary key default gen_random_uuid(),
        admin_id uuid not null references platform_admins (id) on delete cascade,
        token_version integer not null,
        created_at timestamptz not null default now(),
        revoked_at timestamptz,
        revoked_reason text check (revoked_reason in ('logout', 'reuse', 'subject_changed'))
      )`);
    await queryRunner.query(`create index platform_refresh_token_families_admin_idx on platform_refresh_token_families (admin_id)`);
    await queryRunner.query(`
      create table platform_refresh_tokens (
        id uuid primary key default gen_random_uuid(),
        family_id uuid not null references platform_refresh_token_families (id) on delete cascade,
        token_hash bytea not null,
        created_at timestamptz not null default now(),
        expires_at timestamptz not null,
        used_at timestamptz
      )`);
    await queryRunner.query(`create unique index platform_refresh_tokens_hash_key on platform_refresh_tokens (token_hash)`);
    await queryRunner.query(`create index platform_refresh_tokens_family_idx on platform_refresh_tokens (family_id)`);
    for (const table of ['platform_refresh_token_families', 'platform_refresh_tokens']) {
      await enablePlatformRls(queryRunner, table);
      await grantRowAccess(queryRunner, table);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`drop table platform_refresh_tokens`);
    await queryRunner.query(`drop table platform_refresh_token_families`);
    await queryRunner.query(`drop table refresh_tokens`);
    await queryRunner.query(`drop table refresh_token_families`);
  }
}
