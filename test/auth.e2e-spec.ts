import { randomBytes } from 'node:crypto';
import { TestApp } from './support/app';
import { statementsDuring } from './support/query-counter';
import { connect } from './support/db';
import { SUPERADMIN, TestOrganization, createOrganization, loginSuperadmin } from './support/factories';

const forgeToken = (payload: object, secret: string): string => {
  const { createHmac } = require('node:crypto') as typeof import('node:crypto');
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(payload)}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
};

describe('password login and access tokens', () => {
  let t: TestApp;
  let a: TestOrganization;
  let superToken: string;

  beforeAll(async () => {
    t = await TestApp.boot();
    superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
  });
  afterAll(() => t.close());

  it('issues an access token with the contract claims', async () => {
    const response = await t.post('/v1/auth/login', { organization: a.slug, email: a.admin.email, password: a.admin.password });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    const claims = JSON.parse(Buffer.from(response.body.accessToken.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ org: a.id, role: 'admin' });
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.exp - claims.iat).toBe(900);
    expect(JSON.parse(Buffer.from(response.body.accessToken.split('.')[0], 'base64url').toString()).alg).toBe('HS256');
  });

  it('matches e-mails case-insensitively', async () => {
    const response = await t.post('/v1/auth/login', { organization: a.slug, email: a.admin.email.toUpperCase(), password: a.admin.password });
    expect(response.status).toBe(200);
  });

  it('gives byte-identical 401 bodies for a wrong e-mail, a wrong password and an unknown organization', async () => {
    const headers = { 'x-request-id': 'same-request-id' };
    const attempts = [
      { organization: a.slug, email: 'nobody@nowhere.test', password: a.admin.password },
      { organization: a.slug, email: a.admin.email, password: 'Wrong-Password-123' },
      { organization: 'no-such-org', email: a.admin.email, password: a.admin.password },
      { email: SUPERADMIN.email, password: 'Wrong-Password-123' },
    ];
    const responses = await Promise.all(attempts.map((body) => t.request('POST', '/v1/auth/login', { body, headers })));
    for (const response of responses) {
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.text).toBe(responses[0].text);
    }
    expect(responses[0].body.detail).toBe('The organization, e-mail or password is not correct');
  });

  it('logs the superadmin in without an organization', async () => {
    const me = await t.get('/v1/auth/me', superToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email: SUPERADMIN.email, role: 'superadmin', organization: null });
  });

  it('answers /v1/auth/me with the user and their organization', async () => {
    const me = await t.get('/v1/auth/me', a.admin.token);
    expect(me.body).toEqual({
      id: expect.any(String),
      email: a.admin.email,
      name: 'Ada Admin',
      role: 'admin',
      organization: { id: a.id, slug: a.slug, name: expect.any(String) },
    });
  });

  it.each([
    ['no token', undefined],
    ['a malformed token', 'not-a-jwt'],
    ['a token signed with another secret', forgeToken({ sub: 'x', org: null, role: 'superadmin', ver: 0, iss: 'tenantry', aud: 'tenantry-api', exp: 9999999999 }, 'another-secret-another-secret-another')],
  ])('refuses %s with 401 problem+json', async (_case, token) => {
    const response = await t.get('/v1/organizations/current', token);
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it.each([
    ['a subject that is not a UUID', { sub: "x' or '1'='1", role: 'admin' }],
    ['an organization that is not a UUID', { role: 'admin', org: 'acme' }],
    ['a superadmin subject that is not a UUID', { sub: 'root', role: 'superadmin', org: null }],
  ])('refuses a correctly signed token with %s, with 401 before any query', async (_case, claims) => {
    const me = (await t.get('/v1/auth/me', a.admin.token)).body;
    const token = forgeToken(
      { sub: me.id, org: a.id, ver: 0, iss: 'tenantry', aud: 'tenantry-api', exp: Math.floor(Date.now() / 1000) + 60, ...claims },
      process.env.JWT_SECRET!,
    );
    let response: Awaited<ReturnType<TestApp['get']>> | undefined;
    const statements = await statementsDuring(async () => {
      response = await t.get('/v1/auth/me', token);
    });
    expect(response?.status).toBe(401);
    expect(response?.headers['content-type']).toContain('application/problem+json');
    expect(statements).toEqual([]);
  });

  it('refuses an expired token', async () => {
    const secret = process.env.JWT_SECRET!;
    const me = (await t.get('/v1/auth/me', a.admin.token)).body;
    const now = Math.floor(Date.now() / 1000);
    const expired = forgeToken({ sub: me.id, org: a.id, role: 'admin', ver: 0, iss: 'tenantry', aud: 'tenantry-api', iat: now - 1000, exp: now - 10 }, secret);
    expect((await t.get('/v1/auth/me', expired)).status).toBe(401);
  });

  it("refuses a token whose role claim was raised: the stored role decides", async () => {
    const member = await addUser(a, 'member');
    const token = (await t.post('/v1/auth/login', { organization: a.slug, email: member.email, password: member.password })).body.accessToken;
    expect((await t.get('/v1/organizations', token)).status).toBe(403);
  });

  it("refuses a deactivated user's login and their old token at once", async () => {
    const user = await addUser(a, 'viewer');
    const token = (await t.post('/v1/auth/login', { organization: a.slug, email: user.email, password: user.password })).body.accessToken;
    expect((await t.get('/v1/organizations/current', token)).status).toBe(200);

    const owner = await connect('owner');
    await owner.query(`update users set status = 'deactivated' where email = $1`, [user.email]);
    await owner.end();

    expect((await t.get('/v1/organizations/current', token)).status).toBe(401);
    expect((await t.post('/v1/auth/login', { organization: a.slug, email: user.email, password: user.password })).status).toBe(401);
  });

  it('answers 400 with field errors for a bad login body', async () => {
    const response = await t.post('/v1/auth/login', { email: 123, password: '', extra: true });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(expect.arrayContaining(['email', 'extra', 'password']));
  });

  /** Adds a user straight through the owner connection (the users API is tested on its own). */
  async function addUser(org: TestOrganization, role: string) {
    const { hash } = await import('@node-rs/argon2');
    const email = `${role}-${randomBytes(3).toString('hex')}@${org.slug}.test`;
    const password = 'User-Password-123!';
    const owner = await connect('owner');
    await owner.query(`insert into users (org_id, email, name, role, password_hash) values ($1, $2, 'Test User', $3, $4)`, [
      org.id,
      email,
      role,
      await hash(password),
    ]);
    await owner.end();
    return { email, password };
  }
});

describe('login rate limits (Redis, atomic)', () => {
  let t: TestApp;
  let org: TestOrganization;

  let superToken: string;

  beforeAll(async () => {
    // Arranged through an app without these limits, so that no login counts before the test's own. It is closed
    // before the limited app boots: passport keeps one strategy registry per process, and the last app wins it.
    const setup = await TestApp.boot();
    superToken = await loginSuperadmin(setup);
    org = await createOrganization(setup, superToken);
    await setup.close();
    // A Redis prefix of its own, so that logins of other test files running at the same time do not count here.
    t = await TestApp.boot({
      redisPrefix: `${process.env.REDIS_PREFIX}-throttle-${randomBytes(3).toString('hex')}`,
      rateLimit: { loginPerEmail: 10, loginPerIp: 25, apiPerUser: 5 },
    });
  });
  afterAll(() => t.close());

  it('lets exactly the per-e-mail limit through out of 200 concurrent logins', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.request('POST', '/v1/auth/login', {
          body: { organization: org.slug, email: org.admin.email, password: org.admin.password },
          remoteAddress: `10.1.${Math.floor(i / 250)}.${i % 250}`,
        }),
      ),
    );
    const passed = responses.filter((response) => response.status !== 429);
    expect(passed).toHaveLength(10);
    expect(passed.every((response) => response.status === 200)).toBe(true);
    const limited = responses.find((response) => response.status === 429)!;
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(limited.body).toMatchObject({ status: 429, title: 'Too Many Requests' });
  });

  it('lets exactly the per-IP limit through out of 200 concurrent logins with different e-mails', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        t.request('POST', '/v1/auth/login', {
          body: { organization: org.slug, email: `user${i}@${org.slug}.test`, password: 'Whatever-123456' },
          remoteAddress: '10.9.9.9',
        }),
      ),
    );
    expect(responses.filter((response) => response.status !== 429)).toHaveLength(25);
    expect(responses.filter((response) => response.status === 429)).toHaveLength(175);
  });

  it('limits API calls per user, and one user using up their budget leaves another untouched', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await t.get('/v1/organizations/current', org.admin.token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await t.get('/v1/organizations/current', org.admin.token);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.get('/v1/organizations', superToken)).status).toBe(200);
  });

  it('shows the remaining budget in rate-limit headers', async () => {
    const response = await t.request('POST', '/v1/auth/login', {
      body: { organization: org.slug, email: 'fresh@x.test', password: 'Whatever-123456' },
      remoteAddress: '10.7.7.7',
    });
    expect(response.headers['x-ratelimit-limit-login-ip']).toBe('25');
    expect(response.headers['x-ratelimit-remaining-login-ip']).toBe('24');
  });
});
