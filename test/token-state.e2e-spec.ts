import { randomBytes } from 'node:crypto';
import { ApiProcess, startApiProcess } from './support/api-process';
import { TestApp } from './support/app';
import { queryAsOwner } from './support/db';
import { SUPERADMIN, TestOrganization, createOrganization, createUserWithToken, loginSuperadmin } from './support/factories';
import { statementsDuring } from './support/query-counter';

/**
 * The token check of every request, made cheap without weakening it: each API process caches token states and drops
 * them when PostgreSQL notifies a change. In process first, where round trips can be counted.
 */
describe('token state in one API instance', () => {
  let a: TestApp;
  let org: TestOrganization;


  beforeAll(async () => {
    a = await TestApp.boot();
    org = await createOrganization(a, await loginSuperadmin(a));
  });
  afterAll(() => a.close());

  describe('round trips to PostgreSQL, for a token seen before', () => {
    it('GET /v1/auth/me takes at most 4, the transaction statements included', async () => {
      expect((await a.get('/v1/auth/me', org.admin.token)).status).toBe(200);
      let status = 0;
      const statements = await statementsDuring(async () => {
        status = (await a.get('/v1/auth/me', org.admin.token)).status;
      });
      expect(status).toBe(200);
      expect(statements.length).toBeLessThanOrEqual(4);
      expect(statements).toEqual(expect.arrayContaining([expect.stringMatching(/^(start transaction|begin)\b/i), expect.stringMatching(/^commit$/i)]));
      expect(statements.filter((sql) => sql.includes("set_config('app.tenant_id'"))).toHaveLength(1);
    });

    it('GET /v1/users with its total takes at most 5', async () => {
      expect((await a.get('/v1/users?limit=20', org.admin.token)).status).toBe(200);
      let body: { meta: { total: number } } | undefined;
      const statements = await statementsDuring(async () => {
        body = (await a.get('/v1/users?limit=20', org.admin.token)).body;
      });
      expect(body?.meta.total).toBeGreaterThanOrEqual(1);
      expect(statements.length).toBeLessThanOrEqual(5);
      expect(statements.filter((sql) => /count\(/i.test(sql))).toEqual([expect.stringMatching(/count\(\*\) over \(\)/i)]);
      expect(statements.filter((sql) => sql.includes("set_config('app.tenant_id'"))).toHaveLength(1);
    });

    it('a token state read the first time costs one round trip more, not a transaction', async () => {
      const user = await createUserWithToken(a, org, 'viewer');
      const statements = await statementsDuring(() => a.get('/v1/auth/me', user.token));
      expect(statements.filter((sql) => /token_state/.test(sql))).toHaveLength(1);
      expect(statements.filter((sql) => /^(start transaction|begin)\b/i.test(sql))).toHaveLength(1);
    });
  });

  describe('without its change listener', () => {
    it('bypasses the cache, still refuses a revoked token, and caches again once it has reconnected', async () => {
      const user = await createUserWithToken(a, org, 'viewer');
      expect((await a.get('/v1/auth/me', user.token)).status).toBe(200);

      await queryAsOwner(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tenantry-token-state' and datname = current_database()`);
      await queryAsOwner(`update users set status = 'deactivated' where id = $1`, [user.id]);

      expect((await a.get('/v1/auth/me', user.token)).status).toBe(401);
      const bypassed = await statementsDuring(() => a.get('/v1/auth/me', org.admin.token));
      expect(bypassed.filter((sql) => /from token_state/.test(sql))).toHaveLength(1);

      // The listener comes back on its own (about a second later) and the cache serves again.
      let reads = 1;
      for (let attempt = 0; attempt < 50 && reads > 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await a.get('/v1/auth/me', org.admin.token);
        const statements = await statementsDuring(() => a.get('/v1/auth/me', org.admin.token));
        reads = statements.filter((sql) => /from token_state/.test(sql)).length;
      }
      expect(reads).toBe(0);
      expect((await a.get('/v1/auth/me', user.token)).status).toBe(401);
    });
  });
});

/**
 * Two API processes side by side, as two replicas behind a load balancer: each has its own cache and its own
 * listener, and a change made through one (or in the database by an operator) is refused at once by the other.
 */
describe('token state across two API processes', () => {
  let a: ApiProcess;
  let b: ApiProcess;
  let superToken: string;
  let org: { id: string; slug: string; admin: { email: string; password: string; token: string } };

  const login = async (api: ApiProcess, credentials: { organization?: string; email: string; password: string }) => {
    const response = await api.request('POST', '/v1/auth/login', { body: credentials });
    expect(response.status).toBe(200);
    return response.body.accessToken as string;
  };
  /** A user created through process `a` by the organization's admin, logged in through `b`. */
  const addUser = async (role: 'admin' | 'member' | 'viewer') => {
    const email = `${role}-${randomBytes(4).toString('hex')}@replicas.test`;
    const password = 'Replica-Password-1!';
    const created = await a.request('POST', '/v1/users', { token: org.admin.token, body: { email, name: 'Replica User', role, password } });
    expect(created.status).toBe(201);
    return { id: created.body.id as string, email, password, token: await login(b, { organization: org.slug, email, password }) };
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([startApiProcess(), startApiProcess()]);
    superToken = await login(a, SUPERADMIN);
    const slug = `replicas-${randomBytes(4).toString('hex')}`;
    const admin = { email: `admin@${slug}.test`, name: 'Ada Admin', password: 'Admin-Password-123!' };
    const created = await a.request('POST', '/v1/organizations', { token: superToken, body: { name: 'Replicas', slug, admin } });
    expect(created.status).toBe(201);
    org = { id: created.body.id, slug, admin: { ...admin, token: await login(a, { organization: slug, email: admin.email, password: admin.password }) } };
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('refuses a user deactivated through the other process, at once, on the process that had them cached', async () => {
    const user = await addUser('viewer');
    expect((await b.request('GET', '/v1/users', { token: user.token })).status).toBe(200);
    expect((await b.request('GET', '/v1/auth/me', { token: user.token })).status).toBe(200);

    expect((await a.request('DELETE', `/v1/users/${user.id}`, { token: org.admin.token })).status).toBe(204);

    expect((await b.request('GET', '/v1/auth/me', { token: user.token })).status).toBe(401);
    expect((await b.request('GET', '/v1/users', { token: user.token })).status).toBe(401);
  });

  it('refuses the old token of a user whose role changed through the other process; the new role holds with a new token', async () => {
    const user = await addUser('viewer');
    expect((await b.request('GET', '/v1/users', { token: user.token })).status).toBe(200);

    expect((await a.request('PATCH', `/v1/users/${user.id}`, { token: org.admin.token, body: { role: 'member' } })).status).toBe(200);

    expect((await b.request('GET', '/v1/users', { token: user.token })).status).toBe(401);
    const fresh = await login(b, { organization: org.slug, email: user.email, password: user.password });
    expect((await b.request('GET', '/v1/users', { token: fresh })).status).toBe(403); // members may not list users
    expect((await b.request('GET', '/v1/auth/me', { token: fresh })).body.role).toBe('member');
  });

  it('refuses a user deactivated straight in the database by an operator, on both processes', async () => {
    const user = await addUser('member');
    expect((await a.request('GET', '/v1/auth/me', { token: user.token })).status).toBe(200);
    expect((await b.request('GET', '/v1/auth/me', { token: user.token })).status).toBe(200);

    await queryAsOwner(`update users set status = 'deactivated' where id = $1`, [user.id]);

    expect((await a.request('GET', '/v1/auth/me', { token: user.token })).status).toBe(401);
    expect((await b.request('GET', '/v1/auth/me', { token: user.token })).status).toBe(401);
  });

  it("refuses a platform admin's old token on both processes once their token version moves", async () => {
    // A platform admin of this test's own: other test files share the database and the bootstrap superadmin.
    const { hash } = await import('@node-rs/argon2');
    const operator = { email: `operator-${randomBytes(4).toString('hex')}@platform.test`, password: 'Operator-Password-1!' };
    await queryAsOwner(`insert into platform_admins (email, name, password_hash) values ($1, 'Operator', $2)`, [operator.email, await hash(operator.password)]);
    const token = await login(b, operator);
    expect((await b.request('GET', '/v1/organizations', { token })).status).toBe(200);
    expect((await a.request('GET', '/v1/organizations', { token })).status).toBe(200);

    await queryAsOwner(`update platform_admins set token_version = token_version + 1 where email = $1`, [operator.email]);

    expect((await b.request('GET', '/v1/organizations', { token })).status).toBe(401);
    expect((await a.request('GET', '/v1/organizations', { token })).status).toBe(401);
  });

  it('refuses every token of an organization deactivated through the other process', async () => {
    const slug = `replicas-${randomBytes(4).toString('hex')}`;
    const admin = { email: `admin@${slug}.test`, name: 'Ada Admin', password: 'Admin-Password-123!' };
    const created = await a.request('POST', '/v1/organizations', { token: superToken, body: { name: 'Short-lived', slug, admin } });
    const token = await login(b, { organization: slug, email: admin.email, password: admin.password });
    expect((await b.request('GET', '/v1/organizations/current', { token })).status).toBe(200);

    expect((await a.request('DELETE', `/v1/organizations/${created.body.id}`, { token: superToken })).status).toBe(204);

    expect((await b.request('GET', '/v1/organizations/current', { token })).status).toBe(401);
    expect((await a.request('GET', '/v1/organizations/current', { token })).status).toBe(401);
  });
});
