import { randomBytes } from 'node:crypto';
import { runMigrations } from '../../libs/core/src/database/migrate';
import { testEnvironment } from './test-env';

/**
 * Once per `jest` run: a database of its own (created, migrated as the owner) and a Redis prefix of its own, so that
 * runs never see each other's data. Workers inherit the environment set here.
 */
export default async function globalSetup(): Promise<void> {
  const runId = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  Object.assign(process.env, testEnvironment(runId));
  await runMigrations(process.env.DATABASE_OWNER_URL!);
  for (const name of [process.env.ISOLATED_TEST_DATABASE, process.env.RELAY_TEST_DATABASE, process.env.CHAOS_TEST_DATABASE]) {
    const isolated = new URL(process.env.DATABASE_OWNER_URL!);
    isolated.pathname = `/${name}`;
    await runMigrations(isolated.toString());
  }
}
