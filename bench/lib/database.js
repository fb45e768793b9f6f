'use strict';
/**
 * The run's own database: created and migrated with the project's own `runMigrations` from the build, plus a
 * BYPASSRLS login role (for rls_on_vs_off) that is a member of the app role; both dropped at the end.
 */
const path = require('node:path');
const { Client } = require('pg');

const ROOT = path.resolve(__dirname, '..', '..');
const APP_ROLE = 'tenantry_bench_app';
const APP_PASSWORD = 'tenantry_bench_app_pw';

const quoteIdent = (name) => `"${name.replace(/"/g, '""')}"`;

function urlsFor(runId) {
  const base = new URL(process.env.PG_BASE_URL || 'postgres://postgres@127.0.0.1:5432');
  const database = `tenantry_bench_${runId}`;
  const owner = new URL(base.toString());
  owner.pathname = `/${database}`;
  const app = new URL(owner.toString());
  app.username = APP_ROLE;
  app.password = APP_PASSWORD;
  const bypassRole = `tenantry_bench_bypass_${runId}`;
  const bypass = new URL(owner.toString());
  bypass.username = bypassRole;
  bypass.password = 'tenantry_bench_bypass_pw';
  const admin = new URL(base.toString());
  admin.pathname = '/postgres';
  return { database, ownerUrl: owner.toString(), appUrl: app.toString(), bypassRole, bypassUrl: bypass.toString(), adminUrl: admin.toString() };
}

async function withClient(url, work) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates and migrates the database (the migration reads the app role from DATABASE_URL, as the app does). */
async function createDatabase(urls) {
  const migrateModule = path.join(ROOT, 'dist', 'libs', 'core', 'src', 'database', 'migrate.js');
  const { runMigrations } = require(migrateModule);
  process.env.DATABASE_URL = urls.appUrl;
  return runMigrations(urls.ownerUrl);
}

/**
 * A role that logs in with BYPASSRLS and inherits the app role's grants, so that the API connected as it does the
 * same work without row-level security. Checked: it reads the tables, and it sees rows with no tenant bound.
 */
async function createBypassRole(urls) {
  const role = quoteIdent(urls.bypassRole);
  await withClient(urls.ownerUrl, async (client) => {
    await client.query(`create role ${role} login password 'tenantry_bench_bypass_pw' bypassrls inherit`);
    await client.query(`grant ${quoteIdent(APP_ROLE)} to ${role}`);
  });
  await withClient(urls.bypassUrl, async (client) => {
    const { rows } = await client.query('select count(*)::int as n from users');
    const { rows: orgs } = await client.query('select count(*)::int as n from organizations');
    if (rows[0].n < 1 || orgs[0].n < 1) {
      throw new Error(`${urls.bypassRole} does not bypass RLS: it sees ${rows[0].n} users and ${orgs[0].n} organizations with no tenant bound`);
    }
  });
}

/** Drops the database (with force: a server killed mid-run may leave connections) and the bypass role. */
async function dropDatabase(urls) {
  await withClient(urls.adminUrl, async (client) => {
    await client.query(`drop database if exists ${quoteIdent(urls.database)} with (force)`);
    await client.query(`drop role if exists ${quoteIdent(urls.bypassRole)}`);
  });
}

module.exports = { urlsFor, createDatabase, createBypassRole, dropDatabase, APP_ROLE };
