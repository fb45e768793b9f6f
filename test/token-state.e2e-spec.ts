import { TestApp } from './support/app';
import { connect } from './support/db';
import { TestOrganization, createOrganization, createUserWithToken, loginAs, loginSuperadmin } from './support/factories';
import { statementsDuring } from './support/query-counter';

/**
 * The token check of every request, made cheap without weakening it. Each API process caches token states and drops
 * them when PostgreSQL notifies a change; these tests run two API instances side by side, as two replicas would.
 */
describe('token state across API instances', () => {
  let a: TestApp;
  let b: TestApp;
  let superToken: string;
  let org: TestOrganization;

  const asOwner = async (sql: string, params: unknown[] = []) => {
    const owner = await connect('owner');
    try {
      return (await owner.query(sql, params)).rows;
    } finally {
      await owner.end();
    }
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([TestApp.boot(), TestApp.boot()]);
    superToken = await loginSuperadmin(a);
    org = await createOrganization(a, superToken);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  describe('round trips to PostgreSQL, for a token seen before', () => {
    it('GET /v1/auth/me takes at most 4, the transaction statements included', async () => {
      expect((await a.get('/v1/auth/me', org.admin.token)).status).toBe(200);
      let status = 0;
      const statements = await statementsDuring(async () => {
        status = (await a.get('/v1/auth/me', org.admin.token)).status;
      });
      expect(status).toBe(200);
      expect(statements.length).toBeLessThanOrEqual(4);
      expect(statements).toEqual(expect.arrayContaining([expect.stringMatching(/^(start transaction|begin)$/i), expect.stringMatching(/^commit$/i)]));
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
      const statements = await statementsDuring(() => b.get('/v1/auth/me', user.token));
      expect(statements.filter((sql) => /token_state/.test(sql))).toHaveLength(1);
      expect(statements.filter((sql) => /^(start transaction|begin)$/i.test(sql))).toHaveLength(1);
    });
  });

  describe('a revocation through one instance takes effect at once on the other', () => {
    it('refuses a deactivated user on the instance that had their state cached', async () => {
      const user = await createUserWithToken(a, org, 'viewer');
      expect((await b.get('/v1/users', user.token)).status).toBe(200);
      expect((await b.get('/v1/auth/me', user.token)).status).toBe(200);

      expect((await a.delete(`/v1/users/${user.id}`, org.admin.token)).status).toBe(204);

      expect((await b.get('/v1/auth/me', user.token)).status).toBe(401);
      expect((await b.get('/v1/users', user.token)).status).toBe(401);
    });

    it('refuses the old token of a user whose role changed, and the new role holds with a new token', async () => {
      const user = await createUserWithToken(a, org, 'viewer');
      expect((await b.get('/v1/users', user.token)).status).toBe(200);

      expect((await a.patch(`/v1/users/${user.id}`, { role: 'member' }, org.admin.token)).status).toBe(200);

      expect((await b.get('/v1/users', user.token)).status).toBe(401);
      const fresh = await loginAs(b, org, user);
      expect((await b.get('/v1/users', fresh)).status).toBe(403); // members may not list users
      expect((await b.get('/v1/auth/me', fresh)).body.role).toBe('member');
    });

    it("refuses every token of an organization deactivated through the other instance", async () => {
      const other = await createOrganization(a, superToken);
      expect((await b.get('/v1/organizations/current', other.admin.token)).status).toBe(200);

      expect((await a.delete(`/v1/organizations/${other.id}`, superToken)).status).toBe(204);

      expect((await b.get('/v1/organizations/current', other.admin.token)).status).toBe(401);
      expect((await a.get('/v1/organizations/current', other.admin.token)).status).toBe(401);
    });

    it('refuses a user deactivated straight in the database, by an operator, on both instances', async () => {
      const user = await createUserWithToken(a, org, 'member');
      expect((await a.get('/v1/auth/me', user.token)).status).toBe(200);
      expect((await b.get('/v1/auth/me', user.token)).status).toBe(200);

      await asOwner(`update users set status = 'deactivated' where id = $1`, [user.id]);

      expect((await a.get('/v1/auth/me', user.token)).status).toBe(401);
      expect((await b.get('/v1/auth/me', user.token)).status).toBe(401);
    });

    it("refuses a platform admin's old token once their token version moves", async () => {
      // A platform admin of this test's own: other test files share the database and the bootstrap superadmin.
      const { hash } = await import('@node-rs/argon2');
      const operator = { email: `operator-${Date.now()}@platform.test`, password: 'Operator-Password-1!' };
      await asOwner(`insert into platform_admins (email, name, password_hash) values ($1, 'Operator', $2)`, [
        operator.email,
        await hash(operator.password),
      ]);
      const token = (await b.post('/v1/auth/login', operator)).body.accessToken;
      expect((await b.get('/v1/organizations', token)).status).toBe(200);
      expect((await a.get('/v1/organizations', token)).status).toBe(200);

      await asOwner(`update platform_admins set token_version = token_version + 1 where email = $1`, [operator.email]);

      expect((await b.get('/v1/organizations', token)).status).toBe(401);
      expect((await a.get('/v1/organizations', token)).status).toBe(401);
    });
  });

  describe('without its change listener', () => {
    it('bypasses the cache, still refuses a revoked token, and caches again once it has reconnected', async () => {
      const user = await createUserWithToken(a, org, 'viewer');
      expect((await b.get('/v1/auth/me', user.token)).status).toBe(200);

      await asOwner(`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'tenantry-token-state' and datname = current_database()`);
      await asOwner(`update users set status = 'deactivated' where id = $1`, [user.id]);

      expect((await b.get('/v1/auth/me', user.token)).status).toBe(401);
      const bypassed = await statementsDuring(() => b.get('/v1/auth/me', org.admin.token));
      expect(bypassed.filter((sql) => /from token_state/.test(sql))).toHaveLength(1);

      // The listener comes back on its own (about a second later) and the cache serves again.
      let reads = 1;
      for (let attempt = 0; attempt < 50 && reads > 0; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await b.get('/v1/auth/me', org.admin.token);
        const statements = await statementsDuring(() => b.get('/v1/auth/me', org.admin.token));
        reads = statements.filter((sql) => /from token_state/.test(sql)).length;
      }
      expect(reads).toBe(0);
      expect((await b.get('/v1/auth/me', user.token)).status).toBe(401);
    });
  });
});
