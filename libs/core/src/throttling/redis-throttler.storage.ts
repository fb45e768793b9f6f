import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { RedisService } from '../redis/redis.service';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One round trip, one Lua script: the counter moves and its window is set atomically, so no number of concurrent
 * requests can read the same count. A caller may take a lease of several hits at once (ARGV[4]): the script grants
 * at most what is left under the limit, so the hits granted across every process never exceed it. Once over the
 * limit the key is blocked for `blockDuration` and further hits are not counted.
 * Returns {hits, ttl ms, blocked, block ttl ms, granted}.
 */
const SCRIPT = `
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or ARGV[2])
  return {hits, math.max(redis.call('PTTL', KEYS[1]), 0), 1, blockTtl, 0}
end
local limit = tonumber(ARGV[2])
local grant = math.max(1, math.min(tonumber(ARGV[4]), limit - tonumber(redis.call('GET', KEYS[1]) or '0')))
local hits = redis.call('INCRBY', KEYS[1], grant)
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > limit then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3]), 0}
end
return {hits, ttl, 0, 0, grant}
`;

const REDIS_UNAVAILABLE = new Error('Redis is not connected');

/** The most hits one process leases at a time for the per-user API limit. */
const MAX_LEASE = 10;
/** Beyond this many leased keys, expired leases are swept. */
const LEASE_SWEEP_AT = 10_000;

interface Lease {
  /** Hits granted by Redis and not used yet by this process. */
  remaining: number;
  /** Hits counted for the key as this process knows it: what the rate-limit headers report. */
  hits: number;
  expiresAt: number;
}

@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  /** Set while the per-user limit is not counted, so that an outage is logged once, not once per request. */
  private failingOpen = false;
  /**
   * The per-user API limit is counted in leases: a process takes up to MAX_LEASE hits from Redis at once (a
   * twentieth of the limit at most) and spends them locally, so most requests cost no Redis round trip. The script
   * never grants more than the limit, so no more requests pass than the limit across all processes; a hit leased by
   * one process and unused is not available to another until the window ends. Login limits are counted one by one.
   */
  private readonly leases = new Map<string, Lease>();
  private readonly refills = new Map<string, Promise<ThrottlerStorageRecord>>();

  constructor(private readonly redis: RedisService) {
    this.redis.client.defineCommand('tenantryThrottle', { numberOfKeys: 2, lua: SCRIPT });
  }

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    try {
      const record = await this.count(key, ttl, limit, blockDuration, throttlerName);
      if (this.failingOpen && !throttlerName.startsWith('login')) {
        this.failingOpen = false;
        this.logger.log({ event: 'rate_limit.counting' }, 'Redis is back: the per-user API limit is counted again');
      }
      return record;
    } catch (error) {
      // Redis is down. Login limits guard against password guessing: they fail closed (503). The per-user API limit
      // guards capacity: it fails open, so that an outage of the counter does not become an outage of the API.
      if (throttlerName.startsWith('login')) throw new ServiceUnavailableException('Login is unavailable for a moment; try again');
      if (!this.failingOpen) {
        this.failingOpen = true;
        this.logger.warn({ event: 'rate_limit.fail_open', err: error, throttler: throttlerName }, 'Per-user API limit not counted until Redis answers again');
      }
      return { totalHits: 0, timeToExpire: Math.ceil(ttl / 1000), isBlocked: false, timeToBlockExpire: 0 };
    }
  }

  private async count(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    const hitsKey = this.redis.key('throttle', throttlerName, key);
    const leaseSize = throttlerName.startsWith('login') ? 1 : Math.max(1, Math.min(MAX_LEASE, Math.floor(limit / 20)));
    const blockMs = blockDuration > 0 ? blockDuration : ttl;
    if (leaseSize === 1) return this.take(hitsKey, ttl, limit, blockMs, 1);
    for (;;) {
      const now = Date.now();
      const lease = this.leases.get(hitsKey);
      if (lease && lease.remaining > 0 && lease.expiresAt > now) {
        lease.remaining -= 1;
        lease.hits += 1;
        return { totalHits: lease.hits, timeToExpire: Math.ceil((lease.expiresAt - now) / 1000), isBlocked: false, timeToBlockExpire: 0 };
      }
      // One lease request per key at a time: concurrent requests wait for it and spend what it brings.
      const inFlight = this.refills.get(hitsKey);
      if (inFlight) {
        const record = await inFlight;
        if (record.isBlocked) return record;
        continue;
      }
      const refill = this.take(hitsKey, ttl, limit, blockMs, leaseSize);
      this.refills.set(hitsKey, refill);
      try {
        return await refill;
      } finally {
        this.refills.delete(hitsKey);
      }
    }
  }

  /** Takes up to `leaseSize` hits from Redis: the caller spends one, and the rest are leased to this process. */
  private async take(hitsKey: string, ttl: number, limit: number, blockMs: number, leaseSize: number): Promise<ThrottlerStorageRecord> {
    // While the connection is down, not even a command: no error built per request, nothing queued.
    if (!this.redis.available) throw REDIS_UNAVAILABLE;
    const client = this.redis.client as unknown as {
      tenantryThrottle(hits: string, block: string, ttl: number, limit: number, block_ms: number, lease: number): Promise<number[]>;
    };
    const now = Date.now();
    const [redisHits, ttlMs, blocked, blockTtlMs, granted] = await client.tenantryThrottle(hitsKey, `${hitsKey}:blocked`, ttl, limit, blockMs, leaseSize);
    const totalHits = redisHits - Math.max(0, granted - 1);
    if (granted > 1) {
      if (this.leases.size >= LEASE_SWEEP_AT) this.sweepLeases(now);
      this.leases.set(hitsKey, { remaining: granted - 1, hits: totalHits, expiresAt: now + ttlMs });
    } else {
      this.leases.delete(hitsKey);
    }
    return {
      totalHits,
      timeToExpire: Math.ceil(ttlMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockTtlMs / 1000),
    };
  }

  private sweepLeases(now: number): void {
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(key);
  }
}
