import { randomUUID } from 'node:crypto';
import { fastify, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { Change, ChangeContext, createChangeContext, nextUpdatedAt } from './change-context';
import { deliver, EVENTS_LISTED, parseEmitRequest, planDeliveries, WebhookEvent } from './emit';
import { asObject, badRequest, notFound, ProblemError, refuseUnknownFields, sendProblem } from './problem';
import { createRandom, SeedContext, seedContext } from './seeded-random';

/** How one field of a record may be written by POST and PATCH. */
export interface FieldSpec {
  type: 'string' | 'integer';
  /** POST refuses a body without it (unless it has a default). */
  required?: boolean;
  /** The value POST stores when the body leaves it out. */
  default?: string | number;
  /** The only values accepted. */
  oneOf?: readonly string[];
}

export interface CollectionSpec {
  /** The path segment under `/orgs/{orgSlug}/`, e.g. `users`. */
  name: string;
  /** The record's own id field, e.g. `externalId`; generated as a UUID on POST. */
  idField: string;
  fields: Record<string, FieldSpec>;
}

export type SimRecord = Record<string, unknown> & { updatedAt: string };

export interface ServiceSimulatorOptions {
  name: string;
  collections: CollectionSpec[];
  /** The whole data set of one organization, keyed by collection name; must depend only on `context`. */
  generate: (context: SeedContext) => Record<string, SimRecord[]>;
  /** Makes one realistic change to an organization's data for `/__control/emit`, and describes it as an event. */
  nextChange: (context: ChangeContext) => Change;
  seed?: string;
  /** Where `/__control/emit` sends events: `{platformUrl}/v1/webhooks/{organization}/{name}`. */
  platformUrl?: string;
}

export interface FaultSettings {
  failNext: number;
  errorRate: number;
  latencyMs: number;
  down: boolean;
}

export interface ServiceSimulator {
  app: FastifyInstance;
  listen(port?: number, host?: string): Promise<{ port: number; url: string }>;
  close(): Promise<void>;
}

export const DEFAULT_SEED = 'tenantry';
export const DEFAULT_PLATFORM_URL = 'http://127.0.0.1:3000';
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const MAX_LATENCY_MS = 60_000;
const NO_FAULTS: FaultSettings = { failNext: 0, errorRate: 0, latencyMs: 0, down: false };

function positiveInteger(raw: unknown, name: string, fallback: number, max?: number): number {
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < 1) throw badRequest(`${name} must be a positive integer`);
  if (max !== undefined && value > max) throw badRequest(`${name} must be at most ${max}`);
  return value;
}

function checkField(name: string, spec: FieldSpec, value: unknown): void {
  if (spec.type === 'integer' ? !Number.isSafeInteger(value) : typeof value !== 'string' || value.length === 0) {
    throw badRequest(`${name} must be ${spec.type === 'integer' ? 'an integer' : 'a non-empty string'}`);
  }
  if (spec.oneOf && !spec.oneOf.includes(value as string)) throw badRequest(`${name} must be one of ${spec.oneOf.join(', ')}`);
}

/** Only the declared fields, each of the right type; `updatedAt` and the id are the simulator's own. */
function checkWritable(collection: CollectionSpec, body: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(body)) {
    const spec = collection.fields[name];
    if (!spec) throw badRequest(`${name} cannot be written`);
    checkField(name, spec, value);
  }
}

function parseFaults(body: unknown): FaultSettings {
  const input = asObject(body);
  refuseUnknownFields(input, ['failNext', 'errorRate', 'latencyMs', 'down'], 'setting');
  const { failNext = 0, errorRate = 0, latencyMs = 0, down = false } = input;
  if (!Number.isSafeInteger(failNext) || (failNext as number) < 0) throw badRequest('failNext must be a non-negative integer');
  if (typeof errorRate !== 'number' || !(errorRate >= 0 && errorRate <= 1)) throw badRequest('errorRate must be a number from 0 to 1');
  if (!Number.isSafeInteger(latencyMs) || (latencyMs as number) < 0 || (latencyMs as number) > MAX_LATENCY_MS) {
    throw badRequest(`latencyMs must be an integer from 0 to ${MAX_LATENCY_MS}`);
  }
  if (typeof down !== 'boolean') throw badRequest('down must be a boolean');
  return { failNext: failNext as number, errorRate, latencyMs: latencyMs as number, down };
}

/**
 * A small standalone Fastify server holding per-organization collections in memory, with fault injection.
 * Each organization's data is generated on first access from (seed, slug) and then changed by POST/PATCH/DELETE.
 *
 * `POST /__control` sets faults for the data routes (never for /__control itself); each body replaces all settings,
 * so `{}` resets. With `down: true` a data request's socket is destroyed without any answer, which a client sees as
 * a connection reset, the way a crashed service looks. Both answer the settings and `requests`, the number of data
 * requests received since start (dropped and failed ones included).
 */
export function createServiceSimulator(options: ServiceSimulatorOptions): ServiceSimulator {
  const seed = options.seed ?? DEFAULT_SEED;
  const organizations = new Map<string, Map<string, Map<string, SimRecord>>>();
  const errorDraw = createRandom(`${seed}|${options.name}|errors`);
  let faults: FaultSettings = { ...NO_FAULTS };
  // Never reset, so that a test can take the difference across what it did (e.g. calls an open breaker held back).
  let dataRequests = 0;

  const app = fastify({ logger: false, forceCloseConnections: true });

  const dataOf = (slug: string): Map<string, Map<string, SimRecord>> => {
    let data = organizations.get(slug);
    if (!data) {
      const generated = options.generate(seedContext(seed, options.name, slug));
      data = new Map(
        options.collections.map((collection) => [
          collection.name,
          new Map((generated[collection.name] ?? []).map((record) => [String(record[collection.idField]), record])),
        ]),
      );
      organizations.set(slug, data);
    }
    return data;
  };

  app.setErrorHandler((error: FastifyError | ProblemError, _request, reply) => {
    if (error instanceof ProblemError) return sendProblem(reply, error.status, error.title, error.detail);
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return sendProblem(reply, status, status === 500 ? 'Internal Server Error' : 'Bad Request', error.message);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, 404, 'Not Found', `no route for ${request.method} ${request.url}`));

  const controlState = () => ({ ...faults, requests: dataRequests });
  app.get('/__control', async () => controlState());
  app.post('/__control', async (request) => {
    faults = parseFaults(request.body ?? {});
    return controlState();
  });

  const platformUrl = (options.platformUrl ?? DEFAULT_PLATFORM_URL).replace(/\/+$/, '');
  const emitRandoms = new Map<string, () => number>();
  const changeContextOf = (slug: string): ChangeContext => {
    let random = emitRandoms.get(slug);
    if (!random) {
      random = createRandom(`${seed}|${options.name}|${slug}|emit`);
      emitRandoms.set(slug, random);
    }
    return createChangeContext(slug, dataOf(slug), options.collections, random);
  };

  /**
   * Applies `count` changes to the organization's data first (so the simulator's state is what the events tell),
   * then delivers them; the platform's answers never undo a change. Always 200 once the input is valid: failed
   * deliveries are part of the answer, not a failure of the emit.
   */
  app.post('/__control/emit', async (request) => {
    const input = parseEmitRequest(request.body);
    const startedAt = performance.now();
    const context = changeContextOf(input.organization);
    const events: WebhookEvent[] = [];
    let thinEvents = 0;
    for (let i = 0; i < input.count; i++) {
      const change = options.nextChange(context);
      const thin = change.thinData !== undefined && input.thin > 0 && context.random() < input.thin;
      if (thin) thinEvents += 1;
      events.push({ id: `evt_${randomUUID()}`, type: change.type, occurredAt: change.occurredAt, data: thin ? change.thinData! : change.data });
    }
    const deliveries = planDeliveries(events, input.duplicateRate, input.outOfOrder, context.random);
    const url = `${platformUrl}/v1/webhooks/${encodeURIComponent(input.organization)}/${encodeURIComponent(options.name)}`;
    const report = await deliver({ url, secret: input.secret, deliveries, batchSize: input.batchSize, concurrency: input.concurrency });
    return {
      organization: input.organization,
      provider: options.name,
      url,
      sent: events.length,
      deliveries: deliveries.length,
      duplicates: deliveries.length - events.length,
      thinEvents,
      ...report,
      durationMs: Math.round(performance.now() - startedAt),
      events: events.slice(0, EVENTS_LISTED),
      eventsOmitted: Math.max(0, events.length - EVENTS_LISTED),
    };
  });

  const countRequest = async (): Promise<void> => {
    dataRequests += 1;
  };

  const injectFaults = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (faults.down) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    if (faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
    if (faults.failNext > 0) {
      faults.failNext -= 1;
      throw new ProblemError(503, 'Service Unavailable', `${options.name} is failing on purpose (failNext)`);
    }
    if (faults.errorRate > 0 && errorDraw() < faults.errorRate) {
      throw new ProblemError(503, 'Service Unavailable', `${options.name} is failing on purpose (errorRate)`);
    }
  };

  // What a health probe reads: it answers while the service is up, and is gone with it when `down` (no other fault).
  app.get('/health', async (request, reply) => {
    if (faults.down) {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    return { status: 'ok', service: options.name };
  });

  for (const collection of options.collections) {
    const base = `/orgs/:orgSlug/${collection.name}`;
    type Params = { orgSlug: string; id: string };
    const recordsOf = (request: FastifyRequest) => dataOf((request.params as Params).orgSlug).get(collection.name)!;
    const find = (request: FastifyRequest): SimRecord => {
      const { orgSlug, id } = request.params as Params;
      const record = recordsOf(request).get(id);
      if (!record) throw notFound(`no ${collection.name} record ${id} in organization ${orgSlug}`);
      return record;
    };
    const route = { onRequest: countRequest, preHandler: injectFaults };

    app.get(base, route, async (request) => {
      const query = request.query as Record<string, unknown>;
      const page = positiveInteger(query.page, 'page', 1);
      const limit = positiveInteger(query.limit, 'limit', DEFAULT_LIMIT, MAX_LIMIT);
      const all = [...recordsOf(request).values()];
      return { data: all.slice((page - 1) * limit, page * limit), meta: { page, limit, total: all.length } };
    });
    app.get(`${base}/:id`, route, async (request) => find(request));
    app.post(base, route, async (request, reply) => {
      const body = asObject(request.body);
      checkWritable(collection, body);
      const record: SimRecord = { [collection.idField]: randomUUID(), updatedAt: new Date().toISOString() };
      for (const [name, spec] of Object.entries(collection.fields)) {
        const value = body[name] ?? spec.default;
        if (value !== undefined) record[name] = value;
        else if (spec.required) throw badRequest(`${name} is required`);
      }
      recordsOf(request).set(String(record[collection.idField]), record);
      return reply.status(201).send(record);
    });
    app.patch(`${base}/:id`, route, async (request) => {
      const record = find(request);
      const body = asObject(request.body);
      checkWritable(collection, body);
      Object.assign(record, body, { updatedAt: nextUpdatedAt(record.updatedAt) });
      return record;
    });
    app.delete(`${base}/:id`, route, async (request, reply) => {
      const record = find(request);
      recordsOf(request).delete(String(record[collection.idField]));
      return reply.status(204).send();
    });
  }

  return {
    app,
    async listen(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const address = app.server.address();
      const bound = typeof address === 'object' && address ? address.port : port;
      return { port: bound, url: `http://${host}:${bound}` };
    },
    close: () => app.close(),
  };
}
