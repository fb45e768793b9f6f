import { Injectable, Logger } from '@nestjs/common';
import { IntegrationProvider, RedisService } from '@tenantry/core';

export type CircuitName = 'closed' | 'open' | 'half-open';

export interface ProbeResult {
  ok: boolean;
  at: string;
  error: string | null;
}

export interface IntegrationSnapshot {
  circuit: CircuitName;
  circuitChangedAt: string | null;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  /** Successful calls ÷ all calls over the last five minutes; null when there were none. */
  successRate: number | null;
  calls: number;
  probe: ProbeResult | null;
}

const WINDOW_MINUTES = 5;

/**
 * What every process learned about an external service, kept in Redis so that the API's health endpoints read what
 * the worker saw: the breaker's state (each process has its own breaker; the last change wins), the last success and
 * failure, calls per minute for the success rate, and the latest probe. Writes are fire-and-forget: bookkeeping never
 * fails or slows a call, and a Redis outage only makes health less informed.
 */
@Injectable()
export class IntegrationStateStore {
  private readonly logger = new Logger('IntegrationState');

  constructor(private readonly redis: RedisService) {}

  private key(provider: IntegrationProvider, ...parts: string[]): string {
    return this.redis.key('integration', provider, ...parts);
  }

  recordCall(provider: IntegrationProvider, ok: boolean, at = new Date()): void {
    if (!this.redis.available) return;
    const minute = Math.floor(at.getTime() / 60_000);
    const bucket = this.key(provider, 'calls', String(minute));
    this.redis.client
      .multi()
      .hset(this.key(provider), ok ? 'lastSuccessAt' : 'lastFailureAt', at.toISOString())
      .hincrby(bucket, ok ? 'ok' : 'failed', 1)
      .expire(bucket, (WINDOW_MINUTES + 1) * 60)
      .exec()
      .catch((error: Error) => this.logger.debug({ event: 'integration.state_unsaved', provider, error: error.message }));
  }

  recordCircuit(provider: IntegrationProvider, circuit: CircuitName, at = new Date()): void {
    if (!this.redis.available) return;
    this.redis.client
      .hset(this.key(provider), 'circuit', circuit, 'circuitChangedAt', at.toISOString())
      .catch((error: Error) => this.logger.debug({ event: 'integration.state_unsaved', provider, error: error.message }));
  }

  async recordProbe(provider: IntegrationProvider, probe: ProbeResult): Promise<void> {
    if (!this.redis.available) return;
    await this.redis.client.hset(this.key(provider), 'probe', JSON.stringify(probe)).catch(() => undefined);
  }

  async read(provider: IntegrationProvider, now = new Date()): Promise<IntegrationSnapshot> {
    const minute = Math.floor(now.getTime() / 60_000);
    const buckets = Array.from({ length: WINDOW_MINUTES }, (_, i) => this.key(provider, 'calls', String(minute - i)));
    const pipeline = this.redis.client.pipeline().hgetall(this.key(provider));
    for (const bucket of buckets) pipeline.hgetall(bucket);
    const results = (await pipeline.exec()) ?? [];
    const [state, ...counts] = results.map(([error, value]) => (error ? {} : (value as Record<string, string>)));
    let ok = 0;
    let failed = 0;
    for (const count of counts) {
      ok += Number(count.ok ?? 0);
      failed += Number(count.failed ?? 0);
    }
    return {
      circuit: (state.circuit as CircuitName | undefined) ?? 'closed',
      circuitChangedAt: state.circuitChangedAt ?? null,
      lastSuccessAt: state.lastSuccessAt ?? null,
      lastFailureAt: state.lastFailureAt ?? null,
      successRate: ok + failed === 0 ? null : ok / (ok + failed),
      calls: ok + failed,
      probe: state.probe ? (JSON.parse(state.probe) as ProbeResult) : null,
    };
  }
}
