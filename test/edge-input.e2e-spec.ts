import { Body, Controller, HttpCode, Post, RawBodyRequest, Req } from '@nestjs/common';
import { Public } from '@tenantry/core';
import type { FastifyRequest } from 'fastify';
import { TestApp } from './support/app';
import { TestOrganization, createOrganization, createUser, loginSuperadmin } from './support/factories';

/** What a handler receives: the raw bytes and the parsed body (a webhook route verifies signatures over the bytes). */
@Controller('test-probe')
class RawBodyProbe {
  @Post('raw')
  @Public()
  @HttpCode(200)
  raw(@Req() request: RawBodyRequest<FastifyRequest>, @Body() body: unknown) {
    return { rawBase64: request.rawBody?.toString('base64') ?? null, body };
  }
}

describe('input refused at the edge, for every route', () => {
  let t: TestApp;
  let superToken: string;
  let org: TestOrganization;

  beforeAll(async () => {
    t = await TestApp.boot({}, undefined, { controllers: [RawBodyProbe] });
    superToken = await loginSuperadmin(t);
    org = await createOrganization(t, superToken);
  });
  afterAll(() => t.close());

  it('keeps request.rawBody the exact bytes sent, whitespace and escapes included', async () => {
    const raw = Buffer.from('{ "id" : "evt_1",\n  "data": {"name": "Ad\\u0061 \u00e9\u{1F600}"} }', 'utf8');
    const response = await t.request('POST', '/test-probe/raw', { rawBody: raw });
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body.rawBase64, 'base64').equals(raw)).toBe(true);
    expect(response.body.body).toEqual({ id: 'evt_1', data: { name: 'Ada é😀' } });
  });

  it('refuses a body nested deeper than 32 levels before any route sees it, with the field named', async () => {
    const raw = '{"data":' + '['.repeat(40) + ']'.repeat(40) + '}';
    const response = await t.request('POST', '/test-probe/raw', { rawBody: raw });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.body.errors).toEqual([{ field: expect.stringMatching(/^data(\.0)+$/), message: expect.stringMatching(/deeper than 32 levels/) }]);
  });

  it('refuses a NUL character in a login field, a body field and a query parameter with 400 naming it', async () => {
    const login = await t.post('/v1/auth/login', { organization: org.slug, email: 'a\u0000@b.test', password: 'whatever-password' });
    expect(login).toMatchObject({ status: 400, body: { errors: [{ field: 'email', message: 'email must not contain a NUL character' }] } });
    const rename = await t.patch(`/v1/organizations/${org.id}`, { name: 'Acme\u0000' }, org.admin.token);
    expect(rename).toMatchObject({ status: 400, body: { errors: [{ field: 'name' }] } });
    const search = await t.get('/v1/users?q=a%00b', org.admin.token);
    expect(search).toMatchObject({ status: 400, body: { errors: [{ field: 'q', message: 'q must not contain a NUL character' }] } });
  });

  it('refuses lone surrogates, which would otherwise be stored as U+FFFD', async () => {
    const response = await t.request('POST', '/v1/users', { token: org.admin.token, rawBody: '{"email":"lone@users.test","name":"A\\ud800","role":"member"}' });
    expect(response).toMatchObject({ status: 400, body: { errors: [{ field: 'name', message: expect.stringMatching(/well-formed/) }] } });
  });

  it('answers 400 "must not be null" for a PATCH field that cannot be stored as null, and changes nothing', async () => {
    const user = await createUser(t, org.admin.token);
    for (const field of ['name', 'role', 'status']) {
      const response = await t.patch(`/v1/users/${user.id}`, { [field]: null }, org.admin.token);
      expect(response).toMatchObject({ status: 400, body: { errors: [{ field, message: `${field} must not be null` }] } });
    }
    expect((await t.get(`/v1/users/${user.id}`, org.admin.token)).body).toMatchObject({ name: user.name, role: 'member' });
    const nested = await t.post('/v1/organizations', { name: 'N', slug: 'null-admin', admin: { email: 'a@b.test', name: null, password: 'Long-Enough-Pass-1!' } }, superToken);
    expect(nested).toMatchObject({ status: 400, body: { errors: [{ field: 'admin.name', message: 'admin.name must not be null' }] } });
  });

  it('answers 400 for a null body, and for a nested object sent as an array', async () => {
    const nullBody = await t.request('PATCH', `/v1/organizations/${org.id}`, { token: org.admin.token, rawBody: 'null' });
    expect(nullBody).toMatchObject({ status: 400, body: { errors: [{ field: 'body', message: 'body must be a JSON object, not null' }] } });
    const arrayAdmin = await t.post('/v1/organizations', { name: 'N', slug: 'array-admin', admin: [] }, superToken);
    expect(arrayAdmin).toMatchObject({ status: 400, body: { errors: [{ field: 'admin', message: 'admin must be an object' }] } });
  });

  it('bounds the page at 10,000, so the offset never leaves what PostgreSQL takes', async () => {
    expect((await t.get('/v1/organizations?page=10000&limit=100', superToken)).status).toBe(200);
    for (const page of ['10001', '1e308', String(2n ** 63n)]) {
      const response = await t.get(`/v1/users?page=${page}`, org.admin.token);
      expect(response).toMatchObject({ status: 400, body: { errors: [{ field: 'page' }] } });
    }
  });

  it('answers a URL the router cannot decode, or an overlong path parameter, with a problem document', async () => {
    const badUrl = await t.get('/v1/users/%ED%A0%80', org.admin.token);
    expect(badUrl).toMatchObject({ status: 400, body: { title: 'Bad Request', requestId: badUrl.headers['x-request-id'] } });
    expect(badUrl.headers['content-type']).toContain('application/problem+json');
    const long = await t.get(`/v1/users/${'a'.repeat(500)}`, org.admin.token);
    expect(long.status).toBe(414);
    expect(long.headers['content-type']).toContain('application/problem+json');
    expect(long.body.detail).not.toContain('aaaa');
  });
});
