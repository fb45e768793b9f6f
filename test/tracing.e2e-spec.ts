import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, integrationEnvPrefix } from '@tenantry/core';
import { QueueRegistry } from '@tenantry/integrations';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { IncomingMessage, Server, createServer } from 'node:http';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { TestApp } from './support/app';
import { ApiProcess, startApiProcess, stopProcess } from './support/api-process';
import { queryAsOwner } from './support/db';
import { createOrganization, loginSuperadmin } from './support/factories';
import { Simulators, TestWorker, eventually, freePort, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';

/**
 * One trace across the queue: the API's ingest and the worker's processing of one thin event, and the worker's call
 * to the payment service, share one trace id, the worker's span a child of the producer span through the traceparent
 * in the job's envelope.
 *
 * The API and the worker run in this process (TestApp, TestWorker). Jest loads modules through its own require, which
 * the http, pg and ioredis instrumentations cannot patch, so this test registers what the SDK would register for the
 * app's own spans only: a tracer provider with an in-memory exporter, the AsyncLocalStorage context manager and the
 * W3C propagator. The second test runs the built API and worker as processes with OTEL_EXPORTER_OTLP_ENDPOINT, as in
 * production, and reads what their NodeSDK exports to a sink in this process: there the HTTP server, pg and ioredis
 * spans join the same trace.
 */
describe('tracing across the queue', () => {
  const exporter = new InMemorySpanExporter();
  let t: TestApp;
  let worker: TestWorker;
  let simulators: Simulators;

  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    simulators = await startSimulators();
    const overrides = integrationOverrides(simulators);
    worker = await TestWorker.boot(overrides);
    t = await TestApp.boot(overrides);
  });

  afterAll(async () => {
    await t?.close();
    await worker?.close();
    if (simulators) await stopSimulators(simulators);
    trace.disable();
    propagation.disable();
    context.disable();
  });

  const named = (spans: ReadableSpan[], name: string) => spans.filter((span) => span.name === name);
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it("follows one thin webhook event from the API's ingest to the worker's call to the payment service in one trace", async () => {
    const org = await createOrganization(t, await loginSuperadmin(t));
    const secretAnswer = await t.post('/v1/integrations/payment-service/webhook-secret', {}, org.admin.token);
    const secret: string = secretAnswer.body.secret;
    const [subscription] = (await simulators['payment-service'].http('GET', `/orgs/${org.slug}/subscriptions?limit=1`)).body.data;
    const event = { id: `evt_${randomUUID()}`, type: 'subscription.updated', occurredAt: new Date().toISOString(), data: { subscriptionId: subscription.subscriptionId } };
    const payload = JSON.stringify(event);
    const msgId = `msg_${randomUUID()}`;
    const at = new Date();
    const headers = { 'webhook-id': msgId, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': new Webhook(secret).sign(msgId, at, payload) };
    exporter.reset();

    const answer = await t.request('POST', `/v1/webhooks/${org.slug}/payment-service`, { rawBody: payload, headers });
    expect(answer.status).toBe(202);
    const [row] = await queryAsOwner<{ id: string }>('select id from webhook_events where org_id = $1 and event_id = $2', [org.id, event.id]);
    // The worker's span ends after the event's row says processed: wait for the span itself.
    const spans = await eventually(
      async () => exporter.getFinishedSpans(),
      (finished) => finished.some((span) => span.name === 'webhook.process' && span.attributes['webhook.event_id'] === row.id),
    );

    const [ingest] = named(spans, 'webhook.ingest');
    const [insert] = named(spans, 'inbox.insert');
    const [enqueue] = named(spans, 'queue.add');
    const process = named(spans, 'webhook.process').find((span) => span.attributes['webhook.event_id'] === row.id)!;
    const requests = named(spans, 'integration.request');
    expect([ingest, insert, enqueue, process]).toEqual([expect.anything(), expect.anything(), expect.anything(), expect.anything()]);
    expect(requests).toHaveLength(1);
    const [request] = requests;

    const traceIds = new Set([ingest, insert, enqueue, process, request].map((span) => span.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    expect(parentOf(insert)).toBe(ingest.spanContext().spanId);
    expect(parentOf(enqueue)).toBe(ingest.spanContext().spanId);
    expect(parentOf(process)).toBe(enqueue.spanContext().spanId);
    expect(parentOf(request)).toBe(process.spanContext().spanId);

    expect(enqueue.kind).toBe(SpanKind.PRODUCER);
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(request.kind).toBe(SpanKind.CLIENT);
    expect(process.attributes).toMatchObject({ 'messaging.destination.name': 'payment-service', 'webhook.outcome': 'processed', 'webhook.attempt': 1 });
    expect(request.attributes).toEqual({
      'integration.provider': 'payment-service',
      'http.request.method': 'GET',
      'url.template': '/orgs/{org}/subscriptions/{id}',
      'integration.attempt': 1,
    });

    // The job carried the producer span's context beside the tenant context.
    const job = await worker.get(QueueRegistry).get('payment-service').getJob(`${org.id}:${row.id}:0`);
    expect(job?.data.envelope).toEqual({
      orgId: org.id,
      actor: { type: 'integration', id: null, role: null },
      requestId: expect.any(String),
      trace: { traceparent: `00-${enqueue.spanContext().traceId}-${enqueue.spanContext().spanId}-01` },
    });

    // Nothing of the body, the secret or the tenant's names in any attribute.
    const attributes = JSON.stringify(spans.map((span) => span.attributes));
    for (const leak of [secret, subscription.subscriptionId, org.slug, event.id, payload]) expect(attributes).not.toContain(leak);
  });

  it('with the SDK in the built API and worker, continues the sender’s traceparent through the HTTP, pg, Redis and worker spans', async () => {
    const sink = await startOtlpSink();
    const prefix = `tenantry-trace-${randomBytes(3).toString('hex')}`;
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      REDIS_PREFIX: prefix,
      [`${integrationEnvPrefix('payment-service')}_URL`]: simulators['payment-service'].url,
    };
    let api: ApiProcess | undefined;
    let workerProcess: ChildProcess | undefined;
    try {
      [api, workerProcess] = await Promise.all([startApiProcess(env), startWorkerProcess(env)]);
      const org = await createOrganization(t, await loginSuperadmin(t));
      const secret: string = (await t.post('/v1/integrations/payment-service/webhook-secret', {}, org.admin.token)).body.secret;
      const [subscription] = (await simulators['payment-service'].http('GET', `/orgs/${org.slug}/subscriptions?limit=1`)).body.data;
      const event = { id: `evt_${randomUUID()}`, type: 'subscription.updated', occurredAt: new Date().toISOString(), data: { subscriptionId: subscription.subscriptionId } };
      const payload = JSON.stringify(event);
      const msgId = `msg_${randomUUID()}`;
      const at = new Date();
      // The sender's own trace: everything below must continue it.
      const traceId = randomBytes(16).toString('hex');
      const response = await fetch(`${api.url}/v1/webhooks/${org.slug}/payment-service`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
          'webhook-id': msgId,
          'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
          'webhook-signature': new Webhook(secret).sign(msgId, at, payload),
        },
        body: payload,
      });
      expect(response.status).toBe(202);

      const spans = await eventually(
        async () => sink.spans().filter((span) => span.traceId === traceId),
        (found) => found.some((span) => span.name === 'integration.request') && found.some((span) => span.name === 'webhook.process'),
      );
      const one = (name: string) => spans.find((span) => span.name === name)!;
      const server = spans.find((span) => span.service === 'tenantry-api' && span.kind === OTLP_KIND.SERVER)!;
      expect(server).toBeDefined();
      expect(one('webhook.ingest').parentSpanId).toBe(server.spanId);
      expect(one('inbox.insert').parentSpanId).toBe(one('webhook.ingest').spanId);
      expect(one('queue.add').parentSpanId).toBe(one('webhook.ingest').spanId);
      expect(one('webhook.process')).toMatchObject({ service: 'tenantry-worker', kind: OTLP_KIND.CONSUMER, parentSpanId: one('queue.add').spanId });
      expect(one('integration.request')).toMatchObject({ service: 'tenantry-worker', kind: OTLP_KIND.CLIENT, parentSpanId: one('webhook.process').spanId });
      const children = (parent: string, scope: string) => spans.filter((span) => span.parentSpanId === one(parent).spanId && span.scope.includes(scope));
      // The inbox insert's statement, the request's Redis commands (its rate-limit lease; the jobs themselves go out in
      // an addBulk shared by the requests of one event-loop turn, after the answer) and the worker's statements.
      expect(children('inbox.insert', 'instrumentation-pg').length).toBeGreaterThan(0);
      expect(spans.filter((span) => span.service === 'tenantry-api' && span.scope.includes('instrumentation-ioredis')).length).toBeGreaterThan(0);
      expect(children('webhook.process', 'instrumentation-pg').length).toBeGreaterThan(0);
      const attributes = JSON.stringify(spans.map((span) => span.attributes));
      for (const leak of [secret, subscription.subscriptionId, payload]) expect(attributes).not.toContain(leak);
    } finally {
      await api?.stop();
      await stopProcess(workerProcess);
      await sink.close();
    }
  });
});

/** OTLP's span kinds (the API's plus one: OTLP keeps 0 for unspecified). */
const OTLP_KIND = { SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

interface ExportedSpan {
  service: string;
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: unknown;
}

/** A bare OTLP/HTTP JSON receiver: what the built apps' exporters post to, kept as flat spans. */
async function startOtlpSink(): Promise<{ url: string; spans(): ExportedSpan[]; close(): Promise<void> }> {
  const received: ExportedSpan[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      if (request.url === '/v1/traces') {
        for (const resourceSpans of JSON.parse(body).resourceSpans ?? []) {
          const service = resourceSpans.resource?.attributes?.find((a: { key: string }) => a.key === 'service.name')?.value?.stringValue;
          for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
            for (const span of scopeSpans.spans ?? []) received.push({ service, scope: scopeSpans.scope?.name ?? '', ...span });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The built worker as a process of its own, ready once its health port answers. */
async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const healthPort = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'apps', 'worker', 'src', 'main.js')], {
    env: { ...process.env, LOG_LEVEL: 'warn', WORKER_HEALTH_PORT: String(healthPort), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`the worker exited (${child.exitCode}): ${stderr}`);
      return fetch(`http://127.0.0.1:${healthPort}/health/live`).then((r) => r.status, () => 0);
    },
    (status) => status === 200,
    30_000,
  );
  return child;
}

