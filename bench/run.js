#!/usr/bin/env node
'use strict';
/**
 * `npm run bench [-- --quick] [-- --smoke] [-- --out <file>]`: boots what it measures (the built API and bare
 * Fastify baselines, each its own child process, on a database, a Redis and ports of its own), measures every ratio
 * of ratios.js with interleaved rounds, and writes results.json. The method: /work/shared/BENCH-METHOD.md.
 *
 *   --quick   fewer requests (under 3 minutes on two cores); the figures are rougher
 *   --smoke   a quick run that only checks that the bench completes and that every ratio is a number (CI); it writes
 *             to a temporary file unless --out says where, and never judges a goal
 *   --only a,b  only the named ratios, checks and latencies (while working on them; the JSON then lacks the others)
 *   --out     where the results go (default bench/results.json; bench/results.quick.json with --quick, gitignored)
 *   BENCH_NODE=/path/to/node   runs every server a second time on that Node and records both (ratiosByNode)
 *   BENCH_CPU_PROF=<dir>       the API and workers run with `node --cpu-prof`, a .cpuprofile each in <dir> (profiling
 *                              costs CPU itself: figures from such a run are for finding hot spots, not for the record)
 *   PG_BASE_URL                another PostgreSQL (default postgres://postgres@127.0.0.1:5432)
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const processes = require('./lib/processes');
const { fire, measureRound, summarize, median } = require('./lib/load');
const { request } = require('./lib/http');
const database = require('./lib/database');
const all = require('./ratios');

const ROOT = path.resolve(__dirname, '..');
const API_MAIN = path.join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
const BASELINE_MAIN = path.join(__dirname, 'baseline-server.js');
const WORKER_MAIN = path.join(ROOT, 'dist', 'apps', 'worker', 'src', 'main.js');

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const smoke = flag('--smoke');
const only = option('--only')?.split(',');
const chosen = (list) => (only ? list.filter((item) => only.includes(item.name)) : list);
const { SERVERS } = all;
const [RATIOS, CHECKS, LATENCIES, BACKLOGS] = [all.RATIOS, all.CHECKS, all.LATENCIES, all.BACKLOGS].map(chosen);
const quick = smoke || flag('--quick');

/**
 * How much load each phase sends. With Redis down the API answers as fast as with it up (nothing waits for Redis),
 * so that phase sends as much as any database route: a handful of requests would measure connection set-up and the
 * 10 ms granularity of /proc CPU times, not the route.
 */
const PROFILE = quick
  ? { rounds: 3, connections: 16, warmup: { light: 3000, db: 1500, ingest: 1000, batch: 20 }, amount: { light: 30000, db: 800, redisDown: 800, ingest: 1500, batch: 80 }, backlog: { events: 1000, rounds: 3 } }
  : { rounds: 3, connections: 16, warmup: { light: 20000, db: 6000, ingest: 3000, batch: 60 }, amount: { light: 150000, db: 4000, redisDown: 4000, ingest: 6000, batch: 300 }, backlog: { events: 4000, rounds: 3 } };
// Smoke only checks that each figure comes out: the webhook figures, which store every event they send and start
// workers, stay tiny there (a few seconds in all).
if (smoke) {
  Object.assign(PROFILE.warmup, { ingest: 100, batch: 2 });
  Object.assign(PROFILE.amount, { ingest: 200, batch: 10 });
  PROFILE.backlog = { events: 100, rounds: 1 };
}
const REQUEST_TIMEOUT_SEC = 10;

const runId = `${Date.now().toString(36)}_${crypto.randomBytes(3).toString('hex')}`;
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `tenantry-bench-${runId}-`));
const defaultOut = smoke
  ? path.join(os.tmpdir(), `tenantry-bench-smoke-${runId}.json`)
  : path.join(__dirname, quick ? 'results.quick.json' : 'results.json');
const outFile = path.resolve(option('--out') || defaultOut);
const urls = database.urlsFor(runId);
const secrets = {
  JWT_SECRET: `bench-only-jwt-secret-${crypto.randomBytes(16).toString('hex')}`,
  ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
  SUPERADMIN_EMAIL: 'root@bench.test',
  SUPERADMIN_PASSWORD: 'Bench-Root-Password-1!',
};
const ORG = { name: 'Bench Org', slug: `bench-${runId.replace(/_/g, '-')}`, admin: { email: 'admin@bench.test', name: 'Bench Admin', password: 'Bench-Admin-Pass-1!' } };
const SEED_USERS = 50;

const log = (...parts) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...parts);

// ---------------------------------------------------------------------------------------------------------------
// Redis of our own: the redis-down ratio stops and restarts it.

function ownRedis(port) {
  const redis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    handle: null,
    async start() {
      redis.handle = processes.start('redis', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        env: { PATH: process.env.PATH },
        logDir: runDir,
        cwd: runDir,
      });
      await processes.waitUntil(redis.handle, () => redisPing(port), { what: 'answering PING' });
    },
    async stop() {
      await processes.stop(redis.handle);
      await processes.sleep(1000);
    },
    /** Starts it again on the same port, then waits until the API answers normally again. */
    async restart() {
      await redis.start();
      for (const waitForApi of redis.onRestart) await waitForApi();
    },
    onRestart: [],
  };
  return redis;
}

function redisPing(port) {
  try {
    return execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim() === 'PONG';
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Servers

function serverEnv(ctx, name, port) {
  const server = SERVERS[name];
  const common = { PATH: process.env.PATH, HOME: process.env.HOME || os.homedir(), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  if (server.kind === 'baseline') {
    return { ...common, NODE_ENV: 'production', DATABASE_POOL_SIZE: '10', JWT_SECRET: secrets.JWT_SECRET, ...server.env(ctx) };
  }
  return {
    ...common,
    NODE_ENV: 'production',
    DATABASE_URL: urls.appUrl,
    DATABASE_OWNER_URL: urls.ownerUrl,
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: ctx.redis.url,
    REDIS_PREFIX: server.freshPrefix ? `tenantry-bench-${runId}-${ctx.label}-${name}` : `tenantry-bench-${runId}`,
    ...secrets,
    ACCESS_TOKEN_TTL: '86400',
    // Generous: only the ratios and checks that are about the limit set one.
    RATE_LIMIT_LOGIN_PER_IP: '1000000',
    RATE_LIMIT_LOGIN_PER_EMAIL: '1000000',
    RATE_LIMIT_API_PER_USER: '1000000000',
    RATE_LIMIT_WEBHOOKS_PER_ORG: '1000000',
    SIMULATORS: 'off',
    ...(server.kind === 'worker' ? { WORKER_HEALTH_PORT: String(port) } : {}),
    ...server.env(ctx),
  };
}

async function startServer(ctx, name) {
  const server = SERVERS[name];
  const port = await processes.freePort();
  const script = { api: API_MAIN, worker: WORKER_MAIN, baseline: BASELINE_MAIN }[server.kind];
  // cwd is the run directory: no .env of a developer's can leak into what we measure.
  const profile = process.env.BENCH_CPU_PROF && server.kind !== 'baseline' ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`, `--cpu-prof-name=${ctx.label}-${name}-${Date.now()}.cpuprofile`] : [];
  const handle = processes.start(`${ctx.label}-${name}`, ctx.nodeBin, [...profile, script], { env: serverEnv(ctx, name, port), logDir: runDir, cwd: runDir });
  const base = `http://127.0.0.1:${port}`;
  const probe = server.kind === 'baseline' ? '/hello' : '/health/live';
  // Any HTTP answer means a baseline listens (its one route may be another).
  await processes.waitUntil(handle, async () => {
    const response = await request(base + probe, { timeoutMs: 2000 });
    return server.kind === 'baseline' ? true : response.ok;
  }, { what: 'listening', timeoutMs: 60000 });
  return { name, handle, base, pid: handle.pid, warmed: new Set() };
}

// ---------------------------------------------------------------------------------------------------------------
// Seeding, through the API itself

async function call(base, method, url, { token, body } = {}) {
  const response = await request(base + url, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, body });
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${response.text.slice(0, 500)}`);
  return response.json;
}

async function seed(base) {
  const root = await call(base, 'POST', '/v1/auth/login', { body: { email: secrets.SUPERADMIN_EMAIL, password: secrets.SUPERADMIN_PASSWORD } });
  const org = await call(base, 'POST', '/v1/organizations', { token: root.accessToken, body: ORG });
  const admin = await call(base, 'POST', '/v1/auth/login', { body: { organization: ORG.slug, email: ORG.admin.email, password: ORG.admin.password } });
  const users = Array.from({ length: SEED_USERS }, (_, i) => ({ email: `user${i}@bench.test`, name: `Bench User ${i}`, role: i % 5 === 0 ? 'viewer' : 'member' }));
  const { results } = await call(base, 'POST', '/v1/users/bulk', { token: admin.accessToken, body: { users } });
  const created = results.filter((r) => r.status === 'created').length;
  if (created !== SEED_USERS) throw new Error(`bulk create made ${created} of ${SEED_USERS} users: ${JSON.stringify(results.slice(0, 3))}`);
  // The secret a service signs its webhooks with, as an admin gets it.
  const { secret } = await call(base, 'POST', '/v1/integrations/user-service/webhook-secret', { token: admin.accessToken, body: {} });
  // Not only tokens: the ids that some routes name (a user to PATCH, the organization whose audit rows are generated).
  return { admin: admin.accessToken, orgId: org.id, orgSlug: ORG.slug, userId: results[0].id, webhookSecret: secret };
}

// ---------------------------------------------------------------------------------------------------------------
// Measuring

function requestOf(ctx, server, side) {
  const headers = side.token ? { authorization: `Bearer ${ctx.tokens[side.token]}` } : {};
  // `{userId}` in a path: an id from the seed (see seed()).
  const path = side.path.replace(/\{(\w+)\}/g, (_, key) => ctx.tokens[key]);
  return { pid: server.pid, url: server.base + path, headers, method: side.method ?? 'GET', body: side.body };
}

/**
 * For a side whose requests carry headers computed from their payload (`headers(n, payload, ctx)`: a signature), the
 * `amount` requests of a round made before it starts, plus one spare per connection (autocannon sets up one request
 * per connection ahead). Made right before each round: a signature's timestamp must be recent.
 */
function prepare(ctx, side, amount) {
  if (!side.headers) return undefined;
  return Array.from({ length: amount + PROFILE.connections }, (_, n) => {
    const body = JSON.stringify(side.body(n));
    return { body, headers: side.headers(n, body, ctx) };
  });
}

/** The first answer of a side, checked before any load: a broken route fails its figure here, with its body. */
async function probeSide(ctx, server, side) {
  const { url, headers, method, body } = requestOf(ctx, server, side);
  const [signed] = prepare(ctx, side, 1 - PROFILE.connections) ?? [];
  const response = signed
    ? await request(url, { method, headers: { ...headers, ...signed.headers }, rawBody: signed.body, timeoutMs: REQUEST_TIMEOUT_SEC * 1000 })
    : await request(url, { method, headers, body: body?.(-1), timeoutMs: REQUEST_TIMEOUT_SEC * 1000 });
  if (!response.ok) throw new Error(`${side.server} ${side.path} answered ${response.status}: ${response.text.slice(0, 300)}`);
}

function figureErrors(sideName, side, rounds) {
  const bad = rounds.reduce((n, r) => n + r.non2xx + r.errors + r.timeouts, 0);
  if (bad === 0 || side.expectErrors) return null;
  const codes = summarize(rounds).statusCodes;
  return `${sideName} (${side.server} ${side.path}) answered ${bad} of ${rounds.reduce((n, r) => n + r.answered, 0)} requests with errors: ${JSON.stringify(codes)}, connection errors ${rounds.reduce((n, r) => n + r.errors, 0)}, timeouts ${rounds.reduce((n, r) => n + r.timeouts, 0)}`;
}

async function measureRatio(ctx, ratio, servers) {
  const sides = { subject: ratio.subject, baseline: ratio.baseline };
  const amountOf = (side) => PROFILE.amount[side.load ?? ratio.load];
  const amount = amountOf(ratio.subject);
  const rounds = { subject: [], baseline: [] };
  for (const side of Object.values(sides)) {
    const server = servers[side.server];
    await probeSide(ctx, server, side);
    // Once per running server and route: a server that served this route before is warm already.
    const warmup = side.warmup ?? PROFILE.warmup[side.load ?? ratio.load] ?? 0;
    const warmKey = `${side.path} ${side.eventsPerRequest ?? 1}`;
    if (warmup === 0 || server.warmed.has(warmKey)) continue;
    await fire({ ...requestOf(ctx, server, side), prepared: prepare(ctx, side, warmup), amount: warmup, connections: PROFILE.connections, timeoutSec: REQUEST_TIMEOUT_SEC });
    server.warmed.add(warmKey);
  }
  // A, B, A, B, A, B: whatever else the machine does in the meantime lands on both sides alike.
  for (let round = 0; round < PROFILE.rounds; round++) {
    for (const [sideName, side] of Object.entries(sides)) {
      if (side.before) await side.before(ctx);
      try {
        const server = servers[side.server];
        const prepared = prepare(ctx, side, amountOf(side));
        rounds[sideName].push(
          await measureRound({ ...requestOf(ctx, server, side), prepared, amount: amountOf(side), connections: PROFILE.connections, timeoutSec: REQUEST_TIMEOUT_SEC }),
        );
      } finally {
        if (side.after) await side.after(ctx);
      }
    }
  }
  const subject = summarize(rounds.subject);
  const baseline = summarize(rounds.baseline);
  // Figures a limit holds at a paced rate: rounds of their own at a share of that side's median peak rate.
  const paced = {};
  for (const limit of ratio.limits || []) {
    if (!limit.atPeakShare || paced[limit.side]) continue;
    const side = sides[limit.side];
    const server = servers[side.server];
    const peak = (limit.side === 'subject' ? subject : baseline).reqPerSec;
    const rate = Math.max(1, Math.round(peak * limit.atPeakShare));
    const pacedRounds = [];
    for (let i = 0; i < PROFILE.rounds; i++) {
      const prepared = prepare(ctx, side, amountOf(side));
      pacedRounds.push(
        await measureRound({ ...requestOf(ctx, server, side), prepared, amount: amountOf(side), connections: PROFILE.connections, timeoutSec: REQUEST_TIMEOUT_SEC, overallRate: rate }),
      );
    }
    rounds[`${limit.side}Paced`] = pacedRounds;
    paced[limit.side] = { rate, ...summarize(pacedRounds), error: figureErrors(`${limit.side} paced at ${rate} req/s`, side, pacedRounds) };
  }
  const errors = [
    figureErrors('subject', ratio.subject, rounds.subject),
    figureErrors('baseline', ratio.baseline, rounds.baseline),
    ...Object.values(paced).map((p) => p.error),
  ].filter(Boolean);

  // Per event when a request carries several: a batch's figures compare with single events'.
  const perRequest = { subject: ratio.subject.eventsPerRequest ?? 1, baseline: ratio.baseline.eventsPerRequest ?? 1 };
  const throughputRatio = (subject.reqPerSec * perRequest.subject) / (baseline.reqPerSec * perRequest.baseline);
  const cpuRatio = baseline.cpuUsPerReq / perRequest.baseline / (subject.cpuUsPerReq / perRequest.subject);
  const value = ratio.goal.metric === 'throughput' ? throughputRatio : cpuRatio;
  const limits = (ratio.limits || []).map((limit) => {
    const actual = (limit.atPeakShare ? paced[limit.side] : limit.side === 'subject' ? subject : baseline)[limit.figure];
    const pass = actual !== null && (limit.inclusive ? actual <= limit.max : actual < limit.max);
    return { ...limit, value: round(actual, 1), pass, ...(limit.atPeakShare ? { rate: paced[limit.side].rate } : {}) };
  });
  const valid = errors.length === 0 && Number.isFinite(value);
  const entry = {
    value: valid ? round(value, 3) : null,
    goal: `${ratio.goal.metric === 'throughput' ? 'throughput' : 'CPU per request'} ≥ ${ratio.goal.min}`,
    pass: valid && value >= ratio.goal.min && limits.every((l) => l.pass),
    detail: {
      metric: ratio.goal.metric,
      subject: { server: ratio.subject.server, path: ratio.subject.path, ...figures(subject, perRequest.subject) },
      baseline: { server: ratio.baseline.server, path: ratio.baseline.path, ...figures(baseline, perRequest.baseline) },
      cpuRatio: round(cpuRatio, 3),
      throughputRatio: round(throughputRatio, 3),
      ...(perRequest.subject !== 1 || perRequest.baseline !== 1 ? { per: 'event', eventsPerRequest: perRequest } : {}),
      rounds: PROFILE.rounds,
      amountPerRound: { subject: amount, baseline: amountOf(ratio.baseline) },
      ...(limits.length
        ? {
            limits: limits.map(({ label, value: v, max, inclusive, pass, rate, atPeakShare, side }) => ({
              label,
              value: v,
              max,
              ...(inclusive ? { inclusive } : {}),
              pass,
              ...(rate ? { pacedAtReqPerSec: rate, share: atPeakShare, pacedReqPerSec: round(paced[side].reqPerSec, 1), pacedP50Ms: paced[side].p50Ms } : {}),
            })),
          }
        : {}),
      ...(errors.length ? { errors } : {}),
    },
  };
  return { entry, raw: rounds };
}

function figures(side, eventsPerRequest = 1) {
  return {
    cpuUsPerReq: round(side.cpuUsPerReq, 1),
    reqPerSec: round(side.reqPerSec, 1),
    ...(eventsPerRequest !== 1 ? { eventsPerRequest, cpuUsPerEvent: round(side.cpuUsPerReq / eventsPerRequest, 1), eventsPerSec: round(side.reqPerSec * eventsPerRequest, 1) } : {}),
    p99Ms: side.p99Ms,
    requests: side.requests,
    non2xx: side.non2xx,
    errors: side.errors,
    timeouts: side.timeouts,
    statusCodes: side.statusCodes,
  };
}

const round = (value, digits) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : null);

async function runCheck(ctx, check, server) {
  const { url, headers } = requestOf(ctx, server, check);
  const shot = await fire({ url, headers, amount: check.concurrent, connections: check.concurrent, timeoutSec: REQUEST_TIMEOUT_SEC });
  const limited = shot.statusCodes['429'] || 0;
  return {
    pass: shot.ok <= check.limit && shot.ok + limited === check.concurrent,
    limit: check.limit,
    concurrent: check.concurrent,
    ok2xx: shot.ok,
    tooMany429: limited,
    statusCodes: shot.statusCodes,
    errors: shot.errors,
    timeouts: shot.timeouts,
  };
}

/** One latency goal: each path asked one request at a time, after a short warm-up; the worst path's p95 decides. */
async function measureLatency(ctx, latency, server) {
  const samples = quick ? latency.samples.quick : latency.samples.full;
  const paths = [];
  for (const path of latency.paths) {
    const { url, headers } = requestOf(ctx, server, { ...latency, path });
    const times = [];
    for (let i = -20; i < samples; i++) {
      const started = process.hrtime.bigint();
      const response = await request(url, { headers, timeoutMs: REQUEST_TIMEOUT_SEC * 1000 });
      if (!response.ok) throw new Error(`${path} answered ${response.status}: ${response.text.slice(0, 300)}`);
      if (i >= 0) times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    const at = (q) => round(times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)], 1);
    paths.push({ path, samples, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99) });
  }
  const value = Math.max(...paths.map((p) => p.p95Ms));
  return {
    value,
    goal: `p95 ≤ ${latency.goal.maxMs} ms`,
    pass: value <= latency.goal.maxMs,
    detail: { metric: 'p95Ms', rows: quick ? latency.rows.quick : latency.rows.full, paths },
  };
}

/**
 * One worker-backlog ratio (see BACKLOGS in ratios.js). Per round and side: `events` fresh events ingested through
 * the API in signed batches of 100 while no worker runs, then the side's worker started, those of its events not yet
 * processed counted every 100 ms until none are left (a failed or dead one fails the figure), the worker stopped. A side's rate is its events ÷ the
 * span between the first and the last `processed_at`, which leaves the worker's start-up out; its wall time from
 * spawn to drained is recorded beside it.
 */
async function measureBacklog(ctx, backlog, api) {
  const events = PROFILE.backlog.events;
  const batch = 100;
  const orgId = ctx.tokens.orgId;
  const url = `${api.base}/v1/webhooks/${ctx.tokens.orgSlug}/${backlog.provider}`;
  // The ingest ratios leave their events unprocessed (no worker ran there), and a worker's relay hands any event
  // left waiting to a queue: they would be drained in this measurement. This is the run's own database.
  await database.withClient(ctx.urls.ownerUrl, (client) =>
    client.query(`update webhook_events set status = 'dead', last_error = 'bench: left by an ingest ratio' where status <> 'processed' and status <> 'dead'`),
  );
  const rounds = { subject: [], baseline: [] };
  for (let roundNo = 0; roundNo < PROFILE.backlog.rounds; roundNo++) {
    for (const sideName of ['subject', 'baseline']) {
      const side = backlog[sideName];
      const tag = `evt_bk${roundNo}${sideName[0]}_${crypto.randomBytes(4).toString('hex')}_`;
      for (let sent = 0; sent < events; sent += batch) {
        const payload = JSON.stringify(Array.from({ length: Math.min(batch, events - sent) }, (_, i) => ({ ...backlog.makeEvent(), id: `${tag}${sent + i}` })));
        const response = await request(url, { method: 'POST', headers: backlog.sign(sent, payload, ctx), rawBody: payload, timeoutMs: REQUEST_TIMEOUT_SEC * 1000 });
        const accepted = response.json?.results?.filter((r) => r.status === 'accepted').length;
        if (response.status !== 202 || accepted !== Math.min(batch, events - sent)) {
          throw new Error(`ingesting the backlog: ${response.status}, ${accepted} accepted: ${response.text.slice(0, 300)}`);
        }
      }
      const spawned = Date.now();
      const worker = await startServer(ctx, side.server);
      let pending;
      let cpuAfter;
      const cpuBefore = processes.cpuMicros(worker.pid);
      try {
        await processes.waitUntil(worker.handle, async () => {
          try {
            const { rows } = await database.withClient(ctx.urls.ownerUrl, (client) =>
              client.query(`select status, count(*)::int as n from webhook_events where org_id = $1 and event_id like $2 and status <> 'processed' group by status`, [
                orgId,
                `${tag}%`,
              ]),
            );
            pending = Object.fromEntries(rows.map((row) => [row.status, row.n]));
            if (pending.dead || pending.failed) throw Object.assign(new Error(`events failed: ${JSON.stringify(pending)}`), { fatal: true });
            return rows.length === 0;
          } catch (error) {
            pending = error.message;
            throw error;
          }
        }, { what: () => `done with ${events} events (left: ${JSON.stringify(pending)})`, timeoutMs: 120000 });
      } finally {
        if (!worker.handle.exited) cpuAfter = processes.cpuMicros(worker.pid);
        await processes.stop(worker.handle);
      }
      const drained = Date.now();
      const { rows } = await database.withClient(ctx.urls.ownerUrl, (client) =>
        client.query(
          `select count(*)::int as n, extract(epoch from max(processed_at) - min(processed_at))::float8 as span
             from webhook_events where org_id = $1 and event_id like $2 and status = 'processed'`,
          [orgId, `${tag}%`],
        ),
      );
      const { n, span } = rows[0];
      if (n !== events) throw new Error(`${side.server}: ${n} of ${events} events processed`);
      rounds[sideName].push({
        events,
        spanSec: round(span, 3),
        eventsPerSec: round((n - 1) / span, 1),
        wallSec: round((drained - spawned) / 1000, 2),
        // From the moment it answered its health check (processing had begun) to drained: an upper bound per event.
        cpuUsPerEventAfterReady: round((cpuAfter - cpuBefore) / n, 1),
      });
    }
  }
  const medianOf = (sideRounds, key) => median(sideRounds.map((r) => r[key]));
  const subject = medianOf(rounds.subject, 'eventsPerSec');
  const baseline = medianOf(rounds.baseline, 'eventsPerSec');
  const value = subject / baseline;
  const valid = Number.isFinite(value);
  const sideDetail = (sideName) => ({
    server: backlog[sideName].server,
    label: backlog[sideName].label,
    eventsPerSec: medianOf(rounds[sideName], 'eventsPerSec'),
    spanSec: medianOf(rounds[sideName], 'spanSec'),
    wallSec: medianOf(rounds[sideName], 'wallSec'),
  });
  return {
    entry: {
      value: valid ? round(value, 3) : null,
      goal: `events per second ≥ ${backlog.goal.min}`,
      pass: valid && value >= backlog.goal.min,
      detail: { metric: 'eventsPerSec', events, rounds: PROFILE.backlog.rounds, subject: sideDetail('subject'), baseline: sideDetail('baseline') },
    },
    raw: rounds,
  };
}

/** Every ratio and check on one Node binary, each step on servers started for it. */
async function runSuite(ctx) {
  const running = {};
  const plan = [
    ...CHECKS.map((check) => ({ check })),
    ...RATIOS.map((ratio) => ({ ratio })),
    // Latencies before the worker backlogs: tens of thousands of synced writes (and the autovacuum they wake) would
    // otherwise share the cores with the audit query being timed.
    ...LATENCIES.map((latency) => ({ latency })),
    ...BACKLOGS.map((backlog) => ({ backlog })),
  ];
  // A backlog's workers start and stop per round (measureBacklog); only its API runs throughout.
  const serversOf = (step) =>
    step.check
      ? [step.check.server]
      : step.latency
        ? [step.latency.server]
        : step.backlog
          ? [step.backlog.api]
          : [step.ratio.subject.server, step.ratio.baseline.server];
  const ratios = {};
  const checks = {};
  const raw = {};
  ctx.redis.onRestart = [
    async () => {
      const api = running.api;
      if (!api) return;
      // Until the API has its Redis back and answers an authenticated request normally again, the next round would
      // measure the recovery. "Normally": well under the ~1.7 s that a request waits while Redis is away.
      await processes.waitUntil(api.handle, async () => {
        const headers = { authorization: `Bearer ${ctx.tokens.admin}` };
        const ready = await request(`${api.base}/health/ready`, { timeoutMs: 5000 });
        const started = Date.now();
        const me = await request(`${api.base}/v1/auth/me`, { headers, timeoutMs: 5000 });
        return ready.ok && me.ok && Date.now() - started < 1000;
      }, { what: 'answering normally after Redis came back', timeoutMs: 60000 });
    },
  ];
  try {
    for (const step of plan) {
      const names = [...new Set(serversOf(step))];
      const started = await Promise.all(names.map((name) => startServer(ctx, name)));
      names.forEach((name, i) => (running[name] = started[i]));
      if (step.check) {
        log(`${ctx.label}: check ${step.check.name}`);
        checks[step.check.name] = await runCheck(ctx, step.check, running[step.check.server]);
      } else if (step.backlog) {
        const { backlog } = step;
        log(`${ctx.label}: ${backlog.name} (${backlog.subject.server} vs ${backlog.baseline.server}, ${PROFILE.backlog.events} events a round)`);
        try {
          const { entry, raw: rawRounds } = await measureBacklog(ctx, backlog, running[backlog.api]);
          ratios[backlog.name] = entry;
          raw[backlog.name] = rawRounds;
        } catch (error) {
          console.error(`\n!!! ${backlog.name} FAILED: ${error.message}\n`);
          ratios[backlog.name] = { value: null, goal: `events per second ≥ ${backlog.goal.min}`, pass: false, detail: { errors: [error.message] } };
        }
      } else if (step.latency) {
        const { latency } = step;
        log(`${ctx.label}: ${latency.name} (${latency.server} ${latency.paths.join(', ')})`);
        try {
          ratios[latency.name] = await measureLatency(ctx, latency, running[latency.server]);
        } catch (error) {
          console.error(`\n!!! ${latency.name} FAILED: ${error.message}\n`);
          ratios[latency.name] = { value: null, goal: `p95 ≤ ${latency.goal.maxMs} ms`, pass: false, detail: { errors: [error.message] } };
        }
      } else {
        const { ratio } = step;
        log(`${ctx.label}: ${ratio.name} (${ratio.subject.server} ${ratio.subject.path} vs ${ratio.baseline.server} ${ratio.baseline.path})`);
        try {
          const { entry, raw: rawRounds } = await measureRatio(ctx, ratio, running);
          ratios[ratio.name] = entry;
          raw[ratio.name] = rawRounds;
          if (entry.detail.errors) for (const error of entry.detail.errors) console.error(`\n!!! ${ratio.name} FAILED: ${error}\n`);
        } catch (error) {
          const message = `${error.message}${error.cause ? ` (${error.cause.message || error.cause})` : ''}`;
          console.error(`\n!!! ${ratio.name} FAILED: ${message}\n`);
          ratios[ratio.name] = { value: null, goal: `≥ ${ratio.goal.min}`, pass: false, detail: { errors: [message] } };
        }
      }
      // Every step gets fresh servers: a server that had served other ratios before would be warmer (JIT, heap) than
      // the one it is compared with, and both sides of a ratio must have the same history.
      for (const name of Object.keys(running)) {
        await processes.stop(running[name].handle);
        delete running[name];
      }
    }
  } finally {
    await Promise.all(Object.values(running).map((server) => processes.stop(server.handle)));
  }
  return { node: ctx.nodeVersion, ratios, checks, raw };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

function table(title, suite) {
  const rows = [['ratio', 'value', 'goal', 'pass', 'subject CPU µs/req', 'baseline CPU µs/req', 'subject req/s', 'baseline req/s', 'req/s ratio', 'subject p99 ms', 'baseline p99 ms']];
  for (const [name, r] of Object.entries(suite.ratios)) {
    const d = r.detail || {};
    const s = d.subject || {};
    const b = d.baseline || {};
    rows.push([
      name,
      r.value === null ? 'ERROR' : String(r.value),
      r.goal,
      r.pass ? 'yes' : 'NO',
      fmt(s.cpuUsPerReq),
      fmt(b.cpuUsPerReq),
      fmt(s.reqPerSec),
      fmt(b.reqPerSec),
      fmt(d.throughputRatio),
      fmt(s.p99Ms),
      fmt(b.p99Ms),
    ]);
    if (s.eventsPerSec !== undefined || b.eventsPerSec !== undefined) {
      rows.push([`  events/s (subject / baseline)`, `${fmt(s.eventsPerSec ?? s.reqPerSec)} / ${fmt(b.eventsPerSec ?? b.reqPerSec)}`, '', '', fmt(s.cpuUsPerEvent ?? s.cpuUsPerReq), fmt(b.cpuUsPerEvent ?? b.cpuUsPerReq), '', '', '', '', '']);
    }
    for (const limit of d.limits || []) rows.push([`  ${limit.label}`, fmt(limit.value), `${limit.inclusive ? '≤' : '<'} ${limit.max}`, limit.pass ? 'yes' : 'NO', '', '', '', '', '', '', '']);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  const line = (row) => row.map((cell, c) => String(cell).padEnd(widths[c])).join('  ');
  const out = [`\n${title}`, line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)];
  for (const [name, check] of Object.entries(suite.checks)) {
    out.push(`check ${name}: ${check.pass ? 'pass' : 'FAIL'} (${check.concurrent} concurrent, limit ${check.limit}: ${check.ok2xx} answered 2xx, ${check.tooMany429} answered 429, other ${JSON.stringify(check.statusCodes)}, errors ${check.errors})`);
  }
  return out.join('\n');
}

const fmt = (v) => (v === null || v === undefined ? '-' : typeof v === 'number' ? String(Math.round(v * 100) / 100) : String(v));

function cpuInfo() {
  const model = (fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m) || [])[1] || os.cpus()[0]?.model || 'unknown';
  return { model: model.trim(), cores: os.cpus().length };
}

// ---------------------------------------------------------------------------------------------------------------
// Main, and cleanup on every way out

let cleanedUp = false;
let dbCreated = false;
async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  await processes.stopAll().catch(() => undefined);
  if (dbCreated) {
    await database.dropDatabase(urls).catch((error) => console.error(`could not drop ${urls.database}: ${error.message}`));
  }
}

process.on('exit', processes.killAllNow);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: stopping servers, dropping ${urls.database}`);
    cleanup().finally(() => process.exit(130));
  });
}

function nodeVersionOf(bin) {
  return execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
}

async function main() {
  if (!fs.existsSync(API_MAIN)) throw new Error(`${path.relative(ROOT, API_MAIN)} is missing: run \`npm run build\` first (npm run bench does)`);
  const started = Date.now();
  const event = process.env.npm_lifecycle_event;
  const invoked = event ? [`npm run ${event}`, ...(argv.length ? ['--', ...argv] : [])] : ['node bench/run.js', ...argv];
  const command = `${process.env.BENCH_NODE ? `BENCH_NODE=${process.env.BENCH_NODE} ` : ''}${invoked.join(' ')}`;
  log(`run ${runId}${quick ? ' (quick)' : ''}${smoke ? ' (smoke)' : ''}: database ${urls.database}, logs in ${runDir}`);

  const redis = ownRedis(await processes.freePort());
  await redis.start();

  dbCreated = true;
  const applied = await database.createDatabase(urls);
  log(`migrated ${urls.database}: ${applied.join(', ')}`);

  const primary = { label: 'primary', runId, nodeBin: process.execPath, nodeVersion: process.version, redis, urls, tokens: {} };
  const seeder = await startServer({ ...primary, label: 'seed' }, 'api');
  const tokens = await seed(seeder.base);
  await processes.stop(seeder.handle);
  await database.createBypassRole(urls);
  for (const latency of LATENCIES) {
    const rows = quick ? latency.rows.quick : latency.rows.full;
    log(`generating ${rows} audit rows for ${latency.name}`);
    await database.generateAuditRows(urls, tokens.orgId, rows);
  }
  log(`seeded: organization ${ORG.slug} with ${SEED_USERS + 1} users; ${urls.bypassRole} bypasses RLS`);

  const suites = [await runSuite({ ...primary, label: `node${process.versions.node.split('.')[0]}`, tokens })];
  if (process.env.BENCH_NODE) {
    const bin = path.resolve(process.env.BENCH_NODE);
    const version = nodeVersionOf(bin);
    suites.push(await runSuite({ label: `node${version.slice(1).split('.')[0]}`, runId, nodeBin: bin, nodeVersion: version, redis, urls, tokens }));
  }

  const [main] = suites;
  const results = {
    at: new Date().toISOString(),
    node: main.node,
    cpu: cpuInfo(),
    command,
    quick,
    durationSec: Math.round((Date.now() - started) / 1000),
    ratios: main.ratios,
    checks: main.checks,
    ...(suites.length > 1 ? { ratiosByNode: Object.fromEntries(suites.map((s) => [s.node, { ratios: s.ratios, checks: s.checks }])) } : {}),
    raw: Object.fromEntries(suites.map((s) => [s.node, s.raw])),
  };
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify(results, null, 2)}\n`);

  for (const suite of suites) console.log(table(`Node ${suite.node}, ${results.cpu.model}, ${results.cpu.cores} cores${quick ? ' (quick)' : ''}`, suite));
  const shown = path.relative(process.cwd(), outFile);
  console.log(`\nwrote ${shown.startsWith('..') ? outFile : shown} in ${results.durationSec} s`);

  const broken = suites.flatMap((s) => Object.entries(s.ratios).filter(([, r]) => !Number.isFinite(r.value)).map(([name]) => `${s.node} ${name}`));
  const measured = [...RATIOS, ...BACKLOGS, ...LATENCIES];
  const missing = suites.flatMap((s) => measured.filter((r) => !(r.name in s.ratios)).map((r) => `${s.node} ${r.name}`));
  if (broken.length || missing.length) {
    console.error(`\n!!! no value for: ${[...broken, ...missing].join(', ')}`);
    process.exitCode = 1;
  } else if (smoke) {
    const written = JSON.parse(fs.readFileSync(outFile, 'utf8'));
    const notNumbers = measured.filter((r) => typeof written.ratios[r.name]?.value !== 'number').map((r) => r.name);
    if (notNumbers.length) {
      console.error(`\n!!! smoke: ${outFile} has no number for ${notNumbers.join(', ')}`);
      process.exitCode = 1;
    } else {
      console.log(`smoke: the bench completed and ${outFile} has a number for each of ${measured.length} figures (goals are not judged here)`);
    }
  }
  if (process.exitCode !== 1) fs.rmSync(runDir, { recursive: true, force: true });
  else console.error(`server logs: ${runDir}`);
}

main()
  .catch((error) => {
    if (interrupted) return;
    console.error(`\n!!! bench failed: ${error.stack || error}\nserver logs: ${runDir}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
