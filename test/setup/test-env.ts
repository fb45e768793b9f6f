/** The environment of a test run. PG_BASE_URL / REDIS_URL may point elsewhere; the defaults are this machine's. */
export function testEnvironment(runId: string): Record<string, string> {
  const pgBase = process.env.PG_BASE_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const database = `tenantry_test_${runId}`;
  const owner = new URL(pgBase);
  owner.pathname = `/${database}`;
  const app = new URL(owner.toString());
  app.username = 'tenantry_test_app';
  app.password = 'tenantry_test_app_pw';
  return {
    NODE_ENV: 'test',
    TEST_RUN_ID: runId,
    TEST_DATABASE: database,
    // A second database for the one test that fingerprints every table (test/hostile-input.e2e-spec.ts): other files
    // write to the first one at the same time. Migrated in globalSetup, before any worker starts, because migrations
    // alter the app role, which two concurrent runs cannot do ("tuple concurrently updated").
    ISOLATED_TEST_DATABASE: `${database}_isolated`,
    // A third for the test whose worker runs the webhook relay: the relay reads every organization's events, and
    // must not take other files' events into that test's queues.
    RELAY_TEST_DATABASE: `${database}_relay`,
    // A fourth for the chaos test (test/chaos/): its built worker's relay reads every organization's events too.
    CHAOS_TEST_DATABASE: `${database}_chaos`,
    DATABASE_OWNER_URL: owner.toString(),
    DATABASE_URL: app.toString(),
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `tenantry-test-${runId}`,
    JWT_SECRET: 'test-only-jwt-secret-0123456789abcdefghijklmnop',
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
    SUPERADMIN_EMAIL: 'root@platform.test',
    SUPERADMIN_PASSWORD: 'Root-Password-123!',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Generous by default: the rate-limit tests boot apps with their own, tight limits.
    RATE_LIMIT_LOGIN_PER_IP: '100000',
    RATE_LIMIT_LOGIN_PER_EMAIL: '100000',
    RATE_LIMIT_API_PER_USER: '100000',
    SIMULATORS: 'off',
    // The relay sees every test file's invitations: only the invitations tests, on a queue prefix of their own, run it.
    INVITATION_RELAY_EVERY_MS: '0',
    // Likewise for webhook events: a test that needs the relay turns it on for its own workers.
    WEBHOOK_RELAY_EVERY_MS: '0',
  };
}
