#!/usr/bin/env node
'use strict';
/**
 * `npm run bench:scale`: how signed single-event webhook ingest scales from one API process to two on this machine,
 * and where PostgreSQL becomes the limit. Same load both ways (16 connections in all, split evenly over the
 * processes), three interleaved rounds each; reports requests per second, p99, and the CPU seconds the API
 * processes, PostgreSQL and Redis spent per second of the round (from /proc), so the limit shows up as the share of
 * the two cores each takes. Writes bench/scale-ingest.json. Needs a build (`npm run build`).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { Webhook } = require('standardwebhooks');
const processes = require('./lib/processes');
const database = require('./lib/database');
const { fire } = require('./lib/load');
const { request } = require('./lib/http');

const ROOT = path.resolve(__dirname, '..');
const API_MAIN = path.join(ROOT, 'dist', 'apps', 'api', 'src', 'main.js');
const quick = process.argv.includes('--quick');
const AMOUNT = quick ? 3000 : 12000;
const CONNECTIONS = 16;
const ROUNDS = 3;
const runId = `${Date.now().toString(36)}_${crypto.randomBytes(3).toString('hex')}`;
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `tenantry-scale-${runId}-`));
const urls = database.urlsFor(`scale_${runId}`);
const secrets = {
  JWT_SECRET: `bench-only-jwt-secret-${crypto.randomBytes(16).toString('hex')}`,
  ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
  SUPERADMIN_EMAIL: 'root@bench.test',
  SUPERADMIN_PASSWORD: 'Bench-Root-Password-1!',
};
const log = (...parts) => console.log(`[scale ${new Date().toISOString().slice(11, 19)}]`, ...parts);

/** CPU microseconds of every process whose command name is `name` (postgres backends, redis-server). */
function cpuOf(name) {
  let pids = [];
  try {
    pids = execFileSync('pgrep', ['-x', name]).toString().trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  return pids.reduce((sum, pid) => sum + (processes.cpuMicros(pid) || 0), 0);
}

async function call(base, method, url, { token, body } = {}) {
  const response = await request(base + url, { method, headers: token ? { authorization: `Bearer ${token}` } : {}, body });
  if (!response.ok) throw new Error(`${method} ${url} answered ${response.status}: ${response.text.slice(0, 300)}`);
  return response.json;
}

function signedRequests(secret, count) {
  const signer = new Webhook(secret);
  return Array.from({ length: count }, () => {
    const id = crypto.randomUUID();
    const body = JSON.stringify({ id: `evt_${id}`, type: 'user.updated', occurredAt: new Date().toISOString(), data: { externalId: `ext_${id}`, email: `${id}@scale.bench.test`, name: 'Scaled', role: 'member' } });
    const at = new Date();
    const msgId = `msg_${id}`;
    return { body, headers: { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signer.sign(msgId, at, body) } };
  });
}

async function startApi(redisUrl) {
  const port = await processes.freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: os.homedir(),
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    DATABASE_URL: urls.appUrl,
    DATABASE_OWNER_URL: urls.ownerUrl,
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `tenantry-scale-${runId}`,
    RATE_LIMIT_WEBHOOKS_PER_ORG: '1000000',
    RATE_LIMIT_LOGIN_PER_IP: '1000000',
    SIMULATORS: 'off',
    ...secrets,
  };
  const handle = processes.start(`api-${port}`, process.execPath, [API_MAIN], { env, logDir: runDir, cwd: runDir });
  const base = `http://127.0.0.1:${port}`;
  await processes.waitUntil(handle, async () => (await request(`${base}/health/live`, { timeoutMs: 2000 })).ok, { what: 'listening', timeoutMs: 60000 });
  return { handle, base, pid: handle.pid };
}

/** One round: the load split evenly over `apis`, all at once; figures per second of the round. */
async function round(apis, secret, orgSlug) {
  const before = { api: apis.map((api) => processes.cpuMicros(api.pid)), pg: cpuOf('postgres'), redis: cpuOf('redis-server') };
  const started = process.hrtime.bigint();
  const shots = await Promise.all(
    apis.map((api) =>
      fire({
        url: `${api.base}/v1/webhooks/${orgSlug}/user-service`,
        method: 'POST',
        headers: {},
        prepared: signedRequests(secret, AMOUNT / apis.length + CONNECTIONS),
        amount: AMOUNT / apis.length,
        connections: CONNECTIONS / apis.length,
        timeoutSec: 10,
      }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const answered = shots.reduce((n, s) => n + s.answered, 0);
  const failed = shots.reduce((n, s) => n + (s.answered - s.ok), 0);
  const apiCpu = apis.reduce((sum, api, i) => sum + processes.cpuMicros(api.pid) - before.api[i], 0);
  return {
    reqPerSec: answered / seconds,
    p99Ms: Math.max(...shots.map((s) => s.p99Ms)),
    failed,
    coresApi: apiCpu / 1e6 / seconds,
    coresPostgres: (cpuOf('postgres') - before.pg) / 1e6 / seconds,
    coresRedis: (cpuOf('redis-server') - before.redis) / 1e6 / seconds,
  };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  if (!fs.existsSync(API_MAIN)) throw new Error('run `npm run build` first');
  const redisPort = await processes.freePort();
  const redis = processes.start('redis', 'redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { env: { PATH: process.env.PATH }, logDir: runDir, cwd: runDir });
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  await database.createDatabase(urls);
  log(`database ${urls.database} migrated; Redis on ${redisPort}`);
  const one = await startApi(redisUrl);
  const two = await startApi(redisUrl);
  const root = await call(one.base, 'POST', '/v1/auth/login', { body: { email: secrets.SUPERADMIN_EMAIL, password: secrets.SUPERADMIN_PASSWORD } });
  const slug = `scale-${runId.replace(/_/g, '-')}`;
  await call(one.base, 'POST', '/v1/organizations', { token: root.accessToken, body: { name: 'Scale', slug, admin: { email: 'admin@scale.test', name: 'Admin', password: 'Scale-Admin-Pass-1!' } } });
  const admin = await call(one.base, 'POST', '/v1/auth/login', { body: { organization: slug, email: 'admin@scale.test', password: 'Scale-Admin-Pass-1!' } });
  const { secret } = await call(one.base, 'POST', '/v1/integrations/user-service/webhook-secret', { token: admin.accessToken, body: {} });
  await round([one, two], secret, slug); // warm-up of both
  const results = { one: [], two: [] };
  for (let i = 0; i < ROUNDS; i++) {
    results.one.push(await round([one], secret, slug));
    results.two.push(await round([one, two], secret, slug));
    log(`round ${i + 1}: one ${Math.round(results.one[i].reqPerSec)} req/s, two ${Math.round(results.two[i].reqPerSec)} req/s`);
  }
  const summary = (rounds) => Object.fromEntries(Object.keys(rounds[0]).map((key) => [key, Math.round(median(rounds.map((r) => r[key])) * 100) / 100]));
  const out = {
    at: new Date().toISOString(),
    node: process.version,
    cpu: { model: os.cpus()[0]?.model, cores: os.cpus().length },
    amountPerRound: AMOUNT,
    connections: CONNECTIONS,
    one: summary(results.one),
    two: summary(results.two),
  };
  out.scaling = Math.round((out.two.reqPerSec / out.one.reqPerSec) * 100) / 100;
  fs.writeFileSync(path.join(__dirname, quick ? 'scale-ingest.quick.json' : 'scale-ingest.json'), JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out, null, 2));
  await processes.stop(one.handle);
  await processes.stop(two.handle);
  await processes.stop(redis);
  await database.dropDatabase(urls);
}

main()
  .catch(async (error) => {
    console.error(error);
    process.exitCode = 1;
    await processes.stopAll();
    await database.dropDatabase(urls).catch(() => undefined);
  })
  .finally(() => fs.rmSync(runDir, { recursive: true, force: true }));
