import { Injectable } from '@nestjs/common';
import type { Job } from 'bull';
import { INTEGRATION_PROVIDERS, IntegrationProvider, RedisService, TenantContext, UnitOfWork, asOrgId } from '@tenantry/core';
import { IntegrationClients } from './integration-clients';
import { QueueRegistry } from './queue-registry';
import { IntegrationError } from './integration.errors';
import { CircuitName, IntegrationSnapshot, IntegrationStateStore, ProbeResult } from './integration-state';
import { JOB_RETENTION, jitterBackoff, JobState, QueueCounts, SYNC_JOB, SyncJobData, countsFor, newJobId, orgOfJobId, stateOf } from './queues';
import { SyncResult } from './sync.service';

/** A probe older than this is taken again before "down" is decided. */
export const PROBE_MAX_AGE_MS = 10_000;
const FAILED_PROBE_MAX_AGE_MS = 1000;
/** Below this share of successful calls in the window, a service is degraded. */
export const HEALTHY_SUCCESS_RATE = 0.95;
const ENQUEUE_TIMEOUT_MS = 2000;
const SYNC_ATTEMPTS = 3;
const SYNC_BACKOFF_MS = 2000;

export type IntegrationStatus = 'healthy' | 'degraded' | 'down';

export interface IntegrationHealth {
  provider: IntegrationProvider;
  status: IntegrationStatus;
  circuit: CircuitName;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  successRate: number | null;
  queue: QueueCounts;
  deadLetters: number;
  probe: ProbeResult;
}

export interface JobView {
  id: string;
  provider: IntegrationProvider;
  state: JobState;
  attempts: number;
  result: SyncResult | null;
  failedReason: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export function isProvider(value: string): value is IntegrationProvider {
  return (INTEGRATION_PROVIDERS as readonly string[]).includes(value);
}

/** The API's side: queue pulls, show their jobs, and judge each service's health for the caller's organization. */
@Injectable()
export class IntegrationsService {
  constructor(
    private readonly queues: QueueRegistry,
    private readonly context: TenantContext,
    private readonly redis: RedisService,
    private readonly state: IntegrationStateStore,
    private readonly clients: IntegrationClients,
    private readonly uow: UnitOfWork,
  ) {}

  /** Joins a pull of this provider that is still queued for the organization, or queues a new one. */
  async requestSync(provider: IntegrationProvider): Promise<{ jobId: string }> {
    const orgId = this.context.requireOrgId();
    const queue = this.queues.get(provider);
    const pendingKey = this.redis.key('sync-queued', orgId, provider);
    return withQueueTimeout(async () => {
      const pending = await queue.client.get(pendingKey);
      if (pending) {
        const job = await queue.getJob(pending);
        if (job && ['waiting', 'delayed'].includes(await stateOf(job))) return { jobId: pending };
      }
      const data: SyncJobData = { envelope: { ...this.context.envelope(), actor: { type: 'integration', id: null, role: null } }, provider };
      const job = await queue.add(SYNC_JOB, data, {
        jobId: newJobId(orgId),
        attempts: SYNC_ATTEMPTS,
        backoff: jitterBackoff(SYNC_BACKOFF_MS),
        ...JOB_RETENTION,
      });
      await queue.client.set(pendingKey, String(job.id), 'EX', 3600);
      return { jobId: String(job.id) };
    });
  }

  async getJob(jobId: string): Promise<JobView> {
    const orgId = this.context.requireOrgId();
    if (orgOfJobId(jobId) !== orgId) throw IntegrationError.jobNotFound();
    for (const provider of INTEGRATION_PROVIDERS) {
      let job: Job | null = await withQueueTimeout(() => this.queues.get(provider).getJob(jobId));
      if (!job || (job.data as { envelope?: { orgId?: string } }).envelope?.orgId !== orgId) continue;
      const state = await stateOf(job);
      // Loaded while it ran, a job finished since has its result in a newer copy.
      if (state === 'completed' || state === 'failed') job = (await this.queues.get(provider).getJob(jobId)) ?? job;
      return {
        id: String(job.id),
        provider,
        state,
        // Bull counts an attempt when it fails; the one running or that succeeded counts too.
        attempts: job.attemptsMade + (state === 'active' || state === 'completed' ? 1 : 0),
        result: state === 'completed' ? (job.returnvalue as SyncResult) : null,
        failedReason: job.failedReason ?? null,
        createdAt: new Date(job.timestamp).toISOString(),
        finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
      };
    }
    throw IntegrationError.jobNotFound();
  }

  /** The service's own state (shared by every organization), with this organization's share of its queue. */
  async health(orgId: string | null): Promise<IntegrationHealth[]> {
    const deadEvents = orgId ? await this.deadEvents(orgId) : new Map<string, number>();
    return Promise.all(
      INTEGRATION_PROVIDERS.map(async (provider) => {
        const snapshot = await this.state.read(provider);
        const probe = await this.freshProbe(provider, snapshot);
        const queue = orgId ? await withQueueTimeout(() => countsFor(this.queues.get(provider), orgId)) : { waiting: 0, active: 0, delayed: 0, failed: 0 };
        const deadLetters = queue.failed + (deadEvents.get(provider) ?? 0);
        return {
          provider,
          status: statusOf(snapshot, probe, deadLetters),
          circuit: snapshot.circuit,
          lastSuccessAt: snapshot.lastSuccessAt,
          lastFailureAt: snapshot.lastFailureAt,
          successRate: snapshot.successRate,
          queue,
          deadLetters,
          probe,
        };
      }),
    );
  }

  /** Webhook events that exhausted their attempts, per provider, in the organization's inbox. */
  private async deadEvents(orgId: string): Promise<Map<string, number>> {
    const rows = await this.uow.inTenant(asOrgId(orgId), () =>
      this.uow.query<{ provider: string; n: string }>(`select provider, count(*) as n from webhook_events where org_id = $1 and status = 'dead' group by provider`, [orgId]),
    );
    return new Map(rows.map((row) => [row.provider, Number(row.n)]));
  }

  /** The latest probe if it is at most 10 s old, else a new one (recorded for the next reader). */
  async freshProbe(provider: IntegrationProvider, snapshot?: IntegrationSnapshot): Promise<ProbeResult> {
    const latest = (snapshot ?? (await this.state.read(provider))).probe;
    // A passing probe is trusted for 10 s; a failing one for a second, so that a recovery shows at once.
    if (latest && Date.now() - Date.parse(latest.at) <= (latest.ok ? PROBE_MAX_AGE_MS : FAILED_PROBE_MAX_AGE_MS)) return latest;
    const at = new Date().toISOString();
    const result = await this.clients.of(provider).probe();
    const probe = { ok: result.ok, at, error: result.error };
    await this.state.recordProbe(provider, probe);
    return probe;
  }
}

/** The contract's rules: down when the breaker is open or the probe failed; degraded when half-open, <95% or dead letters. */
export function statusOf(snapshot: IntegrationSnapshot, probe: ProbeResult, deadLetters: number): IntegrationStatus {
  if (snapshot.circuit === 'open' || !probe.ok) return 'down';
  if (snapshot.circuit === 'half-open' || (snapshot.successRate !== null && snapshot.successRate < HEALTHY_SUCCESS_RATE) || deadLetters > 0) {
    return 'degraded';
  }
  return 'healthy';
}

/** Bull waits for Redis forever; a request does not. */
export async function withQueueTimeout<T>(work: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(IntegrationError.queueUnavailable()), ENQUEUE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
