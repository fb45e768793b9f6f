import { LogCapture, TestApp } from './support/app';
import { createOrganization, loginSuperadmin, uniqueSlug } from './support/factories';

describe('logs a person can follow', () => {
  const logs = new LogCapture();
  let t: TestApp;

  beforeAll(async () => {
    t = await TestApp.boot({}, logs);
  });
  afterAll(() => t.close());

  it('writes one JSON access line per request with its requestId and the caller organization', async () => {
    const superToken = await loginSuperadmin(t);
    const org = await createOrganization(t, superToken);
    await t.request('GET', '/v1/organizations/current', { token: org.admin.token, headers: { 'x-request-id': 'follow-me-1' } });
    const access = logs.lines.filter((line) => line.requestId === 'follow-me-1' && line.msg === 'request completed');
    expect(access).toEqual([
      expect.objectContaining({ method: 'GET', route: '/v1/organizations/current', status: 200, orgId: org.id, service: 'test' }),
    ]);
  });

  it('tags lines written inside a request (after its JSON body was parsed) with that request id', async () => {
    const superToken = await loginSuperadmin(t);
    const slug = uniqueSlug();
    await t.request('POST', '/v1/organizations', {
      token: superToken,
      headers: { 'x-request-id': 'follow-me-2' },
      body: { name: 'Logged', slug, admin: { email: `a@${slug}.test`, name: 'A', password: 'Logged-Password-1!' } },
    });
    const created = logs.lines.find((line) => line.event === 'organization.created' && line.slug === slug);
    expect(created).toMatchObject({ requestId: 'follow-me-2', level: 30 });
  });

  it("leaves a trace of the superadmin's every use of the platform path, with who and which request", async () => {
    const superToken = await loginSuperadmin(t);
    const me = (await t.get('/v1/auth/me', superToken)).body;
    await t.request('GET', '/v1/organizations', { token: superToken, headers: { 'x-request-id': 'follow-me-3' } });
    expect(logs.lines).toContainEqual(
      expect.objectContaining({ event: 'platform.access', actorId: me.id, actorType: 'user', systemTask: null, requestId: 'follow-me-3' }),
    );
  });

  it('never writes a password or token into a log line', async () => {
    await t.post('/v1/auth/login', { email: 'root@platform.test', password: 'Root-Password-123!' });
    const text = logs.lines.map((line) => JSON.stringify(line)).join('\n');
    expect(text).not.toContain('Root-Password-123!');
    expect(text).not.toContain('Logged-Password-1!');
    expect(text).not.toMatch(/eyJhbGciOi/);
  });
});
