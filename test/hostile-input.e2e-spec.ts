import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { mintInvitationToken } from '@tenantry/auth';
import { Config, INTEGRATION_PROVIDERS, parseConfig } from '@tenantry/core';
import { HttpResponse, TestApp } from './support/app';
import { TestOrganization, createOrganization, createUser, loginSuperadmin, uniqueSlug } from './support/factories';
import { OpenApiSchema } from './support/openapi';

/**
 * Every operation of /docs-json, every body field (top-level and nested, array items included), path parameter and
 * query parameter, against a table of hostile values, each in an otherwise valid request: the answer is a 4xx problem
 * document, never a 5xx, and no table changes. A route added later joins the walk by being in the document; give it a
 * row in `fixtures` when the generated base request is not valid for it (the base check below says so).
 */

type Schema = OpenApiSchema;
type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: Schema };
type Operation = { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: Schema }> } };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } };

const HOSTILE = '__HOSTILE_VALUE__';
const DEPTH = 5000;

/** Hostile values for a JSON body, as JSON text: each goes into one field of an otherwise valid body. */
const BODY_VALUES: Array<[label: string, json: string]> = [
  ['a NUL inside a string', JSON.stringify('a\u0000b')],
  ['a lone high surrogate', JSON.stringify('\ud800')],
  ['a lone low surrogate inside text', JSON.stringify('x\udc00y')],
  [`arrays nested ${DEPTH} levels`, '['.repeat(DEPTH) + ']'.repeat(DEPTH)],
  [`objects nested ${DEPTH} levels`, '{"a":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH)],
  ['null', 'null'],
  ['a number', '42'],
  ['a numeric string', '"42"'],
  ['an object', '{}'],
  ['an array', '[]'],
  ['a boolean', 'true'],
  ['1e308', '1e308'],
  ['-1e308', '-1e308'],
  ['2**63', String(2n ** 63n)],
  ['a fraction', '1.5'],
  ['a negative number', '-1'],
  ['a 100k-character string', JSON.stringify('a'.repeat(100_000))],
];

/**
 * Hostile values for path and query parameters, as they go on the wire (already percent-encoded) and as the server
 * decodes them. A URL cannot carry a lone surrogate: percent-decoding yields U+FFFD or leaves the escapes as they are,
 * so that row checks the decoder's output is handled, and it is skipped where any string is valid (`q`).
 */
const URL_VALUES: Array<[label: string, wire: string, decoded: string | string[]]> = [
  ['a NUL inside a string', 'a%00b', 'a\u0000b'],
  ['the UTF-8 bytes of a lone surrogate', '%ED%A0%80', '\ufffd\ufffd\ufffd'],
  [`${DEPTH} opening brackets`, '%5B'.repeat(DEPTH), '['.repeat(DEPTH)],
  ['the word null', 'null', 'null'],
  ['an empty value', '', ''],
  ['a number', '42', '42'],
  ['a word', 'abc', 'abc'],
  ['an object', '%7B%7D', '{}'],
  ['an array (the parameter repeated)', '1&{name}=2', ['1', '2']],
  ['a boolean', 'true', 'true'],
  ['1e308', '1e308', '1e308'],
  ['2**63', String(2n ** 63n), String(2n ** 63n)],
  ['a fraction', '1.5', '1.5'],
  ['a negative number', '-1', '-1'],
  ['a 100k-character string', 'a'.repeat(100_000), 'a'.repeat(100_000)],
];

interface Fixture {
  /** Whose token the request carries: an org admin unless said otherwise. */
  as?: 'superadmin' | 'admin' | 'none';
  params?: Record<string, string>;
  body?: unknown;
  /** The status of the base request, sent once after the walk to prove the base was valid (default: any 2xx). */
  status?: number;
  /**
   * POST /v1/users/bulk validates each row on its own and answers 200 with a result per row (the contract): a hostile
   * value inside a row is refused when that row comes back `invalid` and nothing is created.
   */
  rowResults?: string;
}

describe('hostile input on every operation of the OpenAPI document', () => {
  let t: TestApp;
  let owner: Client;
  let document: Document;
  const tokens: Record<'superadmin' | 'admin' | 'none', string | undefined> = { superadmin: undefined, admin: undefined, none: undefined };
  let org: TestOrganization;
  let fixtures: Record<string, () => Promise<Fixture>>;

  // A database of its own (migrated by globalSetup): the fingerprint covers every row of every table, which other test
  // files running at the same time would change in the shared one.
  const database = process.env.ISOLATED_TEST_DATABASE!;
  const ownerUrl = (name: string) => Object.assign(new URL(process.env.DATABASE_OWNER_URL!), { pathname: `/${name}` }).toString();
  const appUrl = Object.assign(new URL(process.env.DATABASE_URL!), { pathname: `/${database}` }).toString();

  beforeAll(async () => {
    // Its own Redis prefix and unreachable services too: the integrations' shared state (circuits, probes) lives in
    // Redis, and the integrations tests running beside this one must neither see these probes nor be seen here.
    const base = parseConfig(process.env);
    const unreachable = Object.fromEntries(INTEGRATION_PROVIDERS.map((provider) => [provider, { ...base.integrations[provider], url: 'http://127.0.0.1:1' }]));
    t = await TestApp.boot({
      databaseUrl: appUrl,
      databaseOwnerUrl: ownerUrl(database),
      redisPrefix: `${process.env.REDIS_PREFIX}-hostile`,
      integrations: unreachable as Config['integrations'],
    });
    owner = new Client({ connectionString: ownerUrl(database) });
    await owner.connect();
    tokens.superadmin = await loginSuperadmin(t);
    org = await createOrganization(t, tokens.superadmin);
    tokens.admin = org.admin.token;
    document = (await t.get('/docs-json')).body;
    const member = await createUser(t, org.admin.token, { role: 'member', password: true });
    const newUser = () => ({ email: `new-${randomBytes(4).toString('hex')}@hostile.test`, name: 'New User', role: 'member', password: 'New-User-Password-1!' });
    fixtures = {
      'POST /v1/organizations': async () => ({
        as: 'superadmin',
        body: { name: 'Hostile Org', slug: uniqueSlug('hostile'), admin: { email: 'ada@hostile.test', name: 'Ada', password: 'Hostile-Admin-Pass-1!' } },
        status: 201,
      }),
      'GET /v1/organizations': async () => ({ as: 'superadmin' }),
      'GET /v1/organizations/{id}': async () => ({ params: { id: org.id } }),
      'PATCH /v1/organizations/{id}': async () => ({ params: { id: org.id }, body: { name: 'Renamed Org' } }),
      // A sacrificial organization: the base request deactivates it.
      'DELETE /v1/organizations/{id}': async () => ({ as: 'superadmin', params: { id: (await createOrganization(t, tokens.superadmin!)).id }, status: 204 }),
      'POST /v1/users': async () => ({ body: newUser(), status: 201 }),
      'POST /v1/users/bulk': async () => ({ body: { users: [newUser()] }, rowResults: 'results' }),
      'GET /v1/users/{id}': async () => ({ params: { id: member.id } }),
      'PATCH /v1/users/{id}': async () => ({ params: { id: member.id }, body: { name: 'Renamed User' } }),
      'DELETE /v1/users/{id}': async () => ({ params: { id: (await createUser(t, org.admin.token)).id }, status: 204 }),
      'POST /v1/auth/login': async () => ({ as: 'none', body: { organization: org.slug, email: org.admin.email, password: org.admin.password }, status: 200 }),
      'POST /v1/auth/refresh': async () => ({ as: 'none', body: { refreshToken: await freshRefreshToken() }, status: 200 }),
      'POST /v1/auth/logout': async () => ({ body: { refreshToken: await freshRefreshToken() }, status: 204 }),
      'POST /v1/integrations/{provider}/sync': async () => ({ params: { provider: 'user-service' }, status: 202 }),
      'POST /v1/integrations/{provider}/webhook-secret': async () => ({ params: { provider: 'payment-service' }, status: 201 }),
      // No worker runs here: the job stays queued, and only its id is needed.
      'GET /v1/integrations/jobs/{jobId}': async () => ({
        params: { jobId: (await t.post('/v1/integrations/payment-service/sync', {}, org.admin.token)).body.jobId },
      }),
      // No simulators run here: every service is down, which is the answer the base request gets.
      'POST /v1/users/{id}/invitations': async () => ({ params: { id: (await createUser(t, org.admin.token)).id }, status: 201 }),
      'POST /v1/auth/invitations/accept': async () => ({ as: 'none', body: { token: await invitationToken(), password: 'Invited-Password-12!' }, status: 200 }),
      'GET /health/integrations': async () => ({ as: 'none', status: 503 }),
      // Loopback (inject's address) scrapes without a token; the route takes no input, so the walk only sends the base.
      'GET /metrics': async () => ({ as: 'none' }),
      'GET /health/live': async () => ({ as: 'none' }),
      // Unsigned: the signature is the credential, so every request here is refused before its body is read.
      'POST /v1/webhooks/{orgSlug}/{provider}': async () => {
        await t.post('/v1/integrations/communication-service/webhook-secret', {}, org.admin.token);
        return { as: 'none', params: { orgSlug: org.slug, provider: 'communication-service' }, status: 401 };
      },
      'GET /v1/webhooks/events/{id}': async () => ({ params: { id: await deadEvent() } }),
      'POST /v1/webhooks/events/{id}/replay': async () => ({ params: { id: await deadEvent() }, status: 202 }),
      'POST /v1/webhooks/dead-letters/replay': async () => ({ status: 202 }),
      'GET /v1/organizations/current/sso': async () => (await ssoConnection(), {}),
      'POST /v1/auth/sso/discover': async () => ({ as: 'none', body: { email: `ada@${await ssoConnection()}` }, status: 200 }),
      // The connection's issuer does not answer here: 502 is the documented answer of the login redirect; a callback
      // without a live state is refused before anything reaches the provider.
      'GET /v1/auth/sso/{orgSlug}/login': async () => (await ssoConnection(), { as: 'none', params: { orgSlug: org.slug }, status: 502 }),
      'GET /v1/auth/sso/{orgSlug}/callback': async () => (await ssoConnection(), { as: 'none', params: { orgSlug: org.slug }, status: 401 }),
    };
  });
  afterAll(async () => {
    await owner?.end();
    await t?.close();
  });

  async function freshRefreshToken(): Promise<string> {
    const response = await t.post('/v1/auth/login', { organization: org.slug, email: org.admin.email, password: org.admin.password });
    return response.body.refreshToken;
  }

  /** Gives the organization an SSO connection (to an issuer that does not answer); returns the domain it claims. */
  async function ssoConnection(): Promise<string> {
    const domain = `${org.slug}.hostile.test`;
    const body = { provider: 'okta', issuer: 'http://127.0.0.1:1/oauth2/default', clientId: 'c', clientSecret: 's', domains: [domain], defaultRole: 'member', groupRoles: {} };
    const answer = await t.request('PUT', '/v1/organizations/current/sso', { body, token: org.admin.token });
    if (answer.status !== 200) throw new Error(`sso connection: ${answer.status} ${answer.text}`);
    return domain;
  }

  /** A dead webhook event of the organization, written as the owner. */
  async function deadEvent(): Promise<string> {
    const { rows } = await owner.query(
      `insert into webhook_events (org_id, provider, event_id, type, occurred_at, data, status, attempts)
       values ($1, 'user-service', $2, 'user.created', now(), '{"externalId": "x"}', 'dead', 5) returning id`,
      [org.id, `evt_${randomBytes(6).toString('hex')}`],
    );
    return rows[0].id;
  }

  /** A live invitation of a new pending user, written as the owner: its token is otherwise only in an e-mail. */
  async function invitationToken(): Promise<string> {
    const user = await createUser(t, org.admin.token);
    const { token, hash } = mintInvitationToken();
    await owner.query(`insert into invitations (org_id, user_id, token_hash, expires_at) values ($1, $2, $3, now() + interval '1 hour')`, [org.id, user.id, hash]);
    return token;
  }

  /** A cheap fingerprint of every table, read as the owner (no RLS): the row count and an md5 over each row's md5. */
  async function fingerprint(): Promise<Record<string, string>> {
    const tables = await owner.query<{ name: string }>(`select tablename as name from pg_tables where schemaname = 'public' order by 1`);
    const result: Record<string, string> = {};
    for (const { name } of tables.rows) {
      const row = await owner.query(`select count(*)::text || ':' || coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))), '') as f from "${name}" t`);
      result[name] = row.rows[0].f;
    }
    return result;
  }

  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(document.components.schemas[schema.$ref.split('/').pop()!]);
    if (schema.allOf?.length === 1) return { ...resolve(schema.allOf[0]), nullable: schema.nullable };
    return schema;
  };

  /** A value the schema accepts, for operations without a fixture: examples, formats, enums and bounds. */
  function generate(raw: Schema): unknown {
    const schema = resolve(raw);
    if (schema.example !== undefined && schema.type !== 'object') return schema.example;
    if (schema.enum) return schema.enum[0];
    switch (schema.type) {
      case 'object':
        return Object.fromEntries((schema.required ?? []).map((name) => [name, generate(schema.properties![name])]));
      case 'array':
        return Array.from({ length: Math.max(1, schema.minItems ?? 0) }, () => generate(schema.items!));
      case 'integer':
      case 'number':
        return schema.minimum ?? 1;
      case 'boolean':
        return true;
      default:
        if (schema.format === 'uuid') return randomUUID();
        if (schema.format === 'email') return `gen-${randomBytes(3).toString('hex')}@hostile.test`;
        if (schema.format === 'date-time') return new Date().toISOString();
        return 'x'.repeat(Math.max(schema.minLength ?? 1, 8));
    }
  }

  /** Whether the schema accepts `value`: a hostile value that is genuinely valid for a field is not hostile there. */
  function accepts(raw: Schema, value: unknown): boolean {
    const schema = resolve(raw);
    if (value === null) return schema.nullable === true;
    if (schema.enum) return schema.enum.includes(value);
    switch (schema.type) {
      case 'string':
        return (
          typeof value === 'string' &&
          !value.includes('\u0000') &&
          value.isWellFormed() &&
          value.length >= (schema.minLength ?? 0) &&
          value.length <= (schema.maxLength ?? Infinity) &&
          (!schema.pattern || new RegExp(schema.pattern).test(value)) &&
          (schema.format !== 'uuid' || /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) &&
          (schema.format !== 'email' || /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) &&
          (schema.format !== 'date-time' || (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && !Number.isNaN(Date.parse(value))))
        );
      case 'integer':
      case 'number': {
        const number = typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
        return (
          typeof number === 'number' &&
          Number.isFinite(number) &&
          (schema.type === 'number' || Number.isInteger(number)) &&
          number >= (schema.minimum ?? -Infinity) &&
          number <= (schema.maximum ?? Infinity)
        );
      }
      case 'boolean':
        return typeof value === 'boolean';
      case 'array':
        return (
          Array.isArray(value) &&
          value.length >= (schema.minItems ?? 0) &&
          value.length <= (schema.maxItems ?? Infinity) &&
          value.every((item) => accepts(schema.items!, item))
        );
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) return false;
        const record = value as Record<string, unknown>;
        const properties = schema.properties ?? {};
        return (
          (schema.required ?? []).every((name) => name in record) &&
          Object.entries(record).every(([name, item]) => name in properties && accepts(properties[name], item))
        );
      }
      default:
        return false;
    }
  }

  /** Every field of a body schema: [path, schema], nested objects and array items (as index 0) included. */
  function fields(raw: Schema, path: Array<string | number> = []): Array<[Array<string | number>, Schema]> {
    const schema = resolve(raw);
    const own: Array<[Array<string | number>, Schema]> = [[path, raw]];
    if (schema.type === 'object' || schema.properties) {
      return own.concat(Object.entries(schema.properties ?? {}).flatMap(([name, child]) => fields(child, [...path, name])));
    }
    if (schema.type === 'array' && schema.items) return own.concat(fields(schema.items, [...path, 0]));
    return own;
  }

  /** The body with HOSTILE at `path` (creating the parents a base body left out, e.g. optional objects). */
  function withPlaceholder(body: unknown, path: Array<string | number>, schema: Schema): unknown {
    if (path.length === 0) return HOSTILE;
    const [head, ...rest] = path;
    const base = body ?? generate(schema);
    const container: any = Array.isArray(base) ? [...base] : { ...(base as object) };
    const parent = resolve(schema);
    const childSchema = typeof head === 'number' ? parent.items! : parent.properties![head];
    container[head] = withPlaceholder(container[head], rest, childSchema);
    return container;
  }

  function isProblem(response: HttpResponse): boolean {
    const body = response.body;
    return (
      String(response.headers['content-type']).startsWith('application/problem+json') &&
      typeof body === 'object' &&
      body !== null &&
      typeof body.type === 'string' &&
      typeof body.title === 'string' &&
      body.status === response.status &&
      typeof body.detail === 'string' &&
      typeof body.instance === 'string' &&
      typeof body.requestId === 'string' &&
      !('stack' in body)
    );
  }

  function refused(response: HttpResponse, fixture: Fixture): boolean {
    if (fixture.rowResults && response.status === 200) {
      const results = response.body?.[fixture.rowResults] as Array<{ status: string }> | undefined;
      return Array.isArray(results) && results.length > 0 && results.every((row) => row.status === 'invalid');
    }
    return response.status >= 400 && response.status < 500 && isProblem(response);
  }

  const describeResponse = (response: HttpResponse) => `${response.status} ${response.headers['content-type']} ${response.text.slice(0, 300)}`;

  function operations(): Array<{ method: string; path: string; operation: Operation }> {
    return Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, operation]) => ({ method: method.toUpperCase(), path, operation })),
    );
  }

  it('finds the operations in the document (the walk below covers each)', () => {
    const names = operations().map(({ method, path }) => `${method} ${path}`);
    expect(names).toEqual(expect.arrayContaining(Object.keys(fixtures)));
    expect(names.length).toBeGreaterThanOrEqual(Object.keys(fixtures).length);
  });

  it('declares explicit bounds for every number, string and array a client sends (body fields, path and query parameters)', () => {
    const unbounded: string[] = [];
    const inspect = (where: string, raw: Schema) => {
      const schema = resolve(raw);
      if ((schema.type === 'integer' || schema.type === 'number') && (schema.minimum === undefined || schema.maximum === undefined)) {
        unbounded.push(`${where}: ${schema.type} without minimum and maximum`);
      }
      if (schema.type === 'string' && !schema.enum && schema.maxLength === undefined && schema.format !== 'uuid') {
        unbounded.push(`${where}: string without maxLength, enum or uuid format`);
      }
      if (schema.type === 'array' && schema.maxItems === undefined) unbounded.push(`${where}: array without maxItems`);
    };
    for (const { method, path, operation } of operations()) {
      for (const parameter of operation.parameters ?? []) if (parameter.in !== 'header') inspect(`${method} ${path} ${parameter.in} ${parameter.name}`, parameter.schema);
      const body = operation.requestBody?.content['application/json']?.schema;
      for (const [fieldPath, schema] of body ? fields(body) : []) inspect(`${method} ${path} body ${fieldPath.join('.')}`, schema);
    }
    expect(unbounded).toEqual([]);
  });

  it('answers every hostile value with a 4xx problem document and changes nothing', async () => {
    const failures: string[] = [];
    const skipped: string[] = [];
    const tried = new Set<string>();
    let sent = 0;
    for (const { method, path, operation } of operations()) {
      const key = `${method} ${path}`;
      const fixture: Fixture = fixtures[key] ? await fixtures[key]() : {};
      const token = tokens[fixture.as ?? 'admin'];
      const parameters = operation.parameters ?? [];
      const pathParams = parameters.filter((p) => p.in === 'path');
      const queryParams = parameters.filter((p) => p.in === 'query');
      const bodySchema = operation.requestBody?.content['application/json']?.schema;
      const validParams = Object.fromEntries(pathParams.map((p) => [p.name, fixture.params?.[p.name] ?? String(generate(p.schema))]));
      const baseBody = bodySchema ? (fixture.body ?? generate(bodySchema)) : undefined;
      const url = (params: Record<string, string>, query = '') =>
        path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]) + (query ? `?${query}` : '');
      const send = (target: string, rawBody?: string) =>
        t.request(method, target, { token, ...(rawBody !== undefined ? { rawBody } : {}) });
      const check = async (label: string, target: string, rawBody?: string) => {
        sent++;
        tried.add(`${key} ${label}`);
        const response = await send(target, rawBody);
        if (!refused(response, fixture)) failures.push(`${key} ${label}: ${describeResponse(response)}`);
      };

      const before = await fingerprint();
      const baseJson = baseBody === undefined ? undefined : JSON.stringify(baseBody);

      for (const [fieldPath, fieldSchema] of bodySchema ? fields(bodySchema) : []) {
        const template = JSON.stringify(withPlaceholder(baseBody, fieldPath, bodySchema!));
        for (const [label, json] of BODY_VALUES) {
          // Skipped only where the value is valid input for that field (e.g. "42" for a name): not hostile there.
          if (accepts(fieldSchema, JSON.parse(json))) {
            skipped.push(`${key} body ${fieldPath.join('.')} = ${label}`);
            continue;
          }
          await check(`body ${fieldPath.join('.') || '(whole body)'} = ${label}`, url(validParams), template.replace(`"${HOSTILE}"`, () => json));
        }
      }
      for (const parameter of pathParams) {
        for (const [label, wire, decoded] of URL_VALUES) {
          if (wire.includes('&')) continue; // a path segment cannot repeat
          if (accepts(parameter.schema, decoded)) {
            skipped.push(`${key} path ${parameter.name} = ${label}`);
            continue;
          }
          await check(`path ${parameter.name} = ${label}`, url({ ...validParams, [parameter.name]: wire }), baseJson);
        }
      }
      for (const parameter of queryParams) {
        for (const [label, wire, decoded] of URL_VALUES) {
          // Skipped only where the decoded value is valid for the parameter: any short string is a valid `q`.
          const query = `${parameter.name}=${wire.replace('{name}', parameter.name)}`;
          if (!Array.isArray(decoded) && accepts(parameter.schema, decoded)) {
            skipped.push(`${key} query ${parameter.name} = ${label}`);
            // Valid for the parameter, so no refusal is due; a read still must not fail on it.
            if (method === 'GET') {
              const response = await send(url(validParams, query));
              if (response.status >= 500 || (response.status >= 400 && !isProblem(response))) failures.push(`${key} valid query ${parameter.name} = ${label}: ${describeResponse(response)}`);
            }
            continue;
          }
          await check(`query ${parameter.name} = ${label}`, url(validParams, query), baseJson);
        }
      }

      const after = await fingerprint();
      if (JSON.stringify(after) !== JSON.stringify(before)) {
        const changed = Object.keys(after).filter((table) => after[table] !== before[table]);
        failures.push(`${key}: the walk changed ${changed.join(', ')}`);
      }

      // The base request itself is valid, so each refusal above was for the hostile value alone.
      const base = await send(url(validParams), baseJson);
      const expected = fixture.status ?? 200;
      if (fixture.status ? base.status !== expected : base.status >= 300) {
        failures.push(`${key}: the base request answered ${describeResponse(base)}; give it a valid base in fixtures`);
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(500);
    // Nested fields and array items were walked, not only the top level.
    expect([...tried]).toEqual(
      expect.arrayContaining([
        `POST /v1/organizations body admin.email = a NUL inside a string`,
        `POST /v1/users/bulk body users.0.password = null`,
        `POST /v1/users/bulk body users.0 = objects nested ${DEPTH} levels`,
        `PATCH /v1/users/{id} body name = null`,
        `GET /v1/users query page = 1e308`,
        `POST /v1/auth/login body organization = a lone high surrogate`,
      ]),
    );
    // What was skipped as genuinely valid, and why: "42" is a fine name, slug or password to send (the field's own
    // rules decide), 42 is a page and a page size, any short string is a search (`q`), a slug-shaped word ("null",
    // "42") is an organization's slug in a webhook or SSO URL, and {} is an empty PATCH.
    const skipRules = [
      /^POST \/v1\/webhooks\/\{orgSlug\}\/\{provider\} path orgSlug = /,
      /^GET \/v1\/auth\/sso\/\{orgSlug\}\/(login|callback) path orgSlug = /,
      // Whatever short string an identity provider puts in its redirect is its to choose (a code, a state, an error):
      // the callback refuses what does not match a live state with 401, which the walk checked.
      /^GET \/v1\/auth\/sso\/\{orgSlug\}\/callback query \w+ = /,
      // {} is a valid group→role map: no group maps to a role, every user gets the default role.
      /^PUT \/v1\/organizations\/current\/sso body groupRoles = an object$/,
      / body [\w.]+ = a numeric string$/,
      / query (page|limit) = a number$/,
      /^GET \/v1\/users query q = /,
      /^PATCH \S+ body  = an object$/,
    ];
    expect(skipped.filter((label) => !skipRules.some((rule) => rule.test(label)))).toEqual([]);
  }, 120_000);
});
