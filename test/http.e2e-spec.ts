import { LogCapture, TestApp } from './support/app';
import { loginSuperadmin } from './support/factories';

describe('HTTP conventions, health and docs', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.boot();
  });
  afterAll(() => t.close());

  it('generates an x-request-id, and echoes a well-formed one', async () => {
    const generated = await t.get('/health/live');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await t.request('GET', '/v1/nowhere', { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(echoed.headers['x-request-id']).toBe('trace-abc.123');
    expect(echoed.body.requestId).toBe('trace-abc.123');
    const refused = await t.request('GET', '/health/live', { headers: { 'x-request-id': 'bad id with spaces <script>' } });
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with a 404 problem document', async () => {
    const response = await t.get('/v1/nowhere');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body).toEqual({
      type: 'about:blank',
      title: 'Not Found',
      status: 404,
      detail: 'No route GET /v1/nowhere',
      instance: '/v1/nowhere',
      requestId: response.headers['x-request-id'],
    });
  });

  it('reports liveness and readiness', async () => {
    expect(await t.get('/health/live')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const ready = await t.get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toMatchObject({ postgres: { status: 'up' }, redis: { status: 'up' } });
  });

  it('serves the OpenAPI document with bearer auth and the contract routes', async () => {
    const response = await t.get('/docs-json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    expect(Object.keys(response.body.paths)).toEqual(
      expect.arrayContaining(['/v1/auth/login', '/v1/auth/me', '/v1/organizations', '/v1/organizations/current', '/v1/organizations/{id}', '/health/ready']),
    );
    expect(response.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(response.body.components.schemas.CreateOrganizationDto.required).toEqual(expect.arrayContaining(['name', 'slug', 'admin']));
    expect((await t.get('/docs')).status).toBe(200);
    expect(response.body.components.schemas.Problem.required).toEqual(['type', 'title', 'status', 'detail', 'instance', 'requestId']);
    const operations = Object.values(response.body.paths).flatMap((path) => Object.values(path as Record<string, { responses: object }>));
    for (const operation of operations) {
      expect(operation.responses).toHaveProperty(['default', 'content', 'application/problem+json']);
    }
  });

  it('answers 400 for pagination outside its bounds', async () => {
    const token = await loginSuperadmin(t);
    const response = await t.get('/v1/organizations?limit=101&page=0', token);
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['limit', 'page']);
  });
});

describe('readiness when Redis is down', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.boot({ redisUrl: 'redis://127.0.0.1:1' });
  });
  afterAll(() => t.close());

  it('answers 503 naming redis, while liveness stays 200', async () => {
    const ready = await t.get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error).toHaveProperty('redis');
    expect(ready.body.error).not.toHaveProperty('postgres');
    expect((await t.get('/health/live')).status).toBe(200);
  });
});

describe('rate limits when Redis is down', () => {
  const logs = new LogCapture();
  let t: TestApp;
  let up: TestApp;

  beforeAll(async () => {
    // In this order: Nest's static Logger writes through the logger of the app created last, the one captured here.
    up = await TestApp.boot();
    t = await TestApp.boot({ redisUrl: 'redis://127.0.0.1:1' }, logs);
  });
  afterAll(() => Promise.all([t.close(), up.close()]));

  it('serves authenticated requests without counting them, and says so in the log once, not per request', async () => {
    // Logged in where Redis answers (login itself needs its limits): the token is good on every instance.
    const token = await loginSuperadmin(up);
    for (let i = 0; i < 5; i += 1) expect((await t.get('/v1/auth/me', token)).status).toBe(200);
    const warnings = logs.lines.filter((line) => line.event === 'rate_limit.fail_open');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toMatch(/not counted until Redis answers again/);
  });

  it('refuses logins with 503 rather than letting password guesses through uncounted', async () => {
    const response = await t.post('/v1/auth/login', { email: 'root@platform.test', password: 'whatever-password' });
    expect(response.status).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });
});

describe('readiness when PostgreSQL refuses connections', () => {
  // A database of its own: the test revokes the app role's right to connect to it.
  const database = `${process.env.TEST_DATABASE}_ready_${Date.now().toString(36)}`;
  const ownerUrl = (name: string) => Object.assign(new URL(process.env.DATABASE_OWNER_URL!), { pathname: `/${name}` }).toString();
  const appUrl = Object.assign(new URL(process.env.DATABASE_URL!), { pathname: `/${database}` }).toString();
  const appRole = decodeURIComponent(new URL(process.env.DATABASE_URL!).username);
  let t: TestApp;
  let admin: import('pg').Client;

  beforeAll(async () => {
    const { runMigrations } = await import('@tenantry/core');
    const { Client } = await import('pg');
    await runMigrations(ownerUrl(database));
    t = await TestApp.boot({ databaseUrl: appUrl, databaseOwnerUrl: ownerUrl(database), databasePoolSize: 2 });
    admin = new Client({ connectionString: ownerUrl('postgres') });
    await admin.connect();
  });
  afterAll(async () => {
    await t.close();
    await admin.query(`drop database if exists "${database}" with (force)`);
    await admin.end();
  });

  it('answers 503 naming postgres while it is unreachable, and 200 again once it is back', async () => {
    expect((await t.get('/health/ready')).status).toBe(200);
    await admin.query(`revoke connect on database "${database}" from public, "${appRole}"`);
    await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and usename = $2`, [database, appRole]);

    const down = await t.get('/health/ready');
    expect(down.status).toBe(503);
    expect(down.body.error).toHaveProperty('postgres');
    expect(down.body.details.redis).toMatchObject({ status: 'up' });
    expect((await t.get('/health/live')).status).toBe(200);

    await admin.query(`grant connect on database "${database}" to "${appRole}"`);
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
      status = (await t.get('/health/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(200);
  });
});
