import { BullRootModuleOptions } from '@nestjs/bull';
import type { Job, JobOptions, Queue } from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { AppConfig, INTEGRATION_PROVIDERS, IntegrationProvider, TenantEnvelope } from '@tenantry/core';

/** One queue per external service (its syncs, deliveries and events), and one for the platform's own chores. */
export const HOUSEKEEPING_QUEUE = 'housekeeping';
export const PROVIDER_QUEUES: readonly IntegrationProvider[] = INTEGRATION_PROVIDERS;
export const QUEUE_NAMES: readonly string[] = [...PROVIDER_QUEUES, HOUSEKEEPING_QUEUE];

export const SYNC_JOB = 'sync';

/** Whether this process consumes `queue` (`WORKER_QUEUES`: all, or a comma-separated list). */
export function consumesQueue(config: Pick<AppConfig, 'workerQueues'>, queue: string): boolean {
  return config.workerQueues === 'all' || config.workerQueues.includes(queue);
}

export interface SyncJobData {
  envelope: TenantEnvelope;
  provider: IntegrationProvider;
}

/**
 * A job's id starts with its organization's id: a job of another organization is told apart without loading it, and
 * an organization's share of a queue is counted from the ids alone.
 */
export const newJobId = (orgId: string): string => `${orgId}:${randomUUID()}`;
export const JOB_ID_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
export const orgOfJobId = (jobId: string): string => jobId.slice(0, 36);

/** Kept long enough to be looked at, not forever. */
export const JOB_RETENTION: Pick<JobOptions, 'removeOnComplete' | 'removeOnFail'> = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 10_000 },
};

/**
 * Exponential backoff with full jitter, for Bull's job retries: `base·2^(n-1)`, capped at `maxDelay` when given, scaled
 * by a random factor in [0.5, 1.5). Bull hands the strategy `backoff.options`: `{ type: JITTER_BACKOFF, options: { delay, maxDelay } }`.
 */
export const JITTER_BACKOFF = 'exponentialJitter';

/** Job options' `backoff` for the jittered strategy (typed here once: Bull's types know only its built-in ones). */
export function jitterBackoff(delay: number, maxDelay?: number): JobOptions['backoff'] {
  return { type: JITTER_BACKOFF, options: { delay, maxDelay } } as unknown as JobOptions['backoff'];
}
export function jitteredDelay(attemptsMade: number, baseMs: number, maxMs = Number.POSITIVE_INFINITY): number {
  return Math.round(Math.min(baseMs * 2 ** Math.max(0, attemptsMade - 1), maxMs) * (0.5 + Math.random()));
}

/**
 * Bull's connections: one shared command client and one shared subscriber per process, and a blocking client per
 * consuming queue. Bull needs them with no ready check and no per-request retry limit: a command waits for Redis to
 * come back instead of failing a job's bookkeeping half-way.
 */
export function bullRootOptions(config: AppConfig): BullRootModuleOptions & { [BULL_CONNECTIONS]: Set<Redis> } {
  const options: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: false, retryStrategy: (n) => Math.min(n * 200, 2000) };
  let client: Redis | undefined;
  let subscriber: Redis | undefined;
  // Bull leaves connections it did not create open on close: these are closed by the module at shutdown.
  const connections = new Set<Redis>();
  const quiet = (redis: Redis) => {
    connections.add(redis);
    return redis.on('error', () => undefined);
  };
  return {
    [BULL_CONNECTIONS]: connections,
    prefix: `${config.redisPrefix}:bull`,
    createClient: (type) => {
      if (type === 'client') return (client ??= quiet(new Redis(config.redisUrl, options)));
      if (type === 'subscriber') return (subscriber ??= quiet(new Redis(config.redisUrl, options)));
      return quiet(new Redis(config.redisUrl, options));
    },
    settings: {
      backoffStrategies: {
        [JITTER_BACKOFF]: (attemptsMade: number, _error: Error, options?: { delay?: number; maxDelay?: number }) =>
          jitteredDelay(attemptsMade, options?.delay ?? 1000, options?.maxDelay),
      },
    } as never,
  };
}

export const BULL_CONNECTIONS = Symbol('tenantry:bull-connections');

/** Closes the connections `bullRootOptions` created, once the queues are closed. */
export function closeBullConnections(options: { [BULL_CONNECTIONS]?: Set<Redis> }): void {
  for (const redis of options[BULL_CONNECTIONS] ?? []) redis.disconnect();
  options[BULL_CONNECTIONS]?.clear();
}

export type JobState = 'waiting' | 'active' | 'delayed' | 'completed' | 'failed';

export async function stateOf(job: Job): Promise<JobState> {
  const state = await job.getState();
  return state === 'active' || state === 'delayed' || state === 'completed' || state === 'failed' ? state : 'waiting';
}

export interface QueueCounts {
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

/** One organization's jobs in a queue, counted from the job ids in Bull's lists (no job is loaded). */
export async function countsFor(queue: Queue, orgId: string): Promise<QueueCounts> {
  const prefix = `${orgId}:`;
  const redis = queue.client;
  const [wait, paused, active, delayed, failed] = (await redis
    .multi()
    .lrange(queue.toKey('wait'), 0, -1)
    .lrange(queue.toKey('paused'), 0, -1)
    .lrange(queue.toKey('active'), 0, -1)
    .zrange(queue.toKey('delayed'), 0, -1)
    .zrange(queue.toKey('failed'), 0, -1)
    .exec())!.map(([, ids]) => (ids as string[]).filter((id) => id.startsWith(prefix)).length);
  return { waiting: wait + paused, active, delayed, failed };
}
