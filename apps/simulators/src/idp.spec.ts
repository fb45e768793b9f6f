import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';

import { Browser } from '../../../test/support/browser';
import { IdentityProviderSimulator } from './identity-provider';
import { createAzureAdSimulator, createOktaSimulator, DEFAULT_AZURE_AD_TENANT_ID } from './idps';

type Json = Record<string, any>;

const REDIRECT_URI = 'http://127.0.0.1:3999/v1/auth/sso/acme/callback';

async function post(url: string, body: unknown): Promise<{ status: number; type: string | null; json: Json }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, type: response.headers.get('content-type'), json: (await response.json()) as Json };
}

const discover = async (issuer: string): Promise<Json> => (await fetch(`${issuer}/.well-known/openid-configuration`)).json() as Promise<Json>;

interface Login {
  clientId: string;
  redirectUri?: string;
  login: string;
  password: string;
  pkce?: boolean;
}

/** A script's sign-in: authorize, the login form, back through authorize to the redirect URI. */
async function signIn(issuer: string, options: Login) {
  const config = await discover(issuer);
  const state = randomBytes(12).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const verifier = randomBytes(32).toString('base64url');
  const redirectUri = options.redirectUri ?? REDIRECT_URI;
  const query = new URLSearchParams({
    client_id: options.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope: 'openid email profile',
    state,
    nonce,
  });
  if (options.pkce) {
    query.set('code_challenge', createHash('sha256').update(verifier).digest('base64url'));
    query.set('code_challenge_method', 'S256');
  }
  const browser = new Browser();
  const toLogin = await browser.request(`${config.authorization_endpoint}?${query}`);
  expect(toLogin.status).toBe(303);
  const loginPage = new URL(toLogin.headers.get('location')!, issuer).href;
  const form = await browser.request(loginPage);
  expect(form.status).toBe(200);
  expect(await form.text()).toMatch(/<form method="post"[\s\S]*name="login"[\s\S]*name="password"/);
  const submitted = await browser.follow(loginPage, redirectUri, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: options.login, password: options.password }).toString(),
  });
  const landed = new URL(submitted.url);
  return { config, state, nonce, verifier, redirectUri, response: submitted.response, landed, code: landed.searchParams.get('code') };
}

async function exchange(
  config: Json,
  params: Record<string, string>,
  auth: { basic?: [string, string]; post?: [string, string] },
): Promise<{ status: number; json: Json }> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', ...params });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth.basic) headers.authorization = `Basic ${Buffer.from(auth.basic.map(encodeURIComponent).join(':')).toString('base64')}`;
  if (auth.post) {
    body.set('client_id', auth.post[0]);
    body.set('client_secret', auth.post[1]);
  }
  const response = await fetch(config.token_endpoint, { method: 'POST', headers, body: body.toString() });
  return { status: response.status, json: (await response.json()) as Json };
}

describe('identity-provider simulators', () => {
  const started: IdentityProviderSimulator[] = [];
  const start = async (simulator: IdentityProviderSimulator) => {
    started.push(simulator);
    return simulator.listen(0, '127.0.0.1');
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((simulator) => simulator.close()));
  });

  it('publishes discovery under the Entra-shaped issuer, with its endpoints and keys', async () => {
    const { port, url, issuer } = await start(createAzureAdSimulator());
    expect(issuer).toBe(`http://127.0.0.1:${port}/${DEFAULT_AZURE_AD_TENANT_ID}/v2.0`);
    const config = await discover(issuer);
    expect(config).toMatchObject({
      issuer,
      authorization_endpoint: `${issuer}/auth`,
      token_endpoint: `${issuer}/token`,
      jwks_uri: `${issuer}/jwks`,
      userinfo_endpoint: `${issuer}/me`,
      response_types_supported: expect.arrayContaining(['code']),
      code_challenge_methods_supported: ['S256'],
      id_token_signing_alg_values_supported: expect.arrayContaining(['RS256']),
      claims_supported: expect.arrayContaining(['tid', 'oid', 'preferred_username', 'email', 'name', 'groups']),
    });
    const jwks = (await (await fetch(config.jwks_uri)).json()) as Json;
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.any(String) })]);
    expect(jwks.keys[0].d).toBeUndefined();
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
  });

  it('takes another tenant id into the issuer, and Okta its default authorization server', async () => {
    const azure = await start(createAzureAdSimulator({ tenantId: 'contoso-tenant' }));
    const okta = await start(createOktaSimulator());
    expect(azure.issuer).toBe(`http://127.0.0.1:${azure.port}/contoso-tenant/v2.0`);
    expect(okta.issuer).toBe(`http://127.0.0.1:${okta.port}/oauth2/default`);
    expect((await discover(okta.issuer)).issuer).toBe(okta.issuer);
    expect((await discover(okta.issuer)).claims_supported).toEqual(expect.arrayContaining(['sub', 'email', 'name', 'groups']));
  });

  it('signs a user in by script with PKCE and puts the Entra claims and the nonce in the ID token', async () => {
    const { url, issuer } = await start(createAzureAdSimulator());
    const client = await post(`${url}/__control/clients`, { client_id: 'tenantry', client_secret: 's3cret', redirect_uris: [REDIRECT_URI] });
    expect(client.status).toBe(201);
    const user = await post(`${url}/__control/users`, {
      email: 'Ada@Acme.test',
      name: 'Ada Lovelace',
      password: 'pw-1',
      groups: ['Tenantry Admins', 'b7c1e0d2-0000-4000-8000-000000000001'],
    });
    expect(user.status).toBe(201);
    expect(user.json.oid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

    const flow = await signIn(issuer, { clientId: 'tenantry', login: 'ada@acme.test', password: 'pw-1', pkce: true });
    expect([302, 303]).toContain(flow.response.status);
    expect(flow.landed.searchParams.get('state')).toBe(flow.state);
    expect(flow.code).toEqual(expect.any(String));

    const withoutVerifier = await exchange(flow.config, { code: flow.code!, redirect_uri: flow.redirectUri }, { basic: ['tenantry', 's3cret'] });
    expect(withoutVerifier.json.error).toBe('invalid_grant');
    const tokens = await exchange(
      flow.config,
      { code: flow.code!, redirect_uri: flow.redirectUri, code_verifier: flow.verifier },
      { basic: ['tenantry', 's3cret'] },
    );
    expect(tokens.status).toBe(200);
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), id_token: expect.any(String) });

    const { payload, protectedHeader } = await jwtVerify(tokens.json.id_token, createRemoteJWKSet(new URL(flow.config.jwks_uri)), {
      issuer,
      audience: 'tenantry',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      tid: DEFAULT_AZURE_AD_TENANT_ID,
      oid: user.json.oid,
      sub: user.json.sub,
      preferred_username: 'Ada@Acme.test',
      email: 'Ada@Acme.test',
      name: 'Ada Lovelace',
      nonce: flow.nonce,
    });
    expect(payload.groups).toEqual(['Tenantry Admins', 'b7c1e0d2-0000-4000-8000-000000000001']);

    const again = await exchange(
      flow.config,
      { code: flow.code!, redirect_uri: flow.redirectUri, code_verifier: flow.verifier },
      { basic: ['tenantry', 's3cret'] },
    );
    expect(again.json.error).toBe('invalid_grant');
  });

  it('signs an Okta user in without PKCE, the confidential client authenticating with client_secret_basic or _post', async () => {
    const okta = createOktaSimulator();
    const { url, issuer } = await start(okta);
    await okta.addClient({ client_id: '0oa-tenantry', client_secret: 'okta-secret', redirect_uris: [REDIRECT_URI] });
    const user = await post(`${url}/__control/users`, { email: 'grace@globex.test', name: 'Grace Hopper', password: 'pw-2', groups: ['Everyone', 'Engineering'] });
    expect(user.status).toBe(201);
    expect(user.json).toEqual({ sub: expect.stringMatching(/^00u[A-Za-z0-9]{17}$/) });

    for (const auth of [{ basic: ['0oa-tenantry', 'okta-secret'] as [string, string] }, { post: ['0oa-tenantry', 'okta-secret'] as [string, string] }]) {
      const flow = await signIn(issuer, { clientId: '0oa-tenantry', login: 'grace@globex.test', password: 'pw-2' });
      expect(flow.code).toEqual(expect.any(String));
      const tokens = await exchange(flow.config, { code: flow.code!, redirect_uri: flow.redirectUri }, auth);
      expect(tokens.status).toBe(200);
      const { payload } = await jwtVerify(tokens.json.id_token, createRemoteJWKSet(new URL(flow.config.jwks_uri)), {
        issuer,
        audience: '0oa-tenantry',
      });
      expect(payload).toMatchObject({ sub: user.json.sub, email: 'grace@globex.test', name: 'Grace Hopper', nonce: flow.nonce });
      expect(payload.groups).toEqual(['Everyone', 'Engineering']);
    }
  });

  it('answers a wrong password with the form again and an error, and no code', async () => {
    const { url, issuer } = await start(createOktaSimulator());
    await post(`${url}/__control/clients`, { client_id: 'app', client_secret: 'x', redirect_uris: [REDIRECT_URI] });
    await post(`${url}/__control/users`, { email: 'ada@acme.test', name: 'Ada', password: 'right', groups: [] });
    const flow = await signIn(issuer, { clientId: 'app', login: 'ada@acme.test', password: 'wrong' });
    expect(flow.response.status).toBe(200);
    expect(flow.code).toBeNull();
    const page = await flow.response.text();
    expect(page).toContain('Wrong email or password');
    expect(page).toContain('value="ada@acme.test"');
    const stranger = await signIn(issuer, { clientId: 'app', login: 'nobody@acme.test', password: 'right' });
    expect(stranger.code).toBeNull();
  });

  it('refuses an unknown client at the authorization and token endpoints', async () => {
    const { issuer } = await start(createAzureAdSimulator());
    const config = await discover(issuer);
    const query = new URLSearchParams({ client_id: 'nobody', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's' });
    const authorize = await fetch(`${config.authorization_endpoint}?${query}`, { redirect: 'manual' });
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get('location')).toBeNull();
    expect(await authorize.text()).toContain('invalid_client');
    const token = await exchange(config, { code: 'x', redirect_uri: REDIRECT_URI }, { basic: ['nobody', 'x'] });
    expect(token.status).toBe(401);
    expect(token.json.error).toBe('invalid_client');
  });

  it('replaces a client posted again under the same client_id: the old secret and redirect URI stop working', async () => {
    const { url, issuer } = await start(createAzureAdSimulator());
    const other = 'http://127.0.0.1:3999/other/callback';
    await post(`${url}/__control/clients`, { client_id: 'app', client_secret: 'old', redirect_uris: [REDIRECT_URI] });
    await post(`${url}/__control/users`, { email: 'ada@acme.test', name: 'Ada', password: 'pw' });
    const replaced = await post(`${url}/__control/clients`, { client_id: 'app', client_secret: 'new', redirect_uris: [other] });
    expect(replaced.status).toBe(201);

    const config = await discover(issuer);
    const query = new URLSearchParams({ client_id: 'app', redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'openid', state: 's' });
    const oldRedirect = await fetch(`${config.authorization_endpoint}?${query}`, { redirect: 'manual' });
    expect(oldRedirect.status).toBe(400);
    expect(await oldRedirect.text()).toContain('redirect_uri');

    const flow = await signIn(issuer, { clientId: 'app', redirectUri: other, login: 'ada@acme.test', password: 'pw' });
    expect(flow.code).toEqual(expect.any(String));
    const oldSecret = await exchange(config, { code: flow.code!, redirect_uri: other }, { basic: ['app', 'old'] });
    expect(oldSecret.status).toBe(401);
    const newSecret = await exchange(config, { code: flow.code!, redirect_uri: other }, { basic: ['app', 'new'] });
    expect(newSecret.status).toBe(200);
    expect(decodeJwt(newSecret.json.id_token).groups).toEqual([]);
  });

  it('keeps a user’s ids when the same email is posted again, and refuses bad control bodies with problem documents', async () => {
    const { url } = await start(createAzureAdSimulator());
    const first = await post(`${url}/__control/users`, { email: 'ada@acme.test', name: 'Ada', password: 'a', groups: ['x'] });
    const second = await post(`${url}/__control/users`, { email: 'ADA@acme.test', name: 'Ada L.', password: 'b', groups: [] });
    expect(second.json).toEqual(first.json);
    expect(second.json.sub).not.toBe(second.json.oid);

    const bad: Array<[string, unknown]> = [
      ['clients', { client_id: 'a', client_secret: 'b' }],
      ['clients', { client_id: 'a', client_secret: 'b', redirect_uris: ['not a url'] }],
      ['clients', { client_id: '', client_secret: 'b', redirect_uris: [REDIRECT_URI] }],
      ['clients', { client_id: 'a', client_secret: 'b', redirect_uris: [REDIRECT_URI], admin: true }],
      ['users', { email: 'not-an-email', name: 'A', password: 'p' }],
      ['users', { email: 'a@b.test', name: 'A', password: 'p', groups: 'admins' }],
      ['users', { email: 'a@b.test', password: 'p' }],
      ['users', []],
    ];
    for (const [path, body] of bad) {
      const response = await post(`${url}/__control/${path}`, body);
      expect({ path, body, status: response.status, type: response.type }).toEqual({
        path,
        body,
        status: 400,
        type: 'application/problem+json; charset=utf-8',
      });
      expect(response.json).toMatchObject({ status: 400, title: 'Bad Request', detail: expect.any(String) });
    }
    const notJson = await fetch(`${url}/__control/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
  });
});
