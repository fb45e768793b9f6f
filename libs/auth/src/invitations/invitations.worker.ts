import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { Job } from 'bull';
import { AppConfig, TenantContext, inJobSpan } from '@tenantry/core';
import { QueueRegistry, consumesQueue, describeFailure } from '@tenantry/integrations';
import { DeliveryOutcome, InvitationDelivery } from './invitation-delivery';
import { INVITATION_QUEUE, InvitationOutbox } from './invitation-outbox';
import { INVITATION_JOB, InvitationJobData } from './jobs/invitation.job';

const DELIVERY_CONCURRENCY = 5;

/**
 * Bull's processor for invitation messages and the relay's timer, in a worker that consumes the communication
 * service's queue (`WORKER_QUEUES`). Several workers may run the relay: each claims rows with `skip locked`.
 */
@Injectable()
export class InvitationsWorker implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('InvitationsWorker');
  private relayTimer?: NodeJS.Timeout;
  private relaying = false;

  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
    private readonly context: TenantContext,
    private readonly delivery: InvitationDelivery,
    private readonly outbox: InvitationOutbox,
  ) {}

  onApplicationBootstrap(): void {
    if (!consumesQueue(this.config, INVITATION_QUEUE)) return;
    const queue = this.queues.get(INVITATION_QUEUE);
    void queue.process(INVITATION_JOB, DELIVERY_CONCURRENCY, (job: Job<InvitationJobData>) => this.run(job));
    if (this.config.invitationRelayEveryMs > 0) {
      this.relayTimer = setInterval(() => void this.relayOnce(), this.config.invitationRelayEveryMs);
      this.relayTimer.unref();
    }
  }

  onApplicationShutdown(): void {
    clearInterval(this.relayTimer);
  }

  /** One relay pass (never two at once in this process); failures are logged, the next tick tries again. */
  async relayOnce(): Promise<number> {
    if (this.relaying) return 0;
    this.relaying = true;
    try {
      return await this.outbox.relay();
    } catch (error) {
      this.logger.warn({ event: 'invitation.relay_failed', reason: (error as Error).message });
      return 0;
    } finally {
      this.relaying = false;
    }
  }

  private run(job: Job<InvitationJobData>): Promise<DeliveryOutcome> {
    const { envelope, invitationId } = job.data;
    const attributes = { 'messaging.system': 'bull', 'messaging.operation.type': 'process', 'messaging.message.id': String(job.id) };
    return inJobSpan('invitation.send', envelope.trace, attributes, () => this.context.runWithEnvelope(envelope, async () => {
      try {
        return await this.delivery.deliver(invitationId);
      } catch (error) {
        this.logger.warn({ event: 'invitation.send_failed', jobId: job.id, invitationId, attempt: job.attemptsMade + 1, reason: describeFailure(error) });
        throw error;
      }
    }));
  }
}
