import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { AppConfig, TenantContext, UnitOfWork, inJobSpan } from '@tenantry/core';
import { PROVIDER_QUEUES, QueueRegistry, consumesQueue, withQueueTimeout } from '@tenantry/integrations';
import { ProcessOutcome, WebhookProcessor } from './webhook-processor';
import { WEBHOOK_JOB, WebhookJobData, integrationEnvelope, webhookJob, webhookJobId } from './webhook-jobs';

const RELAY_BATCH = 1000;

/**
 * The worker's side of the webhooks: one Bull processor per provider queue it consumes, each job run in the tenant
 * context of its envelope; and the outbox relay, which enqueues events stored while Redis was unreachable (or whose
 * job Redis lost). Job ids are per event and generation, so the relay re-adding a job that exists is a no-op.
 */
@Injectable()
export class WebhooksWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('WebhooksWorker');
  private relayTimer?: NodeJS.Timeout;
  private relaying = false;

  constructor(
    private readonly config: AppConfig,
    private readonly context: TenantContext,
    private readonly processor: WebhookProcessor,
    private readonly queues: QueueRegistry,
    private readonly uow: UnitOfWork,
  ) {}

  onApplicationBootstrap(): void {
    const providers = PROVIDER_QUEUES.filter((name) => consumesQueue(this.config, name));
    for (const provider of providers) {
      void this.queues.get(provider).process(WEBHOOK_JOB, this.config.webhookConcurrency, (job: Job<WebhookJobData>) => this.run(provider, job));
    }
    if (providers.length > 0 && this.config.webhookRelayEveryMs > 0) {
      this.relayTimer = setInterval(() => void this.relay(), this.config.webhookRelayEveryMs);
      this.relayTimer.unref();
    }
  }

  /** One job: in the trace its envelope carries (the request that stored the event), in the tenant context it names. */
  private run(provider: string, job: Job<WebhookJobData>): Promise<ProcessOutcome> {
    const { envelope, eventId } = job.data;
    const attributes = {
      'messaging.system': 'bull',
      'messaging.operation.type': 'process',
      'messaging.destination.name': provider,
      'messaging.message.id': String(job.id),
      'webhook.event_id': eventId,
      'webhook.attempt': job.attemptsMade + 1,
    };
    return inJobSpan('webhook.process', envelope.trace, attributes, async (span) => {
      const outcome = await this.context.runWithEnvelope(envelope, () => this.processor.process(eventId));
      span.setAttribute('webhook.outcome', outcome);
      return outcome;
    });
  }

  onApplicationShutdown(): void {
    clearInterval(this.relayTimer);
  }

  /**
   * Enqueues (again) events unprocessed for `WEBHOOK_RELAY_AFTER_MS` (stored while Redis was down, or whose job a
   * restarted Redis lost); returns how many jobs it offered.
   */
  async relay(afterMs = this.config.webhookRelayAfterMs): Promise<number> {
    if (this.relaying) return 0;
    this.relaying = true;
    try {
      const rows = await this.uow.asPlatform(
        () => this.uow.query<{ id: string; org_id: string; provider: string; generation: number }>('select * from webhook_events_to_relay($1::interval, $2)', [`${afterMs} milliseconds`, RELAY_BATCH]),
        { systemTask: 'webhook relay' },
      );
      let offered = 0;
      for (const provider of PROVIDER_QUEUES.filter((name) => consumesQueue(this.config, name))) {
        const batch = rows.filter((row) => row.provider === provider);
        if (batch.length === 0) continue;
        const queue = this.queues.get(provider);
        if (queue.client.status !== 'ready') continue;
        await this.retryFailedJobs(queue, batch);
        await withQueueTimeout(() =>
          queue.addBulk(
            batch.map((row) => webhookJob(integrationEnvelope(row.org_id, 'relay'), row.id, row.generation, this.config)),
          ),
        );
        offered += batch.length;
      }
      if (offered > 0) this.logger.log({ event: 'webhook.relay', offered });
      return offered;
    } catch (error) {
      this.logger.warn({ event: 'webhook.relay_failed', reason: (error as Error).message });
      return 0;
    } finally {
      this.relaying = false;
    }
  }

  /**
   * A job that Bull failed on its own (a worker killed twice while running it: "stalled more than allowable limit")
   * keeps its id, so adding it again would be a no-op while the event waits forever: such jobs are retried instead.
   * Only events the relay found unprocessed for a while get here, so the look-ups are few.
   */
  private async retryFailedJobs(queue: Queue, rows: Array<{ id: string; org_id: string; generation: number }>): Promise<void> {
    for (const row of rows) {
      const job = await withQueueTimeout(() => queue.getJob(webhookJobId(row.org_id, row.id, row.generation)));
      if (job && (await job.isFailed())) {
        this.logger.warn({ event: 'webhook.relay_retried', eventId: row.id, reason: job.failedReason?.slice(0, 200) ?? null });
        await job.retry();
      }
    }
  }
}
