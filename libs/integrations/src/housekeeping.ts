import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { QueueRegistry } from './queue-registry';
import { AppConfig, UnitOfWork } from '@tenantry/core';
import { HOUSEKEEPING_QUEUE, JOB_RETENTION, consumesQueue } from './queues';

/** The purge, as a repeatable job on the housekeeping queue. */
export const HOUSEKEEPING_JOB = 'purge';
/** What is kept after it expired, was revoked, spent or replaced: a day to look at it, then it goes. */
export const PURGE_AFTER_SECONDS = 86_400;

export type PurgeCounts = Record<'refreshTokens' | 'refreshTokenFamilies' | 'platformRefreshTokens' | 'platformRefreshTokenFamilies' | 'invitations', number>;

/**
 * Deletes what no longer serves: refresh tokens expired (or of families revoked) more than a day ago, families left
 * empty or revoked as long, and spent, replaced or expired invitations. Every organization's rows are in scope, so it
 * runs the `purge_expired_credentials` function (owner's rights) instead of reading tenant tables itself.
 */
@Injectable()
export class HousekeepingService {
  private readonly logger = new Logger('Housekeeping');

  constructor(private readonly uow: UnitOfWork) {}

  async purge(olderThanSeconds = PURGE_AFTER_SECONDS): Promise<PurgeCounts> {
    const rows = await this.uow.asPlatform(
      () => this.uow.query<{ kind: keyof PurgeCounts; removed: string }>('select kind, removed from purge_expired_credentials(make_interval(secs => $1))', [olderThanSeconds]),
      { systemTask: 'housekeeping' },
    );
    const counts = Object.fromEntries(rows.map((row) => [row.kind, Number(row.removed)])) as PurgeCounts;
    this.logger.log({ event: 'housekeeping.purged', ...counts });
    return counts;
  }
}

/**
 * Registers the repeatable purge when this worker consumes the housekeeping queue (Bull keys a repeatable job by name
 * and interval, so every worker start registers the same one), removes repeatable purges of an older interval, and
 * processes them.
 */
@Injectable()
export class HousekeepingWorker implements OnApplicationBootstrap {
  private readonly logger = new Logger('HousekeepingWorker');

  constructor(
    private readonly queues: QueueRegistry,
    private readonly config: AppConfig,
    private readonly housekeeping: HousekeepingService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!consumesQueue(this.config, HOUSEKEEPING_QUEUE)) return;
    const queue = this.queues.get(HOUSEKEEPING_QUEUE);
    void queue.process(HOUSEKEEPING_JOB, 1, () => this.housekeeping.purge());
    try {
      const every = this.config.housekeepingEveryMs;
      for (const repeatable of await queue.getRepeatableJobs()) {
        if (repeatable.name === HOUSEKEEPING_JOB && Number(repeatable.every) !== every) await queue.removeRepeatableByKey(repeatable.key);
      }
      await queue.add(HOUSEKEEPING_JOB, {}, { repeat: { every }, ...JOB_RETENTION });
    } catch (error) {
      // Redis may be down at start: the next worker start registers it (a running worker keeps processing).
      this.logger.warn({ event: 'housekeeping.schedule_failed', reason: (error as Error).message });
    }
  }
}
