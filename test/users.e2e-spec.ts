import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { DataSource, EntitySubscriberInterface, InsertEvent } from 'typeorm';
import { PostgresQueryRunner } from 'typeorm/driver/postgres/PostgresQueryRunner';
import { User } from '@tenantry/users';
import { HttpResponse, TestApp } from './support/app';
import { connect } from './support/db';
import {
  TestOrganization,
  TestUser,
  createOrganization,
  createUser,
  createUserWithToken,
  login,
  loginAs,
  loginSuperadmin,
} from './support/factories';

type Actor = 'superadmin' | 'admin' | 'member' | 'viewer' | 'otherAdmin' | 'anonymous';
const ACTORS: readonly Actor[] = ['superadmin', 'admin', 'member', 'viewer', 'otherAdmin', 'anonymous'];

const SNAPSHOT_SQL = `select org_id, email, name, role, status, token_version, password_hash, updated_at from users where id = $1`;
const HASH_MARKERS = /\$argon2|passwordHash|password_hash/;
/** A hash, or a property that could hold one. (A 400 may name a rejected field the caller sent: that is not a leak.) */
const HASH_VALUE_OR_PROPERTY = /\$argon2|"(passwordHash|password_hash)"\s*:/;

describe('users', () => {
  let t: TestApp;
  let owner: Client;
  let superToken: string;
  let a: TestOrganization;
  let b: TestOrganization;
  let adminId: string;
  let member: TestUser & { token: string; password: string };
  let viewer: TestUser & { token: string; password: string };
  /** Every response of a /v1/users route in this file: the last test checks none of them shows a password hash. */
  const usersResponses: Array<{ route: string; response: HttpResponse }> = [];

  const tokenOf = (actor: Actor): string | undefined =>
    ({ superadmin: superToken, admin: a.admin.token, member: member.token, viewer: viewer.token, otherAdmin: b.admin.token, anonymous: undefined })[actor];
  const snapshot = async (id: string) => (await owner.query(SNAPSHOT_SQL, [id])).rows[0];
  const countByEmail = async (email: string) =>
    Number((await owner.query('select count(*) from users where lower(email) = lower($1)', [email])).rows[0].count);
  const uniqueEmail = (prefix = 'u') => `${prefix}-${randomBytes(5).toString('hex')}@users.test`;
  const expectProblem = (response: HttpResponse, status: number) => {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
  };

  beforeAll(async () => {
    t = await TestApp.boot();
    const request = t.request.bind(t);
    t.request = async (method, url, options) => {
      const response = await request(method, url, options);
      if (url.startsWith('/v1/users')) usersResponses.push({ route: `${method} ${url}`, response });
      return response;
    };
    owner = await connect('owner');
    superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
    b = await createOrganization(t, superToken);
    adminId = (await t.get('/v1/auth/me', a.admin.token)).body.id;
    member = await createUserWithToken(t, a, 'member');
    viewer = await createUserWithToken(t, a, 'viewer');
  });
  afterAll(async () => {
    await owner?.end();
    await t?.close();
  });

  describe('role matrix on another user of the organization', () => {
    interface Route {
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
      path: (targetId: string) => string;
      body?: () => Record<string, unknown>;
      /** The route acts on one existing user (the target), created fresh for every case. */
      targeted: boolean;
      expected: Record<Actor, number>;
    }
    // The contract's table, written out by hand: what each caller gets from each route.
    const ROUTES: Record<string, Route> = {
      'GET /v1/users': {
        method: 'GET', path: () => '/v1/users', targeted: false,
        expected: { superadmin: 403, admin: 200, member: 403, viewer: 200, otherAdmin: 200, anonymous: 401 },
      },
      'POST /v1/users': {
        method: 'POST', path: () => '/v1/users', targeted: false, body: () => ({ email: uniqueEmail('new'), name: 'New', role: 'member' }),
        expected: { superadmin: 403, admin: 201, member: 403, viewer: 403, otherAdmin: 201, anonymous: 401 },
      },
      'POST /v1/users/bulk': {
        method: 'POST', path: () => '/v1/users/bulk', targeted: false,
        body: () => ({ users: [{ email: uniqueEmail('bulk'), name: 'Bulk', role: 'viewer' }] }),
        expected: { superadmin: 403, admin: 200, member: 403, viewer: 403, otherAdmin: 200, anonymous: 401 },
      },
      'GET /v1/users/{id}': {
        method: 'GET', path: (id) => `/v1/users/${id}`, targeted: true,
        expected: { superadmin: 403, admin: 200, member: 403, viewer: 200, otherAdmin: 404, anonymous: 401 },
      },
      'PATCH /v1/users/{id} name': {
        method: 'PATCH', path: (id) => `/v1/users/${id}`, targeted: true, body: () => ({ name: 'Renamed' }),
        expected: { superadmin: 403, admin: 200, member: 403, viewer: 403, otherAdmin: 404, anonymous: 401 },
      },
      'PATCH /v1/users/{id} role': {
        method: 'PATCH', path: (id) => `/v1/users/${id}`, targeted: true, body: () => ({ role: 'viewer' }),
        expected: { superadmin: 403, admin: 200, member: 403, viewer: 403, otherAdmin: 404, anonymous: 401 },
      },
      'PATCH /v1/users/{id} status': {
        method: 'PATCH', path: (id) => `/v1/users/${id}`, targeted: true, body: () => ({ status: 'deactivated' }),
        expected: { superadmin: 403, admin: 200, member: 403, viewer: 403, otherAdmin: 404, anonymous: 401 },
      },
      'DELETE /v1/users/{id}': {
        method: 'DELETE', path: (id) => `/v1/users/${id}`, targeted: true,
        expected: { superadmin: 403, admin: 204, member: 403, viewer: 403, otherAdmin: 404, anonymous: 401 },
      },
    };
    const cases = Object.entries(ROUTES).flatMap(([name, route]) => ACTORS.map((actor) => [name, actor, route.expected[actor]] as const));

    it.each(cases)('%s as %s answers %i', async (name, actor, expected) => {
      const route = ROUTES[name];
      const target = route.targeted ? await createUser(t, a.admin.token, { role: 'member', password: true }) : null;
      const before = target ? await snapshot(target.id) : null;
      const body = route.body?.();

      const response = await t.request(route.method, route.path(target?.id ?? ''), { token: tokenOf(actor), body });

      expect(response.status).toBe(expected);
      if (expected >= 400) {
        expect(response.headers['content-type']).toContain('application/problem+json');
        if (target) expect(await snapshot(target.id)).toEqual(before);
        const email = (body?.email ?? (body?.users as Array<{ email: string }> | undefined)?.[0]?.email) as string | undefined;
        if (email) expect(await countByEmail(email)).toBe(0);
      }
      if (actor === 'otherAdmin' && expected < 300 && route.method === 'POST') {
        const email = (body!.email ?? (body!.users as Array<{ email: string }>)[0].email) as string;
        const rows = (await owner.query('select org_id from users where lower(email) = lower($1)', [email])).rows;
        expect(rows).toEqual([{ org_id: b.id }]);
      }
      if (actor === 'otherAdmin' && name === 'GET /v1/users') {
        const ids = response.body.data.map((user: { id: string }) => user.id);
        expect(ids).not.toContain(member.id);
        expect(ids).not.toContain(adminId);
      }
    });
  });

  describe('role matrix on the caller themselves', () => {
    const SELF: Array<[string, 'admin' | 'member' | 'viewer', number]> = [
      ['GET', 'admin', 200], ['GET', 'member', 200], ['GET', 'viewer', 200],
      ['PATCH name', 'admin', 200], ['PATCH name', 'member', 200], ['PATCH name', 'viewer', 200],
      // The admin of `a` is its only admin: deactivating themselves would leave it without one.
      ['DELETE', 'admin', 409], ['DELETE', 'member', 403], ['DELETE', 'viewer', 403],
    ];
    const idOf = (actor: 'admin' | 'member' | 'viewer') => (actor === 'admin' ? adminId : actor === 'member' ? member.id : viewer.id);

    it.each(SELF)('%s of their own account as %s answers %i', async (action, actor, expected) => {
      const id = idOf(actor);
      const before = await snapshot(id);
      const token = tokenOf(actor);
      const response =
        action === 'GET' ? await t.get(`/v1/users/${id}`, token)
        : action === 'DELETE' ? await t.delete(`/v1/users/${id}`, token)
        : await t.patch(`/v1/users/${id}`, { name: `Self ${actor}` }, token);
      expect(response.status).toBe(expected);
      const after = await snapshot(id);
      if (action === 'PATCH name') expect(after).toMatchObject({ name: `Self ${actor}`, token_version: before.token_version });
      else expect(after).toEqual(before);
      // Renaming oneself does not end one's session.
      expect((await t.get(`/v1/users/${id}`, token)).status).toBe(200);
    });

    it('answers 404, not 403, to a member asking for a user that does not exist', async () => {
      expectProblem(await t.get(`/v1/users/${randomUUID()}`, member.token), 404);
    });
  });

  describe('mass assignment', () => {
    it.each([
      ['role', { role: 'admin' }, 403],
      ['status', { status: 'active' }, 403],
      ['role with a name', { name: 'Sneaky', role: 'admin' }, 403],
      ['orgId', { orgId: randomUUID() }, 400],
      ['email', { email: 'taken-over@users.test' }, 400],
      ['tokenVersion', { tokenVersion: 0 }, 400],
      ['passwordHash', { passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$x$y' }, 400],
      ['id', { id: randomUUID() }, 400],
    ])('refuses a member PATCHing %s on themselves, and nothing changes', async (_field, body, status) => {
      const before = await snapshot(member.id);
      const response = await t.patch(`/v1/users/${member.id}`, body, member.token);
      expectProblem(response, status);
      if (status === 400) expect(response.body.errors.length).toBeGreaterThan(0);
      expect(await snapshot(member.id)).toEqual(before);
    });

    it('refuses a viewer raising their own role', async () => {
      const before = await snapshot(viewer.id);
      expectProblem(await t.patch(`/v1/users/${viewer.id}`, { role: 'admin' }, viewer.token), 403);
      expect(await snapshot(viewer.id)).toEqual(before);
    });

    it('never lets an admin create or promote a superadmin', async () => {
      const email = uniqueEmail('root');
      const created = await t.post('/v1/users', { email, name: 'Root', role: 'superadmin' }, a.admin.token);
      expectProblem(created, 400);
      expect(created.body.errors.map((e: { field: string }) => e.field)).toContain('role');
      expect(await countByEmail(email)).toBe(0);

      const target = await createUser(t, a.admin.token, { role: 'member' });
      const before = await snapshot(target.id);
      expectProblem(await t.patch(`/v1/users/${target.id}`, { role: 'superadmin' }, a.admin.token), 400);
      expect(await snapshot(target.id)).toEqual(before);
    });

    it("does not let an admin set another user's password", async () => {
      const target = await createUser(t, a.admin.token, { password: true });
      const before = await snapshot(target.id);
      const response = await t.patch(`/v1/users/${target.id}`, { password: 'Chosen-By-Admin-1!', currentPassword: 'whatever' }, a.admin.token);
      expectProblem(response, 403);
      expect(await snapshot(target.id)).toEqual(before);
    });
  });

  describe('creating', () => {
    it('creates a user with a password as active, and one without as pending', async () => {
      const withPassword = await t.post('/v1/users', { email: uniqueEmail(), name: ' Padded Name ', role: 'viewer', password: 'A-Good-Password-1!' }, a.admin.token);
      expect(withPassword.status).toBe(201);
      expect(withPassword.body).toMatchObject({ name: 'Padded Name', role: 'viewer', status: 'active', source: 'local', externalId: null });
      expect(Object.keys(withPassword.body).sort()).toEqual(
        ['createdAt', 'email', 'externalId', 'id', 'name', 'role', 'source', 'status', 'updatedAt'],
      );
      expect(new Date(withPassword.body.createdAt).toISOString()).toBe(withPassword.body.createdAt);

      const without = await t.post('/v1/users', { email: uniqueEmail(), name: 'No Password', role: 'member' }, a.admin.token);
      expect(without.status).toBe(201);
      expect(without.body.status).toBe('pending');
      expect((await owner.query('select password_hash from users where id = $1', [without.body.id])).rows[0].password_hash).toBeNull();
    });

    it('answers 409 for an e-mail that exists in the organization, whatever its case', async () => {
      const email = uniqueEmail('dup');
      await createUser(t, a.admin.token, { email });
      const again = await t.post('/v1/users', { email: email.toUpperCase(), name: 'Again', role: 'member' }, a.admin.token);
      expectProblem(again, 409);
      expect(again.text).not.toMatch(/duplicate key|users_org_email_key|insert into/i);
      expect(await countByEmail(email)).toBe(1);
    });

    it('lets another organization use the same e-mail', async () => {
      const email = uniqueEmail('shared');
      await createUser(t, a.admin.token, { email });
      expect((await t.post('/v1/users', { email, name: 'Twin', role: 'member' }, b.admin.token)).status).toBe(201);
    });
  });

  describe('changing a password', () => {
    it('needs the current password, then refuses the tokens issued before', async () => {
      const user = await createUserWithToken(t, a, 'member');
      const before = await snapshot(user.id);

      const missing = await t.patch(`/v1/users/${user.id}`, { password: 'Brand-New-Password-1!' }, user.token);
      expectProblem(missing, 400);
      expect(missing.body.errors.map((e: { field: string }) => e.field)).toContain('currentPassword');
      const wrong = await t.patch(`/v1/users/${user.id}`, { password: 'Brand-New-Password-1!', currentPassword: 'Not-The-Password-1!' }, user.token);
      expectProblem(wrong, 400);
      expect(wrong.body.errors).toEqual([{ field: 'currentPassword', message: 'currentPassword is not correct' }]);
      expect(await snapshot(user.id)).toEqual(before);

      const changed = await t.patch(`/v1/users/${user.id}`, { password: 'Brand-New-Password-1!', currentPassword: user.password }, user.token);
      expect(changed.status).toBe(200);
      expect((await snapshot(user.id)).token_version).toBe(before.token_version + 1);
      expect((await t.get(`/v1/users/${user.id}`, user.token)).status).toBe(401);
      await expect(loginAs(t, a, user)).rejects.toThrow(/401/);
      const fresh = await loginAs(t, a, { email: user.email, password: 'Brand-New-Password-1!' });
      expect((await t.get(`/v1/users/${user.id}`, fresh)).status).toBe(200);
    });
  });

  describe('deactivation', () => {
    it("refuses the user's access and refresh tokens at once, and their logins", async () => {
      const user = await createUserWithToken(t, a, 'viewer');
      const pair = await t.post('/v1/auth/login', { organization: a.slug, email: user.email, password: user.password });
      expect(pair.body.refreshToken).toEqual(expect.any(String));
      expect((await t.get('/v1/users', user.token)).status).toBe(200);
      const before = await snapshot(user.id);

      expect((await t.delete(`/v1/users/${user.id}`, a.admin.token)).status).toBe(204);

      expectProblem(await t.get('/v1/users', user.token), 401);
      expectProblem(await t.get('/v1/users', pair.body.accessToken), 401);
      expectProblem(await t.post('/v1/auth/refresh', { refreshToken: pair.body.refreshToken }), 401);
      expectProblem(await t.get('/v1/auth/me', user.token), 401);
      await expect(loginAs(t, a, user)).rejects.toThrow(/401/);
      const after = await snapshot(user.id);
      expect(after).toMatchObject({ status: 'deactivated', token_version: before.token_version + 1 });
      expect((await t.get(`/v1/users/${user.id}`, a.admin.token)).body.status).toBe('deactivated');
      // Deleting again changes nothing more.
      expect((await t.delete(`/v1/users/${user.id}`, a.admin.token)).status).toBe(204);
      expect((await snapshot(user.id)).token_version).toBe(after.token_version);
    });

    it('revokes the tokens of a user whose role changes', async () => {
      const user = await createUserWithToken(t, a, 'viewer');
      const changed = await t.patch(`/v1/users/${user.id}`, { role: 'member' }, a.admin.token);
      expect(changed.status).toBe(200);
      expect(changed.body.role).toBe('member');
      expectProblem(await t.get(`/v1/users/${user.id}`, user.token), 401);
      const again = await loginAs(t, a, user);
      expect((await t.get(`/v1/users/${user.id}`, again)).body.role).toBe('member');
    });

    it('lets an admin reactivate a user, who can log in again', async () => {
      const user = await createUserWithToken(t, a, 'member');
      expect((await t.patch(`/v1/users/${user.id}`, { status: 'deactivated' }, a.admin.token)).status).toBe(200);
      await expect(loginAs(t, a, user)).rejects.toThrow(/401/);
      expect((await t.patch(`/v1/users/${user.id}`, { status: 'active' }, a.admin.token)).body.status).toBe('active');
      expect((await t.get(`/v1/users/${user.id}`, await loginAs(t, a, user))).status).toBe(200);
    });
  });

  describe('the last active admin', () => {
    it('cannot be demoted or deactivated, and nothing changes', async () => {
      const c = await createOrganization(t, superToken);
      const cAdminId = (await t.get('/v1/auth/me', c.admin.token)).body.id;
      const before = await snapshot(cAdminId);

      for (const response of [
        await t.patch(`/v1/users/${cAdminId}`, { role: 'member' }, c.admin.token),
        await t.patch(`/v1/users/${cAdminId}`, { status: 'deactivated' }, c.admin.token),
        await t.delete(`/v1/users/${cAdminId}`, c.admin.token),
      ]) {
        expectProblem(response, 409);
        expect(response.body.detail).toMatch(/without an active admin/);
      }
      expect(await snapshot(cAdminId)).toEqual(before);
      expect((await t.get('/v1/users', c.admin.token)).status).toBe(200);
    });

    it('can step down once another admin is active', async () => {
      const c = await createOrganization(t, superToken);
      const cAdminId = (await t.get('/v1/auth/me', c.admin.token)).body.id;
      const second = await createUserWithToken(t, c, 'admin');
      const stepDown = await t.patch(`/v1/users/${cAdminId}`, { role: 'viewer' }, c.admin.token);
      expect(stepDown.status).toBe(200);
      expect(stepDown.body.role).toBe('viewer');
      expectProblem(await t.delete(`/v1/users/${second.id}`, second.token), 409);
    });

    it.each([
      ['demote', (id: string, token: string) => t.patch(`/v1/users/${id}`, { role: 'member' }, token)],
      ['deactivate', (id: string, token: string) => t.delete(`/v1/users/${id}`, token)],
    ])('survives two admins who %s each other at the same time', async (_verb, act) => {
      const c = await createOrganization(t, superToken);
      const first = { id: (await t.get('/v1/auth/me', c.admin.token)).body.id as string, token: c.admin.token };
      const second = await createUserWithToken(t, c, 'admin');

      const [one, two] = await Promise.all([act(second.id, first.token), act(first.id, second.token)]);

      const statuses = [one.status, two.status].sort();
      expect(statuses[0]).toBeLessThan(300);
      // The loser is refused by the lock (403, 409), or already by its revoked token (401) if it arrived later.
      expect([401, 403, 409]).toContain(statuses[1]);
      const admins = await owner.query(`select id from users where org_id = $1 and role = 'admin' and status = 'active'`, [c.id]);
      expect(admins.rowCount).toBe(1);
    });
  });

  describe('listing', () => {
    let e: TestOrganization;
    const people: Record<string, TestUser> = {};

    beforeAll(async () => {
      e = await createOrganization(t, superToken);
      for (const [key, name, role] of [
        ['amy', 'Amy 100% Real', 'member'],
        ['bob', 'Bob_Builder', 'viewer'],
        ['cat', 'Cat Stevens', 'member'],
        ['dan', 'Dan Brown', 'admin'],
      ] as const) {
        people[key] = await createUser(t, e.admin.token, { name, role, email: `${key}@list-${e.slug}.test`, password: key === 'cat' });
      }
      await t.delete(`/v1/users/${people.dan.id}`, e.admin.token);
    });

    const list = async (query: string) => {
      const response = await t.get(`/v1/users${query}`, e.admin.token);
      expect(response.status).toBe(200);
      return response.body as { data: Array<{ id: string; name: string; email: string }>; meta: { page: number; limit: number; total: number } };
    };
    const names = (page: { data: Array<{ name: string }> }) => page.data.map((user) => user.name);

    it('pages, newest first by default', async () => {
      const first = await list('?limit=2');
      expect(first.meta).toEqual({ page: 1, limit: 2, total: 5 });
      expect(names(first)).toEqual(['Dan Brown', 'Cat Stevens']);
      const third = await list('?limit=2&page=3');
      expect(names(third)).toEqual(['Ada Admin']);
    });

    it('sorts by email, name and createdAt, either way', async () => {
      expect((await list('?sort=email')).data.map((u) => u.email.split('@')[0])).toEqual(['admin', 'amy', 'bob', 'cat', 'dan']);
      expect(names(await list('?sort=-name'))).toEqual(['Dan Brown', 'Cat Stevens', 'Bob_Builder', 'Amy 100% Real', 'Ada Admin']);
      expect(names(await list('?sort=createdAt'))).toEqual(['Ada Admin', 'Amy 100% Real', 'Bob_Builder', 'Cat Stevens', 'Dan Brown']);
    });

    it('filters by role and status', async () => {
      expect(names(await list('?role=member&sort=name'))).toEqual(['Amy 100% Real', 'Cat Stevens']);
      expect(names(await list('?status=deactivated'))).toEqual(['Dan Brown']);
      expect(names(await list('?status=pending&sort=name'))).toEqual(['Amy 100% Real', 'Bob_Builder']);
      expect((await list('?role=viewer&status=active')).meta.total).toBe(0);
    });

    it('searches e-mail and name case-insensitively, taking % and _ literally', async () => {
      expect(names(await list('?q=STEVENS'))).toEqual(['Cat Stevens']);
      expect(names(await list('?q=bob%40'))).toEqual(['Bob_Builder']);
      expect(names(await list(`?q=${encodeURIComponent('100%')}`))).toEqual(['Amy 100% Real']);
      expect(names(await list(`?q=${encodeURIComponent('%')}`))).toEqual(['Amy 100% Real']);
      expect(names(await list('?q=_'))).toEqual(['Bob_Builder']);
      expect(names(await list(`?q=${encodeURIComponent('\\')}`))).toEqual([]);
    });

    it('shows a viewer the same list, and another organization none of it', async () => {
      const eViewer = await createUserWithToken(t, e, 'viewer');
      expect((await t.get('/v1/users?q=list-', eViewer.token)).body.meta.total).toBe(4);
      expect((await t.get(`/v1/users?q=list-${e.slug}`, b.admin.token)).body.meta.total).toBe(0);
    });
  });

  describe('bad input', () => {
    it.each([
      ['limit over 100', '?limit=101', 'limit'],
      ['page 0', '?page=0', 'page'],
      ['an unknown sort', '?sort=password', 'sort'],
      ['a sort on a field that is not sortable', '?sort=-role', 'sort'],
      ['a role that does not exist', '?role=superadmin', 'role'],
      ['a status that does not exist', '?status=gone', 'status'],
      ['an unknown filter', '?orgId=' + randomUUID(), 'orgId'],
    ])('GET /v1/users answers 400 naming the field for %s', async (_case, query, field) => {
      const response = await t.get(`/v1/users${query}`, a.admin.token);
      expectProblem(response, 400);
      expect(response.body).toMatchObject({ status: 400, title: 'Bad Request', instance: '/v1/users' });
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    });

    it.each([
      ['an unknown field', { email: uniqueEmail(), name: 'X', role: 'member', plan: 'gold' }, 'plan'],
      ['a bad e-mail', { email: 'not-an-email', name: 'X', role: 'member' }, 'email'],
      ['a bad role', { email: uniqueEmail(), name: 'X', role: 'owner' }, 'role'],
      ['a missing name', { email: uniqueEmail(), role: 'member' }, 'name'],
      ['a short password', { email: uniqueEmail(), name: 'X', role: 'member', password: 'short' }, 'password'],
      ['a mass-assigned orgId', { email: uniqueEmail(), name: 'X', role: 'member', orgId: randomUUID() }, 'orgId'],
    ])('POST /v1/users answers 400 naming the field for %s', async (_case, body, field) => {
      const response = await t.post('/v1/users', body, a.admin.token);
      expectProblem(response, 400);
      expect(response.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      if (typeof body.email === 'string') expect(await countByEmail(body.email)).toBe(0);
    });

    it('PATCH answers 400 for an unknown field or an empty name, and nothing changes', async () => {
      const target = await createUser(t, a.admin.token);
      const before = await snapshot(target.id);
      for (const body of [{ nickname: 'x' }, { name: '   ' }, { status: 'pending' }]) {
        const response = await t.patch(`/v1/users/${target.id}`, body, a.admin.token);
        expectProblem(response, 400);
        expect(response.body.errors.length).toBeGreaterThan(0);
      }
      expect(await snapshot(target.id)).toEqual(before);
    });

    it.each([
      ['GET', '/v1/users/not-a-uuid'],
      ['PATCH', '/v1/users/not-a-uuid'],
      ['DELETE', '/v1/users/1'],
    ])('%s %s answers 400 for an id that is not a UUID', async (method, url) => {
      const response = await t.request(method, url, { token: a.admin.token, body: method === 'PATCH' ? { name: 'x' } : undefined });
      expectProblem(response, 400);
      expect(response.body.errors).toEqual([{ field: 'id', message: 'id must be a UUID' }]);
    });

    it('bulk answers 400 for more than 1000 rows, for no rows and for users that is not a list', async () => {
      const rows = Array.from({ length: 1001 }, (_, i) => ({ email: `too-many-${i}@bulk.test`, name: 'X', role: 'member' }));
      for (const body of [{ users: rows }, { users: [] }, { users: 'everyone' }, {}]) {
        const response = await t.post('/v1/users/bulk', body, a.admin.token);
        expectProblem(response, 400);
        expect(response.body.errors.map((e: { field: string }) => e.field)).toContain('users');
      }
      expect(await countByEmail('too-many-0@bulk.test')).toBe(0);
    });
  });

  describe('another organization', () => {
    it('is 404 through GET, PATCH and DELETE, like a user that does not exist, and nothing changes', async () => {
      const theirs = await createUser(t, b.admin.token, { role: 'admin', password: true });
      const before = await snapshot(theirs.id);
      const missing = await t.get(`/v1/users/${randomUUID()}`, a.admin.token);

      const responses = [
        await t.get(`/v1/users/${theirs.id}`, a.admin.token),
        await t.patch(`/v1/users/${theirs.id}`, { name: 'Hijacked' }, a.admin.token),
        await t.patch(`/v1/users/${theirs.id}`, { role: 'viewer', status: 'deactivated' }, a.admin.token),
        await t.delete(`/v1/users/${theirs.id}`, a.admin.token),
        await t.get(`/v1/users/${theirs.id}`, viewer.token),
        await t.patch(`/v1/users/${theirs.id}`, { name: 'Hijacked' }, member.token),
      ];
      for (const response of responses) {
        expectProblem(response, 404);
        expect(response.body.detail).toBe(missing.body.detail);
      }
      expect(await snapshot(theirs.id)).toEqual(before);
      expect((await t.get(`/v1/users?q=${encodeURIComponent(theirs.email)}`, a.admin.token)).body.meta.total).toBe(0);
    });
  });

  describe('bulk create', () => {
    it('creates 985 of 1000 rows with 10 duplicates and 5 invalid, in one request, and another organization sees none', async () => {
      const f = await createOrganization(t, superToken);
      const domain = `bulk-${f.slug}.test`;
      const existing = [];
      for (let i = 0; i < 5; i++) existing.push(await createUser(t, f.admin.token, { email: `existing-${i}@${domain}` }));

      const rows: unknown[] = Array.from({ length: 985 }, (_, i) => ({ email: `row-${i}@${domain}`, name: `Row ${i}`, role: i % 7 === 0 ? 'viewer' : 'member' }));
      const conflicts = new Map<number, RegExp>();
      const invalid = new Set<number>();
      const place = (index: number, row: unknown, bucket: 'conflict' | 'invalid', reason?: RegExp) => {
        rows.splice(index, 0, row);
        if (bucket === 'invalid') invalid.add(index);
        else conflicts.set(index, reason!);
      };
      // Inserted from the end backwards would shift nothing already placed: indexes are given in ascending order
      // against the final array, so insert them in ascending order too.
      const extras: Array<[number, unknown, 'conflict' | 'invalid', RegExp?]> = [
        [100, { email: `EXISTING-0@${domain}`, name: 'Dup existing', role: 'member' }, 'conflict', /already exists/],
        [200, { email: `existing-1@${domain}`, name: 'Dup existing', role: 'member' }, 'conflict', /already exists/],
        [300, { email: `existing-2@${domain}`, name: 'Dup existing', role: 'admin' }, 'conflict', /already exists/],
        [400, { email: `Existing-3@${domain}`, name: 'Dup existing', role: 'viewer' }, 'conflict', /already exists/],
        [500, { email: `existing-4@${domain}`, name: 'Dup existing', role: 'member' }, 'conflict', /already exists/],
        [600, { email: `ROW-0@${domain}`, name: 'Dup row', role: 'member' }, 'conflict', /repeats row 0/],
        [601, { email: `row-1@${domain}`, name: 'Dup row', role: 'member' }, 'conflict', /repeats row 1/],
        [700, { email: `row-2@${domain}`, name: 'Dup row', role: 'member' }, 'conflict', /repeats row 2/],
        [800, { email: `row-3@${domain}`, name: 'Dup row', role: 'member' }, 'conflict', /repeats row 3/],
        [990, { email: `row-4@${domain}`, name: 'Dup row', role: 'member' }, 'conflict', /repeats row 4/],
        [50, { email: 'not-an-email', name: 'Bad', role: 'member' }, 'invalid'],
        [150, { email: `root@${domain}`, name: 'Root', role: 'superadmin' }, 'invalid'],
        [250, { email: `noname@${domain}`, role: 'member' }, 'invalid'],
        [350, { email: `extra@${domain}`, name: 'Extra', role: 'member', orgId: b.id }, 'invalid'],
        [999, 'just a string', 'invalid'],
      ];
      extras.sort((x, y) => x[0] - y[0]);
      for (const [index, row, bucket, reason] of extras) place(index, row, bucket, reason);
      expect(rows).toHaveLength(1000);
      // Rows 0-4 must come before the rows that repeat them.
      for (let i = 0; i < 5; i++) expect((rows[i] as { email: string }).email).toBe(`row-${i}@${domain}`);

      // What the audit subscriber will rely on: every row passes through the entity path. And few round trips.
      const inserted: string[] = [];
      const subscriber: EntitySubscriberInterface<User> = {
        listenTo: () => User,
        afterInsert: (event: InsertEvent<User>) => void inserted.push(event.entity.email),
      };
      const dataSource = t.app.get(DataSource);
      dataSource.subscribers.push(subscriber);
      const queries = jest.spyOn(PostgresQueryRunner.prototype, 'query');
      const response = await t.post('/v1/users/bulk', { users: rows }, f.admin.token);
      const statements = queries.mock.calls.map(([sql]) => String(sql));
      queries.mockRestore();
      dataSource.subscribers.splice(dataSource.subscribers.indexOf(subscriber), 1);
      expect(inserted).toHaveLength(985);
      expect(statements.filter((sql) => /^insert into "users"/i.test(sql))).toHaveLength(5);
      // Authentication, the tenant binding, one e-mail lookup, five INSERTs of 200 rows, and the transactions' edges.
      expect(statements.length).toBeLessThan(20);

      expect(response.status).toBe(200);
      const results: Array<{ index: number; status: string; id?: string; error?: string }> = response.body.results;
      expect(results).toHaveLength(1000);
      results.forEach((result, index) => {
        expect(result.index).toBe(index);
        if (invalid.has(index)) {
          expect(result).toMatchObject({ status: 'invalid', error: expect.any(String) });
          expect(result.id).toBeUndefined();
        } else if (conflicts.has(index)) {
          expect(result).toMatchObject({ status: 'conflict' });
          expect(result.error).toMatch(conflicts.get(index)!);
          expect(result.id).toBeUndefined();
        } else {
          expect(result).toEqual({ index, status: 'created', id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
        }
      });
      expect(results.filter((r) => r.status === 'created')).toHaveLength(985);
      expect(results[150].error).toMatch(/role/);
      expect(results[350].error).toMatch(/orgId/);

      const stored = await owner.query(
        `select count(*)::int as n, count(distinct org_id)::int as orgs, min(org_id::text) as org,
                count(*) filter (where status = 'pending' and password_hash is null)::int as pending
           from users where email like $1`,
        [`row-%@${domain}`],
      );
      expect(stored.rows[0]).toEqual({ n: 985, orgs: 1, org: f.id, pending: 985 });
      const created = results.find((r) => r.status === 'created')!;
      expect((await owner.query('select email from users where id = $1', [created.id])).rows[0].email).toBe(`row-0@${domain}`);

      const listed = await t.get('/v1/users?limit=100', f.admin.token);
      expect(listed.body.meta.total).toBe(1 + 5 + 985);
      const seenByOther = await t.get(`/v1/users?q=${domain}`, b.admin.token);
      expect(seenByOther.status).toBe(200);
      expect(seenByOther.body.meta.total).toBe(0);
    });

    it('hashes the passwords it is given: those users are active and can log in', async () => {
      const email = uniqueEmail('bulkpw');
      const response = await t.post(
        '/v1/users/bulk',
        { users: [{ email, name: 'With Password', role: 'member', password: 'Bulk-Password-123!' }, { email: uniqueEmail(), name: 'Without', role: 'viewer' }] },
        a.admin.token,
      );
      expect(response.status).toBe(200);
      expect(response.body.results.map((r: { status: string }) => r.status)).toEqual(['created', 'created']);
      const token = await login(t, { organization: a.slug, email, password: 'Bulk-Password-123!' });
      const me = await t.get(`/v1/users/${response.body.results[0].id}`, token);
      expect(me.body).toMatchObject({ email, status: 'active' });
      expect((await t.get(`/v1/users/${response.body.results[1].id}`, a.admin.token)).body.status).toBe('pending');
    });
  });

  it('documents every users route in the OpenAPI document, with no password hash in any schema', async () => {
    const docs = await t.get('/docs-json');
    expect(docs.status).toBe(200);
    expect(Object.keys(docs.body.paths)).toEqual(expect.arrayContaining(['/v1/users', '/v1/users/bulk', '/v1/users/{id}']));
    expect(Object.keys(docs.body.paths['/v1/users/{id}']).sort()).toEqual(['delete', 'get', 'patch']);
    expect(JSON.stringify(docs.body.components.schemas)).not.toMatch(/passwordHash|password_hash/);
  });

  describe('password hashes', () => {
    it('never appear in any response of any users route', async () => {
      const user = await createUserWithToken(t, a, 'member');
      const responses = [
        await t.get('/v1/users?limit=100', a.admin.token),
        await t.get('/v1/users?limit=100', viewer.token),
        await t.post('/v1/users', { email: uniqueEmail(), name: 'P', role: 'member', password: 'Some-Password-123!' }, a.admin.token),
        await t.post('/v1/users', { email: user.email, name: 'P', role: 'member', password: 'Some-Password-123!' }, a.admin.token),
        await t.post('/v1/users/bulk', { users: [{ email: uniqueEmail(), name: 'P', role: 'member', password: 'Some-Password-123!' }, { email: 'bad' }] }, a.admin.token),
        await t.get(`/v1/users/${user.id}`, user.token),
        await t.get(`/v1/users/${user.id}`, a.admin.token),
        await t.patch(`/v1/users/${user.id}`, { name: 'Q' }, user.token),
        await t.patch(`/v1/users/${user.id}`, { password: 'Another-Password-123!', currentPassword: 'wrong-password-123' }, user.token),
        await t.patch(`/v1/users/${user.id}`, { password: 'Another-Password-123!', currentPassword: user.password }, user.token),
        await t.patch(`/v1/users/${user.id}`, { role: 'viewer' }, a.admin.token),
        await t.delete(`/v1/users/${user.id}`, a.admin.token),
      ];
      for (const response of responses) {
        expect(response.status).toBeLessThan(500);
        expect(response.text).not.toMatch(HASH_MARKERS);
      }
    });

    it('did not appear in any of the users responses of this file', () => {
      expect(usersResponses.length).toBeGreaterThan(100);
      const leaking = usersResponses.filter(({ response }) => HASH_VALUE_OR_PROPERTY.test(response.text) || response.status >= 500);
      expect(leaking.map(({ route, response }) => `${route} ${response.status}`)).toEqual([]);
    });
  });
});
