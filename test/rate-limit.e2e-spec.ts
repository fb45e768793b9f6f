import { randomBytes } from 'node:crypto';
import { ApiProcess, startApiProcess } from './support/api-process';
import { SUPERADMIN } from './support/factories';

/**
 * The per-user API limit across two API processes sharing one Redis: each leases a few hits at a time from Redis so
 * that most requests cost no round trip, and the leases never add up to more than the limit.
 */
describe('the per-user API limit across two API processes', () => {
  const limit = 100;
  let a: ApiProcess;
  let b: ApiProcess;
  let token: string;

  beforeAll(async () => {
    // A Redis prefix of their own: no other test's calls count against this limit.
    const env = { RATE_LIMIT_API_PER_USER: String(limit), REDIS_PREFIX: `${process.env.REDIS_PREFIX}-lease-${randomBytes(3).toString('hex')}` };
    [a, b] = await Promise.all([startApiProcess(env), startApiProcess(env)]);
    const login = await a.request('POST', '/v1/auth/login', { body: SUPERADMIN });
    expect(login.status).toBe(200);
    token = login.body.accessToken;
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('lets no more than the limit through out of 1,000 concurrent requests spread over both', async () => {
    const responses = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => fetch(`${(i % 2 ? a : b).url}/v1/auth/me`, { headers: { authorization: `Bearer ${token}` } })),
    );
    // Every request was counted: none passed because Redis looked unavailable (the limit fails open then).
    expect(a.output() + b.output()).not.toContain('rate_limit.fail_open');
    const statuses = responses.map((response) => response.status);
    const passed = statuses.filter((status) => status === 200).length;
    expect(passed).toBeLessThanOrEqual(limit);
    // Hits leased by one process and not spent before the other was refused are the only ones lost: a few at most.
    expect(passed).toBeGreaterThanOrEqual(limit - 10);
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    const limited = responses.find((response) => response.status === 429)!;
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    await Promise.all(responses.map((response) => response.arrayBuffer()));
  });
});
