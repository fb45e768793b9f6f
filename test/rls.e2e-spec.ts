import { Client } from 'pg';
import { TestApp } from './support/app';
import { connect } from './support/db';
import { TestOrganization, createOrganization, loginSuperadmin } from './support/factories';

/** Row-level security, checked below the application: raw SQL as the app role the API and worker use. */
describe('row-level security for the app role', () => {
  let t: TestApp;
  let a: TestOrganization;
  let b: TestOrganization;
  let app: Client;

  beforeAll(async () => {
    t = await TestApp.boot();
    const superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
    b = await createOrganization(t, superToken);
    app = await connect('app');
  });
  afterAll(async () => {
    await app.end();
    await t.close();
  });

  const inTenant = async <T>(orgId: string, work: () => Promise<T>): Promise<T> => {
    await app.query('begin');
    try {
      await app.query(`select set_config('app.tenant_id', $1, true)`, [orgId]);
      return await work();
    } finally {
      await app.query('commit');
    }
  };

  it('sees no tenant row when no tenant is bound', async () => {
    expect((await app.query('select * from users')).rowCount).toBe(0);
    expect((await app.query('select * from organizations')).rowCount).toBe(0);
    expect((await app.query('select * from platform_admins')).rowCount).toBe(0);
  });

  it('sees no row, and no error, on a pooled connection whose previous transaction served another tenant', async () => {
    await inTenant(a.id, async () => {
      expect((await app.query('select org_id from users')).rowCount).toBeGreaterThan(0);
    });
    // set_config(..., true) left '' behind, not NULL: the policy's nullif keeps ''::uuid from raising an error.
    expect((await app.query(`select current_setting('app.tenant_id', true) as value`)).rows[0].value).toBe('');
    expect((await app.query('select * from users')).rowCount).toBe(0);
  });

  it("sees only the bound tenant's rows", async () => {
    const rows = await inTenant(b.id, async () => (await app.query('select org_id, email from users')).rows);
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((row) => row.org_id))).toEqual(new Set([b.id]));
    expect(rows.map((row) => row.email)).toContain(b.admin.email);
  });

  it('sees only its own organization row', async () => {
    const rows = await inTenant(a.id, async () => (await app.query('select id from organizations')).rows);
    expect(rows).toEqual([{ id: a.id }]);
  });

  it('refuses to insert a row for another organization', async () => {
    await app.query('begin');
    await app.query(`select set_config('app.tenant_id', $1, true)`, [a.id]);
    await expect(
      app.query(`insert into users (org_id, email, name, role) values ($1, 'intruder@x.test', 'Intruder', 'admin')`, [b.id]),
    ).rejects.toThrow(/row-level security/);
    await app.query('rollback');
  });

  it('refuses to move a row into another organization', async () => {
    await app.query('begin');
    await app.query(`select set_config('app.tenant_id', $1, true)`, [a.id]);
    await expect(app.query(`update users set org_id = $1`, [b.id])).rejects.toThrow(/row-level security/);
    await app.query('rollback');
  });

  it('cannot write tenant rows with no tenant bound', async () => {
    await expect(
      app.query(`insert into users (org_id, email, name, role) values ($1, 'ghost@x.test', 'Ghost', 'admin')`, [a.id]),
    ).rejects.toThrow(/row-level security/);
    expect((await app.query(`update users set name = 'changed'`)).rowCount).toBe(0);
    expect((await app.query(`delete from users`)).rowCount).toBe(0);
  });

  describe('privileges', () => {
    it('is not a superuser, has no BYPASSRLS and owns no table', async () => {
      const role = (await app.query(`select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user`)).rows[0];
      expect(role).toEqual({ rolsuper: false, rolbypassrls: false, rolcreaterole: false, rolcreatedb: false });
      const owned = await app.query(`select tablename from pg_tables where schemaname = 'public' and tableowner = current_user`);
      expect(owned.rowCount).toBe(0);
    });

    it.each([
      ['ALTER TABLE', 'alter table users add column nickname text'],
      ['DISABLE ROW LEVEL SECURITY', 'alter table users disable row level security'],
      ['NO FORCE ROW LEVEL SECURITY', 'alter table users no force row level security'],
      ['DROP POLICY', 'drop policy tenant_isolation on users'],
      ['CREATE TABLE', 'create table escape_hatch (id int)'],
      ['SET ROLE to the owner', 'set role postgres'],
      ['SET SESSION AUTHORIZATION', 'set session authorization postgres'],
    ])('cannot %s', async (_what, sql) => {
      await expect(app.query(sql)).rejects.toThrow(/must be owner|permission denied/);
    });

    it('every tenant table forces RLS and has an index leading with org_id', async () => {
      const owner = await connect('owner');
      const tables = (
        await owner.query(`select c.relname, c.relrowsecurity, c.relforcerowsecurity
                             from pg_class c join information_schema.columns col on col.table_name = c.relname
                            where col.column_name = 'org_id' and col.table_schema = 'public' and c.relkind = 'r'`)
      ).rows;
      expect(tables.length).toBeGreaterThan(0);
      for (const table of tables) {
        expect({ table: table.relname, rls: table.relrowsecurity, force: table.relforcerowsecurity }).toEqual({
          table: table.relname,
          rls: true,
          force: true,
        });
        const indexes = (await owner.query(`select indexdef from pg_indexes where tablename = $1`, [table.relname])).rows;
        expect(indexes.some((index) => /\(org_id[,)]/.test(index.indexdef))).toBe(true);
        const nullable = (
          await owner.query(`select is_nullable from information_schema.columns where table_name = $1 and column_name = 'org_id'`, [table.relname])
        ).rows[0].is_nullable;
        expect(nullable).toBe('NO');
      }
      await owner.end();
    });
  });
});
