import type { JobOptions } from 'bull';
import { TenantEnvelope } from '@tenantry/core';
import { JITTER_BACKOFF, JOB_RETENTION } from '@tenantry/integrations';

export const WEBHOOK_JOB = 'webhook';

/** A job carries the event's row id, never its body: the worker reads the event from the inbox. */
export interface WebhookJobData {
  envelope: TenantEnvelope;
  eventId: string;
}

/** One job per event and generation: adding it again (the relay, a retried enqueue) is a no-op while it exists. */
export const webhookJobId = (orgId: string, eventId: string, generation: number): string => `${orgId}:${eventId}:${generation}`;

export function webhookJobOptions(jobId: string, maxAttempts: number, backoffMs: number): JobOptions {
  return { jobId, attempts: maxAttempts, backoff: { type: JITTER_BACKOFF, delay: backoffMs } as never, ...JOB_RETENTION };
}

export const integrationEnvelope = (orgId: string, requestId: string): TenantEnvelope => ({
  orgId,
  actor: { type: 'integration', id: null, role: null },
  requestId,
});
