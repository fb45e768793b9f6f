import { TestApp } from './support/app';
import { connect, queryAsOwner } from './support/db';
import { SUPERADMIN, TestOrganization, createOrganization, loginSuperadmin } from './support/factories';

interface Pair {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  expiresIn: number;
}

describe('token lifecycle', () => {
  let t: TestApp;
  let superToken: string;
  let a: TestOrganization;

  const loginPair = async (credentials: { organization?: string; email: string; password: string }): Promise<Pair> => {
    const response = await t.post<Pair>('/v1/auth/login', credentials);
    expect(response.status).toBe(200);
    return response.body;
  };
  const loginAdmin = (org: TestOrganization) =>
    loginPair({ organization: org.slug, email: org.admin.email, password: org.admin.password });
  const refresh = (refreshToken: unknown) => t.post<Pair>('/v1/auth/refresh', { refreshToken });

  /** A member created straight in the database, as the owner: this file does not depend on the users API. */
  const addMember = async (org: TestOrganization, email: string): Promise<string> => {
    const owner = await connect('owner');
    try {
      const { rows } = await owner.query(
        `insert into users (org_id, email, name, role, password_hash) select $1, $2, 'Member', 'member', password_hash
           from users where org_id = $1 and email = $3 returning id`,
        [org.id, email, org.admin.email],
      );
      return rows[0].id;
    } finally {
      await owner.end();
    }
  };
  const asOwner = queryAsOwner;

  beforeAll(async () => {
    t = await TestApp.boot();
    superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
  });
  afterAll(() => t.close());

  it('returns an opaque refresh token with the access token at login, and stores only its hash', async () => {
    const pair = await loginAdmin(a);
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(pair.refreshToken).toMatch(new RegExp(`^rt_${a.id}_[A-Za-z0-9_-]{43}$`));
    const stored = await asOwner(`select encode(token_hash, 'hex') as hash from refresh_tokens where org_id = $1`, [a.id]);
    expect(stored.length).toBeGreaterThan(0);
    expect(JSON.stringify(stored)).not.toContain(pair.refreshToken.slice(-43));
  });

  it('rotates: a refresh answers a new pair that works, and spends the old refresh token', async () => {
    const first = await loginAdmin(a);
    const second = await refresh(first.refreshToken);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(second.body.refreshToken).not.toBe(first.refreshToken);
    expect(second.body.accessToken).not.toBe(first.accessToken);
    const me = await t.get('/v1/auth/me', second.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body.email).toBe(a.admin.email);
    const third = await refresh(second.body.refreshToken);
    expect(third.status).toBe(200);
  });

  it('revokes the whole family, the newest token too, when a spent token is presented again', async () => {
    const first = await loginAdmin(a);
    const second = (await refresh(first.refreshToken)).body;
    const third = (await refresh(second.refreshToken)).body;

    const replay = await refresh(first.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.headers['content-type']).toContain('application/problem+json');
    expect(replay.body).toMatchObject({ status: 401, type: expect.stringContaining('invalid_refresh_token') });

    expect((await refresh(third.refreshToken)).status).toBe(401);
    const [family] = await asOwner(
      `select f.revoked_reason from refresh_token_families f join refresh_tokens t on t.family_id = f.id
        where t.token_hash = sha256(convert_to($1, 'utf8'))`,
      [third.refreshToken],
    );
    expect(family.revoked_reason).toBe('reuse');
  });

  it('leaves other families of the same user working after a reuse', async () => {
    const victim = await loginAdmin(a);
    const other = await loginAdmin(a);
    const next = (await refresh(victim.refreshToken)).body;
    expect((await refresh(victim.refreshToken)).status).toBe(401);
    expect((await refresh(next.refreshToken)).status).toBe(401);
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it('lets exactly one of two concurrent refreshes with one token succeed', async () => {
    for (let round = 0; round < 3; round++) {
      const pair = await loginAdmin(a);
      const results = await Promise.all([refresh(pair.refreshToken), refresh(pair.refreshToken)]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    }
  });

  it('lets exactly one of ten concurrent refreshes with one token succeed', async () => {
    const pair = await loginAdmin(a);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(pair.refreshToken)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(9);
  });

  describe('logout', () => {
    it('answers 204 and the refresh token (and its family) no longer works', async () => {
      const first = await loginAdmin(a);
      const second = (await refresh(first.refreshToken)).body;
      const out = await t.post('/v1/auth/logout', { refreshToken: second.refreshToken }, second.accessToken);
      expect(out.status).toBe(204);
      expect(out.text).toBe('');
      expect((await refresh(second.refreshToken)).status).toBe(401);
    });

    it("answers 204 for someone else's token but revokes nothing", async () => {
      const memberEmail = `member-logout@${a.slug}.test`;
      await addMember(a, memberEmail);
      const member = await loginPair({ organization: a.slug, email: memberEmail, password: a.admin.password });
      const admin = await loginAdmin(a);
      const b = await createOrganization(t, superToken);
      const other = await loginAdmin(b);

      expect((await t.post('/v1/auth/logout', { refreshToken: admin.refreshToken }, member.accessToken)).status).toBe(204);
      expect((await t.post('/v1/auth/logout', { refreshToken: other.refreshToken }, admin.accessToken)).status).toBe(204);
      expect((await t.post('/v1/auth/logout', { refreshToken: admin.refreshToken }, superToken)).status).toBe(204);

      expect((await refresh(admin.refreshToken)).status).toBe(200);
      expect((await refresh(other.refreshToken)).status).toBe(200);
    });

    it('answers 204 for a malformed token and 401 without an access token', async () => {
      const admin = await loginAdmin(a);
      expect((await t.post('/v1/auth/logout', { refreshToken: 'garbage' }, admin.accessToken)).status).toBe(204);
      expect((await t.post('/v1/auth/logout', { refreshToken: admin.refreshToken })).status).toBe(401);
      expect((await refresh(admin.refreshToken)).status).toBe(200);
    });
  });

  describe('refusals', () => {
    it("refuses a deactivated user's refresh token", async () => {
      const email = `member-deactivated@${a.slug}.test`;
      const id = await addMember(a, email);
      const pair = await loginPair({ organization: a.slug, email, password: a.admin.password });
      await asOwner(`update users set status = 'deactivated', token_version = token_version + 1 where id = $1`, [id]);
      expect((await refresh(pair.refreshToken)).status).toBe(401);
      expect((await t.get('/v1/auth/me', pair.accessToken)).status).toBe(401);
    });

    it('refuses a refresh token issued before the token version changed (e.g. a password change)', async () => {
      const email = `member-version@${a.slug}.test`;
      const id = await addMember(a, email);
      const pair = await loginPair({ organization: a.slug, email, password: a.admin.password });
      await asOwner(`update users set token_version = token_version + 1 where id = $1`, [id]);
      expect((await refresh(pair.refreshToken)).status).toBe(401);
      const fresh = await loginPair({ organization: a.slug, email, password: a.admin.password });
      expect((await refresh(fresh.refreshToken)).status).toBe(200);
    });

    it("refuses an organization's refresh tokens once it is deactivated", async () => {
      const c = await createOrganization(t, superToken);
      const pair = await loginAdmin(c);
      expect((await t.delete(`/v1/organizations/${c.id}`, superToken)).status).toBe(204);
      expect((await refresh(pair.refreshToken)).status).toBe(401);
    });

    it('refuses an expired refresh token', async () => {
      const pair = await loginAdmin(a);
      await asOwner(`update refresh_tokens set expires_at = now() - interval '1 second' where token_hash = sha256(convert_to($1, 'utf8'))`, [
        pair.refreshToken,
      ]);
      expect((await refresh(pair.refreshToken)).status).toBe(401);
    });

    it("refuses a token whose organization part was changed to another organization's", async () => {
      const b = await createOrganization(t, superToken);
      const pair = await loginAdmin(a);
      expect((await refresh(pair.refreshToken.replace(a.id, b.id))).status).toBe(401);
      expect((await refresh(pair.refreshToken.replace(a.id, 'platform'))).status).toBe(401);
      expect((await refresh(pair.refreshToken)).status).toBe(200);
    });

    it.each([
      ['garbage', 'not-a-token'],
      ['an access token', 'ACCESS'],
      ['an unknown token of the right shape', `rt_platform_${'A'.repeat(43)}`],
      ['an unknown organization', `rt_00000000-0000-4000-8000-000000000000_${'A'.repeat(43)}`],
      ['an empty string', ''],
    ])('answers 401 problem+json (not 500) for %s', async (_case, token) => {
      const body = token === 'ACCESS' ? (await loginAdmin(a)).accessToken : token;
      const response = await refresh(body);
      expect(response.status).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.text).not.toContain(body || 'x'.repeat(99));
    });

    it('answers 400 for unknown fields or a missing token', async () => {
      const pair = await loginAdmin(a);
      const unknown = await t.post('/v1/auth/refresh', { refreshToken: pair.refreshToken, userId: 'x' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors.map((e: { field: string }) => e.field)).toContain('userId');
      expect((await t.post('/v1/auth/refresh', {})).status).toBe(400);
      expect((await t.post('/v1/auth/refresh', { refreshToken: 42 })).status).toBe(400);
      expect((await t.post('/v1/auth/logout', { refreshToken: pair.refreshToken, all: true }, pair.accessToken)).status).toBe(400);
      expect((await refresh(pair.refreshToken)).status).toBe(200);
    });
  });

  describe('superadmin', () => {
    it('refreshes, rotates and detects reuse on the platform scope', async () => {
      const first = await loginPair(SUPERADMIN);
      expect(first.refreshToken).toMatch(/^rt_platform_[A-Za-z0-9_-]{43}$/);
      const second = await refresh(first.refreshToken);
      expect(second.status).toBe(200);
      const me = await t.get('/v1/auth/me', second.body.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.role).toBe('superadmin');
      expect((await refresh(first.refreshToken)).status).toBe(401);
      expect((await refresh(second.body.refreshToken)).status).toBe(401);
    });

    it('logs out on the platform scope', async () => {
      const pair = await loginPair(SUPERADMIN);
      expect((await t.post('/v1/auth/logout', { refreshToken: pair.refreshToken }, pair.accessToken)).status).toBe(204);
      expect((await refresh(pair.refreshToken)).status).toBe(401);
    });
  });

  describe('/v1/auth/me', () => {
    it('matches the contract for an organization user', async () => {
      const pair = await loginAdmin(a);
      const me = await t.get('/v1/auth/me', pair.accessToken);
      expect(me.status).toBe(200);
      expect(Object.keys(me.body).sort()).toEqual(['email', 'id', 'name', 'organization', 'role']);
      expect(me.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: a.admin.email,
        name: 'Ada Admin',
        role: 'admin',
        organization: { id: a.id, slug: a.slug, name: expect.any(String) },
      });
    });

    it('matches the contract for the superadmin', async () => {
      const me = await t.get('/v1/auth/me', superToken);
      expect(me.status).toBe(200);
      expect(me.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        email: SUPERADMIN.email,
        name: expect.any(String),
        role: 'superadmin',
        organization: null,
      });
    });
  });

  it('carries jti, exp and iat in access tokens, with a fresh jti per refresh', async () => {
    const first = await loginAdmin(a);
    const second = (await refresh(first.refreshToken)).body;
    const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    const [c1, c2] = [claims(first.accessToken), claims(second.accessToken)];
    expect(c2).toMatchObject({ sub: c1.sub, org: a.id, role: 'admin' });
    expect(c2.exp - c2.iat).toBe(900);
    expect(c2.jti).not.toBe(c1.jti);
  });
});
