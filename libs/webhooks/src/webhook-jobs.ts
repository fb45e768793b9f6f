import type { Attributes } from '@opentelemetry/api';
import type { JobOptions } from 'bull';
import { TenantEnvelope, traceCarrier } from '@tenantry/core';
import { JOB_RETENTION, jitterBackoff } from '@tenantry/integrations';

/** However many attempts are configured, no wait between two of them grows past five minutes. */
const MAX_BACKOFF_MS = 5 * 60_000;

export const WEBHOOK_JOB = 'webhook';

/** A job carries the event's row id, never its body: the worker reads the event from the inbox. */
export interface WebhookJobData {
  envelope: TenantEnvelope;
  eventId: string;
}

/** One job per event and generation: adding it again (the relay, a retried enqueue) is a no-op while it exists. */
export const webhookJobId = (orgId: string, eventId: string, generation: number): string => `${orgId}:${eventId}:${generation}`;

export function webhookJobOptions(jobId: string, maxAttempts: number, backoffMs: number): JobOptions {
  return { jobId, attempts: maxAttempts, backoff: jitterBackoff(backoffMs, MAX_BACKOFF_MS), ...JOB_RETENTION };
}

/** Built where the job is added, so that the job continues the trace of that moment (a `queue.add` span). */
export const integrationEnvelope = (orgId: string, requestId: string): TenantEnvelope => ({
  orgId,
  actor: { type: 'integration', id: null, role: null },
  requestId,
  trace: traceCarrier(),
});

/** What a `queue.add` span says of the jobs it adds (messaging conventions: the queue, and how many). */
export const queueAddAttributes = (queue: string, jobs: number): Attributes => ({
  'messaging.system': 'bull',
  'messaging.operation.type': 'send',
  'messaging.destination.name': queue,
  'messaging.batch.message_count': jobs,
});
