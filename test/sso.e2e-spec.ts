import { randomBytes } from 'node:crypto';
import { roleFor } from '@tenantry/auth';
import { IdentityProviderSimulator } from '../apps/simulators/src/identity-provider';
import { createAzureAdSimulator, createOktaSimulator } from '../apps/simulators/src/idps';
import { TestApp } from './support/app';
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

  beforeAll(async () => {
    okta = createOktaSimulator();
    azure = createAzureAdSimulator();
    oktaIssuer = (await okta.listen(0)).issuer;
    azureIssuer = (await azure.listen(0)).issuer;
    t = await TestApp.boot({ publicUrl: PUBLIC_URL });
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

  it('maps groups to the highest role they grant, else the default', () => {
    const connection = { default_role: 'viewer' as const, group_roles: { A: 'member' as const, B: 'admin' as const } };
    expect(roleFor(['A', 'B'], connection)).toBe('admin');
    expect(roleFor(['A'], connection)).toBe('member');
    expect(roleFor(['C', 42], connection)).toBe('viewer');
    expect(roleFor('B', connection)).toBe('viewer');
  });
});
