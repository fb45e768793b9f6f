import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { IntegrationClients, QueueRegistry } from '@tenantry/integrations';
import { Webhook } from 'standardwebhooks';
import { createWorkerHealthServer } from '../apps/worker/src/health-server';
import { TestApp } from './support/app';
import { queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, createUserWithToken, loginSuperadmin } from './support/factories';
import { Simulators, TestWorker, eventually, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';

/** Prometheus text → value by series (`name{labels}`), comments left out. */
function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

const METRICS_TOKEN = 'metrics-test-token-' + randomUUID();

/**
 * Prometheus metrics end to end: the API and the worker in this process on the run's PostgreSQL, Redis and Bull
 * queues, the simulators behind the clients. Every figure is read from /metrics before and after, and compared by
 * difference: the registries are per app, so nothing another test file does moves them (dead letters aside: those
 * are counted in the shared database).
 */
describe('metrics', () => {
  let t: TestApp;
  let worker: TestWorker;
  let workerServer: Server;
  let workerUrl: string;
  let simulators: Simulators;
  let superToken: string;
  let org: TestOrganization;
  let secret: string;

  beforeAll(async () => {
    simulators = await startSimulators('tenantry-metrics');
    const overrides = { ...integrationOverrides(simulators, { maxAttempts: 1 }), webhookMaxAttempts: 2, webhookBackoffMs: 20, metricsToken: METRICS_TOKEN };
    worker = await TestWorker.boot(overrides);
    workerServer = await createWorkerHealthServer(worker.module);
    await new Promise<void>((resolve) => workerServer.listen(0, '127.0.0.1', resolve));
    workerUrl = `http://127.0.0.1:${(workerServer.address() as { port: number }).port}`;
    t = await TestApp.boot(overrides);
    superToken = await loginSuperadmin(t);
    org = await createOrganization(t, superToken);
    const answer = await t.post('/v1/integrations/user-service/webhook-secret', {}, org.admin.token);
    secret = answer.body.secret;
  });

  afterAll(async () => {
    await new Promise((resolve) => workerServer?.close(resolve));
    await t?.close();
    await worker?.close();
    await stopSimulators(simulators);
  });

  afterEach(async () => {
    await Promise.all(Object.values(simulators).map((running) => running.control({})));
  });

  const apiMetrics = async () => {
    const answer = await t.get('/metrics');
    expect(answer.status).toBe(200);
    return { text: answer.text, series: parseMetrics(answer.text) };
  };
  const workerMetrics = async () => {
    const answer = await fetch(`${workerUrl}/metrics`);
    expect(answer.status).toBe(200);
    return parseMetrics(await answer.text());
  };
  const events = (provider: string, outcome: string) => `tenantry_webhook_events_total{provider="${provider}",outcome="${outcome}"}`;
  const moved = (before: Map<string, number>, after: Map<string, number>, key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);

  const post = (provider: string, body: unknown) => {
    const payload = JSON.stringify(body);
    const msgId = `msg_${randomUUID()}`;
    const at = new Date();
    const headers = { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(msgId, at, payload) };
    return t.request('POST', `/v1/webhooks/${org.slug}/${provider}`, { rawBody: payload, headers });
  };
  const userEvent = (data: Record<string, unknown> = {}) => ({
    id: `evt_${randomUUID()}`,
    type: 'user.created',
    occurredAt: new Date().toISOString(),
    data: { externalId: `ext-${randomUUID()}`, email: `${randomUUID().slice(0, 8)}@metrics.test`, name: 'Metric User', role: 'member', ...data },
  });
  const statuses = (ids: string[]) =>
    queryAsOwner<{ status: string }>('select status from webhook_events where org_id = $1 and event_id = any($2)', [org.id, ids]);

  it('moves the webhook counters by exactly the events sent: accepted, duplicate and rejected on the API, processed on the worker', async () => {
    const apiBefore = (await apiMetrics()).series;
    const workerBefore = await workerMetrics();

    const first = [userEvent(), userEvent(), userEvent(), userEvent(), userEvent()];
    const bad = [{ ...userEvent(), type: 'user.exploded' }, { id: 'evt-no-shape' }];
    const again = [first[0], first[1], first[2]];
    const fresh = [userEvent(), userEvent()];
    // 5 + 2 accepted; 3 repeats of stored ids and 1 repeat inside the batch are duplicates; 2 malformed are rejected.
    const one = await post('user-service', [...first, ...bad]);
    const two = await post('user-service', [...again, ...fresh, fresh[0]]);
    expect([one.status, two.status]).toEqual([202, 202]);
    const count = (status: string) => [...one.body.results, ...two.body.results].filter((r: { status: string }) => r.status === status).length;
    expect({ accepted: count('accepted'), duplicate: count('duplicate'), rejected: count('rejected') }).toEqual({ accepted: 7, duplicate: 4, rejected: 2 });

    const apiAfter = (await apiMetrics()).series;
    expect(moved(apiBefore, apiAfter, events('user-service', 'accepted'))).toBe(7);
    expect(moved(apiBefore, apiAfter, events('user-service', 'duplicate'))).toBe(4);
    expect(moved(apiBefore, apiAfter, events('user-service', 'rejected'))).toBe(2);
    expect(moved(apiBefore, apiAfter, events('payment-service', 'accepted'))).toBe(0);
    // Each request counted once, under its route template.
    expect(moved(apiBefore, apiAfter, 'tenantry_http_requests_total{method="POST",route="/v1/webhooks/:orgSlug/:provider",status="202"}')).toBe(2);
    expect(moved(apiBefore, apiAfter, 'tenantry_http_request_duration_seconds_count{method="POST",route="/v1/webhooks/:orgSlug/:provider",status="202"}')).toBe(2);

    const ids = [...first, ...fresh].map((event) => event.id);
    await eventually(() => statuses(ids), (rows) => rows.length === 7 && rows.every((row) => row.status === 'processed'));
    const workerAfter = await eventually(workerMetrics, (series) => moved(workerBefore, series, events('user-service', 'processed')) >= 7);
    expect(moved(workerBefore, workerAfter, events('user-service', 'processed'))).toBe(7);
    expect(moved(workerBefore, workerAfter, events('user-service', 'failed'))).toBe(0);
    // Each process shows its own side: the worker never ingests, the API never processes.
    expect(workerAfter.has(events('user-service', 'accepted'))).toBe(false);
    expect(apiAfter.has(events('user-service', 'processed'))).toBe(false);
  });

  it('labels requests by route template and status, never by URL, organization id or slug', async () => {
    const member = await createUserWithToken(t, org, 'member');
    const before = (await apiMetrics()).series;
    expect((await t.get(`/v1/users/${member.id}`, org.admin.token)).status).toBe(200);
    expect((await t.get(`/v1/users/${randomUUID()}`, org.admin.token)).status).toBe(404);
    expect((await t.get(`/no/such/${org.slug}/${org.id}`)).status).toBe(404);
    expect((await t.get(`/health/live`)).status).toBe(200);
    const { text, series } = await apiMetrics();
    expect(moved(before, series, 'tenantry_http_requests_total{method="GET",route="/v1/users/:id",status="200"}')).toBe(1);
    expect(moved(before, series, 'tenantry_http_requests_total{method="GET",route="/v1/users/:id",status="404"}')).toBe(1);
    expect(moved(before, series, 'tenantry_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(moved(before, series, 'tenantry_http_requests_total{method="GET",route="/health/live",status="200"}')).toBe(1);
    expect(series.get('tenantry_http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/v1/users/:id",status="200"}')).toBeGreaterThanOrEqual(1);
    for (const secretValue of [org.slug, org.id, member.id, org.admin.email]) expect(text).not.toContain(secretValue);
    const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((match) => match[1]));
    for (const route of routes) expect(route === 'unmatched' || route.startsWith('/')).toBe(true);
    expect([...routes].filter((route) => /[0-9a-f]{8}-[0-9a-f]{4}/.test(route))).toEqual([]);
  });

  it('shows queue depths per queue and state, circuit state per provider, dead letters and the process defaults', async () => {
    const { series } = await apiMetrics();
    for (const queue of ['user-service', 'payment-service', 'communication-service', 'housekeeping']) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) expect(series.get(`tenantry_queue_jobs{queue="${queue}",state="${state}"}`)).toBeGreaterThanOrEqual(0);
    }
    for (const provider of ['user-service', 'payment-service', 'communication-service']) {
      expect(series.get(`tenantry_circuit_state{provider="${provider}"}`)).toBe(0);
      expect(series.get(`tenantry_webhook_dead_letters{provider="${provider}"}`)).toBeGreaterThanOrEqual(0);
    }
    expect(series.get('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(series.has('nodejs_eventloop_lag_seconds')).toBe(true);
    // The worker shows its own breakers and defaults, not the shared queues (the API serves those once).
    const own = await workerMetrics();
    expect(own.get('tenantry_circuit_state{provider="user-service"}')).toBe(0);
    expect(own.has('process_resident_memory_bytes')).toBe(true);
    expect([...own.keys()].some((key) => key.startsWith('tenantry_queue_jobs'))).toBe(false);
  });

  it('counts a delayed job in its queue’s depth, read at scrape time', async () => {
    const queue = t.app.get(QueueRegistry).get('housekeeping');
    const key = 'tenantry_queue_jobs{queue="housekeeping",state="delayed"}';
    const before = (await apiMetrics()).series;
    const job = await queue.add('metrics-probe', {}, { delay: 600_000, jobId: `metrics-probe-${randomUUID()}` });
    try {
      expect(moved(before, (await apiMetrics()).series, key)).toBe(1);
    } finally {
      await job.remove();
    }
    expect(moved(before, (await apiMetrics()).series, key)).toBe(0);
  });

  it('shows an open circuit as 2 for its provider in the process whose breaker opened', async () => {
    await simulators['payment-service'].control({ errorRate: 1 });
    const client = t.app.get(IntegrationClients).of('payment-service');
    for (let i = 0; i < 3; i++) await client.request('GET', '/orgs/x/subscriptions/none').catch(() => undefined);
    expect(client.circuit).toBe('open');
    const { series } = await apiMetrics();
    expect(series.get('tenantry_circuit_state{provider="payment-service"}')).toBe(2);
    expect(series.get('tenantry_circuit_state{provider="user-service"}')).toBe(0);
    // The worker's breaker is its own, and saw nothing.
    expect((await workerMetrics()).get('tenantry_circuit_state{provider="payment-service"}')).toBe(0);
  });

  it('counts failed attempts and dead events on the worker, and the dead letter in the API’s gauge', async () => {
    const apiBefore = (await apiMetrics()).series;
    const workerBefore = await workerMetrics();
    await simulators['user-service'].control({ errorRate: 1 });
    // A thin event: processing fetches the record, which fails twice (WEBHOOK_MAX_ATTEMPTS = 2) and ends dead.
    const thin = { id: `evt_${randomUUID()}`, type: 'user.updated', occurredAt: new Date().toISOString(), data: { externalId: `ext-${randomUUID()}` } };
    expect((await post('user-service', thin)).status).toBe(202);
    await eventually(() => statuses([thin.id]), (rows) => rows[0]?.status === 'dead');
    const workerAfter = await workerMetrics();
    expect(moved(workerBefore, workerAfter, events('user-service', 'failed'))).toBe(1);
    expect(moved(workerBefore, workerAfter, events('user-service', 'dead'))).toBe(1);
    expect(moved(workerBefore, workerAfter, events('user-service', 'processed'))).toBe(0);
    // Counted across organizations in the shared database: other files' dead events may add to it, never take away.
    const apiAfter = (await apiMetrics()).series;
    expect(moved(apiBefore, apiAfter, 'tenantry_webhook_dead_letters{provider="user-service"}')).toBeGreaterThanOrEqual(1);
  });

  describe('access', () => {
    it('serves loopback without a token, in the Prometheus text format, unthrottled and outside the tenant', async () => {
      const answer = await t.get('/metrics');
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(answer.headers['x-request-id']).toBeDefined();
      expect(answer.text).toMatch(/^# HELP /m);
      expect(Object.keys(answer.headers).filter((name) => name.toLowerCase().startsWith('x-ratelimit'))).toEqual([]);
    });

    it('refuses a scrape from another host without the token (401 problem), and serves it with the token', async () => {
      const remote = { remoteAddress: '10.20.30.40' };
      const refused = await t.request('GET', '/metrics', remote);
      expect(refused.status).toBe(401);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/metrics' });
      expect(refused.text).not.toContain('tenantry_');
      expect((await t.request('GET', '/metrics', { ...remote, headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status).toBe(401);
      expect((await t.request('GET', '/metrics', { ...remote, headers: { authorization: `Basic ${METRICS_TOKEN}` } })).status).toBe(401);
      // A user's access token is not a metrics token, not even the superadmin's.
      expect((await t.request('GET', '/metrics', { ...remote, token: superToken })).status).toBe(401);
      const allowed = await t.request('GET', '/metrics', { ...remote, headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(allowed.text).toContain('tenantry_http_requests_total');
    });

    it('treats a request that came through a proxy as remote, whatever the socket and X-Forwarded-For say', async () => {
      const proxied = await t.request('GET', '/metrics', { headers: { 'x-forwarded-for': '127.0.0.1' } });
      expect(proxied.status).toBe(401);
      expect((await t.request('GET', '/metrics', { headers: { forwarded: 'for=127.0.0.1' } })).status).toBe(401);
      expect((await t.request('GET', '/metrics', { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(200);
    });

    it('applies the same rule on the worker’s health port', async () => {
      const proxied = await fetch(`${workerUrl}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(proxied.status).toBe(401);
      expect(proxied.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await proxied.text()).not.toContain('tenantry_');
      const allowed = await fetch(`${workerUrl}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9', authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect((await fetch(`${workerUrl}/metrics`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${workerUrl}/health/live`)).status).toBe(200);
      expect((await fetch(`${workerUrl}/nothing`)).status).toBe(404);
    });

    it('documents /metrics under the health tag without a bearer requirement', async () => {
      const document = (await t.get('/docs-json')).body;
      const operation = document.paths['/metrics'].get;
      expect(operation.tags).toEqual(['health']);
      expect(operation.security).toEqual([]);
      expect(Object.keys(operation.responses['200'].content)).toEqual(['text/plain']);
    });
  });
});
