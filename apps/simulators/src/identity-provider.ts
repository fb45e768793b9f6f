import { createHash, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { Adapter, AdapterPayload, Configuration, KoaContextWithOIDC, Provider as ProviderType } from 'oidc-provider';

import { asObject, badRequest, ProblemError, refuseUnknownFields } from './problem';

/** A client as `POST /__control/clients` takes it, in OIDC registration names. */
export interface IdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

/** A user as `POST /__control/users` takes it. */
export interface IdpUserInput {
  email: string;
  name: string;
  password: string;
  groups?: string[];
}

export interface IdpUser extends Required<IdpUserInput> {
  /** The OIDC subject, stable for one email at one simulated tenant. */
  sub: string;
}

export interface IdentityProviderSimulator {
  /**
   * Binds the port first (0 picks a free one), then builds the provider, since the issuer names the actual port.
   * Clients and users added before `listen` are kept, and so are they across `close` and a later `listen`.
   */
  listen(port?: number, host?: string): Promise<{ port: number; url: string; issuer: string }>;
  close(): Promise<void>;
  /** The issuer once listening, else undefined. */
  readonly issuer: string | undefined;
  /** The same as `POST /__control/clients`: the same client_id again replaces the client. */
  addClient(client: IdpClient): Promise<void>;
  /** The same as `POST /__control/users`, answering the user's ids as that endpoint does. */
  addUser(user: IdpUserInput): Record<string, string>;
}

export interface IdentityProviderOptions {
  /** For log lines and the login page's title, e.g. `azure-ad`. */
  name: string;
  /** The issuer's path, e.g. `/oauth2/default`: discovery is `{issuer}/.well-known/openid-configuration`. */
  issuerPath: string;
  /** The issuer's origin (default `http://127.0.0.1:{the port listened on}`). */
  issuerBase?: string;
  /** The subject of a user, a function of the email only so that it survives a restart. */
  subjectOf(email: string): string;
  /** The names of the claims that `claimsOf` returns. */
  claimNames: readonly string[];
  /** Every claim of the ID token beyond `sub`. */
  claimsOf(user: IdpUser): Record<string, unknown>;
  /** What `POST /__control/users` answers. */
  idsOf(user: IdpUser): Record<string, string>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const MODEL_TTL = { AccessToken: 600, AuthorizationCode: 120, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 };

export class BodyTooLargeError extends ProblemError {
  constructor() {
    super(413, 'Payload Too Large', `the body must be at most ${MAX_BODY_BYTES} bytes`);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const text = await readBody(request);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('the body must be a JSON object');
  }
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

function sendProblem(response: ServerResponse, status: number, title: string, detail: string): void {
  send(response, status, 'application/problem+json; charset=utf-8', JSON.stringify({ type: 'about:blank', title, status, detail }));
}

const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim().length > 0;

function isWebUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hash === '';
  } catch {
    return false;
  }
}

export function parseClient(body: unknown): IdpClient {
  const input = asObject(body);
  refuseUnknownFields(input, ['client_id', 'client_secret', 'redirect_uris'], 'client field');
  const { client_id, client_secret, redirect_uris } = input;
  if (!nonEmptyString(client_id)) throw badRequest('client_id must be a non-empty string');
  if (!nonEmptyString(client_secret)) throw badRequest('client_secret must be a non-empty string');
  if (!Array.isArray(redirect_uris) || redirect_uris.length === 0 || !redirect_uris.every(isWebUrl)) {
    throw badRequest('redirect_uris must be a non-empty array of http(s) URLs without a fragment');
  }
  return { client_id, client_secret, redirect_uris: [...(redirect_uris as string[])] };
}

export function parseUser(body: unknown): Required<IdpUserInput> {
  const input = asObject(body);
  refuseUnknownFields(input, ['email', 'name', 'password', 'groups'], 'user field');
  const { email, name, password, groups = [] } = input;
  if (typeof email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(email)) throw badRequest('email must be an email address');
  if (!nonEmptyString(name)) throw badRequest('name must be a non-empty string');
  if (typeof password !== 'string' || password.length === 0) throw badRequest('password must be a non-empty string');
  if (!Array.isArray(groups) || !groups.every(nonEmptyString)) throw badRequest('groups must be an array of non-empty strings');
  return { email, name, password, groups: [...(groups as string[])] };
}

/** A v4-shaped UUID drawn from a hash, so that the same input always names the same user. */
export function stableUuid(input: string): string {
  const hex = createHash('sha256').update(input).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const digest = (value: string) => createHash('sha256').update(value).digest();
const passwordMatches = (given: string, expected: string) => timingSafeEqual(digest(given), digest(expected));

const htmlEscape = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(title: string, action: string, login: string, error?: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in - ${htmlEscape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto}label,input,button{display:block;width:100%;margin:.3rem 0}input{padding:.4rem}.error{color:#b00020}</style>
</head>
<body>
<h1>Sign in</h1>
<p>${htmlEscape(title)} (simulated identity provider)</p>
${error ? `<p class="error" role="alert">${htmlEscape(error)}</p>` : ''}
<form method="post" action="${htmlEscape(action)}">
<label for="login">Email</label><input id="login" name="login" type="email" autocomplete="username" required autofocus value="${htmlEscape(login)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
</body>
</html>`;
}

function errorPage(title: string, detail: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(title)}</title></head>
<body><h1>${htmlEscape(title)}</h1><p>${htmlEscape(detail)}</p></body></html>`;
}

interface Stored {
  payload: AdapterPayload;
  expiresAt: number;
}

/**
 * oidc-provider's storage for one simulator: the `Client` model reads the clients registered through
 * `/__control/clients` (oidc-provider builds a new client whenever the stored metadata changes), every other model
 * lives in a map of this simulator's own, so that two simulators in one process never share a record.
 */
function memoryAdapter(clients: Map<string, IdpClient>): new (name: string) => Adapter {
  const records = new Map<string, Stored>();
  const live = (key: string): AdapterPayload | undefined => {
    const stored = records.get(key);
    if (!stored) return undefined;
    if (stored.expiresAt <= Date.now()) {
      records.delete(key);
      return undefined;
    }
    return stored.payload;
  };
  return class MemoryAdapter implements Adapter {
    constructor(private readonly model: string) {}

    private key(id: string): string {
      return `${this.model}:${id}`;
    }

    private findBy(field: 'uid' | 'userCode', value: string): AdapterPayload | undefined {
      const prefix = `${this.model}:`;
      for (const key of records.keys()) {
        if (!key.startsWith(prefix)) continue;
        const payload = live(key);
        if (payload?.[field] === value) return payload;
      }
      return undefined;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
      if (this.model === 'Client') return;
      records.set(this.key(id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    }

    async find(id: string): Promise<AdapterPayload | undefined> {
      if (this.model === 'Client') {
        const client = clients.get(id);
        return client && { ...client, redirect_uris: [...client.redirect_uris] };
      }
      return live(this.key(id));
    }

    async findByUid(uid: string): Promise<AdapterPayload | undefined> {
      return this.findBy('uid', uid);
    }

    async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
      return this.findBy('userCode', userCode);
    }

    async consume(id: string): Promise<void> {
      const payload = live(this.key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string): Promise<void> {
      records.delete(this.key(id));
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      for (const [key, stored] of records) if (stored.payload.grantId === grantId) records.delete(key);
    }
  };
}

function signingKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

// oidc-provider is an ES module; Node 20 loads it through require(esm), and Jest through its ESM transformer.
const loadProvider = (): typeof ProviderType => (require('oidc-provider') as { Provider: typeof ProviderType }).Provider;

/**
 * An OpenID provider built on oidc-provider (discovery, JWKS, the code flow with optional PKCE, signed ID tokens),
 * mounted under its issuer's path on a plain Node server that also serves the login page and `/__control`.
 * Consent is implied: every registered client gets a grant of the scopes it asks for.
 */
export function createIdentityProviderSimulator(options: IdentityProviderOptions): IdentityProviderSimulator {
  const issuerPath = options.issuerPath.replace(/\/+$/, '');
  const clients = new Map<string, IdpClient>();
  const usersBySub = new Map<string, IdpUser>();
  const subByEmail = new Map<string, string>();
  const key = signingKey();
  const cookieKeys = [randomBytes(32).toString('base64url')];
  let provider: ProviderType | undefined;
  let callback: ((req: IncomingMessage, res: ServerResponse) => Promise<void>) | undefined;
  let server: Server | undefined;

  const addUser = (input: IdpUserInput): Record<string, string> => {
    const parsed = parseUser(input);
    const email = parsed.email.toLowerCase();
    const sub = options.subjectOf(email);
    const user: IdpUser = { ...parsed, sub };
    usersBySub.set(sub, user);
    subByEmail.set(email, sub);
    return options.idsOf(user);
  };

  const addClient = async (input: IdpClient): Promise<void> => {
    const client = parseClient(input);
    if (provider) {
      try {
        await provider.Client.validate({ ...client });
      } catch (error) {
        throw badRequest(`the client is invalid: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    clients.set(client.client_id, client);
  };

  const buildProvider = (issuer: string): ProviderType => {
    const Provider = loadProvider();
    const { claimNames } = options;
    const configuration: Configuration = {
      adapter: memoryAdapter(clients),
      async findAccount(_ctx, sub) {
        const user = usersBySub.get(sub);
        if (!user) return undefined;
        return { accountId: sub, claims: async () => ({ sub, ...options.claimsOf(user) }) };
      },
      // Under `openid`, so that the ID token carries every claim whatever else the client asks for.
      claims: {
        openid: ['sub', ...claimNames],
        email: claimNames.filter((claim) => claim === 'email'),
        profile: claimNames.filter((claim) => claim === 'name' || claim === 'preferred_username'),
      },
      // The claims go into the ID token itself, as Entra ID and Okta put them, not only behind userinfo.
      conformIdTokenClaims: false,
      features: { devInteractions: { enabled: false } },
      interactions: { url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}` },
      async loadExistingGrant(ctx: KoaContextWithOIDC) {
        const { client, session, result } = ctx.oidc;
        if (!client || !session?.accountId) return undefined;
        const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
        const existing = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
        const grant = existing ?? new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
        grant.addOIDCScope([...ctx.oidc.requestParamOIDCScopes].join(' '));
        await grant.save();
        return grant;
      },
      cookies: { keys: cookieKeys },
      jwks: { keys: [key] },
      ttl: MODEL_TTL,
      async renderError(ctx, out) {
        ctx.type = 'html';
        ctx.body = errorPage(`${options.name}: ${out.error ?? 'error'}`, out.error_description ?? '');
      },
    };
    return new Provider(issuer, configuration);
  };

  const handleInteraction = async (request: IncomingMessage, response: ServerResponse, uid: string): Promise<void> => {
    const current = provider!;
    let interaction;
    try {
      interaction = await current.interactionDetails(request, response);
    } catch {
      return send(response, 400, 'text/html; charset=utf-8', errorPage('Sign-in expired', 'Start again from the application.'));
    }
    if (interaction.uid !== uid) {
      return send(response, 400, 'text/html; charset=utf-8', errorPage('Sign-in expired', 'Start again from the application.'));
    }
    const action = `${issuerPath}/interaction/${uid}`;
    const clientId = String(interaction.params.client_id ?? '');
    const title = `${options.name}, for ${clientId}`;
    if (request.method === 'GET') return send(response, 200, 'text/html; charset=utf-8', loginPage(title, action, ''));
    if (request.method !== 'POST') return sendProblem(response, 405, 'Method Not Allowed', 'use GET or POST');

    const form = new URLSearchParams(await readBody(request));
    const login = form.get('login') ?? '';
    const password = form.get('password') ?? '';
    const sub = subByEmail.get(login.trim().toLowerCase());
    const user = sub === undefined ? undefined : usersBySub.get(sub);
    if (!user || !passwordMatches(password, user.password)) {
      return send(response, 200, 'text/html; charset=utf-8', loginPage(title, action, login, 'Wrong email or password.'));
    }
    await current.interactionFinished(request, response, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const rawUrl = request.url ?? '/';
    const path = new URL(rawUrl, 'http://simulator').pathname;
    if (path === '/__control/clients' || path === '/__control/users') {
      if (request.method !== 'POST') return sendProblem(response, 405, 'Method Not Allowed', 'use POST');
      const body = await readJson(request);
      if (path === '/__control/clients') {
        await addClient(body as IdpClient);
        return sendJson(response, 201, { client_id: (body as IdpClient).client_id });
      }
      return sendJson(response, 201, addUser(body as IdpUserInput));
    }
    const interaction = path.startsWith(`${issuerPath}/interaction/`) ? path.slice(issuerPath.length + 13) : undefined;
    if (interaction !== undefined && /^[A-Za-z0-9_-]+$/.test(interaction)) return handleInteraction(request, response, interaction);
    if (path === issuerPath || path.startsWith(`${issuerPath}/`)) {
      // Mounted under the issuer's path: oidc-provider derives the mount point from originalUrl versus url.
      (request as IncomingMessage & { originalUrl?: string }).originalUrl = rawUrl;
      request.url = rawUrl.slice(issuerPath.length) || '/';
      return callback!(request, response);
    }
    return sendProblem(response, 404, 'Not Found', `no route for ${request.method} ${path}`);
  };

  return {
    get issuer() {
      return provider?.issuer;
    },
    addClient,
    addUser,
    async listen(port = 0, host = '127.0.0.1') {
      const listening = createServer((request, response) => {
        handle(request, response).catch((error: unknown) => {
          if (response.headersSent) return void response.destroy();
          if (error instanceof ProblemError) return sendProblem(response, error.status, error.title, error.detail);
          sendProblem(response, 500, 'Internal Server Error', 'the simulator failed on this request');
        });
      });
      await new Promise<void>((resolve, reject) => {
        listening.once('error', reject);
        listening.listen(port, host, () => resolve());
      });
      server = listening;
      const actual = (listening.address() as AddressInfo).port;
      const base = (options.issuerBase ?? `http://127.0.0.1:${actual}`).replace(/\/+$/, '');
      provider = buildProvider(`${base}${issuerPath}`);
      callback = provider.callback();
      const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
      return { port: actual, url: `http://${urlHost}:${actual}`, issuer: provider.issuer };
    },
    async close() {
      const closing = server;
      server = undefined;
      provider = undefined;
      callback = undefined;
      if (!closing) return;
      closing.closeAllConnections();
      await new Promise<void>((resolve, reject) => closing.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
