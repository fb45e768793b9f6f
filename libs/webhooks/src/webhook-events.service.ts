import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, IntegrationProvider, SpanKind, TenantContext, UnitOfWork, inSpan, toPage } from '@tenantry/core';
import { QueueRegistry, withQueueTimeout } from '@tenantry/integrations';
import { WebhookError } from './webhook.errors';
import { integrationEnvelope, queueAddAttributes, webhookJob } from './webhook-jobs';

export const EVENT_STATUSES = ['received', 'processing', 'processed', 'failed', 'dead'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

interface EventRow {
  id: string;
  provider: IntegrationProvider;
  event_id: string;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown>;
  status: EventStatus;
  attempts: number;
  last_error: string | null;
  received_at: Date;
  updated_at: Date;
  processed_at: Date | null;
  generation: number;
  total?: string;
}

export interface WebhookEventView {
  id: string;
  provider: IntegrationProvider;
  eventId: string;
  type: string;
  occurredAt: string;
  status: EventStatus;
  attempts: number;
  lastError: string | null;
  receivedAt: string;
  updatedAt: string;
  processedAt: string | null;
  data?: Record<string, unknown>;
}

const COLUMNS = 'id, provider, event_id, type, occurred_at, data, status, attempts, last_error, received_at, updated_at, processed_at, generation';

function view(row: EventRow, withData: boolean): WebhookEventView {
  return {
    id: row.id,
    provider: row.provider,
    eventId: row.event_id,
    type: row.type,
    occurredAt: new Date(row.occurred_at).toISOString(),
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    receivedAt: new Date(row.received_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    processedAt: row.processed_at ? new Date(row.processed_at).toISOString() : null,
    ...(withData ? { data: row.data } : {}),
  };
}

/** The inbox as admins see it: history and status of each event, and replays of what failed. */
@Injectable()
export class WebhookEventsService {
  private readonly logger = new Logger('WebhookEvents');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
  ) {}

  async list(query: { page: number; limit: number; offset: number; provider?: string; status?: string; type?: string }) {
    const rows = await this.uow.run(() =>
      this.uow.query<EventRow>(
        `select ${COLUMNS}, count(*) over () as total from webhook_events
          where ($1::text is null or provider = $1) and ($2::text is null or status = $2) and ($3::text is null or type = $3)
          order by received_at desc, id limit $4 offset $5`,
        [query.provider ?? null, query.status ?? null, query.type ?? null, query.limit, query.offset],
      ),
    );
    return toPage(rows.map((row) => view(row, false)), Number(rows[0]?.total ?? 0), query);
  }

  async get(id: string): Promise<WebhookEventView> {
    const [row] = await this.uow.run(() => this.uow.query<EventRow>(`select ${COLUMNS} from webhook_events where id = $1`, [id]));
    if (!row) throw WebhookError.eventNotFound();
    return view(row, true);
  }

  /** Queues a dead or failed event again, with fresh attempts; 409 for any other status. */
  async replay(id: string): Promise<WebhookEventView> {
    const [row] = await this.uow.run(async () => {
      const [current] = await this.uow.query<EventRow>(`select ${COLUMNS} from webhook_events where id = $1 for update`, [id]);
      if (!current) throw WebhookError.eventNotFound();
      if (current.status !== 'dead' && current.status !== 'failed') throw WebhookError.notReplayable(current.status);
      return this.uow.query<EventRow>(
        `update webhook_events set status = 'received', attempts = 0, generation = generation + 1, updated_at = now() where id = $1 returning ${COLUMNS}`,
        [id],
      );
    });
    await this.enqueue([row]);
    return view(row, false);
  }

  /** Every dead event of the organization (of one provider, if given), queued again. */
  async replayDead(provider?: string): Promise<{ queued: number }> {
    const rows = await this.uow.run(() =>
      this.uow.query<EventRow>(
        `update webhook_events set status = 'received', attempts = 0, generation = generation + 1, updated_at = now()
          where status = 'dead' and ($1::text is null or provider = $1) returning ${COLUMNS}`,
        [provider ?? null],
      ),
    );
    await this.enqueue(rows);
    this.logger.log({ event: 'webhook.replay_dead', provider: provider ?? null, queued: rows.length });
    return { queued: rows.length };
  }

  /** After the commit; if Redis does not answer, the relay enqueues them later (they are `received`). */
  private async enqueue(rows: EventRow[]): Promise<void> {
    const orgId = this.context.requireOrgId();
    const byProvider = new Map<string, EventRow[]>();
    for (const row of rows) byProvider.set(row.provider, [...(byProvider.get(row.provider) ?? []), row]);
    for (const [provider, batch] of byProvider) {
      await inSpan('queue.add', { kind: SpanKind.PRODUCER, attributes: queueAddAttributes(provider, batch.length) }, () => {
        const envelope = integrationEnvelope(orgId, this.context.requestId ?? 'none');
        const jobs = batch.map((row) => webhookJob(envelope, row.id, row.generation, this.config));
        return withQueueTimeout(() => this.queues.get(provider).addBulk(jobs));
      }).catch((error: Error) =>
        this.logger.warn({ event: 'webhook.enqueue_deferred', provider, events: batch.length, reason: error.message }),
      );
    }
  }
}
