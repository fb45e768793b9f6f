import { randomBytes } from 'node:crypto';
import type { RedisService } from '@tenantry/core';

/** How long a login may take between the redirect to the identity provider and its callback. */
export const SSO_STATE_TTL_SECONDS = 600;

type StoreCallback = (error: Error | null, state?: string) => void;
type VerifyCallback = (error: Error | null, ctx?: object | false, state?: object) => void;

/**
 * passport-openidconnect's state store, in Redis instead of a session: the `state` handle is random, keyed to one
 * organization, holds the `nonce`, lives SSO_STATE_TTL_SECONDS and is spent by its first use (GETDEL), so a replayed
 * or forged callback finds nothing; any API replica can finish a login another one started.
 */
export class RedisStateStore {
  constructor(
    private readonly redis: RedisService,
    private readonly orgId: string,
  ) {}

  private key(handle: string): string {
    return RedisStateStore.keyOf(this.redis, handle);
  }

  private static keyOf(redis: RedisService, handle: string): string {
    return redis.key('sso', 'state', handle);
  }

  /** Whether `handle` is a live state of `orgId`, without spending it (the strategy's verify spends it). */
  static async exists(redis: RedisService, orgId: string, handle: string): Promise<boolean> {
    if (handle.length > 100) return false;
    const raw = await redis.client.get(RedisStateStore.keyOf(redis, handle));
    return raw !== null && (JSON.parse(raw) as { orgId: string }).orgId === orgId;
  }

  store(_req: unknown, ctx: { nonce?: string }, _appState: unknown, _meta: unknown, callback: StoreCallback): void {
    const handle = randomBytes(24).toString('base64url');
    this.redis.client
      .set(this.key(handle), JSON.stringify({ orgId: this.orgId, nonce: ctx.nonce ?? null, issued: Date.now() }), 'EX', SSO_STATE_TTL_SECONDS)
      .then(() => callback(null, handle), (error: Error) => callback(error));
  }

  verify(_req: unknown, handle: string, callback: VerifyCallback): void {
    if (typeof handle !== 'string' || handle.length === 0 || handle.length > 100) return callback(null, false, { message: 'missing state' });
    this.redis.client.getdel(this.key(handle)).then(
      (raw) => {
        const saved = raw ? (JSON.parse(raw) as { orgId: string; nonce: string | null }) : null;
        if (!saved || saved.orgId !== this.orgId) return callback(null, false, { message: 'unknown, spent or foreign state' });
        callback(null, saved.nonce ? { nonce: saved.nonce } : {}, undefined);
      },
      (error: Error) => callback(error),
    );
  }
}
