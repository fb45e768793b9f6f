import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { TenantEnvelope, UnitOfWork } from '@tenantry/core';
import { JOB_RETENTION, QueueRegistry, jitterBackoff } from '@tenantry/integrations';
import { INVITATION_JOB, InvitationJobData } from './jobs/invitation.job';

export const INVITATION_QUEUE = 'communication-service';
/**
 * Retries of one job: capped so that once the service answers again the next try comes within seconds. A job that
 * used them all is queued again by the relay, so a long outage delays a message and never loses it.
 */
export const INVITATION_ATTEMPTS = 10;
export const INVITATION_BACKOFF = jitterBackoff(500, 4000);
/** The relay leaves alone an invitation queued more recently than this (its job may still be on its way). */
export const RELAY_STALE_SECONDS = 10;
const RELAY_BATCH = 100;
const ENQUEUE_TIMEOUT_MS = 2000;

/**
 * Getting invitation messages onto the queue: right after the request's transaction committed, and again from the
 * relay for any invitation whose message is still unsent (the API crashed between commit and enqueue, Redis was
 * down, or its job used all its attempts). A job's id is derived from its invitation, so queueing twice is harmless.
 */
@Injectable()
export class InvitationOutbox {
  private readonly logger = new Logger('InvitationOutbox');

  constructor(
    private readonly queues: QueueRegistry,
    private readonly uow: UnitOfWork,
  ) {}

  private queue(): Queue {
    return this.queues.get(INVITATION_QUEUE);
  }

  /** Queues the message of a committed invitation; false (and logged) when Redis did not take it: the relay will. */
  async enqueue(orgId: string, invitationId: string, envelope: TenantEnvelope): Promise<boolean> {
    try {
      await withTimeout(this.add(orgId, invitationId, envelope), ENQUEUE_TIMEOUT_MS);
      return true;
    } catch (error) {
      this.logger.warn({ event: 'invitation.enqueue_failed', invitationId, reason: (error as Error).message });
      return false;
    }
  }

  /** One pass of the relay: claims unsent invitations last queued long enough ago, and makes sure each has a live job. */
  async relay(): Promise<number> {
    const claimed = await this.uow.query<{ org_id: string; id: string }>('select org_id, id from claim_unsent_invitations(make_interval(secs => $1), $2)', [
      RELAY_STALE_SECONDS,
      RELAY_BATCH,
    ]);
    let queued = 0;
    for (const row of claimed) {
      const envelope: TenantEnvelope = { orgId: row.org_id, actor: { type: 'system', id: null, role: null }, requestId: `relay:${row.id}` };
      if (await this.add(row.org_id, row.id, envelope)) queued += 1;
    }
    if (queued > 0) this.logger.log({ event: 'invitation.relayed', claimed: claimed.length, queued });
    return queued;
  }

  /** Adds the job unless a live one exists; a finished one (failed after all its attempts) is replaced. */
  private async add(orgId: string, invitationId: string, envelope: TenantEnvelope): Promise<boolean> {
    const queue = this.queue();
    const jobId = invitationJobId(orgId, invitationId);
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state !== 'failed' && state !== 'completed') return false;
      await existing.remove();
    }
    const data: InvitationJobData = { envelope, invitationId };
    await queue.add(INVITATION_JOB, data, { jobId, attempts: INVITATION_ATTEMPTS, backoff: INVITATION_BACKOFF, ...JOB_RETENTION });
    return true;
  }
}

/** Starts with the organization's id, like every job id (see newJobId); one job per invitation at a time. */
export const invitationJobId = (orgId: string, invitationId: string): string => `${orgId}:${invitationId}`;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
