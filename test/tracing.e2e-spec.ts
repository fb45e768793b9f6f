import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@tenantry/core';
import { QueueRegistry } from '@tenantry/integrations';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { TestApp } from './support/app';
import { queryAsOwner } from './support/db';
import { createOrganization, loginSuperadmin } from './support/factories';
import { Simulators, TestWorker, eventually, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';

/**
 * One trace across the queue: the API's ingest and the worker's processing of one thin event, and the worker's call
 * to the payment service, share one trace id, the worker's span a child of the producer span through the traceparent
 * in the job's envelope.
 *
 * The API and the worker run in this process (TestApp, TestWorker). Jest loads modules through its own require, which
 * the http, pg and ioredis instrumentations cannot patch, so this test registers what the SDK would register for the
 * app's own spans only: a tracer provider with an in-memory exporter, the AsyncLocalStorage context manager and the
 * W3C propagator. The instrumented spans (HTTP server, pg, ioredis) are what NodeSDK adds around them when the built
 * apps run with OTEL_EXPORTER_OTLP_ENDPOINT.
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
});
