import { Injectable, Logger } from '@nestjs/common';
import { AppConfig, INTEGRATION_PROVIDERS, IntegrationProvider, SecretBox, TenantContext, UnitOfWork, isUniqueViolation } from '@tenantry/core';
import { randomBytes, randomUUID } from 'node:crypto';
import { WebhookSecret } from './webhook-secret.entity';

/** What a rotation answers: the new secret (shown once) and until when the one it replaced keeps working. */
export interface RotatedWebhookSecret {
  secret: string;
  /** ISO 8601; null when there was no previous secret. */
  previousValidUntil: string | null;
}

/** The secrets that verify an endpoint's signatures now: the current one first, then the previous one in its grace. */
export interface EndpointSecrets {
  orgId: string;
  secrets: string[];
}

/** How long an endpoint's secrets are reused without asking the database, per process. */
export const WEBHOOK_SECRETS_CACHE_TTL_MS = 10_000;
/** How long "no such organization / no secret" is reused: short, so a first secret set elsewhere works at once. */
export const WEBHOOK_SECRETS_NEGATIVE_TTL_MS = 1_000;
export const WEBHOOK_SECRETS_CACHE_MAX_ENTRIES = 10_000;

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
/** The organizations table's own slug check: anything else names no organization. */
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

type Loaded = { orgId: string; provider: IntegrationProvider; current: string; previous: string | null; previousValidUntil: number | null } | null;
type CacheEntry = { value: Loaded; expiresAt: number };

interface EndpointSecretsRow {
  org_id: string;
  org_active: boolean;
  secret: Buffer | null;
  previous_secret: Buffer | null;
  previous_valid_until: Date | null;
}

/** What a sealed secret is bound to: sealed for one organization and provider, it opens for no other row. */
const sealContext = (orgId: string, provider: string) => `webhook-secret:${orgId}:${provider}`;
const isProvider = (value: string): value is IntegrationProvider => (INTEGRATION_PROVIDERS as readonly string[]).includes(value);

/**
 * Per organization and provider, the secret that webhook senders sign with. Rotation keeps the rotated-out secret
 * working for WEBHOOK_SECRET_GRACE. Secrets are sealed at rest (SecretBox) and never logged.
 *
 * The ingest path reads them with `forEndpoint`, cached per process for a few seconds: a rotation made in this
 * process clears its entry at once; one made in another process is picked up by `forEndpointFresh`, which the ingest
 * path calls once when a signature fails against cached secrets.
 */
@Injectable()
export class WebhookSecretsService {
  private readonly logger = new Logger(WebhookSecretsService.name);
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<Loaded>>();
  /** Bumped by every invalidation: a read that started before one does not fill the cache with what it read. */
  private generation = 0;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly box: SecretBox,
    private readonly config: AppConfig,
  ) {}

  /** A new secret for the current organization; the one it replaces keeps working for WEBHOOK_SECRET_GRACE. */
  async rotate(provider: IntegrationProvider): Promise<RotatedWebhookSecret> {
    const orgId = this.context.requireOrgId();
    const secret = WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
    const sealed = this.box.seal(secret, sealContext(orgId, provider));
    let previousValidUntil: Date | null;
    try {
      previousValidUntil = await this.store(orgId, provider, sealed);
    } catch (error) {
      // Two first rotations at once: both found no row, one inserted it. Ours now rotates the row that won.
      if (!isUniqueViolation(error)) throw error;
      previousValidUntil = await this.store(orgId, provider, sealed);
    }
    this.forgetOrganization(orgId, provider);
    this.logger.log({ event: 'webhook_secret.rotated', orgId, provider, previousValidUntil });
    return { secret, previousValidUntil: previousValidUntil?.toISOString() ?? null };
  }

  /**
   * The secrets that verify `provider`'s signatures for the organization `orgSlug` now, or null for an unknown or
   * deactivated organization, an unknown provider, or no secret set. May be up to WEBHOOK_SECRETS_CACHE_TTL_MS old.
   */
  async forEndpoint(orgSlug: string, provider: string): Promise<EndpointSecrets | null> {
    const key = cacheKey(orgSlug, provider);
    if (key === null) return null;
    const entry = this.cache.get(key);
    if (entry && entry.expiresAt > Date.now()) {
      this.cache.delete(key); // most recently used last: the oldest go first when the cache is full
      this.cache.set(key, entry);
      return validNow(entry.value);
    }
    return validNow(await this.load(key, orgSlug.toLowerCase(), provider as IntegrationProvider));
  }

  /** Like `forEndpoint`, read from the database now (and cached again): after a signature failed with cached secrets. */
  async forEndpointFresh(orgSlug: string, provider: string): Promise<EndpointSecrets | null> {
    this.invalidate(orgSlug, provider);
    return this.forEndpoint(orgSlug, provider);
  }

  /** Drops this process's cached secrets of an endpoint. */
  invalidate(orgSlug: string, provider: string): void {
    const key = cacheKey(orgSlug, provider);
    if (key === null) return;
    this.generation++;
    this.cache.delete(key);
    this.inflight.delete(key);
  }

  private store(orgId: string, provider: IntegrationProvider, sealed: Buffer): Promise<Date | null> {
    return this.uow.run(async (manager) => {
      const repository = manager.getRepository(WebhookSecret);
      const now = new Date();
      const row = await repository.findOne({ where: { orgId, provider }, lock: { mode: 'pessimistic_write' } });
      if (!row) {
        // A plain insert, not save(): save() would turn into an update of a row a concurrent first rotation just
        // committed, and that secret would be lost instead of becoming the previous one.
        await repository.insert({ orgId, provider, id: randomUUID(), secret: sealed, previousSecret: null, previousValidUntil: null, rotatedAt: now });
        return null;
      }
      // One previous secret is kept: rotating again within a grace ends the older secret's grace at once.
      row.previousSecret = row.secret;
      row.previousValidUntil = new Date(now.getTime() + this.config.webhookSecretGraceSeconds * 1000);
      row.secret = sealed;
      row.rotatedAt = now;
      await repository.save(row);
      return row.previousValidUntil;
    });
  }

  private load(key: string, slug: string, provider: IntegrationProvider): Promise<Loaded> {
    const running = this.inflight.get(key);
    if (running) return running;
    const generation = this.generation;
    const loading = this.read(slug, provider).finally(() => {
      if (this.inflight.get(key) === loading) this.inflight.delete(key);
    });
    this.inflight.set(key, loading);
    return loading.then((value) => {
      if (generation === this.generation) this.remember(key, value);
      return value;
    });
  }

  /** One round trip, no tenant bound: the owner's function finds the organization and its sealed secrets. */
  private async read(slug: string, provider: IntegrationProvider): Promise<Loaded> {
    const [row] = await this.uow.query<EndpointSecretsRow>('select * from webhook_endpoint_secrets($1, $2)', [slug, provider]);
    if (!row || !row.org_active || !row.secret) return null;
    const context = sealContext(row.org_id, provider);
    try {
      return {
        orgId: row.org_id,
        provider,
        current: this.box.openString(row.secret, context),
        previous: row.previous_secret && row.previous_valid_until ? this.box.openString(row.previous_secret, context) : null,
        previousValidUntil: row.previous_secret && row.previous_valid_until ? row.previous_valid_until.getTime() : null,
      };
    } catch (error) {
      // The values stay out of the log; which row and why is what an operator needs (usually a changed ENCRYPTION_KEY).
      this.logger.error({ event: 'webhook_secret.unreadable', orgId: row.org_id, provider, reason: (error as Error).message });
      throw error;
    }
  }

  private remember(key: string, value: Loaded): void {
    if (this.cache.size >= WEBHOOK_SECRETS_CACHE_MAX_ENTRIES && !this.cache.has(key)) {
      this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, { value, expiresAt: Date.now() + (value ? WEBHOOK_SECRETS_CACHE_TTL_MS : WEBHOOK_SECRETS_NEGATIVE_TTL_MS) });
  }

  /** After a rotation here: every cached entry of that organization and provider (the slug is not at hand). */
  private forgetOrganization(orgId: string, provider: IntegrationProvider): void {
    this.generation++;
    for (const [key, entry] of this.cache) {
      if (entry.value === null || (entry.value.orgId === orgId && entry.value.provider === provider)) this.cache.delete(key);
    }
    for (const key of this.inflight.keys()) if (key.endsWith(`\n${provider}`)) this.inflight.delete(key);
  }
}

/** The cache key of a well-formed endpoint, or null for a slug or provider that cannot exist (no query is made). */
function cacheKey(orgSlug: string, provider: string): string | null {
  const slug = typeof orgSlug === 'string' ? orgSlug.toLowerCase() : '';
  if (!SLUG.test(slug) || !isProvider(provider)) return null;
  return `${slug}\n${provider}`;
}

function validNow(value: Loaded): EndpointSecrets | null {
  if (!value) return null;
  const secrets = [value.current];
  if (value.previous !== null && value.previousValidUntil !== null && value.previousValidUntil > Date.now()) secrets.push(value.previous);
  return { orgId: value.orgId, secrets };
}
