import { Client } from 'pg';
import { createOwnerDataSource } from './data-source';
import { quoteIdent } from './rls';

/** Creates the database named in `ownerUrl` if it does not exist yet, so that a fresh machine needs no manual step. */
export async function ensureDatabase(ownerUrl: string): Promise<void> {
  const url = new URL(ownerUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (!rowCount) await client.query(`create database ${quoteIdent(database)}`);
  } catch (error) {
    if ((error as { code?: string }).code !== '42P04') throw error; // created concurrently
  } finally {
    await client.end();
  }
}

/** Applies every pending migration as the owner. Returns the names of the migrations it ran. */
export async function runMigrations(ownerUrl: string): Promise<string[]> {
  await ensureDatabase(ownerUrl);
  const dataSource = createOwnerDataSource(ownerUrl);
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await dataSource.destroy();
  }
}
