import { Client } from 'pg';
import { ApiProcess, freePort, startApiProcess } from '../support/api-process';
import { Simulators, eventually, startSimulators, stopSimulators } from '../support/integrations';
import { OwnRedis } from '../support/own-redis';
import { WorkerProcess } from '../support/worker-process';

/**
 * Chaos: 10,000 webhook events from the simulators into the built API, processed by the built worker, while the
 * worker is SIGKILLed mid-batch (twice) and the test's own Redis is killed and started again empty (its Bull queues
 * are gone: the relay must enqueue again from the inbox). Then every distinct event is processed exactly once, the
 * synced state equals each simulator's own, and no sender saw a 5xx.
 */
const STREAMS = [
  { org: 0, provider: 'user-service', count: 4000 },
  { org: 1, provider: 'user-service', count: 4000 },
  { org: 0, provider: 'payment-service', count: 2000 },
] as const;
const TOTAL = STREAMS.reduce((sum, stream) => sum + stream.count, 0);
// Emitted in rounds, so that ingestion lasts long enough for the faults to land while it goes on.
const ROUND = 500;
const BATCH = 100;

const started = Date.now();
const say = (line: string) => process.stdout.write(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

interface EmitReport {
  sent: number;
  duplicates: number;
  statuses: { accepted: number; duplicate: number; rejected: number };
  httpStatuses: Record<string, number>;
  failedRequests: number;
  errors: unknown[];
}

interface StoredEvent {
  org_id: string;
  provider: string;
  event_id: string;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown>;
  status: string;
  attempts: number;
}

describe('webhooks under chaos', () => {
  let redis: OwnRedis;
  let simulators: Simulators;
  let api: ApiProcess;
  let worker: WorkerProcess;
  let owner: Client;
  const query = async <R>(sql: string, values: unknown[] = []): Promise<R[]> => (await owner.query(sql, values)).rows as R[];

  beforeAll(async () => {
    const database = process.env.CHAOS_TEST_DATABASE!;
    const at = (variable: string) => Object.assign(new URL(process.env[variable]!), { pathname: `/${database}` }).toString();
    owner = new Client({ connectionString: at('DATABASE_OWNER_URL') });
    await owner.connect();
    redis = new OwnRedis(await freePort());
    await redis.start();
    const apiPort = await freePort();
    simulators = await startSimulators('tenantry-chaos', `http://127.0.0.1:${apiPort}`);
    const env: Record<string, string> = {
      DATABASE_URL: at('DATABASE_URL'),
      DATABASE_OWNER_URL: at('DATABASE_OWNER_URL'),
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'tenantry-chaos',
      LOG_LEVEL: 'error',
      RATE_LIMIT_WEBHOOKS_PER_ORG: '100000',
      RATE_LIMIT_API_PER_USER: '100000',
      WEBHOOK_MAX_ATTEMPTS: '10',
      WEBHOOK_BACKOFF_MS: '50',
      WEBHOOK_RELAY_EVERY_MS: '500',
      WEBHOOK_RELAY_AFTER_MS: '2000',
      USER_SERVICE_URL: simulators['user-service'].url,
      PAYMENT_SERVICE_URL: simulators['payment-service'].url,
      COMMUNICATION_SERVICE_URL: simulators['communication-service'].url,
    };
    api = await startApiProcess({ ...env, PORT: String(apiPort), WEBHOOK_RELAY_EVERY_MS: '0' });
    worker = new WorkerProcess(env);
    await worker.start();
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    if (simulators) await stopSimulators(simulators);
    await redis?.stop();
    await owner?.end();
  });

  it('processes every distinct event exactly once through worker kills and a Redis restart, and ends with the simulators’ state', async () => {
    const superToken = (await api.request('POST', '/v1/auth/login', { body: { email: process.env.SUPERADMIN_EMAIL, password: process.env.SUPERADMIN_PASSWORD } })).body
      .accessToken as string;
    const orgs: Array<{ id: string; slug: string; token: string; secrets: Record<string, string> }> = [];
    for (const n of [0, 1]) {
      const slug = `chaos-${n}-${Date.now().toString(36)}`;
      const admin = { email: `admin@${slug}.test`, name: 'Ada Admin', password: 'Admin-Password-123!' };
      const created = await api.request('POST', '/v1/organizations', { token: superToken, body: { name: `Chaos ${n}`, slug, admin } });
      expect(created.status).toBe(201);
      const token = (await api.request('POST', '/v1/auth/login', { body: { organization: slug, email: admin.email, password: admin.password } })).body.accessToken;
      orgs.push({ id: created.body.id as string, slug, token: token as string, secrets: {} as Record<string, string> });
    }
    // Each organization starts from the simulators' data sets (a pull), then follows their changes (the events).
    for (const stream of STREAMS) {
      const org = orgs[stream.org];
      if (org.secrets[stream.provider]) continue;
      org.secrets[stream.provider] = (await api.request('POST', `/v1/integrations/${stream.provider}/webhook-secret`, { token: org.token, body: {} })).body.secret;
      const sync = await api.request('POST', `/v1/integrations/${stream.provider}/sync`, { token: org.token, body: {} });
      await eventually(() => api.request('GET', `/v1/integrations/jobs/${sync.body.jobId}`, { token: org.token }), (job) => job.body.state === 'completed', 30_000);
    }
    const [{ seq: auditBaseline }] = await query<{ seq: string }>('select coalesce(max(seq), 0) as seq from audit_logs');
    say(`ready: 2 organizations synced; emitting ${TOTAL} events (10% duplicates, out of order, batches of ${BATCH})`);

    const counts = async () => {
      const [row] = await query<{ stored: string; processed: string; failed: string; dead: string }>(
        `select count(*) as stored, count(*) filter (where status = 'processed') as processed,
                count(*) filter (where status = 'failed') as failed, count(*) filter (where status = 'dead') as dead from webhook_events`,
      );
      return { stored: Number(row.stored), processed: Number(row.processed), failed: Number(row.failed), dead: Number(row.dead) };
    };

    const reports: EmitReport[] = [];
    const emitting = Promise.all(
      STREAMS.map(async (stream) => {
        const org = orgs[stream.org];
        for (let sent = 0; sent < stream.count; sent += ROUND) {
          const answer = await simulators[stream.provider].http('POST', '/__control/emit', {
            organization: org.slug,
            secret: org.secrets[stream.provider],
            count: Math.min(ROUND, stream.count - sent),
            batchSize: BATCH,
            duplicateRate: 0.1,
            outOfOrder: true,
            concurrency: 1,
          });
          expect(answer.status).toBe(200);
          reports.push(answer.body);
        }
      }),
    );
    let ingesting = true;
    void emitting.finally(() => (ingesting = false)).catch(() => undefined);

    const faults = { workerKills: 0, redisRestarts: 0, killedWhileIngesting: 0, redisRestartedWhileIngesting: 0 };
    const killWorker = async (stage: string) => {
      const before = await counts();
      await worker.stop('SIGKILL');
      faults.workerKills += 1;
      if (ingesting) faults.killedWhileIngesting += 1;
      say(`SIGKILL worker (${stage}) at stored ${before.stored}, processed ${before.processed}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await worker.start();
      say('worker started again');
    };
    const restartRedis = async () => {
      const before = await counts();
      await redis.stop();
      faults.redisRestarts += 1;
      if (ingesting) faults.redisRestartedWhileIngesting += 1;
      say(`Redis killed at stored ${before.stored}, processed ${before.processed}; its queues are gone`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await redis.start();
      say('Redis started again, empty');
    };
    // Each fault fires once, on its own trigger, without waiting for the others: the first kill and the Redis restart
    // land while the senders are still sending.
    const plan = [
      { when: (c: Awaited<ReturnType<typeof counts>>) => c.processed >= 100, run: () => killWorker('first') },
      { when: (c: Awaited<ReturnType<typeof counts>>) => c.stored >= TOTAL * 0.4, run: restartRedis },
      { when: (c: Awaited<ReturnType<typeof counts>>) => c.processed >= TOTAL * 0.5, run: () => killWorker('second') },
    ];
    const running: Array<Promise<void>> = [];
    let workerBusy: Promise<void> = Promise.resolve();
    let last = '';
    let progressAt = 0;
    for (;;) {
      const now = await counts();
      const line = `stored ${now.stored}/${TOTAL}, processed ${now.processed}, failed ${now.failed}, dead ${now.dead}${ingesting ? ', ingesting' : ''}`;
      if (line !== last && Date.now() - progressAt >= 2000) {
        say(line);
        last = line;
        progressAt = Date.now();
      }
      for (const fault of plan.filter((f) => f.when(now))) {
        plan.splice(plan.indexOf(fault), 1);
        // Two kills never overlap: the second waits for the worker the first one started again.
        const run = fault.run === restartRedis ? restartRedis() : (workerBusy = workerBusy.then(fault.run));
        running.push(run);
      }
      if (!ingesting && plan.length === 0 && now.processed === TOTAL) break;
      if (Date.now() - started > 240_000) throw new Error(`not done within 240 s: ${line}; faults ${JSON.stringify(faults)}\n${worker.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await emitting;
    await Promise.all(running);
    say(`all ${TOTAL} processed; faults ${JSON.stringify(faults)}`);

    // The sender: every request answered 2xx, never a 5xx, and each distinct event accepted once.
    const httpStatuses: Record<string, number> = {};
    for (const report of reports) for (const [status, n] of Object.entries(report.httpStatuses)) httpStatuses[status] = (httpStatuses[status] ?? 0) + n;
    say(`sender saw HTTP ${JSON.stringify(httpStatuses)}`);
    expect(Object.keys(httpStatuses).filter((status) => Number(status) >= 500)).toEqual([]);
    expect(reports.flatMap((report) => report.errors)).toEqual([]);
    expect(reports.reduce((n, report) => n + report.failedRequests, 0)).toBe(0);
    expect(reports.reduce((n, report) => n + report.sent, 0)).toBe(TOTAL);
    expect(reports.reduce((n, report) => n + report.statuses.accepted, 0)).toBe(TOTAL);
    const duplicates = reports.reduce((n, report) => n + report.duplicates, 0);
    expect(duplicates).toBe(TOTAL / 10);
    expect(reports.reduce((n, report) => n + report.statuses.duplicate, 0)).toBe(duplicates);
    expect(faults.workerKills).toBe(2);
    expect(faults.redisRestarts).toBe(1);
    expect(faults.killedWhileIngesting).toBeGreaterThanOrEqual(1);
    expect(faults.redisRestartedWhileIngesting).toBe(1);

    // The inbox: one row per distinct event, every one processed, none dead or failed.
    const stored = await query<StoredEvent>(`select org_id, provider, event_id, type, occurred_at, data, status, attempts from webhook_events`);
    expect(stored).toHaveLength(TOTAL);
    expect(new Set(stored.map((event) => `${event.org_id}|${event.provider}|${event.event_id}`)).size).toBe(TOTAL);
    expect(stored.filter((event) => event.status !== 'processed' || event.attempts < 1)).toEqual([]);
    const attempts = stored.reduce((n, event) => n + event.attempts, 0);
    say(`inbox: ${stored.length} rows, all processed; ${attempts - stored.length} extra attempts (claims cut short by the kills, retries)`);

    // The side effects: every audit row the events wrote for a synced user is explained by one distinct event of that
    // user, in the order of their changes. An event applied twice, or a change from nowhere, has no event left to
    // explain it. (Applying an event twice writes nothing the second time: the reconciler skips a change no newer
    // than the row's, so this also shows that no stale or repeated change overwrote a newer one.)
    let auditRows = 0;
    for (const org of orgs) {
      const events = new Map<string, StoredEvent[]>();
      for (const event of stored.filter((e) => e.org_id === org.id && e.provider === 'user-service')) {
        const id = event.data.externalId as string;
        events.set(id, [...(events.get(id) ?? []), event]);
      }
      for (const list of events.values()) list.sort((a, b) => new Date(a.occurred_at).getTime() - new Date(b.occurred_at).getTime());
      const users = await query<{ id: string; external_id: string }>(`select id, external_id from users where org_id = $1 and source = 'user-service'`, [org.id]);
      const externalIdOf = new Map(users.map((user) => [user.id, user.external_id]));
      const rows = await query<{ entity_id: string; action: string; changes: Record<string, { to: unknown }>; actor_type: string }>(
        `select entity_id, action, changes, actor_type from audit_logs where org_id = $1 and entity_type = 'user' and seq > $2 order by seq`,
        [org.id, auditBaseline],
      );
      const matched = new Map<string, number>();
      const unexplained: unknown[] = [];
      for (const row of rows) {
        const externalId = externalIdOf.get(row.entity_id)!;
        const candidates = events.get(externalId) ?? [];
        const from = (matched.get(externalId) ?? -1) + 1;
        const index = candidates.findIndex((event, i) => i >= from && explains(event, row.changes));
        if (row.actor_type !== 'integration' || index < 0) unexplained.push({ externalId, action: row.action, changes: row.changes });
        else matched.set(externalId, index);
      }
      expect(unexplained).toEqual([]);
      auditRows += rows.length;
    }
    const userEvents = stored.filter((event) => event.provider === 'user-service').length;
    say(`audit: ${auditRows} user rows written by ${userEvents} user events, each explained by one distinct event`);

    // The final state: ours equals each simulator's own, every page of its lists.
    for (const org of orgs) {
      const theirUsers = await listAll(simulators['user-service'].url, org.slug, 'users');
      const ours = await query<{ external_id: string; email: string; name: string; role: string; status: string }>(
        `select external_id, email, name, role, status from users where org_id = $1 and source = 'user-service'`,
        [org.id],
      );
      const live = new Map(ours.filter((user) => user.status !== 'deactivated').map((user) => [user.external_id, user]));
      expect([...live.keys()].sort()).toEqual(theirUsers.map((user) => user.externalId as string).sort());
      for (const record of theirUsers) {
        expect(live.get(record.externalId as string)).toMatchObject({ email: (record.email as string).toLowerCase(), name: record.name, role: record.role });
      }
    }
    const payer = orgs[0];
    const subscriptions = await listAll(simulators['payment-service'].url, payer.slug, 'subscriptions');
    const ourSubscriptions = await query<{ external_id: string; plan: string; status: string }>(
      'select external_id, plan, status from subscriptions where org_id = $1 and removed_at is null order by external_id',
      [payer.id],
    );
    expect(ourSubscriptions).toEqual(
      subscriptions.map((s) => ({ external_id: s.subscriptionId, plan: s.plan, status: s.status })).sort((a, b) => String(a.external_id).localeCompare(String(b.external_id))),
    );
    const invoices = await listAll(simulators['payment-service'].url, payer.slug, 'invoices');
    const ourInvoices = await query<{ external_id: string; subscription_external_id: string; amount: string; currency: string; status: string }>(
      'select external_id, subscription_external_id, amount::text as amount, currency, status from invoices where org_id = $1 and removed_at is null order by external_id',
      [payer.id],
    );
    expect(ourInvoices).toEqual(
      invoices
        .map((i) => ({ external_id: i.invoiceId, subscription_external_id: i.subscriptionId, amount: String(i.amount), currency: i.currency, status: i.status }))
        .sort((a, b) => String(a.external_id).localeCompare(String(b.external_id))),
    );
    say(`state: ${orgs.length} organizations' users, ${subscriptions.length} subscriptions and ${invoices.length} invoices equal the simulators'`);
  }, 290_000);
});

/** Whether `event` is the change an audit row of its user records: the row's new values are the event's. */
function explains(event: StoredEvent, changes: Record<string, { to: unknown }>): boolean {
  if (changes.status?.to === 'deactivated' && event.type !== 'user.deleted') return false;
  if (changes.status?.to !== 'deactivated' && event.type === 'user.deleted') return false;
  const expected: Record<string, unknown> = {
    email: typeof event.data.email === 'string' ? event.data.email.toLowerCase() : undefined,
    name: event.data.name,
    role: event.data.role,
  };
  return Object.entries(expected).every(([field, value]) => changes[field] === undefined || value === undefined || changes[field].to === value);
}

async function listAll(url: string, slug: string, collection: string): Promise<Array<Record<string, unknown>>> {
  const all: Array<Record<string, unknown>> = [];
  for (let page = 1; ; page++) {
    const answer = (await fetch(`${url}/orgs/${slug}/${collection}?limit=100&page=${page}`).then((r) => r.json())) as {
      data: Array<Record<string, unknown>>;
      meta: { total: number };
    };
    all.push(...answer.data);
    if (all.length >= answer.meta.total || answer.data.length === 0) return all;
  }
}
