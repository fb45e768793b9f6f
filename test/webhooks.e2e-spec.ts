import { randomUUID } from 'node:crypto';
import { QueueRegistry } from '@tenantry/integrations';
import { Webhook } from 'standardwebhooks';
import { TestApp } from './support/app';
import { queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, createUserWithToken, loginSuperadmin } from './support/factories';
import { statementsDuring } from './support/query-counter';
import { Simulators, TestWorker, eventually, freePort, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';

/**
 * Inbound webhooks end to end: signed posts to the API, the inbox in PostgreSQL, Bull jobs processed by the worker in
 * this process, and the simulators behind thin events.
 */
describe('inbound webhooks', () => {
  let t: TestApp;
  let worker: TestWorker;
  let simulators: Simulators;
  let superToken: string;
  const MAX_ATTEMPTS = 3;
  let apiPort: number;
  let limited: TestApp | undefined;

  beforeAll(async () => {
    // The API listens on a real port too: the simulators' emit posts to it.
    apiPort = await freePort();
    simulators = await startSimulators('tenantry-test', `http://127.0.0.1:${apiPort}`);
    const overrides = { ...integrationOverrides(simulators, { maxAttempts: 1 }), webhookMaxAttempts: MAX_ATTEMPTS, webhookBackoffMs: 20 };
    worker = await TestWorker.boot(overrides);
    t = await TestApp.boot(overrides);
    superToken = await loginSuperadmin(t);
    await t.app.listen(apiPort, '127.0.0.1');
  });

  afterAll(async () => {
    await limited?.close();
    await t?.close();
    await worker?.close();
    await stopSimulators(simulators);
  });

  afterEach(async () => {
    await Promise.all(Object.values(simulators).map((running) => running.control({})));
  });

  const secretFor = async (org: TestOrganization, provider: string): Promise<string> => {
    const answer = await t.post(`/v1/integrations/${provider}/webhook-secret`, {}, org.admin.token);
    expect(answer.status).toBe(201);
    return answer.body.secret;
  };

  const signed = (secret: string, payload: string, at = new Date(), msgId = `msg_${randomUUID()}`) => ({
    'webhook-id': msgId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(msgId, at, payload),
  });

  const post = (org: { slug: string }, provider: string, secret: string, body: unknown, at?: Date) => {
    const payload = JSON.stringify(body);
    return t.request('POST', `/v1/webhooks/${org.slug}/${provider}`, { rawBody: payload, headers: signed(secret, payload, at) });
  };

  const stored = async (orgId: string) => Number((await queryAsOwner('select count(*) as n from webhook_events where org_id = $1', [orgId]))[0].n);

  const eventStatus = (org: TestOrganization, eventId: string, want: string[]) =>
    eventually(
      async () => (await queryAsOwner<{ status: string; attempts: number }>('select status, attempts from webhook_events where org_id = $1 and event_id = $2', [org.id, eventId]))[0],
      (row) => row !== undefined && want.includes(row.status),
    );

  const userEvent = (overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => ({
    id: `evt_${randomUUID()}`,
    type: 'user.created',
    occurredAt: new Date().toISOString(),
    data: { externalId: `ext-${randomUUID()}`, email: `${randomUUID().slice(0, 8)}@hooks.test`, name: 'Hook User', role: 'member', ...data },
    ...overrides,
  });

  it("passes the Standard Webhooks test vector with the library it verifies with", () => {
    // The specification's published vector (standard-webhooks/standard-webhooks, libraries' tests).
    const wh = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const signature = wh.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', new Date(1614265330 * 1000), '{"test": 2432232314}');
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('stores and processes a signed event: 202 after the commit, then the synced user exists', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'user-service');
    const event = userEvent();
    const answer = await post(org, 'user-service', secret, event);
    expect(answer.status).toBe(202);
    expect(answer.body).toEqual({ results: [{ id: event.id, status: 'accepted' }] });
    expect(await stored(org.id)).toBe(1);
    await eventStatus(org, event.id, ['processed']);
    const users = await t.get(`/v1/users?q=${event.data.email}`, org.admin.token);
    expect(users.body.data[0]).toMatchObject({ email: event.data.email, source: 'user-service', externalId: event.data.externalId, status: 'pending' });
    const view = await t.get(`/v1/webhooks/events?provider=user-service`, org.admin.token);
    expect(view.body.data[0]).toMatchObject({ eventId: event.id, status: 'processed', attempts: 1, lastError: null });
  });

  it('refuses a bad signature, a stale timestamp, a wrong secret and another organization’s secret: 401, nothing stored', async () => {
    const a = await createOrganization(t, superToken);
    const b = await createOrganization(t, superToken);
    const secretA = await secretFor(a, 'user-service');
    const secretB = await secretFor(b, 'user-service');
    const body = userEvent();
    const payload = JSON.stringify(body);
    const headers = signed(secretA, payload);
    const tampered = await t.request('POST', `/v1/webhooks/${a.slug}/user-service`, { rawBody: payload.replace('Hook User', 'Evil User'), headers });
    expect(tampered.status).toBe(401);
    expect(tampered.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await post(a, 'user-service', secretA, body, new Date(Date.now() - 301_000))).status).toBe(401);
    expect((await post(a, 'user-service', secretA, body, new Date(Date.now() + 301_000))).status).toBe(401);
    expect((await post(a, 'user-service', 'whsec_' + Buffer.alloc(32, 7).toString('base64'), body)).status).toBe(401);
    expect((await post(a, 'user-service', secretB, body)).status).toBe(401);
    // A's signature posted to B's endpoint: B's secret does not verify it.
    expect((await post(b, 'user-service', secretA, body)).status).toBe(401);
    expect((await t.request('POST', `/v1/webhooks/${a.slug}/user-service`, { rawBody: payload })).status).toBe(401);
    expect((await post({ slug: 'no-such-org-here' }, 'user-service', secretA, body)).status).toBe(404);
    expect((await post(a, 'billing-service', secretA, body)).status).toBe(404);
    expect(await stored(a.id)).toBe(0);
    expect(await stored(b.id)).toBe(0);
  });

  it('answers a duplicate id as duplicate and processes it once, even for 50 concurrent posts', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'user-service');
    const event = userEvent();
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(org, 'user-service', secret, event)));
    expect(answers.every((answer) => answer.status === 202)).toBe(true);
    const statuses = answers.map((answer) => answer.body.results[0].status);
    expect(statuses.filter((status) => status === 'accepted')).toHaveLength(1);
    expect(statuses.filter((status) => status === 'duplicate')).toHaveLength(49);
    expect(await stored(org.id)).toBe(1);
    await eventStatus(org, event.id, ['processed']);
    const again = await post(org, 'user-service', secret, event);
    expect(again.body.results).toEqual([{ id: event.id, status: 'duplicate' }]);
    // One user, created once: one audit row of its creation.
    const created = await queryAsOwner(`select count(*) as n from audit_logs where org_id = $1 and entity_type = 'user' and action = 'create'`, [org.id]);
    expect(Number(created[0].n)).toBe(2); // the admin, and the synced user
  });

  it('answers a batch of 500 with 3 malformed events: 497 accepted and 3 rejected, in order', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'user-service');
    const events: any[] = Array.from({ length: 500 }, () => userEvent());
    events[7] = { ...events[7], type: 'user.exploded' };
    events[250] = { ...events[250], occurredAt: 'yesterday' };
    events[499] = { id: events[499].id, type: 'user.created', occurredAt: new Date().toISOString(), data: { email: 'no-id@hooks.test' } };
    const answer = await post(org, 'user-service', secret, events);
    expect(answer.status).toBe(202);
    expect(answer.body.results).toHaveLength(500);
    expect(answer.body.results.map((r: any) => r.id)).toEqual(events.map((e) => e.id));
    const rejected = answer.body.results.flatMap((r: any, index: number) => (r.status === 'rejected' ? [index] : []));
    expect(rejected).toEqual([7, 250, 499]);
    expect(answer.body.results[7].error).toMatch(/type/);
    expect(await stored(org.id)).toBe(497);
    expect((await post(org, 'user-service', secret, [...events, userEvent()])).status).toBe(400);
    expect((await post(org, 'user-service', secret, 'just a string')).status).toBe(400);
    const notJson = '{"id": ';
    expect((await t.request('POST', `/v1/webhooks/${org.slug}/user-service`, { rawBody: notJson, headers: signed(secret, notJson) })).status).toBe(400);
  });

  it('keeps the newer data when an older change arrives after it', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'payment-service');
    const subscriptionId = `sub-${randomUUID()}`;
    const now = Date.now();
    const newer = { id: `evt_${randomUUID()}`, type: 'subscription.updated', occurredAt: new Date(now).toISOString(), data: { subscriptionId, plan: 'business', status: 'active' } };
    const older = { id: `evt_${randomUUID()}`, type: 'subscription.created', occurredAt: new Date(now - 60_000).toISOString(), data: { subscriptionId, plan: 'starter', status: 'trialing' } };
    await post(org, 'payment-service', secret, newer);
    await eventStatus(org, newer.id, ['processed']);
    await post(org, 'payment-service', secret, older);
    await eventStatus(org, older.id, ['processed']);
    const list = await t.get('/v1/subscriptions', org.admin.token);
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).toMatchObject({ externalId: subscriptionId, plan: 'business', status: 'active', sourceUpdatedAt: newer.occurredAt });
  });

  it('dead-letters thin events while the service is down, and a replay processes them once it is back', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'payment-service');
    const [subscription] = (await simulators['payment-service'].http('GET', `/orgs/${org.slug}/subscriptions?limit=1`)).body.data;
    await simulators['payment-service'].control({ down: true });
    const thin = { id: `evt_${randomUUID()}`, type: 'subscription.updated', occurredAt: new Date().toISOString(), data: { subscriptionId: subscription.subscriptionId } };
    expect((await post(org, 'payment-service', secret, thin)).status).toBe(202);
    const dead = await eventStatus(org, thin.id, ['dead']);
    expect(dead.attempts).toBe(MAX_ATTEMPTS);
    const [row] = (await t.get('/v1/webhooks/events?status=dead', org.admin.token)).body.data;
    expect(row).toMatchObject({ eventId: thin.id, status: 'dead', attempts: MAX_ATTEMPTS });
    expect(row.lastError).toMatch(/connection|circuit|timeout/);
    const health = await t.get('/v1/integrations/health', org.admin.token);
    expect(health.body.find((entry: any) => entry.provider === 'payment-service').deadLetters).toBe(1);

    // A processed event cannot be replayed; another organization cannot see or replay this one.
    const other = await createOrganization(t, superToken);
    expect((await t.get(`/v1/webhooks/events/${row.id}`, other.admin.token)).status).toBe(404);
    expect((await t.post(`/v1/webhooks/events/${row.id}/replay`, {}, other.admin.token)).status).toBe(404);
    expect((await t.post('/v1/webhooks/dead-letters/replay', {}, other.admin.token)).body).toEqual({ queued: 0 });

    await simulators['payment-service'].control({});
    await eventually(() => t.get('/v1/integrations/health', org.admin.token), (answer) => answer.body.find((e: any) => e.provider === 'payment-service').circuit === 'closed');
    const replayed = await t.post('/v1/webhooks/dead-letters/replay?provider=payment-service', {}, org.admin.token);
    expect(replayed.body).toEqual({ queued: 1 });
    await eventStatus(org, thin.id, ['processed']);
    const list = await t.get('/v1/subscriptions', org.admin.token);
    expect(list.body.data).toEqual([expect.objectContaining({ externalId: subscription.subscriptionId, plan: subscription.plan, status: subscription.status })]);
    expect((await t.post(`/v1/webhooks/events/${row.id}/replay`, {}, org.admin.token)).status).toBe(409);
    const creations = await queryAsOwner(`select count(*) as n from audit_logs where org_id = $1 and entity_type = 'subscription'`, [org.id]);
    expect(Number(creations[0].n)).toBe(1);
  });

  it('costs at most 4 round trips per ingest request, single or batch', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'user-service');
    const warm = userEvent();
    await post(org, 'user-service', secret, warm); // fills the secret cache
    await eventStatus(org, warm.id, ['processed']);
    // Only the API's statements: the worker of this process stops taking jobs while they are counted.
    const queue = worker.get(QueueRegistry).get('user-service');
    await queue.pause(true);
    try {
      const single = await statementsDuring(() => post(org, 'user-service', secret, userEvent()));
      const batch = await statementsDuring(() => post(org, 'user-service', secret, Array.from({ length: 100 }, () => userEvent())));
      // One statement: webhook_inbox_insert binds the tenant and inserts, in the implicit transaction of the call.
      expect(single).toEqual([expect.stringMatching(/^select id, event_id from webhook_inbox_insert\(/)]);
      expect(batch).toHaveLength(1);
    } finally {
      await queue.resume(true);
    }
  });

  it('refuses the wrong roles and bad input on the inbox routes', async () => {
    const org = await createOrganization(t, superToken);
    const viewer = await createUserWithToken(t, org, 'viewer');
    expect((await t.get('/v1/webhooks/events', viewer.token)).status).toBe(403);
    expect((await t.post('/v1/webhooks/dead-letters/replay', {}, viewer.token)).status).toBe(403);
    expect((await t.get('/v1/webhooks/events?status=exploded', org.admin.token)).status).toBe(400);
    expect((await t.get('/v1/webhooks/events/not-a-uuid', org.admin.token)).status).toBe(400);
    expect((await t.get(`/v1/webhooks/events/${randomUUID()}`, org.admin.token)).status).toBe(404);
    expect((await t.post('/v1/webhooks/dead-letters/replay?provider=nope', {}, org.admin.token)).status).toBe(400);
    expect((await t.get('/v1/webhooks/events')).status).toBe(401);
  });

  it('ends with the simulator’s own state after 1,000 emitted events with 10% duplicates, out of order', async () => {
    const org = await createOrganization(t, superToken);
    const secret = await secretFor(org, 'user-service');
    // The organization starts from the simulator's data set (a pull), then follows its changes (the events).
    const sync = await t.post('/v1/integrations/user-service/sync', {}, org.admin.token);
    await eventually(() => t.get(`/v1/integrations/jobs/${sync.body.jobId}`, org.admin.token), (job) => job.body.state === 'completed');
    const url = simulators['user-service'].url;
    {
      const emit = await fetch(`${url}/__control/emit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ organization: org.slug, secret, count: 1000, batchSize: 50, duplicateRate: 0.1, outOfOrder: true }),
      }).then((response) => response.json() as Promise<any>);
      expect(emit.errors).toEqual([]);
      expect(emit.failedRequests).toBe(0);
      expect(emit.statuses.accepted).toBe(1000);
      expect(emit.statuses.duplicate).toBe(emit.duplicates);
      await eventually(
        async () => Number((await queryAsOwner(`select count(*) as n from webhook_events where org_id = $1 and status <> 'processed'`, [org.id]))[0].n),
        (pending) => pending === 0,
        60_000,
        250,
      );
      const theirs: any[] = [];
      for (let page = 1; ; page++) {
        const answer = (await fetch(`${url}/orgs/${org.slug}/users?limit=100&page=${page}`).then((r) => r.json())) as any;
        theirs.push(...answer.data);
        if (theirs.length >= answer.meta.total) break;
      }
      const mine = await queryAsOwner<{ external_id: string; email: string; name: string; role: string; status: string }>(
        `select external_id, email, name, role, status from users where org_id = $1 and source = 'user-service'`,
        [org.id],
      );
      const live = mine.filter((user) => user.status !== 'deactivated');
      const byId = new Map(live.map((u) => [u.external_id, u]));
      for (const record of theirs) expect(byId.get(record.externalId)).toMatchObject({ email: record.email.toLowerCase(), name: record.name, role: record.role });
    }
  }, 120_000);

  it('limits each organization to RATE_LIMIT_WEBHOOKS_PER_ORG requests a second, with Retry-After, and leaves others alone', async () => {
    // Last in this file: passport's strategy registry is global to the process, so the second app's strategy serves
    // both apps from here on, and it closes with the file.
    const app = (limited = await TestApp.boot({ ...integrationOverrides(simulators), rateLimit: { webhooksPerOrg: 5 } }));
    {
      const a = await createOrganization(app, superToken);
      const b = await createOrganization(app, superToken);
      const secretA = (await app.post('/v1/integrations/user-service/webhook-secret', {}, a.admin.token)).body.secret;
      const secretB = (await app.post('/v1/integrations/user-service/webhook-secret', {}, b.admin.token)).body.secret;
      const send = (org: TestOrganization, secret: string) => {
        const payload = JSON.stringify(userEvent());
        return app.request('POST', `/v1/webhooks/${org.slug}/user-service`, { rawBody: payload, headers: signed(secret, payload) });
      };
      const answers = await Promise.all(Array.from({ length: 12 }, () => send(a, secretA)));
      const refused = answers.filter((answer) => answer.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(answers.filter((answer) => answer.status === 202).length).toBeLessThanOrEqual(5);
      expect(Number(refused[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await send(b, secretB)).status).toBe(202);
    }
  });

});
