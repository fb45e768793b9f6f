import { TestApp } from './support/app';
import { connect } from './support/db';
import { TestOrganization, createOrganization, createUserWithToken, login, loginSuperadmin, uniqueSlug } from './support/factories';

describe('organizations', () => {
  let t: TestApp;
  let superToken: string;
  let a: TestOrganization;
  let b: TestOrganization;

  beforeAll(async () => {
    t = await TestApp.boot();
    superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
    b = await createOrganization(t, superToken);
  });
  afterAll(() => t.close());

  it('creates an organization with its first admin, who can log in and read it', async () => {
    const current = await t.get('/v1/organizations/current', a.admin.token);
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ id: a.id, slug: a.slug, status: 'active' });
    expect(new Date(current.body.createdAt).toISOString()).toBe(current.body.createdAt);
  });

  it('answers 409 for a taken slug', async () => {
    const response = await t.post(
      '/v1/organizations',
      { name: 'Again', slug: a.slug, admin: { email: 'x@y.test', name: 'X', password: 'Another-Password-1!' } },
      superToken,
    );
    expect(response.status).toBe(409);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('lists organizations for the superadmin, paginated', async () => {
    const response = await t.get('/v1/organizations?page=1&limit=1', superToken);
    expect(response.status).toBe(200);
    expect(response.body.data).toHaveLength(1);
    expect(response.body.meta).toMatchObject({ page: 1, limit: 1 });
    expect(response.body.meta.total).toBeGreaterThanOrEqual(2);
  });

  it("refuses the list to an organization's admin", async () => {
    expect((await t.get('/v1/organizations', a.admin.token)).status).toBe(403);
  });

  it('lets an admin rename their own organization but not change its slug', async () => {
    const renamed = await t.patch(`/v1/organizations/${a.id}`, { name: 'Renamed A' }, a.admin.token);
    expect(renamed.status).toBe(200);
    expect(renamed.body.name).toBe('Renamed A');
    expect((await t.patch(`/v1/organizations/${a.id}`, { slug: uniqueSlug() }, a.admin.token)).status).toBe(403);
  });

  describe('role matrix on the caller\'s own organization', () => {
    type Caller = 'superadmin' | 'admin' | 'member' | 'viewer' | 'other admin' | 'no token';
    const tokens = {} as Record<Caller, string | undefined>;
    let target: TestOrganization;

    beforeAll(async () => {
      target = await createOrganization(t, superToken);
      const other = await createOrganization(t, superToken);
      tokens.superadmin = superToken;
      tokens.admin = target.admin.token;
      tokens.member = (await createUserWithToken(t, target, 'member')).token;
      tokens.viewer = (await createUserWithToken(t, target, 'viewer')).token;
      tokens['other admin'] = other.admin.token;
      tokens['no token'] = undefined;
    });

    const routes: Array<[string, (caller: Caller) => Promise<number>, Record<Caller, number>]> = [
      ['GET /v1/organizations', async (c) => (await t.get('/v1/organizations', tokens[c])).status,
        { superadmin: 200, admin: 403, member: 403, viewer: 403, 'other admin': 403, 'no token': 401 }],
      ['GET /v1/organizations/current', async (c) => (await t.get('/v1/organizations/current', tokens[c])).status,
        { superadmin: 403, admin: 200, member: 200, viewer: 200, 'other admin': 200, 'no token': 401 }],
      ['GET /v1/organizations/:id', async (c) => (await t.get(`/v1/organizations/${target.id}`, tokens[c])).status,
        { superadmin: 200, admin: 200, member: 200, viewer: 200, 'other admin': 404, 'no token': 401 }],
      ['PATCH /v1/organizations/:id', async (c) => (await t.patch(`/v1/organizations/${target.id}`, { name: target.name }, tokens[c])).status,
        { superadmin: 200, admin: 200, member: 403, viewer: 403, 'other admin': 404, 'no token': 401 }],
      ['POST /v1/organizations', async (c) => (await t.post('/v1/organizations', { name: 'Nope', slug: uniqueSlug(), admin: { email: 'n@n.test', name: 'N', password: 'Nope-Password-123!' } }, tokens[c])).status,
        { superadmin: 201, admin: 403, member: 403, viewer: 403, 'other admin': 403, 'no token': 401 }],
      ['DELETE /v1/organizations/:id (refused callers only)', async (c) => (await t.delete(`/v1/organizations/${target.id}`, tokens[c])).status,
        { superadmin: -1, admin: 403, member: 403, viewer: 403, 'other admin': 404, 'no token': 401 }],
    ];
    const cases = routes.flatMap(([route, call, expected]) =>
      (Object.keys(expected) as Caller[]).filter((caller) => expected[caller] > 0).map((caller) => [route, caller, expected[caller], call] as const),
    );

    it.each(cases)('%s as %s answers %i', async (_route, caller, expected, call) => {
      expect(await call(caller)).toBe(expected);
      // Whatever the answer, the organization is still active under its name.
      const owner = await connect('owner');
      const row = (await owner.query('select name, status from organizations where id = $1', [target.id])).rows[0];
      await owner.end();
      expect(row).toEqual({ name: target.name, status: 'active' });
    });
  });

  describe('another organization', () => {
    it('is 404 through every organization route, and nothing changes', async () => {
      const owner = await connect('owner');
      const before = (await owner.query('select name, slug, status, updated_at from organizations where id = $1', [b.id])).rows[0];

      expect((await t.get(`/v1/organizations/${b.id}`, a.admin.token)).status).toBe(404);
      const patch = await t.patch(`/v1/organizations/${b.id}`, { name: 'Hijacked' }, a.admin.token);
      expect(patch.status).toBe(404);
      expect(patch.body.detail).toBe('Organization not found');
      expect((await t.delete(`/v1/organizations/${b.id}`, a.admin.token)).status).toBe(404);

      const after = (await owner.query('select name, slug, status, updated_at from organizations where id = $1', [b.id])).rows[0];
      await owner.end();
      expect(after).toEqual(before);
    });

    it('is indistinguishable from an organization that does not exist', async () => {
      const missing = await t.get('/v1/organizations/00000000-0000-4000-8000-000000000000', a.admin.token);
      const other = await t.get(`/v1/organizations/${b.id}`, a.admin.token);
      expect(other.status).toBe(missing.status);
      expect(other.body.detail).toBe(missing.body.detail);
    });
  });

  describe('deactivation', () => {
    it('stops logins and refuses the tokens already issued, at once', async () => {
      const c = await createOrganization(t, superToken);
      expect((await t.get('/v1/organizations/current', c.admin.token)).status).toBe(200);

      expect((await t.delete(`/v1/organizations/${c.id}`, c.admin.token)).status).toBe(403);
      expect((await t.delete(`/v1/organizations/${c.id}`, superToken)).status).toBe(204);

      expect((await t.get('/v1/organizations/current', c.admin.token)).status).toBe(401);
      const relogin = await t.post('/v1/auth/login', { organization: c.slug, email: c.admin.email, password: c.admin.password });
      expect(relogin.status).toBe(401);
      const shown = await t.get(`/v1/organizations/${c.id}`, superToken);
      expect(shown.body.status).toBe('deactivated');
    });
  });

  describe('bad input', () => {
    const valid = () => ({ name: 'Valid', slug: uniqueSlug(), admin: { email: 'v@valid.test', name: 'V', password: 'Valid-Password-1!' } });

    it.each([
      ['an unknown field', { ...valid(), plan: 'gold' }, 'plan'],
      ['a bad slug', { ...valid(), slug: 'Not A Slug!' }, 'slug'],
      ['a missing admin password', { ...valid(), admin: { email: 'v@valid.test', name: 'V' } }, 'admin.password'],
      ['a mass-assigned id', { ...valid(), id: '00000000-0000-4000-8000-000000000000' }, 'id'],
    ])('answers 400 problem+json naming the field for %s', async (_case, body, field) => {
      const response = await t.post('/v1/organizations', body, superToken);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body).toMatchObject({ status: 400, title: 'Bad Request', instance: '/v1/organizations' });
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it('answers 400 for JSON that does not parse', async () => {
      const response = await t.request('POST', '/v1/organizations', { token: superToken, rawBody: '{"name": "x",' });
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body.errors).toEqual([{ field: 'body', message: 'body must be valid JSON' }]);
    });

    it('answers 413 for a 2 MiB body', async () => {
      const body = JSON.stringify({ ...valid(), name: 'x'.repeat(2 * 1024 * 1024) });
      const response = await t.request('POST', '/v1/organizations', { token: superToken, rawBody: body });
      expect(response.status).toBe(413);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });

    it('answers 400 for an id that is not a UUID', async () => {
      const response = await t.get('/v1/organizations/not-a-uuid', superToken);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
    });

    it('never shows a stack trace or SQL', async () => {
      const responses = await Promise.all([
        t.post('/v1/organizations', { ...valid(), slug: a.slug }, superToken),
        t.request('POST', '/v1/organizations', { token: superToken, rawBody: '{' }),
        t.get('/v1/organizations/not-a-uuid', superToken),
        t.patch(`/v1/organizations/${a.id}`, { name: '' }, superToken),
      ]);
      for (const response of responses) {
        expect(response.text).not.toMatch(/\bat .+\.(js|ts):\d+|QueryFailedError|duplicate key|insert into|select .* from/i);
      }
    });
  });

  it('does not let a deactivated organization keep its slug-based logins', async () => {
    const d = await createOrganization(t, superToken);
    await t.delete(`/v1/organizations/${d.id}`, superToken);
    await expect(login(t, { organization: d.slug, email: d.admin.email, password: d.admin.password })).rejects.toThrow(/401/);
  });
});
