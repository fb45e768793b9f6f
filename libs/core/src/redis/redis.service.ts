import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/** How long start-up waits for a first connection before it goes on without Redis. */
const FIRST_CONNECT_WAIT_MS = 2000;
/**
 * A Redis that accepts the connection but does not answer fails a command after this long. Not shorter: under a burst
 * the event loop itself can lag by hundreds of milliseconds, and a reply waiting in the socket would count as a
 * timeout (seen at 500 ms: 1,000 concurrent requests on a busy machine, and the per-user limit failed open).
 */
export const COMMAND_TIMEOUT_MS = 2000;

/**
 * One shared Redis connection for counters and caches; every key goes through `key()` so runs never collide.
 * It is built for the request path: while Redis is unreachable every command fails at once (no offline queue, no
 * retries), and a Redis that accepts the connection but does not answer fails a command after `COMMAND_TIMEOUT_MS`.
 * Callers decide what an outage means for them (the API limit fails open, login and Idempotency-Key fail closed).
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  readonly client: Redis;

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {
    this.client = new Redis(config.redisUrl, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
    });
    // ioredis reconnects by itself; without a listener an outage would crash the process with an unhandled event.
    this.client.on('error', () => undefined);
  }

  /** Without an offline queue, commands sent before the first connection would fail: give it a moment at start-up. */
  async onModuleInit(): Promise<void> {
    if (this.client.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, FIRST_CONNECT_WAIT_MS);
      this.client.once('ready', done);
    });
  }

  /** Whether a command sent now can reach Redis at all. */
  get available(): boolean {
    return this.client.status === 'ready';
  }

  key(...parts: string[]): string {
    return [this.config.redisPrefix, ...parts].join(':');
  }

  async onApplicationShutdown(): Promise<void> {
    // quit() would wait for a server that is not there; a client that is not connected just stops reconnecting.
    if (this.client.status === 'ready') await this.client.quit().catch(() => this.client.disconnect());
    else this.client.disconnect();
  }
}
