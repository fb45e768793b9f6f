import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, IntegrationProvider, Metrics, TenantContext, UnitOfWork } from '@tenantry/core';
import { IntegrationClients, Reconciler, SyncChange, SyncedCollection, describeFailure } from '@tenantry/integrations';
import { changeFromRecord, changeOf, isThin, targetOf } from './event-types';

interface ClaimedEvent {
  id: string;
  provider: IntegrationProvider;
  type: string;
  occurred_at: Date;
  data: Record<string, unknown>;
  attempts: number;
}

export type ProcessOutcome = 'processed' | 'dead' | 'skipped';

/**
 * Processes one inbox event in the tenant context of its job: received → processing → processed, or failed (Bull
 * retries it with backoff) → dead after `WEBHOOK_MAX_ATTEMPTS`. The event's row decides, not the job: an event that
 * is already processed or dead is skipped, so a duplicate job (a relay, a stalled job run again) changes nothing, and
 * the change and the `processed` mark commit together.
 */
@Injectable()
export class WebhookProcessor {
  private readonly logger = new Logger('WebhookProcessor');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly reconciler: Reconciler,
    private readonly clients: IntegrationClients,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
  ) {}

  async process(eventId: string): Promise<ProcessOutcome> {
    const [event] = await this.uow.run(() =>
      this.uow.query<ClaimedEvent>(
        `update webhook_events set status = 'processing', attempts = attempts + 1, updated_at = now()
          where id = $1 and status in ('received', 'failed', 'processing')
          returning id, provider, type, occurred_at, data, attempts`,
        [eventId],
      ),
    );
    if (!event) return 'skipped';
    try {
      const target = await this.changeFor(event);
      const applied = await this.uow.run(async () => {
        const [row] = await this.uow.query<{ status: string }>('select status from webhook_events where id = $1 for update', [eventId]);
        if (row?.status !== 'processing') return false;
        if (target.change) await this.reconciler.apply(target.collection, [target.change]);
        await this.uow.query(`update webhook_events set status = 'processed', processed_at = now(), updated_at = now(), last_error = null where id = $1`, [
          eventId,
        ]);
        return true;
      });
      // Counted once per event: a duplicate run that found it already marked changed nothing.
      if (applied) this.metrics.webhookEvents(event.provider, 'processed');
      return 'processed';
    } catch (error) {
      const dead = event.attempts >= this.config.webhookMaxAttempts;
      const reason = describeFailure(error) === (error as Error)?.name ? (error as Error).message.slice(0, 500) : describeFailure(error);
      await this.uow.run(() =>
        this.uow.query(`update webhook_events set status = $2, last_error = $3, updated_at = now() where id = $1 and status = 'processing'`, [
          eventId,
          dead ? 'dead' : 'failed',
          reason,
        ]),
      );
      const entry = { event: dead ? 'webhook.dead' : 'webhook.failed', eventId, provider: event.provider, type: event.type, attempt: event.attempts, reason };
      this.metrics.webhookEvents(event.provider, dead ? 'dead' : 'failed');
      if (dead) {
        this.logger.warn(entry);
        return 'dead';
      }
      this.logger.log(entry);
      throw error;
    }
  }

  /** The change the event makes; a thin event is completed by fetching the record from its service. */
  private async changeFor(event: ClaimedEvent): Promise<{ collection: SyncedCollection; change: SyncChange | null }> {
    const occurredAt = new Date(event.occurred_at);
    if (!isThin(event.type, event.data)) return changeOf({ type: event.type, occurredAt, data: event.data });
    const { collection, idField } = targetOf(event.type, event.data);
    const externalId = event.data[idField] as string;
    const [organization] = await this.uow.run(() =>
      this.uow.query<{ slug: string }>('select slug from organizations where id = $1', [this.context.requireOrgId()]),
    );
    const record = await this.clients.fetchOne(event.provider, organization.slug, collection, externalId);
    return { collection, change: changeFromRecord(event.type, externalId, record, occurredAt) };
  }
}
