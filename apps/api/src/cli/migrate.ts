/**
 * `npm run migrate`: creates the database if needed, then applies pending migrations as the owner
 * (DATABASE_OWNER_URL). The migrations create the app role named in DATABASE_URL and its grants.
 */
import { existsSync } from 'node:fs';
import { runMigrations } from '@tenantry/core';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const ownerUrl = process.env.DATABASE_OWNER_URL;
  if (!ownerUrl) throw new Error('DATABASE_OWNER_URL is required (see .env.example)');
  if (!process.env.DATABASE_URL) throw new Error('DATABASE_URL is required (see .env.example)');
  const applied = await runMigrations(ownerUrl);
  process.stdout.write(applied.length ? `Applied migrations: ${applied.join(', ')}\n` : 'Database is up to date\n');
}

main().catch((error: Error) => {
  process.stderr.write(`Migration failed: ${error.message}\n`);
  process.exit(1);
});
