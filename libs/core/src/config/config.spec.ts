import { ConfigError, parseConfig } from './config';

const valid = {
  DATABASE_URL: 'postgres://app@127.0.0.1:5432/db',
  DATABASE_OWNER_URL: 'postgres://owner@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'x'.repeat(32),
  ENCRYPTION_KEY: Buffer.alloc(32, 1).toString('base64'),
};

describe('parseConfig', () => {
  it('applies the documented defaults', () => {
    const config = parseConfig(valid);
    expect(config.port).toBe(3000);
    expect(config.accessTokenTtlSeconds).toBe(900);
    expect(config.refreshTokenTtlSeconds).toBe(30 * 86400);
    expect(config.rateLimit).toEqual({ loginPerIp: 100, loginPerEmail: 10, apiEnabled: true, apiPerUser: 600, webhooksPerOrg: 1000 });
    expect(config.webhookMaxAttempts).toBe(5);
    expect(config.simulators).toBe(true);
  });

  it('audits every change unless a benchmark turns the trail off, and refuses AUDIT_TRAIL=off anywhere else', () => {
    expect(parseConfig(valid).auditTrail).toBe(true);
    expect(parseConfig({ ...valid, AUDIT_TRAIL: 'off', NODE_ENV: 'bench' }).auditTrail).toBe(false);
    expect(() => parseConfig({ ...valid, AUDIT_TRAIL: 'off', NODE_ENV: 'production' })).toThrow(/AUDIT_TRAIL=off is for benchmarks only/);
    expect(() => parseConfig({ ...valid, AUDIT_TRAIL: 'maybe' })).toThrow(/AUDIT_TRAIL must be one of on, off/);
  });

  it('names every missing variable', () => {
    expect(() => parseConfig({})).toThrow(ConfigError);
    try {
      parseConfig({});
    } catch (error) {
      const message = (error as Error).message;
      for (const name of ['DATABASE_URL', 'DATABASE_OWNER_URL', 'REDIS_URL', 'JWT_SECRET', 'ENCRYPTION_KEY']) {
        expect(message).toContain(name);
      }
    }
  });

  it('names a bad value and says what was expected', () => {
    expect(() => parseConfig({ ...valid, PORT: 'eighty' })).toThrow(/PORT must be an integer/);
    expect(() => parseConfig({ ...valid, REDIS_URL: 'http://x' })).toThrow(/REDIS_URL/);
    expect(() => parseConfig({ ...valid, ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(/ENCRYPTION_KEY must be 32 bytes/);
    expect(() => parseConfig({ ...valid, SIMULATORS: 'maybe' })).toThrow(/SIMULATORS must be one of on, off/);
  });

  it('turns the per-user API limit off only when RATE_LIMIT_API is off', () => {
    expect(parseConfig({ ...valid, RATE_LIMIT_API: 'on' }).rateLimit.apiEnabled).toBe(true);
    expect(parseConfig({ ...valid, RATE_LIMIT_API: 'off' }).rateLimit.apiEnabled).toBe(false);
    expect(parseConfig({ ...valid, RATE_LIMIT_API: ' off ' }).rateLimit.apiEnabled).toBe(false);
    expect(() => parseConfig({ ...valid, RATE_LIMIT_API: 'false' })).toThrow(/RATE_LIMIT_API must be one of on, off \(got "false"\)/);
  });
});
