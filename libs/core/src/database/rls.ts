import { QueryRunner } from 'typeorm';

/** The tenant id bound to the current transaction, or NULL (never an error) when none is: see STYLE.md. */
export const CURRENT_TENANT_SQL = `(select nullif(current_setting('app.tenant_id', true), '')::uuid)`;
export const PLATFORM_MODE_SQL = `(select coalesce(current_setting('app.platform', true), '') = 'on')`;

export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;

/** The app role's name and password, read from DATABASE_URL so that migrations and the app agree on it. */
export function appRoleFromEnv(env: NodeJS.ProcessEnv = process.env): { name: string; password: string } {
  if (!env.DATABASE_URL) throw new Error('DATABASE_URL is required to create the app role');
  const url = new URL(env.DATABASE_URL);
  return { name: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

/** Makes `table` a tenant table: forced RLS and one policy binding reads and writes to the current tenant. */
export async function enableTenantRls(queryRunner: QueryRunner, table: string): Promise<void> {
  await queryRunner.query(`alter table ${table} enable row level security`);
  await queryRunner.query(`alter table ${table} force row level security`);
  await queryRunner.query(
    `create policy tenant_isolation on ${table} using (org_id = ${CURRENT_TENANT_SQL}) with check (org_id = ${CURRENT_TENANT_SQL})`,
  );
}

/** Makes `table` a platform table: forced RLS and one policy admitting only the platform path (`app.platform`). */
export async function enablePlatformRls(queryRunner: QueryRunner, table: string): Promise<void> {
  await queryRunner.query(`alter table ${table} enable row level security`);
  await queryRunner.query(`alter table ${table} force row level security`);
  await queryRunner.query(`create policy platform_only on ${table} using (${PLATFORM_MODE_SQL}) with check (${PLATFORM_MODE_SQL})`);
}

/** Grants the app role row access (no DDL) on `table`. */
export async function grantRowAccess(queryRunner: QueryRunner, table: string): Promise<void> {
  const role = quoteIdent(appRoleFromEnv().name);
  await queryRunner.query(`grant select, insert, update, delete on ${table} to ${role}`);
}
