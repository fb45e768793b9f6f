import { URL } from 'node:url';

/**
 * Every setting the platform reads, parsed once at start-up. A missing or bad value stops the process with a
 * message naming the variable, so an operator never finds out at the first request.
 */
export interface Config {
  nodeEnv: string;
  /** Off only in a benchmark (NODE_ENV=bench): what the audit trail costs is measured against an API without it. */
  auditTrail: boolean;
  port: number;
  host: string;
  trustProxy: boolean;
  logLevel: string;
  databaseUrl: string;
  databaseOwnerUrl: string;
  databasePoolSize: number;
  redisUrl: string;
  redisPrefix: string;
  superadminEmail: string | null;
  superadminPassword: string | null;
  jwtSecret: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  encryptionKey: Buffer;
  rateLimit: {
    loginPerIp: number;
    loginPerEmail: number;
    /** Whether the per-user API limit applies at all (`RATE_LIMIT_API=off` leaves it out; login limits stay). */
    apiEnabled: boolean;
    apiPerUser: number;
    webhooksPerOrg: number;
  };
  webhookMaxAttempts: number;
  webhookBackoffMs: number;
  /** How often the worker's outbox relay looks for webhook events whose job may be lost (0: never). */
  webhookRelayEveryMs: number;
  /** How long an event waits unprocessed before the relay offers its job again. */
  webhookRelayAfterMs: number;
  /** Events per provider queue that one worker process handles at once. */
  webhookConcurrency: number;
  /** How long a rotated-out webhook secret keeps verifying signatures. */
  webhookSecretGraceSeconds: number;
  simulators: boolean;
  metricsToken: string | null;
  workerQueues: string[] | 'all';
  workerHealthPort: number;
  /** The platform's own origin as callers and identity providers reach it. */
  publicUrl: string;
  invitationTtlSeconds: number;
  /** How often the worker's relay queues invitations whose message is still unsent (0: no relay in this process). */
  invitationRelayEveryMs: number;
  /** How often the housekeeping purge runs (a repeatable job on the housekeeping queue). */
  housekeepingEveryMs: number;
  /** How soon an open circuit breaker lets a trial call through. */
  breakerHalfOpenMs: number;
  /** One entry per external service: where it is and how calls to it are guarded. */
  integrations: Record<IntegrationProvider, IntegrationPolicyConfig>;
}

export const INTEGRATION_PROVIDERS = ['user-service', 'payment-service', 'communication-service'] as const;
export type IntegrationProvider = (typeof INTEGRATION_PROVIDERS)[number];

/** The resilience policy of one external service; each value has a global default and a per-service override. */
export interface IntegrationPolicyConfig {
  url: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts per call, the first included (retries happen on 5xx, timeouts and connection errors only). */
  maxAttempts: number;
  /** The first retry's delay; later ones grow exponentially, with jitter. */
  retryBaseMs: number;
  /** Consecutive failed calls that open the breaker. */
  breakerFailures: number;
  /** Calls in flight at once; as many again may wait, the rest are refused at once. */
  bulkhead: number;
}

const INTEGRATION_DEFAULT_PORTS: Record<IntegrationProvider, number> = {
  'user-service': 4001,
  'payment-service': 4002,
  'communication-service': 4003,
};

/** `user-service` → `USER_SERVICE`: the prefix of that service's variables. */
export const integrationEnvPrefix = (provider: IntegrationProvider): string => provider.toUpperCase().replace(/-/g, '_');

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(name: string, fallback?: string): string {
    const value = this.raw(name) ?? fallback;
    if (value === undefined) {
      this.problems.push(`${name} is required`);
      return '';
    }
    return value;
  }

  optional(name: string): string | null {
    return this.raw(name) ?? null;
  }

  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return Number(value);
  }

  url(name: string, protocols: string[], fallback?: string): string {
    const value = this.string(name, fallback);
    if (!value) return value;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
    } catch {
      this.problems.push(`${name} must be a ${protocols.join(' or ')}// URL`);
    }
    return value;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = (this.raw(name) ?? fallback) as T;
    if (!allowed.includes(value)) this.problems.push(`${name} must be one of ${allowed.join(', ')} (got "${value}")`);
    return value;
  }
}

export function parseConfig(env: Env): Config {
  const r = new Reader(env);
  const jwtSecret = r.string('JWT_SECRET');
  if (jwtSecret && jwtSecret.length < 32) r.problems.push('JWT_SECRET must be at least 32 characters');

  const encryptionKeyRaw = r.string('ENCRYPTION_KEY');
  const encryptionKey = Buffer.from(encryptionKeyRaw, 'base64');
  if (encryptionKeyRaw && encryptionKey.length !== 32) {
    r.problems.push('ENCRYPTION_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  }

  const superadminEmail = r.optional('SUPERADMIN_EMAIL');
  const superadminPassword = r.optional('SUPERADMIN_PASSWORD');
  if (superadminPassword && superadminPassword.length < 12) {
    r.problems.push('SUPERADMIN_PASSWORD must be at least 12 characters');
  }

  const queues = r.string('WORKER_QUEUES', 'all');

  const config: Config = {
    nodeEnv: r.string('NODE_ENV', 'development'),
    auditTrail: r.oneOf('AUDIT_TRAIL', ['on', 'off'] as const, 'on') === 'on',
    port: r.int('PORT', 3000, 0, 65535),
    host: r.string('HOST', '0.0.0.0'),
    trustProxy: r.oneOf('TRUST_PROXY', ['true', 'false'] as const, 'false') === 'true',
    logLevel: r.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    databaseUrl: r.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databaseOwnerUrl: r.url('DATABASE_OWNER_URL', ['postgres:', 'postgresql:']),
    databasePoolSize: r.int('DATABASE_POOL_SIZE', 10, 1, 200),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: r.string('REDIS_PREFIX', 'tenantry'),
    superadminEmail,
    superadminPassword,
    jwtSecret,
    accessTokenTtlSeconds: r.int('ACCESS_TOKEN_TTL', 900, 10, 86400),
    refreshTokenTtlSeconds: r.int('REFRESH_TOKEN_TTL', 30 * 86400, 60, 365 * 86400),
    encryptionKey,
    rateLimit: {
      loginPerIp: r.int('RATE_LIMIT_LOGIN_PER_IP', 100, 1),
      loginPerEmail: r.int('RATE_LIMIT_LOGIN_PER_EMAIL', 10, 1),
      apiEnabled: r.oneOf('RATE_LIMIT_API', ['on', 'off'] as const, 'on') === 'on',
      apiPerUser: r.int('RATE_LIMIT_API_PER_USER', 600, 1),
      webhooksPerOrg: r.int('RATE_LIMIT_WEBHOOKS_PER_ORG', 1000, 1),
    },
    webhookMaxAttempts: r.int('WEBHOOK_MAX_ATTEMPTS', 5, 1, 50),
    webhookBackoffMs: r.int('WEBHOOK_BACKOFF_MS', 1000, 0, 3_600_000),
    webhookRelayEveryMs: r.int('WEBHOOK_RELAY_EVERY_MS', 5000, 0, 600_000),
    webhookRelayAfterMs: r.int('WEBHOOK_RELAY_AFTER_MS', 15_000, 100, 3_600_000),
    webhookConcurrency: r.int('WEBHOOK_CONCURRENCY', 8, 1, 64),
    webhookSecretGraceSeconds: r.int('WEBHOOK_SECRET_GRACE', 86_400, 0, 30 * 86400),
    simulators: r.oneOf('SIMULATORS', ['on', 'off'] as const, 'on') === 'on',
    metricsToken: r.optional('METRICS_TOKEN'),
    workerQueues: queues === 'all' ? 'all' : queues.split(',').map((q) => q.trim()).filter(Boolean),
    workerHealthPort: r.int('WORKER_HEALTH_PORT', 3001, 0, 65535),
    publicUrl: '',
    invitationTtlSeconds: r.int('INVITATION_TTL', 259_200, 60, 30 * 86400),
    invitationRelayEveryMs: r.int('INVITATION_RELAY_EVERY_MS', 5000, 0, 60_000),
    housekeepingEveryMs: r.int('HOUSEKEEPING_EVERY_MS', 3_600_000, 1000, 7 * 86_400_000),
    breakerHalfOpenMs: r.int('BREAKER_HALF_OPEN_MS', 5000, 10, 3_600_000),
    integrations: {} as Config['integrations'],
  };
  config.publicUrl = r.url('PUBLIC_URL', ['http:', 'https:'], `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
  const defaults = {
    timeoutMs: r.int('INTEGRATION_TIMEOUT_MS', 2000, 10, 120_000),
    maxAttempts: r.int('INTEGRATION_MAX_ATTEMPTS', 4, 1, 20),
    retryBaseMs: r.int('INTEGRATION_RETRY_BASE_MS', 100, 1, 60_000),
    breakerFailures: r.int('INTEGRATION_BREAKER_FAILURES', 5, 1, 1000),
    bulkhead: r.int('INTEGRATION_BULKHEAD', 10, 1, 1000),
  };
  for (const provider of INTEGRATION_PROVIDERS) {
    const prefix = integrationEnvPrefix(provider);
    config.integrations[provider] = {
      url: r.url(`${prefix}_URL`, ['http:', 'https:'], `http://127.0.0.1:${r.int(`${prefix}_PORT`, INTEGRATION_DEFAULT_PORTS[provider], 1, 65535)}`).replace(/\/+$/, ''),
      timeoutMs: r.int(`${prefix}_TIMEOUT_MS`, defaults.timeoutMs, 10, 120_000),
      maxAttempts: r.int(`${prefix}_MAX_ATTEMPTS`, defaults.maxAttempts, 1, 20),
      retryBaseMs: r.int(`${prefix}_RETRY_BASE_MS`, defaults.retryBaseMs, 1, 60_000),
      breakerFailures: r.int(`${prefix}_BREAKER_FAILURES`, defaults.breakerFailures, 1, 1000),
      bulkhead: r.int(`${prefix}_BULKHEAD`, defaults.bulkhead, 1, 1000),
    };
  }
  if (!config.auditTrail && config.nodeEnv !== 'bench') {
    r.problems.push('AUDIT_TRAIL=off is for benchmarks only (NODE_ENV=bench): every data change is audited');
  }
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return config;
}
