import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { TestApp } from './support/app';
import { TestOrganization, createOrganization, createUser, loginSuperadmin } from './support/factories';
import { OpenApiSchema } from './support/openapi';

/**
 * The OpenAPI document as a typed client reads it: types generated from /docs-json with openapi-typescript must let a
 * client session (login, a page of users, one user, a problem document) compile under strict options without a cast,
 * must refuse wrong usages, and the same session, run against the app, must get bodies of exactly those shapes.
 */

/** A minimal typed client over the generated `paths`, like openapi-fetch: the one place a response body is typed. */
const CLIENT = `
import type { components, paths } from './schema';

export type Problem = components['schemas']['Problem'];
export type Method = 'get' | 'post' | 'patch' | 'delete';
export interface Sent { method: Method; path: string; url: string; body?: unknown; token?: string | undefined }
export interface Answer { status: number; contentType: string; body: unknown }
export type Send = (request: Sent) => Promise<Answer>;

type Operation<P extends keyof paths, M extends Method> = paths[P][M];
type JsonBody<O> = O extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined;
type PathParams<O> = O extends { parameters: { path: infer X } } ? X : undefined;
type Query<O> = O extends { parameters: { query?: infer Q } } ? Q : undefined;
type Json<O, S extends number> = O extends { responses: { [K in S]: { content: { 'application/json': infer B } } } } ? B : undefined;

export interface Init<O> {
  path?: PathParams<O>;
  query?: Query<O>;
  body?: JsonBody<O>;
}

export class ProblemAnswer extends Error {
  constructor(readonly status: number, readonly problem: Problem) {
    super(problem.title + ': ' + problem.detail);
  }
}

export class ApiClient {
  token: string | undefined;

  constructor(private readonly send: Send) {}

  /** Calls an operation and returns its body when it answers \`status\`; a problem document is thrown. */
  async call<P extends keyof paths, M extends Method & keyof paths[P], S extends number>(
    method: M,
    path: P,
    status: S,
    init: Init<Operation<P, M>> = {},
  ): Promise<Json<Operation<P, M>, S>> {
    const answer = await this.request(method, path, init);
    if (answer.status === status) return answer.body as Json<Operation<P, M>, S>;
    if (answer.contentType.startsWith('application/problem+json')) throw new ProblemAnswer(answer.status, answer.body as Problem);
    throw new Error('unexpected answer ' + answer.status);
  }

  /** Calls an operation that is expected to fail, and returns its problem document. */
  async problem<P extends keyof paths, M extends Method & keyof paths[P]>(method: M, path: P, init: Init<Operation<P, M>> = {}): Promise<Problem> {
    const answer = await this.request(method, path, init);
    if (!answer.contentType.startsWith('application/problem+json')) throw new Error('expected a problem, got ' + answer.status);
    return answer.body as Problem;
  }

  private request(method: Method, path: string, init: { path?: unknown; query?: unknown; body?: unknown }): Promise<Answer> {
    const params = (init.path ?? {}) as Record<string, string>;
    const query = Object.entries((init.query ?? {}) as Record<string, string | number>)
      .map(([name, value]) => encodeURIComponent(name) + '=' + encodeURIComponent(String(value)))
      .join('&');
    const url = path.replace(/\\{(\\w+)\\}/g, (_, name: string) => encodeURIComponent(params[name] ?? '')) + (query ? '?' + query : '');
    return this.send({ method, path, url, body: init.body, token: this.token });
  }
}
`;

/** The session a consumer writes: every field is read through the generated types, with no cast and no `any`. */
const SESSION = `
import type { components } from './schema';
import { ApiClient, Send } from './client';

type LoginDto = components['schemas']['LoginDto'];

export async function session(send: Send, who: { organization: string; email: string; password: string }) {
  const api = new ApiClient(send);
  const credentials: LoginDto = { organization: who.organization, email: who.email, password: who.password };
  const tokens = await api.call('post', '/v1/auth/login', 200, { body: credentials });
  const expiresIn: number = tokens.expiresIn;
  const tokenType: 'Bearer' = tokens.tokenType;
  const refreshToken: string = tokens.refreshToken;
  api.token = tokens.accessToken;

  const page = await api.call('get', '/v1/users', 200, { query: { limit: 2, sort: 'email' } });
  const total: number = page.meta.total;
  const pageNumber: number = page.meta.page;
  const pageSize: number = page.meta.limit;
  const first = page.data[0];
  if (!first) throw new Error('the page is empty');

  const user = await api.call('get', '/v1/users/{id}', 200, { path: { id: first.id } });
  const role: components['schemas']['OrgRole'] = user.role;
  const status: components['schemas']['UserStatus'] = user.status;
  const externalId: string | null = user.externalId;
  const externalIdLength: number | null = user.externalId === null ? null : user.externalId.length;

  const me = await api.call('get', '/v1/auth/me', 200);
  const organizationSlug: string | null = me.organization ? me.organization.slug : null;

  const problem = await api.problem('get', '/v1/users/{id}', { path: { id: 'not-a-uuid' } });
  const problemStatus: number = problem.status;
  const problemField: string | undefined = problem.errors?.[0]?.field;

  return {
    expiresIn, tokenType, refreshTokenLength: refreshToken.length, total, pageNumber, pageSize, count: page.data.length,
    firstEmail: first.email, userId: user.id, role, status, externalId, externalIdLength, organizationSlug,
    problemStatus, problemField, problemRequestId: problem.requestId,
  };
}
`;

/** Usages the generated types must refuse: each file holds one, and must not compile. */
const WRONG: Record<string, { source: string; message: RegExp }> = {
  'an unknown field of meta': {
    source: `import type { components } from './schema';
declare const page: components['schemas']['UserPageDto'];
export const nope = page.meta.nope;`,
    message: /Property 'nope' does not exist/,
  },
  'an unknown field of meta, through the client': {
    source: `import { ApiClient } from './client';
export const read = (api: ApiClient) => api.call('get', '/v1/users', 200).then((page) => page.meta.nope);`,
    message: /Property 'nope' does not exist/,
  },
  'total as a string': {
    source: `import type { components } from './schema';
declare const meta: components['schemas']['PageMetaDto'];
export const total: string = meta.total;`,
    message: /Type 'number' is not assignable to type 'string'/,
  },
  'a nullable field as if it were always set': {
    source: `import type { components } from './schema';
declare const user: components['schemas']['UserDto'];
export const externalId: string = user.externalId;`,
    message: /Type 'string \| null' is not assignable to type 'string'/,
  },
  'a role outside the enum': {
    source: `import type { components } from './schema';
export const role: components['schemas']['OrgRole'] = 'superadmin';`,
    message: /not assignable to type/,
  },
  'a login body without its required password': {
    source: `import { ApiClient } from './client';
export const login = (api: ApiClient) => api.call('post', '/v1/auth/login', 200, { body: { email: 'a@b.test' } });`,
    message: /password/,
  },
  'an unknown query parameter': {
    source: `import { ApiClient } from './client';
export const list = (api: ApiClient) => api.call('get', '/v1/users', 200, { query: { pageSize: 5 } });`,
    message: /pageSize/,
  },
};

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  noImplicitAny: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  noImplicitReturns: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  moduleResolution: ts.ModuleResolutionKind.Node10,
  lib: ['lib.es2022.d.ts'],
  types: [],
  skipLibCheck: true,
};

type Schema = OpenApiSchema;

describe('the OpenAPI document as a typed client reads it', () => {
  let t: TestApp;
  let org: TestOrganization;
  let document: { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, Schema> } };
  let dir: string;
  let program: ts.Program;

  beforeAll(async () => {
    t = await TestApp.boot();
    org = await createOrganization(t, await loginSuperadmin(t));
    await createUser(t, org.admin.token, { role: 'viewer' });
    document = (await t.get('/docs-json')).body;
    dir = mkdtempSync(join(tmpdir(), 'tenantry-openapi-client-'));
    writeFileSync(join(dir, 'schema.ts'), astToString(await openapiTS(document as unknown as Parameters<typeof openapiTS>[0])));
    writeFileSync(join(dir, 'client.ts'), CLIENT);
    writeFileSync(join(dir, 'session.ts'), SESSION);
    const wrongFiles = Object.keys(WRONG).map((_, index) => join(dir, `wrong-${index}.ts`));
    Object.values(WRONG).forEach(({ source }, index) => writeFileSync(wrongFiles[index], source));
    program = ts.createProgram([join(dir, 'schema.ts'), join(dir, 'client.ts'), join(dir, 'session.ts'), ...wrongFiles], COMPILER_OPTIONS);
  }, 60_000);
  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await t?.close();
  });

  const diagnosticsOf = (file: string) =>
    ts.getPreEmitDiagnostics(program, program.getSourceFile(join(dir, file))).map((diagnostic) => {
      const where = diagnostic.file && diagnostic.start !== undefined ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start) : null;
      return `${file}${where ? `:${where.line + 1}:${where.character + 1}` : ''} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });

  it('generates types in which a page has a typed meta, and compiles the client session with zero diagnostics', () => {
    const schema = program.getSourceFile(join(dir, 'schema.ts'))!.getFullText();
    expect(schema).toMatch(/PageMetaDto: \{[^}]*page: number;[^}]*limit: number;[^}]*total: number;/s);
    expect(schema).toMatch(/meta: components\["schemas"\]\["PageMetaDto"\]/);
    expect(ts.getPreEmitDiagnostics(program).filter((d) => !d.file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
    expect([...diagnosticsOf('schema.ts'), ...diagnosticsOf('client.ts'), ...diagnosticsOf('session.ts')]).toEqual([]);
  });

  it.each(Object.entries(WRONG).map(([name, wrong], index) => [name, wrong.message, index] as const))(
    'refuses %s',
    (_name, message, index) => {
      const diagnostics = diagnosticsOf(`wrong-${index}.ts`);
      expect(diagnostics.length).toBeGreaterThan(0);
      expect(diagnostics.join('\n')).toMatch(message);
    },
  );

  const resolve = (schema: Schema): Schema => {
    if (schema.$ref) return resolve(document.components.schemas[schema.$ref.split('/').pop()!]);
    if (schema.allOf?.length === 1) return { ...resolve(schema.allOf[0]), nullable: schema.nullable };
    return schema;
  };

  /** Where `value` departs from `schema`, strictly: required fields, types, enums, nullability, no undeclared fields. */
  function departures(raw: Schema, value: unknown, at: string): string[] {
    const schema = resolve(raw);
    if (value === null) return schema.nullable ? [] : [`${at} is null`];
    if (schema.enum && !schema.enum.includes(value)) return [`${at}=${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
    switch (schema.type) {
      case 'string':
        if (typeof value !== 'string') return [`${at} is not a string`];
        if (schema.format === 'uuid' && !/^[0-9a-f-]{36}$/.test(value)) return [`${at} is not a uuid`];
        if (schema.format === 'date-time' && Number.isNaN(Date.parse(value))) return [`${at} is not a date-time`];
        return [];
      case 'integer':
        return Number.isInteger(value) ? [] : [`${at} is not an integer`];
      case 'number':
        return typeof value === 'number' ? [] : [`${at} is not a number`];
      case 'boolean':
        return typeof value === 'boolean' ? [] : [`${at} is not a boolean`];
      case 'array':
        return Array.isArray(value) ? value.flatMap((item, index) => departures(schema.items!, item, `${at}[${index}]`)) : [`${at} is not an array`];
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) return [`${at} is not an object`];
        const record = value as Record<string, unknown>;
        const properties = schema.properties ?? {};
        return [
          ...(schema.required ?? []).filter((name) => !(name in record)).map((name) => `${at}.${name} is missing`),
          ...Object.keys(record).filter((name) => !(name in properties)).map((name) => `${at}.${name} is not declared`),
          ...Object.entries(record).filter(([name]) => name in properties).flatMap(([name, item]) => departures(properties[name], item, `${at}.${name}`)),
        ];
      }
      default:
        return [`${at}: the schema declares no type`];
    }
  }

  it('runs the session against the app, and every answer has exactly the declared shape', async () => {
    const checked: string[] = [];
    const departuresSeen: string[] = [];
    const send = async (request: { method: string; path: string; url: string; body?: unknown; token?: string }) => {
      const response = await t.request(request.method.toUpperCase(), request.url, { body: request.body, token: request.token });
      const contentType = String(response.headers['content-type'] ?? '');
      const responses = document.paths[request.path][request.method].responses;
      const declared = responses[String(response.status)] ?? responses.default;
      const mediaType = contentType.split(';')[0];
      const schema: Schema | undefined = declared?.content?.[mediaType]?.schema;
      if (!schema) departuresSeen.push(`${request.method} ${request.path} ${response.status} ${mediaType}: not declared`);
      else departuresSeen.push(...departures(schema, response.body, `${request.method} ${request.path} ${response.status}`));
      checked.push(`${request.method} ${request.path} ${response.status}`);
      return { status: response.status, contentType, body: response.body as unknown };
    };

    const session = loadSession();
    const result = await session(send, { organization: org.slug, email: org.admin.email, password: org.admin.password });

    expect(departuresSeen).toEqual([]);
    expect(checked).toEqual([
      'post /v1/auth/login 200',
      'get /v1/users 200',
      'get /v1/users/{id} 200',
      'get /v1/auth/me 200',
      'get /v1/users/{id} 400',
    ]);
    expect(result).toEqual({
      expiresIn: expect.any(Number),
      tokenType: 'Bearer',
      refreshTokenLength: expect.any(Number),
      total: 2,
      pageNumber: 1,
      pageSize: 2,
      count: 2,
      firstEmail: expect.any(String),
      userId: expect.any(String),
      role: expect.stringMatching(/^(admin|viewer)$/),
      status: 'active',
      externalId: null,
      externalIdLength: null,
      organizationSlug: org.slug,
      problemStatus: 400,
      problemField: 'id',
      problemRequestId: expect.any(String),
    });
  });

  /** The client and session as the type check saw them, compiled to CommonJS and run (their imports are the two files). */
  function loadSession(): (send: unknown, who: object) => Promise<Record<string, unknown>> {
    const modules: Record<string, Record<string, unknown>> = {};
    const load = (name: 'client' | 'session', source: string) => {
      const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
      const exports: Record<string, unknown> = {};
      new Function('exports', 'require', outputText)(exports, (specifier: string) => {
        const loaded = modules[specifier.replace('./', '')];
        if (!loaded) throw new Error(`the session may only import ./client, not ${specifier}`);
        return loaded;
      });
      modules[name] = exports;
    };
    load('client', CLIENT);
    load('session', SESSION);
    return modules.session.session as (send: unknown, who: object) => Promise<Record<string, unknown>>;
  }
});
