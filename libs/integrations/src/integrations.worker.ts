import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Job } from 'bull';
import { AppConfig, RedisService, TenantContext, inJobSpan } from '@tenantry/core';
import { describeFailure } from './integration-errors';
import { IntegrationClients } from './integration-clients';
import { QueueRegistry } from './queue-registry';
import { PROVIDER_QUEUES, SYNC_JOB, SyncJobData, consumesQueue } from './queues';
import { SyncResult, SyncService } from './sync.service';

/** How often the worker offers an open breaker its trial call (it goes through only once the half-open time passed). */
const TRIAL_INTERVAL_MS = 500;

/**
 * The worker's side of the integrations: Bull processors for the provider queues this process consumes
 * (`WORKER_QUEUES`), each job run in the tenant context restored from its envelope, and the trial calls that close a
 * breaker once its service is back.
 */
@Injectable()
export class IntegrationsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('IntegrationsWorker');
  private trials?: NodeJS.Timeout;

  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
    private readonly context: TenantContext,
    private readonly sync: SyncService,
    private readonly clients: IntegrationClients,
    private readonly redis: RedisService,
  ) {}

  onApplicationBootstrap(): void {
    for (const provider of PROVIDER_QUEUES.filter((name) => consumesQueue(this.config, name))) {
      void this.queues.get(provider).process(SYNC_JOB, 1, (job: Job<SyncJobData>) => this.runSync(job));
    }
    this.trials = setInterval(() => void this.offerTrials(), TRIAL_INTERVAL_MS);
    this.trials.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.trials);
  }

  private async runSync(job: Job<SyncJobData>): Promise<SyncResult> {
    const { envelope, provider } = job.data;
    // From here on a new request starts a new pull: this one may already have listed what it will apply.
    const pending = this.redis.key('sync-queued', envelope.orgId ?? 'none', provider);
    await this.redis.client.eval(`if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`, 1, pending, String(job.id)).catch(() => undefined);
    const attributes = { 'messaging.system': 'bull', 'messaging.operation.type': 'process', 'messaging.destination.name': provider, 'messaging.message.id': String(job.id) };
    return inJobSpan('integration.sync', envelope.trace, attributes, () => this.context.runWithEnvelope(envelope, async () => {
      const started = Date.now();
      try {
        const result = await this.sync.run(provider);
        this.logger.log({ event: 'sync.completed', jobId: job.id, provider, attempt: job.attemptsMade + 1, durationMs: Date.now() - started, ...result });
        return result;
      } catch (error) {
        this.logger.warn({ event: 'sync.failed', jobId: job.id, provider, attempt: job.attemptsMade + 1, reason: describeFailure(error) });
        throw error;
      }
    }));
  }

  private async offerTrials(): Promise<void> {
    await Promise.all(this.clients.all().filter((client) => client.circuit !== 'closed').map((client) => client.trial()));
  }
}
