import { fastify, FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';

import { ServiceSimulator } from './service-simulator';
import { createCommunicationService, createPaymentService, createUserService, ServiceOptions } from './services';

type Json = Record<string, any>;

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const OTHER_SECRET = 'whsec_c2VjcmV0LW9mLWFub3RoZXItb3JnYW5pemF0aW9u';

interface Received {
  path: string;
  headers: Record<string, string>;
  raw: string;
  verified: boolean;
  /** The events of the request, a single event wrapped. */
  events: Json[];
  single: boolean;
}

/**
 * The platform's side of the wire, bare: verifies each request over its raw body with `secret`, records it, and
 * answers 202 with one result per event (duplicate once an id was seen), or 401 when the signature fails. `intercept`
 * may answer first instead (e.g. 429).
 */
async function startReceiver(secret: string, intercept?: (request: number) => { status: number; headers?: Record<string, string> } | undefined) {
  const received: Received[] = [];
  const seen = new Set<string>();
  const app: FastifyInstance = fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.post('/v1/webhooks/:organization/:provider', async (request, reply) => {
    const raw = request.body as string;
    const headers = request.headers as Record<string, string>;
    const early = intercept?.(received.length);
    let verified = true;
    try {
      new Webhook(secret).verify(raw, headers);
    } catch {
      verified = false;
    }
    const parsed = JSON.parse(raw) as Json | Json[];
    const single = !Array.isArray(parsed);
    const events = Array.isArray(parsed) ? parsed : [parsed];
    received.push({ path: request.url, headers, raw, verified, events, single });
    if (early) return reply.status(early.status).headers(early.headers ?? {}).send({ title: 'intercepted' });
    if (!verified) return reply.status(401).send({ title: 'Unauthorized' });
    const results = events.map((event) => {
      const status = seen.has(event.id) ? 'duplicate' : 'accepted';
      seen.add(event.id);
      return { id: event.id, status };
    });
    return reply.status(202).send({ results });
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { url, received, close: () => app.close() };
}

async function call(url: string, method = 'GET', body?: unknown): Promise<{ status: number; type: string | null; json: Json }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, type: response.headers.get('content-type'), json: (await response.json()) as Json };
}

async function listAll(url: string, collection: string): Promise<Json[]> {
  const records: Json[] = [];
  for (let page = 1; ; page++) {
    const { json } = await call(`${url}/orgs/acme/${collection}?limit=100&page=${page}`);
    records.push(...json.data);
    if (records.length >= json.meta.total) return records;
  }
}

const byId = (records: Json[], idField: string) => new Map(records.map((record) => [record[idField] as string, record]));

/** The newest change of every record wins, whatever order the events came in; a deletion removes it. */
function applyEvents(initial: Map<string, Json>, events: Json[], idField: string): Map<string, Json> {
  const state = new Map(initial);
  const latest = new Map<string, Json>();
  for (const event of events) {
    const id = event.data[idField] as string;
    const previous = latest.get(id);
    if (!previous || Date.parse(event.occurredAt) > Date.parse(previous.occurredAt)) latest.set(id, event);
  }
  for (const [id, event] of latest) {
    if (event.type.endsWith('.deleted')) state.delete(id);
    else state.set(id, { ...event.data, updatedAt: event.occurredAt });
  }
  return state;
}

function project(records: Json[], idField: string, fields: string[]): Map<string, Json> {
  return new Map(records.map((record) => [record[idField], Object.fromEntries([...fields, 'updatedAt'].filter((f) => f in record).map((f) => [f, record[f]]))]));
}

describe('POST /__control/emit', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await Promise.all(cleanup.splice(0).map((close) => close()));
  });

  const receiver = async (secret = SECRET, intercept?: Parameters<typeof startReceiver>[1]) => {
    const started = await startReceiver(secret, intercept);
    cleanup.push(started.close);
    return started;
  };
  const simulator = async (factory: (options: ServiceOptions) => ServiceSimulator, platformUrl: string) => {
    const started = factory({ platformUrl });
    cleanup.push(() => started.close());
    return (await started.listen(0, '127.0.0.1')).url;
  };
  const emit = (url: string, body: Json) => call(`${url}/__control/emit`, 'POST', { organization: 'acme', secret: SECRET, ...body });

  it('sends count signed events in ceil(deliveries / batchSize) requests to the organization and provider path, and reports the answers', async () => {
    const platform = await receiver();
    const url = await simulator(createUserService, platform.url);
    const answer = await emit(url, { count: 45, batchSize: 10, duplicateRate: 0, outOfOrder: false });

    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      organization: 'acme',
      provider: 'user-service',
      url: `${platform.url}/v1/webhooks/acme/user-service`,
      sent: 45,
      deliveries: 45,
      duplicates: 0,
      requests: 5,
      retries: 0,
      statuses: { accepted: 45, duplicate: 0, rejected: 0 },
      httpStatuses: { '202': 5 },
      failedRequests: 0,
      errors: [],
      eventsOmitted: 0,
    });
    expect(platform.received).toHaveLength(5);
    expect(platform.received.map((r) => r.events.length)).toEqual([10, 10, 10, 10, 5]);
    for (const request of platform.received) {
      expect(request.path).toBe('/v1/webhooks/acme/user-service');
      expect(request.verified).toBe(true);
      expect(request.single).toBe(false);
      expect(request.headers['content-type']).toBe('application/json');
      expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    }
    expect(new Set(platform.received.map((r) => r.headers['webhook-id'])).size).toBe(5);
    const events = answer.json.events as Json[];
    // In order: what arrived is exactly what was generated, in generation order.
    expect(platform.received.flatMap((r) => r.events)).toEqual(events);
    expect(new Set(events.map((e) => e.id)).size).toBe(45);
    for (const event of events) {
      expect(event).toEqual({ id: expect.stringMatching(/^evt_[0-9a-f-]{36}$/), type: expect.stringMatching(/^user\.(created|updated|deleted)$/), occurredAt: expect.any(String), data: expect.any(Object) });
      expect(Object.keys(event.data).sort()).toEqual(['email', 'externalId', 'name', 'role']);
    }
  });

  it('fails verification on a receiver that holds another secret', async () => {
    const platform = await receiver(OTHER_SECRET);
    const url = await simulator(createUserService, platform.url);
    const answer = await emit(url, { count: 4, batchSize: 2 });
    expect(platform.received.map((r) => r.verified)).toEqual([false, false]);
    expect(() => new Webhook(OTHER_SECRET).verify(platform.received[0]!.raw, platform.received[0]!.headers)).toThrow();
    expect(() => new Webhook(SECRET).verify(platform.received[0]!.raw, platform.received[0]!.headers)).not.toThrow();
    expect(answer.json).toMatchObject({ httpStatuses: { '401': 2 }, failedRequests: 2, statuses: { accepted: 0, duplicate: 0, rejected: 0 } });
    expect(answer.json.errors).toEqual([expect.objectContaining({ request: 0, status: 401 }), expect.objectContaining({ request: 1, status: 401 })]);
  });

  it('sends a batch of 1 as a bare event object, one request per delivery', async () => {
    const platform = await receiver();
    const url = await simulator(createCommunicationService, platform.url);
    const answer = await emit(url, { count: 6, batchSize: 1, duplicateRate: 0.5 });
    expect(answer.json).toMatchObject({ sent: 6, deliveries: 9, requests: 9, httpStatuses: { '202': 9 }, statuses: { accepted: 6, duplicate: 3 } });
    expect(platform.received).toHaveLength(9);
    for (const request of platform.received) {
      expect(request.single).toBe(true);
      expect(request.verified).toBe(true);
      expect(JSON.parse(request.raw)).toMatchObject({ id: expect.any(String), type: expect.stringMatching(/^message\./) });
    }
  });

  it('re-sends duplicateRate of the events with the same id and the same content', async () => {
    const platform = await receiver();
    const url = await simulator(createPaymentService, platform.url);
    const answer = await emit(url, { count: 100, batchSize: 25, duplicateRate: 0.2, outOfOrder: false });
    expect(answer.json).toMatchObject({ sent: 100, deliveries: 120, duplicates: 20, requests: 5, statuses: { accepted: 100, duplicate: 20, rejected: 0 } });
    const contentById = new Map<string, string[]>();
    for (const event of platform.received.flatMap((r) => r.events)) contentById.set(event.id, [...(contentById.get(event.id) ?? []), JSON.stringify(event)]);
    const twice = [...contentById.values()].filter((copies) => copies.length > 1);
    expect(contentById.size).toBe(100);
    expect(twice).toHaveLength(20);
    for (const copies of twice) expect(new Set(copies).size).toBe(1);
  });

  it('delivers out of order when asked, so that an older change of a record arrives after a newer one', async () => {
    const platform = await receiver();
    const url = await simulator(createUserService, platform.url);
    const answer = await emit(url, { count: 300, batchSize: 20, duplicateRate: 0.1, outOfOrder: true });
    expect(answer.json).toMatchObject({ sent: 300, deliveries: 330, requests: 17, statuses: { accepted: 300, duplicate: 30 } });
    const lastSeen = new Map<string, number>();
    let inversions = 0;
    for (const event of platform.received.flatMap((r) => r.events)) {
      const at = Date.parse(event.occurredAt);
      if (at < (lastSeen.get(event.data.externalId) ?? -Infinity)) inversions += 1;
      lastSeen.set(event.data.externalId, Math.max(at, lastSeen.get(event.data.externalId) ?? -Infinity));
    }
    expect(inversions).toBeGreaterThan(0);
  });

  it.each([
    ['user-service', createUserService, [['users', 'externalId', ['externalId', 'email', 'name', 'role']]]],
    [
      'payment-service',
      createPaymentService,
      [
        ['subscriptions', 'subscriptionId', ['subscriptionId', 'plan', 'status']],
        ['invoices', 'invoiceId', ['invoiceId', 'subscriptionId', 'amount', 'currency', 'status']],
      ],
    ],
    ['communication-service', createCommunicationService, [['messages', 'messageId', ['messageId', 'recipient', 'channel', 'status', 'reason']]]],
  ] as const)('%s: its state after the emit is what the delivered events imply, applied newest-wins', async (_name, factory, collections) => {
    const platform = await receiver();
    const url = await simulator(factory, platform.url);
    const before = new Map<string, Json[]>();
    for (const [collection] of collections) before.set(collection, await listAll(url, collection));
    const answer = await emit(url, { count: 400, batchSize: 50, duplicateRate: 0.1, outOfOrder: true });
    expect(answer.json.statuses.accepted).toBe(400);
    const delivered = platform.received.flatMap((r) => r.events);
    const types = new Set(delivered.map((event) => event.type));
    expect(types.size).toBeGreaterThanOrEqual(3);

    for (const [collection, idField, fields] of collections) {
      // Invoice events carry a subscriptionId too, so subscriptions go by type.
      const own = delivered.filter((event) => (collection === 'subscriptions' ? event.type.startsWith('subscription.') : event.data[idField] !== undefined));
      const expected = applyEvents(project(before.get(collection)!, idField, [...fields]), own, idField);
      const actual = project(await listAll(url, collection), idField, [...fields]);
      expect(actual).toEqual(expected);
    }
    // occurredAt moves strictly forward per record, in generation order.
    const generated = answer.json.events as Json[];
    const last = new Map<string, number>();
    for (const event of generated) {
      const key = JSON.stringify([event.type.split('.')[0], event.data.invoiceId ?? event.data.subscriptionId ?? event.data.externalId ?? event.data.messageId]);
      const at = Date.parse(event.occurredAt);
      expect(at).toBeGreaterThan(last.get(key) ?? -Infinity);
      last.set(key, at);
    }
  });

  it('keeps at least some users and shows deletions as removed records carrying their last fields', async () => {
    const platform = await receiver();
    const url = await simulator(createUserService, platform.url);
    const before = byId(await listAll(url, 'users'), 'externalId');
    const answer = await emit(url, { count: 1000, batchSize: 500 });
    const deleted = (answer.json.events as Json[]).filter((event) => event.type === 'user.deleted');
    expect(deleted.length).toBeGreaterThan(0);
    expect(deleted.length).toBeLessThan(200);
    const after = byId(await listAll(url, 'users'), 'externalId');
    expect(after.size).toBeGreaterThanOrEqual(10);
    for (const event of deleted) {
      expect(after.has(event.data.externalId)).toBe(false);
      expect(Object.keys(event.data).sort()).toEqual(['email', 'externalId', 'name', 'role']);
    }
    expect(before.size).toBe(25);
  });

  it('sends thin events with only the identifier, never for deletions or invoices', async () => {
    const platform = await receiver();
    const users = await simulator(createUserService, platform.url);
    const payments = await simulator(createPaymentService, platform.url);
    const userEvents = (await emit(users, { count: 200, thin: 1 })).json;
    const paymentEvents = (await emit(payments, { count: 200, thin: 1 })).json;
    for (const event of userEvents.events as Json[]) {
      if (event.type === 'user.deleted') expect(Object.keys(event.data).sort()).toEqual(['email', 'externalId', 'name', 'role']);
      else expect(event.data).toEqual({ externalId: expect.any(String) });
    }
    for (const event of paymentEvents.events as Json[]) {
      if (event.type.startsWith('invoice.')) expect(Object.keys(event.data).sort()).toEqual(['amount', 'currency', 'invoiceId', 'status', 'subscriptionId']);
      else expect(event.data).toEqual({ subscriptionId: expect.any(String) });
    }
    expect(userEvents.thinEvents).toBeGreaterThan(150);
    const half = (await emit(users, { count: 400, thin: 0.5 })).json;
    expect(half.thinEvents).toBeGreaterThan(120);
    expect(half.thinEvents).toBeLessThan(280);
  });

  it('refuses bad input with a 400 problem document and sends nothing', async () => {
    const platform = await receiver();
    const url = await simulator(createUserService, platform.url);
    const valid = { organization: 'acme', secret: SECRET, count: 5, batchSize: 5, duplicateRate: 0, outOfOrder: false };
    const bad: Json[] = [
      { ...valid, organization: undefined },
      { ...valid, organization: 'a/b' },
      { ...valid, secret: undefined },
      { ...valid, secret: 'not base64!' },
      { ...valid, secret: 'whsec_' },
      { ...valid, count: 0 },
      { ...valid, count: 20_001 },
      { ...valid, count: 2.5 },
      { ...valid, count: '5' },
      { ...valid, batchSize: 0 },
      { ...valid, batchSize: 501 },
      { ...valid, duplicateRate: -0.1 },
      { ...valid, duplicateRate: 1.5 },
      { ...valid, outOfOrder: 'yes' },
      { ...valid, thin: 2 },
      { ...valid, concurrency: 0 },
      { ...valid, extra: true },
    ];
    for (const body of bad) {
      const refused = await call(`${url}/__control/emit`, 'POST', body);
      expect([JSON.stringify(body), refused.status]).toEqual([JSON.stringify(body), 400]);
      expect(refused.type).toMatch(/^application\/problem\+json/);
      expect(refused.json).toEqual({ type: expect.any(String), title: 'Bad Request', status: 400, detail: expect.any(String) });
    }
    expect((await call(`${url}/__control/emit`, 'POST', [valid])).status).toBe(400);
    expect(platform.received).toHaveLength(0);
    expect((await listAll(url, 'users')).length).toBe(25);
  });

  it('reports a platform that is down as errors in a 200 answer, and stays up', async () => {
    const gone = await startReceiver(SECRET);
    await gone.close();
    const url = await simulator(createPaymentService, gone.url);
    const answer = await emit(url, { count: 30, batchSize: 10, outOfOrder: true });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ sent: 30, requests: 3, failedRequests: 3, httpStatuses: {}, statuses: { accepted: 0, duplicate: 0, rejected: 0 } });
    expect(answer.json.errors).toHaveLength(3);
    expect(answer.json.errors[0].message).toMatch(/ECONNREFUSED/);
    expect((await call(`${url}/orgs/acme/subscriptions`)).status).toBe(200);
    expect((await call(`${url}/__control`)).status).toBe(200);
  });

  it('retries a request answered 429 after its Retry-After, with the same message id and body', async () => {
    const platform = await receiver(SECRET, (request) => (request === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined));
    const url = await simulator(createUserService, platform.url);
    const startedAt = Date.now();
    const answer = await emit(url, { count: 8, batchSize: 4 });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(950);
    expect(answer.json).toMatchObject({ requests: 2, retries: 1, httpStatuses: { '202': 2 }, failedRequests: 0, statuses: { accepted: 8 } });
    expect(platform.received).toHaveLength(3);
    expect(platform.received[1]!.headers['webhook-id']).toBe(platform.received[0]!.headers['webhook-id']);
    expect(platform.received[1]!.raw).toBe(platform.received[0]!.raw);
    expect(platform.received.every((r) => r.verified)).toBe(true);
  });

  it('sends 10,000 events quickly and lists only the first 1,000 in its answer', async () => {
    const platform = await receiver();
    const url = await simulator(createCommunicationService, platform.url);
    const startedAt = Date.now();
    const answer = await emit(url, { count: 10_000, batchSize: 500, duplicateRate: 0.05, outOfOrder: true });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(answer.json).toMatchObject({ sent: 10_000, deliveries: 10_500, requests: 21, httpStatuses: { '202': 21 }, statuses: { accepted: 10_000, duplicate: 500 }, eventsOmitted: 9_000 });
    expect(answer.json.events).toHaveLength(1_000);
  });
});
