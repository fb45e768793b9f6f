import Redis from 'ioredis';
import { Client } from 'pg';

/** Drops the run's databases and deletes its Redis keys. */
export default async function globalTeardown(): Promise<void> {
  const database = process.env.TEST_DATABASE;
  if (database && process.env.KEEP_TEST_DB !== '1') {
    const url = new URL(process.env.DATABASE_OWNER_URL!);
    url.pathname = '/postgres';
    const client = new Client({ connectionString: url.toString() });
    await client.connect();
    await client.query(`drop database if exists "${database}" with (force)`);
    for (const name of [process.env.ISOLATED_TEST_DATABASE, process.env.RELAY_TEST_DATABASE, process.env.CHAOS_TEST_DATABASE]) {
      if (name) await client.query(`drop database if exists "${name}" with (force)`);
    }
    await client.end();
  }
  const prefix = process.env.REDIS_PREFIX;
  if (prefix?.startsWith('tenantry-test-')) {
    const redis = new Redis(process.env.REDIS_URL!);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
    await redis.quit();
  }
}
