import type { Attributes } from '@opentelemetry/api';
import type { JobOptions } from 'bull';
import { AppConfig, TenantEnvelope, traceCarrier } from '@tenantry/core';
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

export interface WebhookJob {
  name: string;
  data: WebhookJobData;
  opts: JobOptions;
}

/** The job of one event in one generation, retried `WEBHOOK_MAX_ATTEMPTS` times with jittered backoff from `WEBHOOK_BACKOFF_MS`. */
export function webhookJob(
  envelope: TenantEnvelope & { orgId: string },
  eventId: string,
  generation: number,
  config: Pick<AppConfig, 'webhookMaxAttempts' | 'webhookBackoffMs'>,
): WebhookJob {
  return {
    name: WEBHOOK_JOB,
    data: { envelope, eventId },
    opts: {
      jobId: webhookJobId(envelope.orgId, eventId, generation),
      attempts: config.webhookMaxAttempts,
      backoff: jitterBackoff(config.webhookBackoffMs, MAX_BACKOFF_MS),
      ...JOB_RETENTION,
    },
  };
}

/** Built where the job is added, so that the job continues the trace of that moment (a `queue.add` span). */
export const integrationEnvelope = (orgId: string, requestId: string): TenantEnvelope & { orgId: string } => ({
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
