'use strict';
const { randomUUID } = require('node:crypto');
const { Webhook } = require('standardwebhooks');
/**
 * What `npm run bench` measures. A ratio compares a subject with a baseline, each a server (see SERVERS) and a
 * request; `value` is baseline ÷ subject on CPU time per request (≥ 1: as cheap as the baseline), or subject ÷
 * baseline on requests per second when `goal.metric` is 'throughput'. To add a ratio, add an entry here (and a
 * server to SERVERS if it needs one); run.js does the rest.
 *
 * Fields:
 *   name, goal: { metric: 'cpu' | 'throughput', min }     the figure the goal holds on, and its threshold
 *   load: a key of the run profile's amounts ('light' | 'db' | 'redisDown')
 *   subject / baseline: { server, path, method?, body?(n), headers?(n, payload, ctx), eventsPerRequest?, token?, load?,
 *                         expectErrors?, warmup?, before?(ctx), after?(ctx) }
 *     path: may name a seeded value, as in '/v1/users/{userId}' or '/v1/webhooks/{orgSlug}/user-service'
 *     method, body: for writes; body(n) makes the n-th request's JSON body
 *     headers: further headers of the n-th request computed from its exact payload (a signature); with it, every
 *       round's bodies and headers are made before the round starts, so signing costs the load generator nothing
 *       while it sends
 *     eventsPerRequest: what one request carries (a batch of 100 events: 100); per-event figures and a throughput
 *       ratio in events per second follow from it
 *     load: this side's own amount, when it differs from the ratio's
 *     token: which seeded token goes in `authorization` ('admin')
 *     expectErrors: non-2xx answers are recorded, not a failure of the figure
 *     before/after: run around each of this side's rounds (e.g. stop Redis, then start it again)
 *   limits: [{ side, figure, max, inclusive?, atPeakShare? }]  further goals on one side's figure (e.g. p99 in ms);
 *     atPeakShare: 0.8 measures the figure in rounds of its own, paced at 80% of that side's median peak rate
 */

/** Events per request in the batch side of webhook_batch_events_per_s. */
const BATCH = 100;

/** The servers a ratio may name: the built API with env overrides, or a bare Fastify baseline (baseline-server.js). */
const SERVERS = {
  api: { kind: 'api', env: () => ({}) },
  'api-rls-off': { kind: 'api', env: (ctx) => ({ DATABASE_URL: ctx.urls.bypassUrl }) },
  'api-throttler-off': { kind: 'api', env: () => ({ RATE_LIMIT_API: 'off' }) },
  'api-audit-off': { kind: 'api', env: () => ({ AUDIT_TRAIL: 'off', NODE_ENV: 'bench' }) },
  'api-limit-100': { kind: 'api', env: () => ({ RATE_LIMIT_API_PER_USER: '100' }), freshPrefix: true },
  'api-tracing-on': { kind: 'api', env: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: traceSink.url() }) },
  'bare-hello': { kind: 'baseline', env: () => ({ BASELINE: 'hello' }) },
  'bare-auth-me': { kind: 'baseline', env: (ctx) => ({ BASELINE: 'auth-me', DATABASE_URL: ctx.urls.appUrl }) },
  'bare-users-list': { kind: 'baseline', env: (ctx) => ({ BASELINE: 'users-list', DATABASE_URL: ctx.urls.appUrl }) },
  'bare-echo': { kind: 'baseline', env: () => ({ BASELINE: 'echo' }) },
  // The worker backlog: an API and workers on a Redis prefix of their own, so that no job of another ratio is there.
  'api-backlog': { kind: 'api', env: (ctx) => ({ REDIS_PREFIX: backlogPrefix(ctx) }) },
  'worker-one-at-a-time': { kind: 'worker', env: (ctx) => ({ REDIS_PREFIX: backlogPrefix(ctx), WORKER_QUEUES: 'user-service', WEBHOOK_CONCURRENCY: '1' }) },
  'worker-default': { kind: 'worker', env: (ctx) => ({ REDIS_PREFIX: backlogPrefix(ctx), WORKER_QUEUES: 'user-service' }) },
};

function backlogPrefix(ctx) {
  return `tenantry-bench-${ctx.runId}-${ctx.label}-backlog`;
}

const RATIOS = [
  {
    name: 'health_vs_bare_fastify',
    goal: { metric: 'cpu', min: 0.85 },
    load: 'light',
    subject: { server: 'api', path: '/health/live' },
    baseline: { server: 'bare-hello', path: '/hello' },
  },
  {
    name: 'auth_me_vs_same_work',
    goal: { metric: 'cpu', min: 0.7 },
    load: 'db',
    subject: { server: 'api', path: '/v1/auth/me', token: 'admin' },
    baseline: { server: 'bare-auth-me', path: '/v1/auth/me', token: 'admin' },
  },
  {
    name: 'users_list_vs_same_work',
    goal: { metric: 'cpu', min: 0.7 },
    load: 'db',
    subject: { server: 'api', path: '/v1/users?limit=20', token: 'admin' },
    baseline: { server: 'bare-users-list', path: '/v1/users?limit=20', token: 'admin' },
  },
  {
    // value = CPU(RLS off) ÷ CPU(RLS on): the share of the route's cost that is not row-level security
    name: 'rls_on_vs_off',
    goal: { metric: 'cpu', min: 0.9 },
    load: 'db',
    subject: { server: 'api', path: '/v1/users?limit=20', token: 'admin' },
    baseline: { server: 'api-rls-off', path: '/v1/users?limit=20', token: 'admin' },
  },
  {
    name: 'throttler_on_vs_off',
    goal: { metric: 'cpu', min: 0.85 },
    load: 'db',
    subject: { server: 'api', path: '/v1/auth/me', token: 'admin' },
    baseline: { server: 'api-throttler-off', path: '/v1/auth/me', token: 'admin' },
  },
  {
    // By throughput: with Redis down the API must keep serving at nearly its usual rate, and fast (p99 limit).
    name: 'auth_me_redis_down_vs_up',
    goal: { metric: 'throughput', min: 0.8 },
    limits: [{ side: 'subject', figure: 'p99Ms', max: 50, label: 'p99 with Redis down < 50 ms' }],
    load: 'redisDown',
    subject: {
      server: 'api',
      path: '/v1/auth/me',
      token: 'admin',
      expectErrors: true,
      warmup: 0,
      before: (ctx) => ctx.redis.stop(),
      after: (ctx) => ctx.redis.restart(),
    },
    // Redis up answers fast: the usual amount keeps its rate from being a handful of requests' worth.
    baseline: { server: 'api', path: '/v1/auth/me', token: 'admin', load: 'db' },
  },
  {
    // By throughput: user PATCHes per second with the audit trail (subscriber, one audit_append per transaction,
    // the hash chain under its advisory lock) ÷ the same API with AUDIT_TRAIL=off (allowed with NODE_ENV=bench only).
    name: 'audit_write_overhead',
    goal: { metric: 'throughput', min: 0.7 },
    load: 'db',
    subject: { server: 'api', path: '/v1/users/{userId}', method: 'PATCH', body: renamed, token: 'admin' },
    baseline: { server: 'api-audit-off', path: '/v1/users/{userId}', method: 'PATCH', body: renamed, token: 'admin' },
  },
  {
    // Signed single events (a new event id each), stored and enqueued by the API ÷ a bare Fastify route that parses the
    // same body and answers 202. p99 is held at 80% of the API's peak rate, in paced rounds of its own.
    name: 'webhook_ingest_vs_bare_echo',
    goal: { metric: 'cpu', min: 0.4 },
    limits: [{ side: 'subject', figure: 'p99Ms', max: 50, inclusive: true, atPeakShare: 0.8, label: 'p99 at 80% of the peak rate ≤ 50 ms' }],
    load: 'ingest',
    subject: { server: 'api', path: '/v1/webhooks/{orgSlug}/user-service', method: 'POST', body: userEvent, headers: signed },
    baseline: { server: 'bare-echo', path: '/v1/webhooks/{orgSlug}/user-service', method: 'POST', body: userEvent, headers: signed },
  },
  {
    // By throughput in events: batches of 100 events a request ÷ one event a request, on the same API.
    name: 'webhook_batch_events_per_s',
    goal: { metric: 'throughput', min: 10 },
    load: 'ingest',
    subject: { server: 'api', path: '/v1/webhooks/{orgSlug}/user-service', method: 'POST', body: userEventBatch, headers: signed, eventsPerRequest: BATCH, load: 'batch' },
    baseline: { server: 'api', path: '/v1/webhooks/{orgSlug}/user-service', method: 'POST', body: userEvent, headers: signed },
  },
  {
    // value = CPU(tracing off) ÷ CPU(tracing on): what the SDK, its http, pg and ioredis spans and their OTLP export
    // (to a sink in the bench process that answers 200) cost a database route.
    name: 'tracing_on_vs_off',
    goal: { metric: 'cpu', min: 0.7 },
    load: 'db',
    subject: { server: 'api-tracing-on', path: '/v1/auth/me', token: 'admin' },
    baseline: { server: 'api', path: '/v1/auth/me', token: 'admin' },
  },
];

/** One user-service event, its id and record new each time: a duplicate would be stored and enqueued by nobody. */
function userEvent() {
  const id = randomUUID();
  return { id: `evt_${id}`, type: 'user.updated', occurredAt: new Date().toISOString(), data: { externalId: `ext_${id}`, email: `${id}@sync.bench.test`, name: `Synced ${id.slice(0, 8)}`, role: 'member' } };
}

function userEventBatch() {
  return Array.from({ length: BATCH }, userEvent);
}

const signers = new Map();
/** Standard Webhooks headers over the exact payload, with the organization's secret from the seed. */
function signed(n, payload, ctx) {
  const secret = ctx.tokens.webhookSecret;
  if (!signers.has(secret)) signers.set(secret, new Webhook(secret));
  const msgId = `msg_${randomUUID()}`;
  // One instant for the header and the signature: two clock reads could straddle a second and sign another timestamp.
  const at = new Date();
  return { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signers.get(secret).sign(msgId, at, payload) };
}

/**
 * Worker throughput on a backlog: `events` user-service events are ingested through `api` (batches of 100) while no
 * worker runs, then a worker (`sides`, interleaved per round) starts and drains them; its rate is events ÷ the span
 * from the first event processed to the last (processed_at), which leaves the worker's start-up out. value =
 * subject ÷ baseline events per second.
 */
const BACKLOGS = [
  {
    name: 'worker_batched_vs_single',
    goal: { metric: 'throughput', min: 3 },
    api: 'api-backlog',
    provider: 'user-service',
    subject: { server: 'worker-default', label: 'WEBHOOK_CONCURRENCY default (8)' },
    baseline: { server: 'worker-one-at-a-time', label: 'WEBHOOK_CONCURRENCY=1' },
    makeEvent: userEvent,
    sign: signed,
  },
];

/**
 * Where 'api-tracing-on' exports its spans: a bare OTLP/HTTP receiver in the bench process that drains each export
 * and answers 200. It listens from the moment ratios.js loads (long before a server starts) and never keeps the bench
 * alive.
 */
const traceSink = (() => {
  const server = require('node:http').createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  server.listen(0, '127.0.0.1');
  server.unref();
  return {
    url() {
      if (!server.listening) throw new Error('the trace sink is not listening yet');
      return `http://127.0.0.1:${server.address().port}`;
    },
  };
})();

/** A new name each time: a PATCH that changes nothing writes nothing, and would audit nothing. */
function renamed(n) {
  return { name: `Bench Renamed ${process.pid}-${n}-${Math.random().toString(36).slice(2, 8)}` };
}

/**
 * Latency goals in milliseconds, on an organization with `rows` generated audit rows (fewer in --quick): each path is
 * asked `samples` times one after the other, and the figure is the worst path's p95.
 */
const LATENCIES = [
  {
    name: 'audit_query_p95_ms_at_1m',
    goal: { maxMs: 30 },
    rows: { full: 1_000_000, quick: 100_000 },
    server: 'api',
    token: 'admin',
    paths: ['/v1/audit-logs?limit=20', '/v1/audit-logs?entityType=user&action=update&limit=20&page=3'],
    samples: { full: 300, quick: 100 },
  },
];

/**
 * Checks that are not ratios: pass/fail with counts, under `checks` in results.json.
 * throttle_limit_holds: 1,000 concurrent requests with one token against an API allowing 100 a minute per user.
 */
const CHECKS = [{ name: 'throttle_limit_holds', server: 'api-limit-100', path: '/v1/auth/me', token: 'admin', concurrent: 1000, limit: 100 }];

module.exports = { SERVERS, RATIOS, CHECKS, LATENCIES, BACKLOGS };
