import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { TestApp } from './support/app';
import { Client } from 'pg';
import { createOrganization, loginSuperadmin } from './support/factories';
import { Simulators, TestWorker, eventually, freePort, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';
import { OwnRedis } from './support/own-redis';

describe('webhook ingestion while Redis is down', () => {
  let redis: OwnRedis;
  let t: TestApp;
  let worker: TestWorker;
  let simulators: Simulators;
  let owner: Client;
  const queryAsOwner = async <R>(sql: string, values: unknown[]): Promise<R[]> => (await owner.query(sql, values)).rows as R[];

  beforeAll(async () => {
    redis = new OwnRedis(await freePort());
    await redis.start();
    simulators = await startSimulators();
    // A database of its own: this worker's relay reads every organization's events (see test-env.ts).
    const database = process.env.RELAY_TEST_DATABASE!;
    const databaseUrl = Object.assign(new URL(process.env.DATABASE_URL!), { pathname: `/${database}` }).toString();
    const databaseOwnerUrl = Object.assign(new URL(process.env.DATABASE_OWNER_URL!), { pathname: `/${database}` }).toString();
    owner = new Client({ connectionString: databaseOwnerUrl });
    await owner.connect();
    const overrides = {
      ...integrationOverrides(simulators),
      databaseUrl,
      databaseOwnerUrl,
      redisUrl: redis.url,
      webhookRelayEveryMs: 300,
      webhookRelayAfterMs: 500,
    };
    worker = await TestWorker.boot(overrides);
    t = await TestApp.boot(overrides);
  });

  afterAll(async () => {
    await t?.close();
    await worker?.close();
    await stopSimulators(simulators);
    await redis?.stop();
    await owner?.end();
  });

  it('answers 202 and stores every event while Redis is down, and processes them all once it is back', async () => {
    const org = await createOrganization(t, await loginSuperadmin(t));
    const secret = (await t.post('/v1/integrations/user-service/webhook-secret', {}, org.admin.token)).body.secret as string;
    const send = (body: unknown) => {
      const payload = JSON.stringify(body);
      const msgId = `msg_${randomUUID()}`;
      const at = new Date();
      const headers = { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(msgId, at, payload) };
      return t.request('POST', `/v1/webhooks/${org.slug}/user-service`, { rawBody: payload, headers });
    };
    const event = (n: number) => ({
      id: `evt_${randomUUID()}`,
      type: 'user.created',
      occurredAt: new Date().toISOString(),
      data: { externalId: `down-${n}-${randomUUID()}`, email: `down-${n}-${randomUUID().slice(0, 6)}@redis.test`, name: `Down ${n}`, role: 'member' },
    });

    const before = await send(event(0));
    expect(before.status).toBe(202);

    await redis.stop();
    const answers = [];
    for (let n = 1; n <= 10; n++) answers.push(await send(event(n)));
    answers.push(await send(Array.from({ length: 20 }, (_, i) => event(100 + i))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(11).fill(202));
    expect(answers.flatMap((answer) => answer.body.results.map((r: any) => r.status)).every((status: string) => status === 'accepted')).toBe(true);
    const stored = await queryAsOwner<{ n: string }>('select count(*) as n from webhook_events where org_id = $1', [org.id]);
    expect(Number(stored[0].n)).toBe(31);

    await redis.start();
    await eventually(
      async () => (await queryAsOwner<{ status: string; n: string }>('select status, count(*) as n from webhook_events where org_id = $1 group by status', [org.id])),
      (rows) => rows.length === 1 && rows[0].status === 'processed' && Number(rows[0].n) === 31,
      30_000,
      200,
    );
    const users = await queryAsOwner<{ n: string }>(`select count(*) as n from users where org_id = $1 and source = 'user-service'`, [org.id]);
    expect(Number(users[0].n)).toBe(31);
  }, 60_000);
});
