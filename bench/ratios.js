'use strict';
/**
 * What `npm run bench` measures. A ratio compares a subject with a baseline, each a server (see SERVERS) and a
 * request; `value` is baseline ÷ subject on CPU time per request (≥ 1: as cheap as the baseline), or subject ÷
 * baseline on requests per second when `goal.metric` is 'throughput'. To add a ratio, add an entry here (and a
 * server to SERVERS if it needs one); run.js does the rest.
 *
 * Fields:
 *   name, goal: { metric: 'cpu' | 'throughput', min }     the figure the goal holds on, and its threshold
 *   load: a key of the run profile's amounts ('light' | 'db' | 'redisDown')
 *   subject / baseline: { server, path, method?, body?(n), token?, load?, expectErrors?, warmup?, before?(ctx), after?(ctx) }
 *     path: may name a seeded id, as in '/v1/users/{userId}'
 *     method, body: for writes; body(n) makes the n-th request's JSON body
 *     load: this side's own amount, when it differs from the ratio's
 *     token: which seeded token goes in `authorization` ('admin')
 *     expectErrors: non-2xx answers are recorded, not a failure of the figure
 *     before/after: run around each of this side's rounds (e.g. stop Redis, then start it again)
 *   limits: [{ side, figure, max }]  further goals on one side's figure (e.g. p99 in ms)
 */

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
};

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
    // value = CPU(tracing off) ÷ CPU(tracing on): what the SDK, its http, pg and ioredis spans and their OTLP export
    // (to a sink in the bench process that answers 200) cost a database route.
    name: 'tracing_on_vs_off',
    goal: { metric: 'cpu', min: 0.7 },
    load: 'db',
    subject: { server: 'api-tracing-on', path: '/v1/auth/me', token: 'admin' },
    baseline: { server: 'api', path: '/v1/auth/me', token: 'admin' },
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

module.exports = { SERVERS, RATIOS, CHECKS, LATENCIES };
