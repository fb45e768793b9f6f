import { ServiceSimulator } from './service-simulator';
import { createCommunicationService, createPaymentService, createUserService } from './services';

type Json = Record<string, any>;

async function call(url: string, method = 'GET', body?: unknown): Promise<{ status: number; type: string | null; json: Json | null }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), json: text ? (JSON.parse(text) as Json) : null };
}

describe('service simulators', () => {
  const started: ServiceSimulator[] = [];
  const start = async (simulator: ServiceSimulator): Promise<string> => {
    started.push(simulator);
    return (await simulator.listen(0, '127.0.0.1')).url;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((simulator) => simulator.close()));
  });

  it('serves the same records for the same slug from two fresh instances, and other records for another slug', async () => {
    const first = await start(createUserService());
    const second = await start(createUserService());
    const a = await call(`${first}/orgs/acme/users?limit=100`);
    const b = await call(`${second}/orgs/acme/users?limit=100`);
    const other = await call(`${first}/orgs/globex/users?limit=100`);
    expect(a.json).toEqual(b.json);
    expect(a.json!.meta.total).toBe(25);
    expect(a.json!.data[0]).toEqual({
      externalId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      email: expect.stringMatching(/@acme\.example\.com$/),
      name: expect.any(String),
      role: 'admin',
      updatedAt: expect.any(String),
    });
    expect(Date.parse(a.json!.data[0].updatedAt)).toBeLessThan(Date.now());
    expect(other.json!.data.map((u: Json) => u.externalId)).not.toEqual(a.json!.data.map((u: Json) => u.externalId));
    expect(other.json!.data[0].email).toMatch(/@globex\.example\.com$/);
  });

  it('generates other records from another seed', async () => {
    const tenantry = await start(createPaymentService());
    const other = await start(createPaymentService({ seed: 'another-seed' }));
    const a = await call(`${tenantry}/orgs/acme/subscriptions`);
    const b = await call(`${other}/orgs/acme/subscriptions`);
    expect(a.json!.data[0].subscriptionId).not.toBe(b.json!.data[0].subscriptionId);
  });

  it('pages lists with meta, and refuses bad page and limit values with a problem document', async () => {
    const url = await start(createCommunicationService());
    const first = await call(`${url}/orgs/acme/messages?page=1&limit=15`);
    const last = await call(`${url}/orgs/acme/messages?page=3&limit=15`);
    const beyond = await call(`${url}/orgs/acme/messages?page=9&limit=15`);
    expect(first.json!.meta).toEqual({ page: 1, limit: 15, total: 40 });
    expect(first.json!.data).toHaveLength(15);
    expect(last.json!.data).toHaveLength(10);
    expect(beyond.json!.data).toEqual([]);
    for (const query of ['limit=101', 'limit=0', 'page=-1', 'page=abc']) {
      const refused = await call(`${url}/orgs/acme/messages?${query}`);
      expect(refused.status).toBe(400);
      expect(refused.type).toMatch(/^application\/problem\+json/);
      expect(refused.json).toEqual({ type: expect.any(String), title: 'Bad Request', status: 400, detail: expect.any(String) });
    }
  });

  it('links every invoice to a subscription of the same organization, 2 or 3 each', async () => {
    const url = await start(createPaymentService());
    const subscriptions = (await call(`${url}/orgs/acme/subscriptions?limit=100`)).json!.data as Json[];
    const invoices = (await call(`${url}/orgs/acme/invoices?limit=100`)).json!.data as Json[];
    expect(subscriptions).toHaveLength(10);
    for (const subscription of subscriptions) {
      const own = invoices.filter((invoice) => invoice.subscriptionId === subscription.subscriptionId);
      expect(own.length).toBeGreaterThanOrEqual(2);
      expect(own.length).toBeLessThanOrEqual(3);
    }
    expect(Object.keys(invoices[0]!).sort()).toEqual(['amount', 'currency', 'invoiceId', 'status', 'subscriptionId', 'updatedAt']);
    expect(Number.isInteger(invoices[0]!.amount)).toBe(true);
  });

  it('creates, reads, changes and deletes a user, moving updatedAt on change', async () => {
    const url = await start(createUserService());
    const created = await call(`${url}/orgs/acme/users`, 'POST', { email: 'new@acme.example.com', name: 'New Person' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ email: 'new@acme.example.com', name: 'New Person', role: 'member' });
    const id = created.json!.externalId as string;
    expect((await call(`${url}/orgs/acme/users/${id}`)).json).toEqual(created.json);
    expect((await call(`${url}/orgs/acme/users`)).json!.meta.total).toBe(26);

    const changed = await call(`${url}/orgs/acme/users/${id}`, 'PATCH', { role: 'viewer' });
    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ externalId: id, role: 'viewer' });
    expect(Date.parse(changed.json!.updatedAt)).toBeGreaterThan(Date.parse(created.json!.updatedAt));

    const seeded = (await call(`${url}/orgs/acme/users`)).json!.data[1] as Json;
    const renamed = await call(`${url}/orgs/acme/users/${seeded.externalId}`, 'PATCH', { name: 'Renamed' });
    expect(Date.parse(renamed.json!.updatedAt)).toBeGreaterThan(Date.parse(seeded.updatedAt));

    expect((await call(`${url}/orgs/acme/users/${id}`, 'DELETE')).status).toBe(204);
    const gone = await call(`${url}/orgs/acme/users/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.type).toMatch(/^application\/problem\+json/);
    expect(gone.json).toEqual({ type: expect.any(String), title: 'Not Found', status: 404, detail: expect.any(String) });
    expect((await call(`${url}/orgs/globex/users`)).json!.meta.total).toBe(25);
  });

  it('refuses a create without its required fields, or a change of an unknown or ill-typed field, with 400', async () => {
    const url = await start(createPaymentService());
    const missing = await call(`${url}/orgs/acme/invoices`, 'POST', { subscriptionId: 'x', currency: 'EUR' });
    expect(missing.status).toBe(400);
    expect(missing.json!.detail).toMatch(/amount/);
    const invoice = (await call(`${url}/orgs/acme/invoices`)).json!.data[0] as Json;
    expect((await call(`${url}/orgs/acme/invoices/${invoice.invoiceId}`, 'PATCH', { amount: 'lots' })).status).toBe(400);
    expect((await call(`${url}/orgs/acme/invoices/${invoice.invoiceId}`, 'PATCH', { invoiceId: 'other' })).status).toBe(400);
    expect((await call(`${url}/orgs/acme/subscriptions`, 'POST', { plan: 'gold' })).status).toBe(400);
    expect((await call(`${url}/orgs/acme/invoices/missing`, 'PATCH', { status: 'paid' })).status).toBe(404);
  });

  it('sends a message that keeps its subject and body in single and list reads', async () => {
    const url = await start(createCommunicationService());
    const sent = await call(`${url}/orgs/acme/messages`, 'POST', { recipient: 'a@acme.example.com', channel: 'email', subject: 'Hi', body: 'Hello there' });
    expect(sent.status).toBe(201);
    expect(sent.json).toMatchObject({ messageId: expect.any(String), status: 'sent', subject: 'Hi', body: 'Hello there' });
    expect((await call(`${url}/orgs/acme/messages/${sent.json!.messageId}`)).json).toMatchObject({ subject: 'Hi', body: 'Hello there' });
    const list = (await call(`${url}/orgs/acme/messages?limit=100`)).json!.data as Json[];
    expect(list.find((message) => message.messageId === sent.json!.messageId)).toMatchObject({ subject: 'Hi', body: 'Hello there' });
    expect((await call(`${url}/orgs/acme/messages`, 'POST', { recipient: 'a@acme.example.com', channel: 'email' })).status).toBe(400);
  });

  describe('fault injection', () => {
    it('answers 503 to the next failNext calls, then 200', async () => {
      const url = await start(createUserService());
      expect((await call(`${url}/__control`, 'POST', { failNext: 2 })).status).toBe(200);
      const first = await call(`${url}/orgs/acme/users`);
      expect(first.status).toBe(503);
      expect(first.type).toMatch(/^application\/problem\+json/);
      expect((await call(`${url}/orgs/acme/users`)).status).toBe(503);
      expect((await call(`${url}/orgs/acme/users`)).status).toBe(200);
    });

    it('answers 503 to every call at errorRate 1 and to none at 0, and reports its settings', async () => {
      const url = await start(createUserService());
      await call(`${url}/__control`, 'POST', { errorRate: 1 });
      expect((await call(`${url}/__control`)).json).toEqual({ failNext: 0, errorRate: 1, latencyMs: 0, down: false, requests: 0 });
      for (let i = 0; i < 3; i++) expect((await call(`${url}/orgs/acme/users`)).status).toBe(503);
      await call(`${url}/__control`, 'POST', { errorRate: 0 });
      expect((await call(`${url}/orgs/acme/users`)).status).toBe(200);
    });

    it('delays answers by at least latencyMs', async () => {
      const url = await start(createUserService());
      await call(`${url}/__control`, 'POST', { latencyMs: 150 });
      const startedAt = performance.now();
      expect((await call(`${url}/orgs/acme/users`)).status).toBe(200);
      expect(performance.now() - startedAt).toBeGreaterThanOrEqual(145);
    });

    it('drops the connection of data calls while down, and {} resets everything', async () => {
      const url = await start(createUserService());
      await call(`${url}/__control`, 'POST', { down: true, failNext: 5, latencyMs: 10 });
      await expect(fetch(`${url}/orgs/acme/users`)).rejects.toThrow();
      const reset = await call(`${url}/__control`, 'POST', {});
      expect(reset.json).toEqual({ failNext: 0, errorRate: 0, latencyMs: 0, down: false, requests: 1 });
      expect((await call(`${url}/orgs/acme/users`)).status).toBe(200);
    });

    it('refuses bad control values with 400', async () => {
      const url = await start(createUserService());
      for (const body of [{ errorRate: 2 }, { failNext: -1 }, { latencyMs: 'slow' }, { down: 'yes' }, { other: 1 }]) {
        const refused = await call(`${url}/__control`, 'POST', body);
        expect(refused.status).toBe(400);
        expect(refused.type).toMatch(/^application\/problem\+json/);
      }
      expect((await call(`${url}/__control`)).json).toEqual({ failNext: 0, errorRate: 0, latencyMs: 0, down: false, requests: 0 });
    });

    it('counts every data request it received, failed and dropped ones too, and never resets the count', async () => {
      const url = await start(createUserService());
      await call(`${url}/orgs/acme/users`);
      await call(`${url}/orgs/acme/users/missing`);
      await call(`${url}/__control`, 'POST', { failNext: 1 });
      await call(`${url}/orgs/acme/users`);
      await call(`${url}/__control`, 'POST', { down: true });
      await expect(fetch(`${url}/orgs/acme/users`)).rejects.toThrow();
      expect((await call(`${url}/__control`, 'POST', {})).json!.requests).toBe(4);
      await call(`${url}/nowhere`);
      expect((await call(`${url}/__control`)).json!.requests).toBe(4);
    });
  });
});
