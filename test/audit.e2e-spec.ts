import { SYSTEM_ACTOR, TenantContext, UnitOfWork } from '@tenantry/core';
import { User } from '@tenantry/users';
import { randomUUID } from 'node:crypto';
import { TestApp } from './support/app';
import { connect, queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, createUser, loginSuperadmin } from './support/factories';
import { statementsDuring } from './support/query-counter';

interface AuditRow {
  id: string;
  seq: string;
  action: string;
  entity_type: string;
  entity_id: string;
  actor_type: string;
  actor_id: string | null;
  changes: Record<string, { from: unknown; to: unknown }>;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
}

const rowsFor = (entityId: string) =>
  queryAsOwner<AuditRow>(`select * from audit_logs where entity_id = $1 order by seq`, [entityId]);

/** The audit trail as written by the TypeORM subscriber: same transaction, field diffs, append-only, chained. */
describe('audit trail', () => {
  let t: TestApp;
  let a: TestOrganization;
  let b: TestOrganization;
  let adminId: string;

  beforeAll(async () => {
    t = await TestApp.boot();
    const superToken = await loginSuperadmin(t);
    a = await createOrganization(t, superToken);
    b = await createOrganization(t, superToken);
    adminId = (await t.get('/v1/auth/me', a.admin.token)).body.id;
  });
  afterAll(() => t.close());

  const send = (method: string, url: string, requestId: string, body?: unknown) =>
    t.request(method, url, { token: a.admin.token, body, headers: { 'x-request-id': requestId, 'user-agent': 'audit-test/1.0' } });

  it('writes exactly one row each for creating, patching and deleting a user, with the diff, the actor and the request id', async () => {
    const created = await send('POST', '/v1/users', 'audit-create-1', { email: `audited-${randomUUID()}@a.test`, name: 'Audited', role: 'viewer' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await send('PATCH', `/v1/users/${id}`, 'audit-patch-1', { name: 'Audited Renamed', role: 'member' })).status).toBe(200);
    expect((await send('DELETE', `/v1/users/${id}`, 'audit-delete-1')).status).toBe(204);

    const rows = await rowsFor(id);
    expect(rows.map((row) => [row.action, row.request_id])).toEqual([
      ['create', 'audit-create-1'],
      ['update', 'audit-patch-1'],
      ['delete', 'audit-delete-1'],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ entity_type: 'user', actor_type: 'user', actor_id: adminId, user_agent: 'audit-test/1.0', ip: '127.0.0.1' });
    }
    expect(rows[0].changes).toMatchObject({ name: { from: null, to: 'Audited' }, role: { from: null, to: 'viewer' }, status: { from: null, to: 'pending' } });
    expect(rows[1].changes).toEqual({ name: { from: 'Audited', to: 'Audited Renamed' }, role: { from: 'viewer', to: 'member' } });
    expect(rows[2].changes).toEqual({ status: { from: 'pending', to: 'deactivated' } });
  });

  it('adds one round trip to an audited PATCH: the whole batch in one audit_append call before commit', async () => {
    const user = await createUser(t, a.admin.token, { role: 'viewer' });
    let status = 0;
    const statements = await statementsDuring(async () => {
      status = (await send('PATCH', `/v1/users/${user.id}`, 'audit-round-trips', { name: 'Counted' })).status;
    });
    expect(status).toBe(200);
    expect(statements.filter((sql) => /audit/i.test(sql))).toEqual(['select audit_append($1, $2::jsonb)']);
    expect(statements.indexOf('select audit_append($1, $2::jsonb)')).toBe(statements.length - 2); // just before commit
  });

  it('audits a bulk create per row, in one batch: one row per user and one audit_append call', async () => {
    const users = Array.from({ length: 5 }, (_, i) => ({ email: `bulk-${i}-${randomUUID()}@a.test`, name: `Bulk ${i}`, role: 'viewer' }));
    let results: Array<{ status: string; id: string }> = [];
    const statements = await statementsDuring(async () => {
      results = (await send('POST', '/v1/users/bulk', 'audit-bulk-1', { users })).body.results;
    });
    expect(results.map((r) => r.status)).toEqual(Array(5).fill('created'));
    const rows = await queryAsOwner<AuditRow>(`select * from audit_logs where request_id = 'audit-bulk-1' order by seq`);
    expect(rows.map((row) => row.entity_id).sort()).toEqual(results.map((r) => r.id).sort());
    expect(rows.every((row) => row.action === 'create')).toBe(true);
    expect(statements.filter((sql) => /audit_append/.test(sql))).toHaveLength(1);
  });

  it('records a change made by a worker job as the system', async () => {
    const user = await createUser(t, a.admin.token, { role: 'viewer' });
    const context = t.app.get(TenantContext);
    const uow = t.app.get(UnitOfWork);
    await context.runWithEnvelope({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'job-rename-1' }, () =>
      uow.run(async (manager) => {
        const row = await manager.getRepository(User).findOneByOrFail({ id: user.id });
        row.name = 'Renamed By A Job';
        await manager.getRepository(User).save(row);
      }),
    );
    const [row] = await queryAsOwner<AuditRow>(`select * from audit_logs where request_id = 'job-rename-1'`);
    expect(row).toMatchObject({ action: 'update', actor_type: 'system', actor_id: null, entity_id: user.id });
    expect(row.changes).toEqual({ name: { from: user.name, to: 'Renamed By A Job' } });
  });

  it('records a hard removal through the entity path as a delete', async () => {
    const user = await createUser(t, a.admin.token, { role: 'viewer' });
    const context = t.app.get(TenantContext);
    const uow = t.app.get(UnitOfWork);
    await context.runWithEnvelope({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: 'job-remove-1' }, () =>
      uow.run(async (manager) => {
        const row = await manager.getRepository(User).findOneByOrFail({ id: user.id });
        await manager.getRepository(User).remove(row);
      }),
    );
    expect(await queryAsOwner(`select id from users where id = $1`, [user.id])).toEqual([]);
    const rows = await rowsFor(user.id);
    expect(rows.map((row) => [row.action, row.actor_type])).toEqual([
      ['create', 'user'],
      ['delete', 'system'],
    ]);
  });

  it('records the creation of an organization and its first admin, by the superadmin', async () => {
    const org = await queryAsOwner<AuditRow>(`select * from audit_logs where entity_type = 'organization' and entity_id = $1`, [b.id]);
    expect(org).toHaveLength(1);
    expect(org[0]).toMatchObject({ action: 'create', actor_type: 'user' });
    expect(org[0].changes.slug).toEqual({ from: null, to: b.slug });
  });

  it('never puts a password or its hash in changes: the row says that it changed', async () => {
    const user = await createUser(t, a.admin.token, { password: true, role: 'member' });
    const [created] = await rowsFor(user.id);
    expect(created.changes.passwordHash).toEqual({ from: null, to: '[redacted]' });
    const login = await t.post('/v1/auth/login', { organization: a.slug, email: user.email, password: user.password });
    const changed = await t.patch(`/v1/users/${user.id}`, { password: 'Another-Password-123!', currentPassword: user.password }, login.body.accessToken);
    expect(changed.status).toBe(200);
    const rows = await rowsFor(user.id);
    expect(rows[1].changes).toEqual({ passwordHash: { from: '[redacted]', to: '[redacted]' } });
    const all = JSON.stringify(await queryAsOwner(`select changes from audit_logs`));
    expect(all).not.toMatch(/\$argon2|Another-Password|User-Password-/);
  });

  describe('in the same transaction as the change', () => {
    const job = () => ({ orgId: a.id, actor: SYSTEM_ACTOR, requestId: `job-${randomUUID()}` });

    it('leaves no audit row when the transaction fails after the write, and the change is gone too', async () => {
      const user = await createUser(t, a.admin.token, { role: 'viewer' });
      const context = t.app.get(TenantContext);
      const uow = t.app.get(UnitOfWork);
      const envelope = job();
      await expect(
        context.runWithEnvelope(envelope, () =>
          uow.run(async (manager) => {
            const row = await manager.getRepository(User).findOneByOrFail({ id: user.id });
            row.name = 'Never Committed';
            await manager.getRepository(User).save(row);
            throw new Error('fails after the write');
          }),
        ),
      ).rejects.toThrow('fails after the write');
      expect(await queryAsOwner(`select * from audit_logs where request_id = $1`, [envelope.requestId])).toEqual([]);
      expect((await queryAsOwner(`select name from users where id = $1`, [user.id]))[0].name).toBe(user.name);
    });

    it('rolls the change back when its audit row cannot be written', async () => {
      const user = await createUser(t, a.admin.token, { role: 'viewer' });
      // A constraint of this test's own refuses the audit rows of one request id, and only those.
      const constraint = `audit_test_refuses_${randomUUID().replace(/-/g, '')}`;
      await queryAsOwner(`alter table audit_logs add constraint ${constraint} check (request_id is distinct from 'audit-must-fail')`);
      try {
        const response = await send('PATCH', `/v1/users/${user.id}`, 'audit-must-fail', { name: 'Unaudited Change' });
        expect(response.status).toBe(500);
      } finally {
        await queryAsOwner(`alter table audit_logs drop constraint ${constraint}`);
      }
      expect((await queryAsOwner(`select name from users where id = $1`, [user.id]))[0].name).toBe(user.name);
      expect((await rowsFor(user.id)).map((row) => row.action)).toEqual(['create']);
    });
  });

  describe('append-only', () => {
    it('refuses UPDATE and DELETE to the app role, and to the owner through the trigger', async () => {
      const app = await connect('app');
      try {
        await app.query('begin');
        await app.query(`select set_config('app.tenant_id', $1, true)`, [a.id]);
        await expect(app.query(`update audit_logs set changes = '{}'::jsonb`)).rejects.toThrow(/permission denied/);
        await app.query('rollback');
        await app.query('begin');
        await app.query(`select set_config('app.tenant_id', $1, true)`, [a.id]);
        await expect(app.query(`delete from audit_logs`)).rejects.toThrow(/permission denied/);
        await app.query('rollback');
      } finally {
        await app.end();
      }
      await expect(queryAsOwner(`update audit_logs set changes = '{}'::jsonb where org_id = $1`, [a.id])).rejects.toThrow(/append-only/);
      await expect(queryAsOwner(`delete from audit_logs where org_id = $1`, [a.id])).rejects.toThrow(/append-only/);
    });

    it("shows an organization's rows to its own tenant only", async () => {
      const app = await connect('app');
      try {
        await app.query('begin');
        await app.query(`select set_config('app.tenant_id', $1, true)`, [b.id]);
        const { rows } = await app.query(`select org_id from audit_logs`);
        expect(rows.length).toBeGreaterThan(0);
        expect(rows.every((row: { org_id: string }) => row.org_id === b.id)).toBe(true);
        await app.query('rollback');
      } finally {
        await app.end();
      }
    });
  });

  it('keeps one unbroken chain per organization under 50 concurrent writes', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        send('POST', '/v1/users', `audit-concurrent-${i}`, { email: `concurrent-${i}-${randomUUID()}@a.test`, name: `Concurrent ${i}`, role: 'viewer' }),
      ),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(50).fill(201));
    const chain = await queryAsOwner<{ seq: string; prev_hash: Buffer | null; hash: Buffer; previous: Buffer | null }>(
      `select seq, prev_hash, hash, lag(hash) over (order by seq) as previous from audit_logs where org_id = $1 order by seq`,
      [a.id],
    );
    expect(chain.length).toBeGreaterThanOrEqual(50);
    const broken = chain.filter((link) => !(link.previous === null ? link.prev_hash === null : link.prev_hash?.equals(link.previous)));
    expect(broken).toEqual([]);
    // Each hash is sha256 of the previous hash and the row: no two rows share one.
    expect(new Set(chain.map((link) => link.hash.toString('hex'))).size).toBe(chain.length);
  });

  describe('GET /v1/audit-logs', () => {
    it("pages the organization's rows newest first, and filters by entity, action, actor and time", async () => {
      const created = await send('POST', '/v1/users', 'audit-query-1', { email: `query-${randomUUID()}@a.test`, name: 'Queried', role: 'viewer' });
      await send('PATCH', `/v1/users/${created.body.id}`, 'audit-query-2', { name: 'Queried Twice' });
      const all = await t.get('/v1/audit-logs?limit=5', a.admin.token);
      expect(all.status).toBe(200);
      expect(all.body.data).toHaveLength(5);
      expect(all.body.meta).toMatchObject({ page: 1, limit: 5, totalCapped: false });
      expect(all.body.meta.total).toBeGreaterThan(5);
      const times = all.body.data.map((row: { createdAt: string }) => row.createdAt);
      expect([...times].sort().reverse()).toEqual(times);

      const ofUser = await t.get(`/v1/audit-logs?entityType=user&entityId=${created.body.id}`, a.admin.token);
      expect(ofUser.body.data.map((row: { action: string }) => row.action)).toEqual(['update', 'create']);
      expect(ofUser.body.data[0]).toMatchObject({
        entityType: 'user',
        entityId: created.body.id,
        actor: { type: 'user', id: adminId },
        changes: { name: { from: 'Queried', to: 'Queried Twice' } },
        requestId: 'audit-query-2',
      });
      const updates = await t.get(`/v1/audit-logs?entityId=${created.body.id}&action=update&actorId=${adminId}`, a.admin.token);
      expect(updates.body.meta.total).toBe(1);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await t.get(`/v1/audit-logs?from=${future}`, a.admin.token)).body.meta.total).toBe(0);
      expect((await t.get(`/v1/audit-logs?entityId=${created.body.id}&to=${future}`, a.admin.token)).body.meta.total).toBe(2);
    });

    it("shows another organization's admin none of these rows, and 404 for a filter on this organization's entity", async () => {
      const seenByB = await t.get('/v1/audit-logs?limit=100', b.admin.token);
      expect(seenByB.status).toBe(200);
      expect(seenByB.body.data.length).toBeGreaterThan(0);
      const aEntities = new Set((await queryAsOwner<{ entity_id: string }>(`select entity_id from audit_logs where org_id = $1`, [a.id])).map((r) => r.entity_id));
      expect(seenByB.body.data.filter((row: { entityId: string }) => aEntities.has(row.entityId) && row.entityId !== b.id)).toEqual([]);
      const response = await t.get(`/v1/audit-logs?entityId=${adminId}`, b.admin.token);
      expect(response.status).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });

    it('is for admins: a member gets 403', async () => {
      const member = await createUser(t, a.admin.token, { role: 'member', password: true });
      const token = (await t.post('/v1/auth/login', { organization: a.slug, email: member.email, password: member.password })).body.accessToken;
      expect((await t.get('/v1/audit-logs', token)).status).toBe(403);
      expect((await t.get('/v1/audit-logs/verify', token)).status).toBe(403);
    });

    it.each([
      ['an entityId that is not a UUID', 'entityId=42'],
      ['an unknown action', 'action=purge'],
      ['an unknown entity type', 'entityType=spaceship'],
      ['a date that is not ISO 8601', 'from=yesterday'],
      ['a page past the bound', 'page=10001'],
    ])('answers 400 for %s', async (_case, query) => {
      const response = await t.get(`/v1/audit-logs?${query}`, a.admin.token);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('GET /v1/audit-logs/verify', () => {
    it('reports a valid chain, then the first row an owner altered with the trigger disabled', async () => {
      const superToken = await loginSuperadmin(t);
      const c = await createOrganization(t, superToken);
      await createUser(t, c.admin.token, { role: 'viewer' });
      await createUser(t, c.admin.token, { role: 'viewer' });
      const before = await t.get('/v1/audit-logs/verify', c.admin.token);
      expect(before.status).toBe(200);
      expect(before.body).toEqual({ valid: true, checked: 4, firstBrokenId: null });

      const [tampered] = await queryAsOwner<{ id: string }>(`select id from audit_logs where org_id = $1 order by seq limit 1 offset 2`, [c.id]);
      const owner = await connect('owner');
      try {
        await owner.query('begin');
        await owner.query('alter table audit_logs disable trigger audit_logs_append_only');
        await owner.query(`update audit_logs set changes = '{"name": {"from": null, "to": "Someone Else"}}'::jsonb where id = $1`, [tampered.id]);
        await owner.query('alter table audit_logs enable trigger audit_logs_append_only');
        await owner.query('commit');
      } finally {
        await owner.end();
      }
      const after = await t.get('/v1/audit-logs/verify', c.admin.token);
      expect(after.body).toEqual({ valid: false, checked: 3, firstBrokenId: tampered.id });
      // Another organization's chain is its own: still valid.
      expect((await t.get('/v1/audit-logs/verify', b.admin.token)).body).toMatchObject({ valid: true, firstBrokenId: null });
    });
  });

  describe('retention', () => {
    it('is off by default: the app role cannot call the purge, and a DELETE outside it is refused', async () => {
      const app = await connect('app');
      try {
        await expect(app.query(`select audit_purge_before($1, now())`, [a.id])).rejects.toThrow(/permission denied/);
      } finally {
        await app.end();
      }
      await expect(queryAsOwner(`delete from audit_logs where org_id = $1`, [a.id])).rejects.toThrow(/append-only/);
    });

    it("removes an organization's oldest rows when the owner calls it, and the rest of the chain still verifies", async () => {
      const superToken = await loginSuperadmin(t);
      const d = await createOrganization(t, superToken);
      await createUser(t, d.admin.token, { role: 'viewer' });
      const [{ cut }] = await queryAsOwner<{ cut: Date }>(`select clock_timestamp() as cut`);
      await createUser(t, d.admin.token, { role: 'viewer' });
      await createUser(t, d.admin.token, { role: 'viewer' });

      const [{ purged }] = await queryAsOwner<{ purged: string }>(`select audit_purge_before($1, $2) as purged`, [d.id, cut]);
      expect(Number(purged)).toBe(3); // the organization, its admin and the first user
      const left = await queryAsOwner(`select id from audit_logs where org_id = $1`, [d.id]);
      expect(left).toHaveLength(2);
      expect((await t.get('/v1/audit-logs/verify', d.admin.token)).body).toEqual({ valid: true, checked: 2, firstBrokenId: null });
      // Another organization's rows are untouched.
      expect((await t.get('/v1/audit-logs/verify', b.admin.token)).body).toMatchObject({ valid: true });
    });
  });
});
