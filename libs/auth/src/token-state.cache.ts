import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig, TOKEN_STATE_SQL, TokenState, TokenStateRow, UnitOfWork, toTokenState } from '@tenantry/core';
import { Client } from 'pg';

/** The channel the token-state triggers notify (see the token-state migration). */
const CHANNEL = 'tenantry_token_state';
const RECONNECT_MS = 1000;
/** Beyond this many subjects the cache starts over: memory stays bounded whatever the traffic. */
const MAX_ENTRIES = 50_000;

/**
 * Each API process keeps the token state of the subjects it has seen, so that the token check of a request costs no
 * round trip. It stays correct because PostgreSQL tells it of every change: the token-state triggers NOTIFY at
 * commit, whoever made the change, and this process LISTENs on its own connection and drops what it holds.
 * - While that connection is down (and until it has listened again) the cache is bypassed: every request reads.
 * - A read that was in flight when a notification arrived is not cached (the generation moved on).
 * - The request's first transaction reads the state again in the statement that binds it (UnitOfWork), so a change
 *   committed a moment before a notification arrives is refused too.
 */
@Injectable()
export class TokenStateCache implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TokenStateCache.name);
  private readonly states = new Map<string, TokenState>();
  private generation = 0;
  private listener: Client | null = null;
  private listening = false;
  private stopped = false;
  private reconnect: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.reconnect) clearTimeout(this.reconnect);
    const listener = this.listener;
    this.listener = null;
    this.listening = false;
    await listener?.end().catch(() => undefined);
  }

  cached(orgId: string | null, subject: string): TokenState | undefined {
    return this.listening ? this.states.get(key(orgId, subject)) : undefined;
  }

  /**
   * Reads the state in one round trip and caches it. Called before the request has a transaction, it takes none:
   * `token_state()` needs no tenant bound.
   */
  async load(orgId: string | null, subject: string): Promise<TokenState | null> {
    const generation = this.generation;
    const rows = await this.uow.query<TokenStateRow>(TOKEN_STATE_SQL, [orgId, subject]);
    const state = toTokenState(rows[0]);
    if (state && this.listening && generation === this.generation) {
      if (this.states.size >= MAX_ENTRIES) this.states.clear();
      this.states.set(key(orgId, subject), state);
    }
    return state;
  }

  /** Drops every cached state. Token state changes are rare (deactivation, role or password change): start over. */
  invalidate(): void {
    this.generation += 1;
    this.states.clear();
  }

  private async listen(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'tenantry-token-state' });
    client.on('notification', () => this.invalidate());
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    // Anything that changed while nobody listened is unknown: start from an empty cache.
    this.invalidate();
    this.listener = client;
    this.listening = true;
    this.logger.log({ event: 'token_state.listening' }, 'Token-state cache active: listening for changes');
  }

  private lost(client: Client, error?: unknown): void {
    if (this.listener !== null && this.listener !== client) return;
    const wasListening = this.listening;
    this.listening = false;
    this.listener = null;
    this.invalidate();
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    if (wasListening) {
      this.logger.warn({ event: 'token_state.bypassed', err: error }, 'Token-state cache bypassed until its listener reconnects');
    }
    if (!this.reconnect) {
      this.reconnect = setTimeout(() => {
        this.reconnect = null;
        void this.listen();
      }, RECONNECT_MS);
      this.reconnect.unref();
    }
  }
}

const key = (orgId: string | null, subject: string): string => `${orgId ?? 'platform'}:${subject}`;
