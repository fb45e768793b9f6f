import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, IntegrationProvider, Metrics, RedisThrottlerStorage, SpanKind, TenantContext, UnitOfWork, asOrgId, inSpan } from '@tenantry/core';
import { QueueRegistry, withQueueTimeout } from '@tenantry/integrations';
import { InboundEvent, rejectionOf } from './event-types';
import { secretKey, verifySignature } from './signature';
import { WebhookError } from './webhook.errors';
import { WebhookJob, integrationEnvelope, queueAddAttributes, webhookJob } from './webhook-jobs';
import { WebhookSecretsService } from './secrets';

export const MAX_BATCH = 500;

export type EventResult = { id: string | null; status: 'accepted' | 'duplicate' | 'rejected'; error?: string };

/** One round trip: the function binds the tenant and inserts in event-id order (see its migration). */
const INSERT_EVENTS = 'select id, event_id from webhook_inbox_insert($1, $2, $3::jsonb)';

/**
 * The ingest path: verify the signature over the raw body, take the organization's rate limit, validate each event,
 * store the accepted ones in one statement (the unique key makes duplicates the database's call), and enqueue them
 * after the commit. Nothing is processed here, and nothing of a body is logged. If Redis is down the events are
 * stored all the same; the relay enqueues them when it is back.
 */
@Injectable()
export class WebhookIngestService {
  private readonly logger = new Logger('WebhookIngest');
  /** Jobs waiting for this turn's shared `addBulk`, per provider queue. */
  private readonly pending = new Map<IntegrationProvider, WebhookJob[]>();

  constructor(
    private readonly secrets: WebhookSecretsService,
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly queues: QueueRegistry,
    private readonly throttler: RedisThrottlerStorage,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  ingest(orgSlug: string, provider: IntegrationProvider, headers: Record<string, string | string[] | undefined>, raw: Buffer | undefined, body: unknown) {
    return inSpan('webhook.ingest', { attributes: { 'webhook.provider': provider } }, () => this.ingestTraced(orgSlug, provider, headers, raw, body));
  }

  private async ingestTraced(orgSlug: string, provider: IntegrationProvider, headers: Record<string, string | string[] | undefined>, raw: Buffer | undefined, body: unknown) {
    const orgId = await this.verify(orgSlug, provider, headers, raw);
    const limit = await this.throttler.increment(orgId, 1000, this.config.rateLimit.webhooksPerOrg, 0, 'webhooks');
    if (limit.isBlocked || limit.totalHits > this.config.rateLimit.webhooksPerOrg) throw WebhookError.rateLimited(limit.timeToExpire);

    const events = Array.isArray(body) ? body : [body];
    if (body === null || typeof body !== 'object') throw WebhookError.badBody('The body must be an event or an array of events');
    if (events.length === 0 || events.length > MAX_BATCH) throw WebhookError.badBody(`A batch holds 1 to ${MAX_BATCH} events`);

    const results: EventResult[] = [];
    const accepted: InboundEvent[] = [];
    for (const event of events) {
      const error = rejectionOf(provider, event);
      const id = typeof (event as { id?: unknown })?.id === 'string' ? ((event as { id: string }).id) : null;
      if (error) results.push({ id, status: 'rejected', error });
      else {
        results.push({ id, status: 'accepted' });
        accepted.push(event as InboundEvent);
      }
    }
    if (accepted.length === 0) {
      this.metrics.webhookResults(provider, results);
      return { results };
    }

    this.context.setPrincipal(asOrgId(orgId), { type: 'integration', id: null, role: null });
    const insert = () => this.uow.single<{ id: string; event_id: string }>(INSERT_EVENTS, [orgId, provider, JSON.stringify(accepted)]);
    // Ordered inserts do not deadlock each other; should PostgreSQL still pick this one as a deadlock victim, the
    // whole statement rolled back and is safe to run once more.
    const inserted = await inSpan('inbox.insert', { attributes: { 'webhook.provider': provider, 'webhook.events': accepted.length } }, async (span) => {
      const rows = await insert().catch((error: { code?: string }) => {
        if (error?.code !== '40P01') throw error;
        this.logger.warn({ event: 'webhook.insert_retried', reason: 'deadlock' });
        return insert();
      });
      span.setAttribute('webhook.inserted', rows.length);
      return rows;
    });
    // The first accepted occurrence of an id that was inserted is accepted; every other one is a duplicate.
    const fresh = new Map(inserted.map((row) => [row.event_id, row.id]));
    const claimed = new Set<string>();
    for (const result of results) {
      if (result.status !== 'accepted') continue;
      if (fresh.has(result.id!) && !claimed.has(result.id!)) claimed.add(result.id!);
      else result.status = 'duplicate';
    }
    this.metrics.webhookResults(provider, results);
    this.enqueue(orgId, provider, inserted);
    return { results };
  }

  /** The organization whose secret signed the body; 404 for an unknown organization, 401 for any signature problem. */
  private async verify(orgSlug: string, provider: IntegrationProvider, headers: Record<string, string | string[] | undefined>, raw: Buffer | undefined): Promise<string> {
    const signed = {
      'webhook-id': String(headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(headers['webhook-signature'] ?? ''),
    };
    let endpoint = await this.secrets.forEndpoint(orgSlug, provider);
    if (!endpoint) throw WebhookError.unknownEndpoint();
    if (!raw || !signed['webhook-id'] || !signed['webhook-timestamp'] || !signed['webhook-signature']) throw WebhookError.badSignature();
    if (this.matches(endpoint.secrets, raw, signed)) return endpoint.orgId;
    // A secret rotated on another process is not in this one's cache yet: read once more before refusing.
    endpoint = await this.secrets.forEndpointFresh(orgSlug, provider);
    if (endpoint && this.matches(endpoint.secrets, raw, signed)) return endpoint.orgId;
    throw WebhookError.badSignature();
  }

  private matches(secrets: string[], raw: Buffer, headers: Record<string, string>): boolean {
    const signed = { id: headers['webhook-id'], timestamp: headers['webhook-timestamp'], signature: headers['webhook-signature'] };
    return verifySignature(secrets.map(secretKey), signed, raw) === 'ok';
  }

  /**
   * Jobs for the stored events, added after the commit without holding the answer: requests that finish in the same
   * turn of the event loop share one `addBulk` (one Redis write instead of one per request). If Redis does not take
   * them, the events are stored all the same and the relay enqueues them later.
   */
  private enqueue(orgId: string, provider: IntegrationProvider, rows: Array<{ id: string }>): void {
    if (rows.length === 0) return;
    let jobs: WebhookJob[] = [];
    // Built inside the producer span: the jobs' traceparent names it, and the worker's span becomes its child.
    void inSpan('queue.add', { kind: SpanKind.PRODUCER, attributes: queueAddAttributes(provider, rows.length) }, async () => {
      const envelope = integrationEnvelope(orgId, this.context.requestId ?? 'none');
      jobs = rows.map((row) => webhookJob(envelope, row.id, 0, this.config));
    });
    const pending = this.pending.get(provider);
    if (pending) {
      pending.push(...jobs);
      return;
    }
    this.pending.set(provider, jobs);
    setImmediate(() => void this.flush(provider));
  }

  private async flush(provider: IntegrationProvider): Promise<void> {
    const jobs = this.pending.get(provider) ?? [];
    this.pending.delete(provider);
    const queue = this.queues.get(provider);
    if (jobs.length === 0 || queue.client.status !== 'ready') return;
    try {
      await withQueueTimeout(() => queue.addBulk(jobs));
    } catch (error) {
      this.logger.warn({ event: 'webhook.enqueue_deferred', provider, events: jobs.length, reason: (error as Error).message }, 'stored; the relay will enqueue them');
    }
  }
}
