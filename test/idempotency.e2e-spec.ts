import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { AppConfig, CommonError, CommonErrorCode, Idempotent, ProblemFilter, RedisService, TenantContext, parseConfig } from '@tenantry/core';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { HttpResponse, TestApp } from './support/app';
import { connect } from './support/db';
import { TestOrganization, createOrganization, loginSuperadmin, uniqueSlug } from './support/factories';

describe('Idempotency-Key', () => {
  let t: TestApp;
  let superToken: string;
  let a: TestOrganization;
  let b: TestOrganization;

  const newOrganization = (slug = uniqueSlug('idem')) => ({
    name: `Org ${slug}`,
    slug,
    admin: { email: `admin@${slug}.test`, name: 'Ada', password: 'Admin-Password-123!' },
  });
  const postWithKey = (url: string, body: unknown, token: string, key: string): Promise<HttpResponse> =>
    t.request('POST', url, { body, token, headers: { 'idempotency-key': key } });
  const countOrganizations = async (slug: string): Promise<number> => {
    const owner = await connect('owner');
    try {
      const { rows } = await owner.query('select count(*)::int as n from organizations where slug = $1', [slug]);
      return rows[0].n;
    } finally {
      await owner.end();
    }
  };
  const loginPair = async (org: TestOrganization) =>
    (await t.post('/v1/auth/login', { organization: org.slug, email: org.admin.email, password: org.admin.password })).body as {
      accessToken: string;
      refreshToken: string;
    };

  beforeAll(async () => {
    t = await TestApp.boot();
    superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
    b = await createOrganization(t, superToken);
  });
  afterAll(() => t.close());

  it('answers a retried create with the first response (status, body) and creates one organization', async () => {
    const key = randomUUID();
    const body = newOrganization();
    const first = await postWithKey('/v1/organizations', body, superToken, key);
    expect(first.status).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();

    const retry = await postWithKey('/v1/organizations', body, superToken, key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await countOrganizations(body.slug)).toBe(1);
  });

  it('treats a body with its keys in another order as the same request', async () => {
    const key = randomUUID();
    const body = newOrganization();
    const first = await postWithKey('/v1/organizations', body, superToken, key);
    const reordered = { admin: { password: body.admin.password, name: body.admin.name, email: body.admin.email }, slug: body.slug, name: body.name };
    const retry = await postWithKey('/v1/organizations', reordered, superToken, key);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
  });

  it('answers 422 problem+json for the same key with a different body, and does no work', async () => {
    const key = randomUUID();
    const first = await postWithKey('/v1/organizations', newOrganization(), superToken, key);
    expect(first.status).toBe(201);
    const other = newOrganization();
    const reused = await postWithKey('/v1/organizations', other, superToken, key);
    expect(reused.status).toBe(422);
    expect(reused.headers['content-type']).toContain('application/problem+json');
    expect(reused.body).toMatchObject({ status: 422, type: expect.stringContaining('idempotency_key_reused'), instance: '/v1/organizations' });
    expect(await countOrganizations(other.slug)).toBe(0);
  });

  it('runs the work once for 20 concurrent requests with one key, and gives all of them the same id', async () => {
    const key = randomUUID();
    const body = newOrganization();
    const responses = await Promise.all(Array.from({ length: 20 }, () => postWithKey('/v1/organizations', body, superToken, key)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers['idempotency-replayed'] === 'true')).toHaveLength(19);
    expect(await countOrganizations(body.slug)).toBe(1);
  });

  it('replays a 4xx domain error of the first request', async () => {
    const key = randomUUID();
    const taken = { ...newOrganization(), slug: a.slug };
    const first = await postWithKey('/v1/organizations', taken, superToken, key);
    expect(first.status).toBe(409);
    const retry = await postWithKey('/v1/organizations', taken, superToken, key);
    expect(retry.status).toBe(409);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(retry.headers['content-type']).toContain('application/problem+json');
    expect({ ...retry.body, requestId: undefined }).toEqual({ ...first.body, requestId: undefined });
  });

  it('keeps a completed key for 24 hours', async () => {
    const key = randomUUID();
    await postWithKey('/v1/organizations', newOrganization(), superToken, key);
    const redis = new Redis(process.env.REDIS_URL!);
    try {
      const ttl = await redis.pttl(`${process.env.REDIS_PREFIX}:idempotency:platform:${key}`);
      expect(ttl).toBeGreaterThan(24 * 3600 * 1000 - 60_000);
      expect(ttl).toBeLessThanOrEqual(24 * 3600 * 1000);
    } finally {
      redis.disconnect();
    }
  });

  it('scopes keys to the organization: the same key in org A and org B does each its own work', async () => {
    const key = `logout-${randomUUID()}`;
    const [pairA, pairB] = [await loginPair(a), await loginPair(b)];
    const outA = await postWithKey('/v1/auth/logout', { refreshToken: pairA.refreshToken }, pairA.accessToken, key);
    const outB = await postWithKey('/v1/auth/logout', { refreshToken: pairB.refreshToken }, pairB.accessToken, key);
    expect([outA.status, outB.status]).toEqual([204, 204]);
    expect(outB.headers['idempotency-replayed']).toBeUndefined();
    expect((await t.post('/v1/auth/refresh', { refreshToken: pairA.refreshToken })).status).toBe(401);
    expect((await t.post('/v1/auth/refresh', { refreshToken: pairB.refreshToken })).status).toBe(401);

    // The superadmin's platform scope is yet another one.
    const created = await postWithKey('/v1/organizations', newOrganization(), superToken, key);
    expect(created.status).toBe(201);
  });

  it('replays a 204 with no body', async () => {
    const key = randomUUID();
    const pair = await loginPair(a);
    const first = await postWithKey('/v1/auth/logout', { refreshToken: pair.refreshToken }, pair.accessToken, key);
    const retry = await postWithKey('/v1/auth/logout', { refreshToken: pair.refreshToken }, pair.accessToken, key);
    expect([first.status, retry.status]).toEqual([204, 204]);
    expect(retry.text).toBe('');
    expect(retry.headers['idempotency-replayed']).toBe('true');
  });

  it.each([
    ['an empty key', ''],
    ['a key of 256 characters', 'k'.repeat(256)],
    ['a key with a control character', 'abc\u0001def'],
  ])('answers 400 problem+json for %s, and does no work', async (_case, key) => {
    const body = newOrganization();
    const response = await postWithKey('/v1/organizations', body, superToken, key);
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.errors).toEqual([{ field: 'Idempotency-Key', message: expect.any(String) }]);
    expect(await countOrganizations(body.slug)).toBe(0);
  });

  it('accepts a key of 255 printable characters', async () => {
    const key = `${' !~'.repeat(5)}${'k'.repeat(240)}`;
    expect((await postWithKey('/v1/organizations', newOrganization(), superToken, key)).status).toBe(201);
  });

  it('lets requests without a key through as before', async () => {
    const body = newOrganization();
    expect((await t.post('/v1/organizations', body, superToken)).status).toBe(201);
    expect((await t.post('/v1/organizations', body, superToken)).status).toBe(409);
  });

  it("creates one user for a retried and for 20 concurrent POST /v1/users with one key, in the admin's organization", async () => {
    const countUsers = async (email: string): Promise<number> => {
      const owner = await connect('owner');
      try {
        const { rows } = await owner.query('select count(*)::int as n from users where org_id = $1 and lower(email) = lower($2)', [a.id, email]);
        return rows[0].n;
      } finally {
        await owner.end();
      }
    };
    const single = { email: `once-${randomUUID()}@${a.slug}.test`, name: 'Once', role: 'member', password: 'Member-Password-123!' };
    const key = randomUUID();
    const first = await postWithKey('/v1/users', single, a.admin.token, key);
    const retry = await postWithKey('/v1/users', single, a.admin.token, key);
    expect([first.status, retry.status]).toEqual([201, 201]);
    expect(retry.body.id).toBe(first.body.id);
    expect(await countUsers(single.email)).toBe(1);

    const burst = { ...single, email: `burst-${randomUUID()}@${a.slug}.test` };
    const burstKey = randomUUID();
    const responses = await Promise.all(Array.from({ length: 20 }, () => postWithKey('/v1/users', burst, a.admin.token, burstKey)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201));
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(await countUsers(burst.email)).toBe(1);

    // The same key in organization B is B's own: it creates B's user.
    const inB = await postWithKey('/v1/users', { ...burst, email: `burst@${b.slug}.test` }, b.admin.token, burstKey);
    expect(inB.status).toBe(201);
    expect(inB.headers['idempotency-replayed']).toBeUndefined();
  });

  it('is checked after authentication: a caller without a token gets 401, not a replay', async () => {
    const key = randomUUID();
    const body = newOrganization();
    await postWithKey('/v1/organizations', body, superToken, key);
    const anonymous = await t.request('POST', '/v1/organizations', { body, headers: { 'idempotency-key': key } });
    expect(anonymous.status).toBe(401);
    const admin = await postWithKey('/v1/organizations', body, a.admin.token, key);
    expect(admin.status).toBe(403);
  });
});

/** Routes whose failures this file controls, behind the real interceptor and the real Redis. */
@Controller('probe')
class ProbeController {
  calls = 0;
  failNext: 'crash' | 'conflict' | null = null;

  @Post()
  @HttpCode(202)
  @Idempotent()
  async run(@Body() body: { value: number }): Promise<{ calls: number; value: number }> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const failure = this.failNext;
    this.failNext = null;
    if (failure === 'crash') throw new Error('the database went away');
    if (failure === 'conflict') throw new CommonError(CommonErrorCode.Conflict, 'Already there');
    return { calls: this.calls, value: body.value };
  }
}

describe('Idempotency-Key when the work fails', () => {
  let app: NestFastifyApplication;
  let probe: ProbeController;
  const send = (key: string, value = 1) =>
    app.inject({ method: 'POST', url: '/probe', payload: { value }, headers: { 'idempotency-key': key } });

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      controllers: [ProbeController],
      providers: [
        RedisService,
        { provide: AppConfig, useValue: parseConfig(process.env) },
        { provide: TenantContext, useValue: { orgId: `probe-${randomUUID()}`, actor: { type: 'user', id: null, role: 'admin' } } },
      ],
    }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    app.useGlobalFilters(new ProblemFilter());
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    probe = app.get(ProbeController);
  });
  afterAll(() => app.close());

  it('keeps the status code of the handler (here 202) on the replay', async () => {
    const key = randomUUID();
    const first = await send(key);
    const retry = await send(key);
    expect([first.statusCode, retry.statusCode]).toEqual([202, 202]);
    expect(retry.json()).toEqual(first.json());
    expect(retry.headers['idempotency-replayed']).toBe('true');
  });

  it('releases the key after an unexpected error, so that a retry does the work', async () => {
    const key = randomUUID();
    probe.failNext = 'crash';
    const before = probe.calls;
    expect((await send(key)).statusCode).toBe(500);
    const retry = await send(key);
    expect(retry.statusCode).toBe(202);
    expect(retry.headers['idempotency-replayed']).toBeUndefined();
    expect(probe.calls).toBe(before + 2);
  });

  it('stores a 4xx domain error and replays it without running the handler again', async () => {
    const key = randomUUID();
    probe.failNext = 'conflict';
    const before = probe.calls;
    const first = await send(key);
    const retry = await send(key);
    expect([first.statusCode, retry.statusCode]).toEqual([409, 409]);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    expect(probe.calls).toBe(before + 1);
  });

  it('makes concurrent retries wait for the first and answer what it answered', async () => {
    const key = randomUUID();
    const before = probe.calls;
    const responses = await Promise.all(Array.from({ length: 10 }, () => send(key, 7)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(10).fill(202));
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    expect(probe.calls).toBe(before + 1);
  });
});
