import { Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import { ThrottlerStorage } from '@nestjs/throttler';
import { RedisService } from '../redis/redis.service';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/**
 * One round trip, one Lua script: the counter is incremented and its window set atomically, so no number of
 * concurrent requests can read the same count. Once over the limit the key is blocked for `blockDuration` and
 * further hits are not counted.
 */
const SCRIPT = `
local blockTtl = redis.call('PTTL', KEYS[2])
if blockTtl > 0 then
  local hits = tonumber(redis.call('GET', KEYS[1]) or ARGV[2])
  return {hits, math.max(redis.call('PTTL', KEYS[1]), 0), 1, blockTtl}
end
local hits = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
if hits > tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
  return {hits, ttl, 1, tonumber(ARGV[3])}
end
return {hits, ttl, 0, 0}
`;

@Injectable()
export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly logger = new Logger(RedisThrottlerStorage.name);
  /** Set while the per-user limit is not counted, so that an outage is logged once, not once per request. */
  private failingOpen = false;

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
    const client = this.redis.client as unknown as {
      tenantryThrottle(hits: string, block: string, ttl: number, limit: number, block_ms: number): Promise<number[]>;
    };
    const [totalHits, ttlMs, blocked, blockMs] = await client.tenantryThrottle(
      hitsKey,
      `${hitsKey}:blocked`,
      ttl,
      limit,
      blockDuration > 0 ? blockDuration : ttl,
    );
    return {
      totalHits,
      timeToExpire: Math.ceil(ttlMs / 1000),
      isBlocked: blocked === 1,
      timeToBlockExpire: Math.ceil(blockMs / 1000),
    };
  }
}
