import { randomBytes } from 'node:crypto';
import { roleFor } from '@tenantry/auth';
import { IdentityProviderSimulator } from '../apps/simulators/src/identity-provider';
import { createAzureAdSimulator, createOktaSimulator } from '../apps/simulators/src/idps';
import { LogCapture, TestApp } from './support/app';
import { FakeIdp } from './support/fake-idp';
import { Browser } from './support/browser';
import { queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, loginSuperadmin } from './support/factories';

/**
 * Single sign-on end to end: the API in-process, the azure-ad and okta simulators (oidc-provider) on free ports, and
 * a scripted browser between them. The IdP redirects to the callback URL; the test hands that URL's query to the API.
 */
describe('single sign-on (OpenID Connect)', () => {
  let t: TestApp;
  let okta: IdentityProviderSimulator;
  let azure: IdentityProviderSimulator;
  let oktaIssuer: string;
  let azureIssuer: string;
  let superToken: string;
  const PUBLIC_URL = 'http://127.0.0.1:39999';
  const logs = new LogCapture();
  /** Every client secret this file configures: none may show up in a log line. */
  const secrets = new Set<string>();

  beforeAll(async () => {
    okta = createOktaSimulator();
    azure = createAzureAdSimulator();
    oktaIssuer = (await okta.listen(0)).issuer;
    azureIssuer = (await azure.listen(0)).issuer;
    t = await TestApp.boot({ publicUrl: PUBLIC_URL }, logs);
    superToken = await loginSuperadmin(t);
  });

  afterAll(async () => {
    await t?.close();
    await okta?.close();
    await azure?.close();
  });

  interface Connected {
    org: TestOrganization;
    domain: string;
    clientId: string;
    redirectUri: string;
  }

  /** An organization with a connection to `idp`, and its client registered there. */
  async function connect(idp: 'okta' | 'azure-ad', groupRoles: Record<string, string> = { Admins: 'admin', Staff: 'member' }): Promise<Connected> {
    const org = await createOrganization(t, superToken);
    const domain = `${org.slug}.sso.test`;
    const clientId = `tenantry-${org.slug}`;
    const clientSecret = randomBytes(16).toString('hex');
    secrets.add(clientSecret);
    const body = { provider: idp, issuer: idp === 'okta' ? oktaIssuer : azureIssuer, clientId, clientSecret, domains: [domain], defaultRole: 'viewer', groupRoles };
    const answer = await t.request('PUT', '/v1/organizations/current/sso', { body, token: org.admin.token });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ provider: idp, clientId, domains: [domain], defaultRole: 'viewer', redirectUri: `${PUBLIC_URL}/v1/auth/sso/${org.slug}/callback` });
    expect(answer.body).not.toHaveProperty('clientSecret');
    expect(answer.text).not.toContain(clientSecret);
    await (idp === 'okta' ? okta : azure).addClient({ client_id: clientId, client_secret: clientSecret, redirect_uris: [answer.body.redirectUri] });
    return { org, domain, clientId, redirectUri: answer.body.redirectUri };
  }

  /** A person's sign-in: our login URL, the IdP's form, back to our callback; answers the callback's response. */
  async function signIn(connected: Connected, credentials: { login: string; password: string }, tamper?: (query: URLSearchParams) => void) {
    const start = await t.get(`/v1/auth/sso/${connected.org.slug}/login`);
    expect(start.status).toBe(302);
    const authorize = new URL(String(start.headers.location));
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('redirect_uri')).toBe(connected.redirectUri);
    const browser = new Browser();
    const toLogin = await browser.request(authorize.href);
    const loginPage = new URL(toLogin.headers.get('location')!, authorize).href;
    const landed = await browser.follow(loginPage, connected.redirectUri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(credentials).toString(),
    });
    const back = new URL(landed.url);
    expect(back.searchParams.get('code')).toBeTruthy();
    tamper?.(back.searchParams);
    return { callback: `/v1/auth/sso/${connected.org.slug}/callback?${back.searchParams}`, authorize };
  }

  it('signs an Okta user in with the code flow, provisions them just in time, and answers our own token pair', async () => {
    const connected = await connect('okta');
    const email = `ada@${connected.domain}`;
    const { sub } = okta.addUser({ email, name: 'Ada Lovelace', password: 'Okta-Pass-123!', groups: ['Staff'] });
    const { callback } = await signIn(connected, { login: email, password: 'Okta-Pass-123!' });
    const answer = await t.get(callback);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ tokenType: 'Bearer', accessToken: expect.any(String), refreshToken: expect.any(String) });
    const me = await t.get('/v1/auth/me', answer.body.accessToken);
    expect(me.body).toMatchObject({ email, name: 'Ada Lovelace', role: 'member', organization: { id: connected.org.id } });
    const user = (await t.get(`/v1/users/${me.body.id}`, connected.org.admin.token)).body;
    expect(user).toMatchObject({ source: 'sso', externalId: sub, status: 'active' });
    // The callback's state is spent: presenting it again is refused.
    expect((await t.get(callback)).status).toBe(401);
    // The refresh token works like any other.
    expect((await t.post('/v1/auth/refresh', { refreshToken: answer.body.refreshToken })).status).toBe(200);
  });

  it('updates name and role from the claims at the next login, never to superadmin, and keeps one user', async () => {
    const connected = await connect('okta', { Admins: 'admin', Staff: 'member' });
    const email = `grace@${connected.domain}`;
    okta.addUser({ email, name: 'Grace', password: 'Okta-Pass-123!', groups: ['Nobody'] });
    const first = await t.get((await signIn(connected, { login: email, password: 'Okta-Pass-123!' })).callback);
    expect((await t.get('/v1/auth/me', first.body.accessToken)).body.role).toBe('viewer');
    okta.addUser({ email, name: 'Grace Hopper', password: 'Okta-Pass-123!', groups: ['Staff', 'Admins', 'superadmin'] });
    const second = await t.get((await signIn(connected, { login: email, password: 'Okta-Pass-123!' })).callback);
    const me = (await t.get('/v1/auth/me', second.body.accessToken)).body;
    expect(me).toMatchObject({ name: 'Grace Hopper', role: 'admin' });
    const users = (await t.get(`/v1/users?q=${encodeURIComponent(email)}`, connected.org.admin.token)).body;
    expect(users.meta.total).toBe(1);
    const audit = await t.get(`/v1/audit-logs?entityId=${me.id}`, connected.org.admin.token);
    expect(audit.body.data.map((row: any) => row.action)).toEqual(['update', 'create']);
  });

  it('signs an Entra ID user in with tid and oid checked, and keys the user by oid', async () => {
    const connected = await connect('azure-ad');
    const email = `alan@${connected.domain}`;
    const { oid } = azure.addUser({ email, name: 'Alan Turing', password: 'Azure-Pass-123!', groups: ['Admins'] });
    const answer = await t.get((await signIn(connected, { login: email, password: 'Azure-Pass-123!' })).callback);
    expect(answer.status).toBe(200);
    const me = (await t.get('/v1/auth/me', answer.body.accessToken)).body;
    expect(me.role).toBe('admin');
    expect((await t.get(`/v1/users/${me.id}`, connected.org.admin.token)).body).toMatchObject({ source: 'sso', externalId: oid });
  });

  it('refuses a forged state, a state of another login (nonce mismatch) and a code from the wrong client: 401', async () => {
    const connected = await connect('okta');
    const email = `eve@${connected.domain}`;
    okta.addUser({ email, name: 'Eve', password: 'Okta-Pass-123!', groups: [] });
    const forged = await signIn(connected, { login: email, password: 'Okta-Pass-123!' }, (query) => query.set('state', 'forged-state'));
    const refused = await t.get(forged.callback);
    expect(refused.status).toBe(401);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);

    // Two logins started; the second's code comes back with the first's state: the ID token's nonce is the second's.
    const first = await t.get(`/v1/auth/sso/${connected.org.slug}/login`);
    const firstState = new URL(String(first.headers.location)).searchParams.get('state')!;
    const swapped = await signIn(connected, { login: email, password: 'Okta-Pass-123!' }, (query) => query.set('state', firstState));
    expect((await t.get(swapped.callback)).status).toBe(401);

    // Organization B's callback with A's code and state: B's state store does not know the state.
    const other = await connect('okta');
    const fromA = await signIn(connected, { login: email, password: 'Okta-Pass-123!' });
    expect((await t.get(fromA.callback.replace(connected.org.slug, other.org.slug))).status).toBe(401);
    expect(await queryAsOwner('select id from users where org_id = $1 and lower(email) = $2', [connected.org.id, email])).toHaveLength(0);
  });

  it('never brings back a user deactivated here', async () => {
    const connected = await connect('okta');
    const email = `mallory@${connected.domain}`;
    okta.addUser({ email, name: 'Mallory', password: 'Okta-Pass-123!', groups: ['Staff'] });
    const first = await t.get((await signIn(connected, { login: email, password: 'Okta-Pass-123!' })).callback);
    const me = (await t.get('/v1/auth/me', first.body.accessToken)).body;
    expect((await t.delete(`/v1/users/${me.id}`, connected.org.admin.token)).status).toBe(204);
    const again = await t.get((await signIn(connected, { login: email, password: 'Okta-Pass-123!' })).callback);
    expect(again.status).toBe(401);
  });

  it('discovers the organization of an e-mail domain, claims a domain once, and keeps the secret sealed', async () => {
    const connected = await connect('okta');
    const found = await t.post('/v1/auth/sso/discover', { email: `someone@${connected.domain.toUpperCase()}` });
    expect(found.status).toBe(200);
    expect(found.body).toEqual({ organization: connected.org.slug, loginUrl: `${PUBLIC_URL}/v1/auth/sso/${connected.org.slug}/login` });
    expect((await t.post('/v1/auth/sso/discover', { email: 'someone@unclaimed.test' })).status).toBe(404);
    expect((await t.post('/v1/auth/sso/discover', { email: 'not-an-email' })).status).toBe(400);

    const rival = await createOrganization(t, superToken);
    const body = { provider: 'oidc', issuer: oktaIssuer, clientId: 'x', clientSecret: 'rival-secret-value', domains: [connected.domain], defaultRole: 'member', groupRoles: {} };
    const taken = await t.request('PUT', '/v1/organizations/current/sso', { body, token: rival.admin.token });
    expect(taken.status).toBe(409);

    const [row] = await queryAsOwner<{ client_secret: Buffer }>('select client_secret from sso_connections where org_id = $1', [connected.org.id]);
    expect(row.client_secret.toString('latin1')).not.toMatch(/[0-9a-f]{32}/);
    const audit = await t.get('/v1/audit-logs?entityType=sso_connection', connected.org.admin.token);
    expect(audit.body.data[0].changes.clientSecret).toEqual({ from: null, to: '[redacted]' });
  });

  it('refuses bad connection input and the wrong roles', async () => {
    const org = await createOrganization(t, superToken);
    const valid = { provider: 'okta', issuer: oktaIssuer, clientId: 'c', clientSecret: 's', domains: ['ok.sso.test'], defaultRole: 'member', groupRoles: {} };
    const put = (body: unknown, token = org.admin.token) => t.request('PUT', '/v1/organizations/current/sso', { body, token });
    expect((await put({ ...valid, groupRoles: { Root: 'superadmin' } })).status).toBe(400);
    expect((await put({ ...valid, defaultRole: 'superadmin' })).status).toBe(400);
    expect((await put({ ...valid, provider: 'ldap' })).status).toBe(400);
    expect((await put({ ...valid, issuer: 'not a url' })).status).toBe(400);
    expect((await put({ ...valid, domains: ['not_a_domain'] })).status).toBe(400);
    expect((await put({ ...valid, extra: true })).status).toBe(400);
    expect((await put(valid, superToken)).status).toBe(403);
    const viewer = await (await import('./support/factories')).createUserWithToken(t, org, 'viewer');
    expect((await put(valid, viewer.token)).status).toBe(403);
    expect((await t.get('/v1/auth/sso/no-such-org/login')).status).toBe(404);
  });

  it('links a pending user of the same e-mail instead of duplicating it, and spends their open invitation', async () => {
    const connected = await connect('okta');
    const email = `pending@${connected.domain}`;
    const created = await t.post('/v1/users', { email, name: 'Pending Person', role: 'member' }, connected.org.admin.token);
    expect(created.body.status).toBe('pending');
    expect((await t.post(`/v1/users/${created.body.id}/invitations`, {}, connected.org.admin.token)).status).toBe(201);
    const { sub } = okta.addUser({ email, name: 'Pending Person', password: 'Okta-Pass-123!', groups: ['Staff'] });
    const answer = await t.get((await signIn(connected, { login: email, password: 'Okta-Pass-123!' })).callback);
    expect(answer.status).toBe(200);
    const me = (await t.get('/v1/auth/me', answer.body.accessToken)).body;
    expect(me.id).toBe(created.body.id);
    expect((await t.get(`/v1/users/${me.id}`, connected.org.admin.token)).body).toMatchObject({ status: 'active', source: 'sso', externalId: sub });
    const open = await queryAsOwner('select id from invitations where user_id = $1 and used_at is null', [me.id]);
    expect(open).toHaveLength(0);
  });

  it("shows an admin their own connection, without its secret, and another organization's admin nothing of it", async () => {
    const connected = await connect('okta');
    const mine = await t.get('/v1/organizations/current/sso', connected.org.admin.token);
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ clientId: connected.clientId, domains: [connected.domain], redirectUri: connected.redirectUri });
    expect(mine.body).not.toHaveProperty('clientSecret');
    const other = await createOrganization(t, superToken);
    expect((await t.get('/v1/organizations/current/sso', other.admin.token)).status).toBe(404);
  });

  describe('ID tokens no honest provider would issue', () => {
    let fake: FakeIdp;
    let connected: Connected;
    const ssoUsers = async () => Number((await queryAsOwner(`select count(*) as n from users where org_id = $1 and source = 'sso'`, [connected.org.id]))[0].n);

    beforeAll(async () => {
      fake = new FakeIdp();
      const issuer = await fake.listen();
      const org = await createOrganization(t, superToken);
      const domain = `${org.slug}.fake.test`;
      const body = { provider: 'oidc', issuer, clientId: 'fake-client', clientSecret: 'fake-client-secret-0001', domains: [domain], defaultRole: 'member', groupRoles: {} };
      secrets.add(body.clientSecret);
      const answer = await t.request('PUT', '/v1/organizations/current/sso', { body, token: org.admin.token });
      connected = { org, domain, clientId: 'fake-client', redirectUri: answer.body.redirectUri };
    });
    afterAll(() => fake?.close());

    /** Our login redirect, the fake provider's code, our callback: the callback's status. */
    const attempt = async () => {
      const start = await t.get(`/v1/auth/sso/${connected.org.slug}/login`);
      const back = await fetch(String(start.headers.location), { redirect: 'manual' });
      const url = new URL(back.headers.get('location')!);
      return t.get(`${url.pathname}${url.search}`);
    };

    it('accepts an honest one (the fake provider itself works)', async () => {
      fake.forge = (input, keys) => fake.sign(input, keys.signing);
      expect((await attempt()).status).toBe(200);
      expect(await ssoUsers()).toBe(1);
    });

    it.each([
      ['an ID token from the other IdP (issuer)', (f: FakeIdp) => (f.forge = (input, keys) => f.sign(input, keys.signing, { iss: oktaIssuer }))],
      ['an ID token for another client (aud)', (f: FakeIdp) => (f.forge = (input, keys) => f.sign(input, keys.signing, { aud: 'someone-else' }))],
      ['an expired ID token', (f: FakeIdp) => (f.forge = (input, keys) => f.sign(input, keys.signing, { exp: Math.floor(Date.now() / 1000) - 3600, iat: Math.floor(Date.now() / 1000) - 7200 }))],
      ['a token signed with a key not in the JWKS', (f: FakeIdp) => (f.forge = (input, keys) => f.sign(input, keys.stranger))],
      ['a wrong nonce', (f: FakeIdp) => (f.forge = (input, keys) => f.sign({ ...input, nonce: 'not-the-nonce-we-sent' }, keys.signing))],
    ])('refuses %s with 401 and creates no user', async (_case, arrange) => {
      const before = await ssoUsers();
      arrange(fake);
      const answer = await attempt();
      expect(answer.status).toBe(401);
      expect(answer.body.type).toMatch(/sso_login_failed/);
      expect(await ssoUsers()).toBe(before);
    });
  });

  it('never writes a client secret to a log line or an audit row', async () => {
    expect(secrets.size).toBeGreaterThan(3);
    const text = JSON.stringify(logs.lines);
    const audit = JSON.stringify(await queryAsOwner(`select changes from audit_logs where entity_type = 'sso_connection'`));
    for (const secret of secrets) {
      expect(text).not.toContain(secret);
      expect(audit).not.toContain(secret);
    }
    expect(logs.lines.some((line) => line.event === 'sso.connection_saved')).toBe(true);
  });

  it('maps groups to the highest role they grant, else the default', () => {
    const connection = { default_role: 'viewer' as const, group_roles: { A: 'member' as const, B: 'admin' as const } };
    expect(roleFor(['A', 'B'], connection)).toBe('admin');
    expect(roleFor(['A'], connection)).toBe('member');
    expect(roleFor(['C', 42], connection)).toBe('viewer');
    expect(roleFor('B', connection)).toBe('viewer');
  });
});
