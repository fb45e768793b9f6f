import { IntegrationClients, IntegrationHttpError } from '@tenantry/integrations';
import { TaskCancelledError } from 'cockatiel';
import { TestApp } from './support/app';
import { queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, createUserWithToken, loginSuperadmin } from './support/factories';
import { Simulators, TestWorker, eventually, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';

/**
 * Pull sync, resilience and health against the real simulators, with the API and the worker in this process on the
 * run's PostgreSQL and Redis. Each test uses organizations of its own: the simulators' data is per slug.
 */
describe('integrations', () => {
  let t: TestApp;
  let worker: TestWorker;
  let simulators: Simulators;
  let superToken: string;

  beforeAll(async () => {
    simulators = await startSimulators();
    const overrides = integrationOverrides(simulators);
    worker = await TestWorker.boot(overrides);
    t = await TestApp.boot(overrides);
    superToken = await loginSuperadmin(t);
  });

  afterAll(async () => {
    await t?.close();
    await worker?.close();
    await stopSimulators(simulators);
  });

  afterEach(async () => {
    await Promise.all(Object.values(simulators).map((running) => running.control({})));
  });

  const syncAndWait = async (org: TestOrganization, provider: string) => {
    const accepted = await t.post(`/v1/integrations/${provider}/sync`, {}, org.admin.token);
    expect(accepted.status).toBe(202);
    return eventually(
      () => t.get(`/v1/integrations/jobs/${accepted.body.jobId}`, org.admin.token),
      (job) => ['completed', 'failed'].includes(job.body.state),
    );
  };

  const auditCount = async (orgId: string) =>
    Number((await queryAsOwner<{ n: string }>('select count(*) as n from audit_logs where org_id = $1', [orgId]))[0].n);

  it("syncs a service's records into the organization's rows, and a second sync writes nothing", async () => {
    const a = await createOrganization(t, superToken);
    const b = await createOrganization(t, superToken);
    const listed = await simulators['payment-service'].http('GET', `/orgs/${a.slug}/subscriptions?limit=100`);
    const invoices = await simulators['payment-service'].http('GET', `/orgs/${a.slug}/invoices?limit=100`);

    const first = await syncAndWait(a, 'payment-service');
    expect(first.body).toMatchObject({ state: 'completed', provider: 'payment-service', failedReason: null });
    expect(first.body.result).toMatchObject({ created: listed.body.meta.total + invoices.body.meta.total, updated: 0, removed: 0, unchanged: 0 });

    const subscriptions = await t.get('/v1/subscriptions?limit=100', a.admin.token);
    expect(subscriptions.status).toBe(200);
    expect(subscriptions.body.meta.total).toBe(listed.body.meta.total);
    const byId = new Map(subscriptions.body.data.map((row: any) => [row.externalId, row]));
    for (const record of listed.body.data) {
      expect(byId.get(record.subscriptionId)).toMatchObject({ plan: record.plan, status: record.status, sourceUpdatedAt: record.updatedAt, removedAt: null });
    }
    expect((await t.get('/v1/invoices?limit=100', a.admin.token)).body.meta.total).toBe(invoices.body.meta.total);
    // Organization B has synced nothing, and sees nothing of A's.
    expect((await t.get('/v1/subscriptions', b.admin.token)).body.meta.total).toBe(0);
    expect((await t.get('/v1/invoices', b.admin.token)).body.meta.total).toBe(0);

    const audited = await auditCount(a.id);
    const second = await syncAndWait(a, 'payment-service');
    expect(second.body.result).toMatchObject({ created: 0, updated: 0, removed: 0, unchanged: listed.body.meta.total + invoices.body.meta.total });
    expect(await auditCount(a.id)).toBe(audited);
  });

  it('marks removed what the service deleted, and applies what it changed, with audit rows by the integration', async () => {
    const org = await createOrganization(t, superToken);
    await syncAndWait(org, 'user-service');
    const users = (await simulators['user-service'].http('GET', `/orgs/${org.slug}/users?limit=100`)).body.data;
    const [gone, changed] = users;
    expect((await simulators['user-service'].http('DELETE', `/orgs/${org.slug}/users/${gone.externalId}`)).status).toBe(204);
    expect((await simulators['user-service'].http('PATCH', `/orgs/${org.slug}/users/${changed.externalId}`, { name: 'Renamed At Source' })).status).toBe(200);

    const job = await syncAndWait(org, 'user-service');
    expect(job.body.result).toMatchObject({ created: 0, updated: 1, removed: 1, unchanged: users.length - 2 });

    const list = (await t.get('/v1/users?limit=100', org.admin.token)).body.data;
    const mine = (externalId: string) => list.find((user: any) => user.externalId === externalId);
    expect(mine(gone.externalId)).toMatchObject({ status: 'deactivated', source: 'user-service' });
    expect(mine(changed.externalId)).toMatchObject({ name: 'Renamed At Source', status: 'pending', source: 'user-service' });
    const audit = await t.get(`/v1/audit-logs?entityId=${mine(changed.externalId).id}`, org.admin.token);
    expect(audit.body.data[0]).toMatchObject({ action: 'update', actor: { type: 'integration', id: null }, changes: { name: { to: 'Renamed At Source' } } });
  });

  it('never lets an older record overwrite a newer local change', async () => {
    const org = await createOrganization(t, superToken);
    await syncAndWait(org, 'communication-service');
    const [record] = (await simulators['communication-service'].http('GET', `/orgs/${org.slug}/messages?limit=1`)).body.data;
    // Our row saw a change later than the service's record (as a newer webhook event would leave it).
    await queryAsOwner(`update messages set status = 'delivered', source_updated_at = now() + interval '1 hour' where org_id = $1 and external_id = $2`, [
      org.id,
      record.messageId,
    ]);
    await simulators['communication-service'].http('PATCH', `/orgs/${org.slug}/messages/${record.messageId}`, { status: 'failed' });
    const job = await syncAndWait(org, 'communication-service');
    expect(job.body.result.updated).toBe(0);
    const rows = await queryAsOwner<{ status: string }>('select status from messages where org_id = $1 and external_id = $2', [org.id, record.messageId]);
    expect(rows[0].status).toBe('delivered');
  });

  it('retries 5xx answers: with failNext 2 the sync succeeds and the job shows the retries', async () => {
    const org = await createOrganization(t, superToken);
    await simulators['user-service'].control({ failNext: 2 });
    const job = await syncAndWait(org, 'user-service');
    expect(job.body.state).toBe('completed');
    expect(job.body.attempts).toBeGreaterThanOrEqual(1);
    expect(job.body.result).toMatchObject({ retries: 2, created: 25 });
  });

  it('does not retry a 4xx', async () => {
    const clients = worker.get(IntegrationClients);
    const before = simulators['payment-service'].requests();
    await expect(clients.of('payment-service').request('GET', '/orgs/whoever/nothing-here')).rejects.toBeInstanceOf(IntegrationHttpError);
    expect(simulators['payment-service'].requests() - before).toBe(1);
  });

  it('fails a slow call on its timeout, not on a hang', async () => {
    const clients = worker.get(IntegrationClients);
    await simulators['communication-service'].control({ latencyMs: 5000 });
    const started = Date.now();
    await expect(clients.of('communication-service').request('GET', '/orgs/slow/messages')).rejects.toBeInstanceOf(TaskCancelledError);
    // Three attempts of 500 ms plus short backoffs: far less than one 5 s answer.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('opens the breaker on a service that is down, fails fast, and closes it once the service is back', async () => {
    const org = await createOrganization(t, superToken);
    const clients = worker.get(IntegrationClients);
    const service = simulators['payment-service'];
    await service.control({ down: true });
    await expect(clients.listAll('payment-service', org.slug, 'subscriptions', { calls: 0, retries: 0 })).rejects.toThrow();
    expect(clients.of('payment-service').circuit).toBe('open');

    const health = await t.get('/v1/integrations/health', org.admin.token);
    expect(health.status).toBe(200);
    expect(health.body.find((entry: any) => entry.provider === 'payment-service')).toMatchObject({ status: 'down', circuit: 'open' });
    const terminus = await t.get('/health/integrations');
    expect(terminus.status).toBe(503);
    expect(terminus.body.error['payment-service']).toMatchObject({ status: 'down', circuit: 'open' });
    expect(terminus.body.info['user-service']).toMatchObject({ status: 'up' });

    const before = service.requests();
    await expect(clients.listAll('payment-service', org.slug, 'subscriptions', { calls: 0, retries: 0 })).rejects.toThrow(/circuit/i);
    expect(service.requests()).toBe(before);

    await service.control({});
    // The worker's trial call goes through once BREAKER_HALF_OPEN_MS (1 s here) has passed, and closes the breaker.
    const recovered = await eventually(
      () => t.get('/v1/integrations/health', org.admin.token),
      (answer) => answer.body.find((entry: any) => entry.provider === 'payment-service').status !== 'down',
      5000,
    );
    // The failures are still in the 5-minute window: degraded, not healthy.
    expect(recovered.body.find((entry: any) => entry.provider === 'payment-service')).toMatchObject({ status: 'degraded', circuit: 'closed' });
    expect(clients.of('payment-service').circuit).toBe('closed');
    expect((await t.get('/health/integrations')).status).toBe(200);
  });

  it("shows an organization only its own jobs and queue: another organization's job id is a 404", async () => {
    const a = await createOrganization(t, superToken);
    const b = await createOrganization(t, superToken);
    const accepted = await t.post('/v1/integrations/user-service/sync', {}, a.admin.token);
    expect((await t.get(`/v1/integrations/jobs/${accepted.body.jobId}`, b.admin.token)).status).toBe(404);
    const jobOfB = `${b.id}:${accepted.body.jobId.slice(37)}`;
    expect((await t.get(`/v1/integrations/jobs/${jobOfB}`, b.admin.token)).status).toBe(404);
    const healthOfB = await t.get('/v1/integrations/health', b.admin.token);
    for (const entry of healthOfB.body) expect(entry.queue).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0 });
  });

  it('joins a sync that is still queued instead of queueing another', async () => {
    const org = await createOrganization(t, superToken);
    // A worker that consumes nothing leaves the first job queued while the second request arrives.
    const queue = (worker as any).module.get('BullQueue_communication-service', { strict: false });
    await queue.pause(true);
    try {
      const first = await t.post('/v1/integrations/communication-service/sync', {}, org.admin.token);
      const second = await t.post('/v1/integrations/communication-service/sync', {}, org.admin.token);
      expect(second.body.jobId).toBe(first.body.jobId);
      const health = await t.get('/v1/integrations/health', org.admin.token);
      expect(health.body.find((entry: any) => entry.provider === 'communication-service').queue.waiting).toBe(1);
    } finally {
      await queue.resume(true);
    }
  });

  it('refuses bad input and the wrong roles', async () => {
    const org = await createOrganization(t, superToken);
    expect((await t.post('/v1/integrations/billing-service/sync', {}, org.admin.token)).status).toBe(404);
    expect((await t.get('/v1/integrations/jobs/not-a-job', org.admin.token)).status).toBe(404);
    expect((await t.get('/v1/subscriptions?limit=1000', org.admin.token)).status).toBe(400);
    expect((await t.get('/v1/messages?status=lost', org.admin.token)).status).toBe(400);
    expect((await t.get('/v1/invoices?status=paid', org.admin.token)).status).toBe(200);
    const viewer = await createUserWithToken(t, org, 'viewer');
    const member = await createUserWithToken(t, org, 'member');
    expect((await t.post('/v1/integrations/user-service/sync', {}, viewer.token)).status).toBe(403);
    expect((await t.get('/v1/integrations/health', viewer.token)).status).toBe(403);
    expect((await t.get('/v1/subscriptions', viewer.token)).status).toBe(200);
    expect((await t.get('/v1/messages', member.token)).status).toBe(403);
    expect((await t.get('/v1/invoices')).status).toBe(401);
  });
});
