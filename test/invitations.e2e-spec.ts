import { getQueueToken } from '@nestjs/bull';
import { HousekeepingService, HOUSEKEEPING_QUEUE, HOUSEKEEPING_JOB } from '@tenantry/integrations';
import { InvitationsWorker, mintInvitationToken, sealInvitationToken } from '@tenantry/auth';
import { parseConfig } from '@tenantry/core';
import type { Queue } from 'bull';
import { randomBytes, randomUUID } from 'node:crypto';
import { TestApp } from './support/app';
import { queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, createUser, createUserWithToken, login, loginSuperadmin, SUPERADMIN } from './support/factories';
import { Simulators, TestWorker, eventually, integrationOverrides, startSimulators, stopSimulators } from './support/integrations';

const TOKEN = /inv_[A-Za-z0-9_-]{43}/;
const NEW_PASSWORD = 'Invited-Password-123!';

/**
 * Invitations end to end: the API writes and queues, the worker (in this process, on a Redis prefix of its own so that
 * no other test file's worker takes these jobs) sends through the communication simulator, the invited user accepts.
 */
describe('invitations', () => {
  let t: TestApp;
  let worker: TestWorker;
  let simulators: Simulators;
  let superToken: string;
  let org: TestOrganization;

  beforeAll(async () => {
    simulators = await startSimulators();
    const overrides = { ...integrationOverrides(simulators), redisPrefix: `${process.env.REDIS_PREFIX}-inv-${randomBytes(3).toString('hex')}`, invitationRelayEveryMs: 300 };
    worker = await TestWorker.boot(overrides);
    t = await TestApp.boot(overrides);
    superToken = await loginSuperadmin(t);
    org = await createOrganization(t, superToken);
  });

  afterAll(async () => {
    await t?.close();
    await worker?.close();
    await stopSimulators(simulators);
  });

  afterEach(async () => {
    await simulators['communication-service'].control({});
  });

  const communication = () => simulators['communication-service'];

  /** The token of every message the simulator received for `email` (in the simulator's order). */
  const tokensSentTo = async (slug: string, email: string): Promise<string[]> => {
    const tokens: string[] = [];
    for (let page = 1; ; page++) {
      const answer = await communication().http('GET', `/orgs/${slug}/messages?limit=100&page=${page}`);
      for (const message of answer.body.data) {
        const token = message.recipient === email ? TOKEN.exec(String(message.body))?.[0] : undefined;
        if (token) tokens.push(token);
      }
      if (answer.body.data.length < 100) return tokens;
    }
  };

  const waitForTokens = (email: string, count: number, timeoutMs = 15_000) =>
    eventually(() => tokensSentTo(org.slug, email), (tokens) => tokens.length >= count, timeoutMs, 200);

  const invite = (userId: string, token = org.admin.token) => t.post(`/v1/users/${userId}/invitations`, {}, token);
  const accept = (token: string, password = NEW_PASSWORD) => t.post('/v1/auth/invitations/accept', { token, password });
  const withoutRequest = (body: Record<string, unknown>) => ({ ...body, instance: undefined, requestId: undefined });

  it('sends the token by e-mail, and the token activates the user once', async () => {
    const user = await createUser(t, org.admin.token);
    const invited = await invite(user.id);
    expect(invited.status).toBe(201);
    expect(invited.body).toEqual({ id: expect.any(String), userId: user.id, expiresAt: expect.any(String), delivery: 'queued' });
    const ttl = (Date.parse(invited.body.expiresAt) - Date.now()) / 1000;
    expect(ttl).toBeGreaterThan(parseConfig(process.env).invitationTtlSeconds - 60);

    const [token] = await waitForTokens(user.email, 1);
    // Stored only as a hash: neither the row nor anything else holds the plaintext once it was sent.
    const [row] = await queryAsOwner('select token_hash, token_ciphertext, sent_at from invitations where id = $1', [invited.body.id]);
    expect(row.sent_at).not.toBeNull();
    expect(row.token_ciphertext).toBeNull();
    expect(Buffer.from(row.token_hash).toString('utf8')).not.toContain(token);

    const accepted = await accept(token);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: expect.any(Number) });
    const me = await t.get('/v1/auth/me', accepted.body.accessToken);
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, email: user.email, organization: { id: org.id } });
    expect((await t.get(`/v1/users/${user.id}`, org.admin.token)).body.status).toBe('active');
    await expect(login(t, { organization: org.slug, email: user.email, password: NEW_PASSWORD })).resolves.toEqual(expect.any(String));

    // The activation is audited as the user's own change, with the password hash never shown.
    const audit = await t.get(`/v1/audit-logs?entityId=${user.id}&action=update`, org.admin.token);
    expect(audit.body.data[0]).toMatchObject({ actor: { type: 'user', id: user.id }, changes: { status: { from: 'pending', to: 'active' } } });
    expect(JSON.stringify(audit.body.data[0].changes)).not.toMatch(/argon2/);

    const again = await accept(token, 'Another-Password-123!');
    expect(again.status).toBe(401);
    const garbage = await accept('inv_not-a-real-token');
    expect(garbage.status).toBe(401);
    expect(withoutRequest(again.body)).toEqual(withoutRequest(garbage.body));
  });

  it('refuses an expired token and a replaced one with the same 401 as an unknown one', async () => {
    const unknown = await accept(mintInvitationToken().token);
    expect(unknown.status).toBe(401);

    const expiring = await createUser(t, org.admin.token);
    await invite(expiring.id);
    const [expiredToken] = await waitForTokens(expiring.email, 1);
    await queryAsOwner(`update invitations set expires_at = now() - interval '1 second' where user_id = $1`, [expiring.id]);
    const expired = await accept(expiredToken);
    expect(expired.status).toBe(401);
    expect(withoutRequest(expired.body)).toEqual(withoutRequest(unknown.body));

    const reinvited = await createUser(t, org.admin.token);
    const first = await invite(reinvited.id);
    const [firstToken] = await waitForTokens(reinvited.email, 1);
    const second = await invite(reinvited.id);
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    const secondToken = (await waitForTokens(reinvited.email, 2)).find((token) => token !== firstToken)!;
    const replaced = await accept(firstToken);
    expect(replaced.status).toBe(401);
    expect(withoutRequest(replaced.body)).toEqual(withoutRequest(unknown.body));
    expect((await accept(secondToken)).status).toBe(200);
    expect((await t.get(`/v1/users/${expiring.id}`, org.admin.token)).body.status).toBe('pending');
  });

  it('answers 201 while the communication service is down, and the message arrives within 30 s of its return', async () => {
    await communication().control({ down: true });
    const user = await createUser(t, org.admin.token);
    const invited = await invite(user.id);
    expect(invited.status).toBe(201);
    // The simulator answers nothing while down (its message list included): the row tells what happened.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const [row] = await queryAsOwner('select sent_at, delivery_attempts, last_error from invitations where id = $1', [invited.body.id]);
    expect(row).toMatchObject({ sent_at: null, last_error: expect.any(String) });
    expect(row.delivery_attempts).toBeGreaterThan(0);

    await communication().control({});
    const back = Date.now();
    const [token] = await waitForTokens(user.email, 1, 30_000);
    expect(Date.now() - back).toBeLessThan(30_000);
    expect((await accept(token)).status).toBe(200);
  }, 60_000);

  it('sends, through the relay, an invitation that was committed but never queued', async () => {
    const user = await createUser(t, org.admin.token);
    // What a crash between the commit and the enqueue leaves: the row, and no job.
    const id = randomUUID();
    const { token, hash } = mintInvitationToken();
    const sealed = sealInvitationToken(parseConfig(process.env).encryptionKey, id, token);
    await queryAsOwner(
      `insert into invitations (id, org_id, user_id, token_hash, token_ciphertext, expires_at, enqueued_at)
       values ($1, $2, $3, $4, $5, now() + interval '1 hour', now() - interval '1 minute')`,
      [id, org.id, user.id, hash, sealed],
    );
    const [sent] = await waitForTokens(user.email, 1, 20_000);
    expect(sent).toBe(token);
    const [row] = await queryAsOwner('select sent_at, token_ciphertext from invitations where id = $1', [id]);
    expect(row.sent_at).not.toBeNull();
    expect(row.token_ciphertext).toBeNull();
    // A replaced invitation is never relayed, nor sent.
    const other = await createUser(t, org.admin.token);
    const stale = randomUUID();
    const old = mintInvitationToken();
    await queryAsOwner(
      `insert into invitations (id, org_id, user_id, token_hash, token_ciphertext, expires_at, replaced_at)
       values ($1, $2, $3, $4, $5, now() + interval '1 hour', now())`,
      [stale, org.id, other.id, old.hash, sealInvitationToken(parseConfig(process.env).encryptionKey, stale, old.token)],
    );
    expect(await worker.get(InvitationsWorker).relayOnce()).toBe(0);
  }, 40_000);

  describe('who may invite, and what is refused', () => {
    it('answers 404 to another organization, 403 to a member or viewer, 409 for an active user', async () => {
      const pending = await createUser(t, org.admin.token);
      const other = await createOrganization(t, superToken);
      const foreign = await invite(pending.id, other.admin.token);
      expect(foreign.status).toBe(404);
      const missing = await invite(randomUUID(), other.admin.token);
      expect(withoutRequest(foreign.body)).toEqual({ ...withoutRequest(missing.body) });
      for (const role of ['member', 'viewer'] as const) {
        const caller = await createUserWithToken(t, org, role);
        expect((await invite(pending.id, caller.token)).status).toBe(403);
      }
      const active = await createUserWithToken(t, org, 'member');
      expect((await invite(active.id)).status).toBe(409);
      expect((await invite('not-a-uuid')).status).toBe(400);
      expect(await queryAsOwner('select id from invitations where user_id = $1', [pending.id])).toEqual([]);
    });

    it('answers 400 to a bad accept body and 401 to a garbage token', async () => {
      const token = mintInvitationToken().token;
      expect((await t.post('/v1/auth/invitations/accept', { token })).status).toBe(400);
      expect((await accept(token, 'short')).status).toBe(400);
      expect((await t.post('/v1/auth/invitations/accept', { token, password: NEW_PASSWORD, role: 'admin' })).status).toBe(400);
      expect((await t.post('/v1/auth/invitations/accept', { password: NEW_PASSWORD })).status).toBe(400);
      expect((await accept('garbage')).status).toBe(401);
    });
  });

  describe('housekeeping', () => {
    const hashOf = (token: string) => `sha256(convert_to(${token}, 'UTF8'))`;

    it('registers the repeatable purge once', async () => {
      const queue = worker.module.get<Queue>(getQueueToken(HOUSEKEEPING_QUEUE), { strict: false });
      const repeatables = (await queue.getRepeatableJobs()).filter((job) => job.name === HOUSEKEEPING_JOB);
      expect(repeatables).toHaveLength(1);
    });

    it('purges expired and long-revoked refresh tokens, spent and expired invitations, and keeps the live ones', async () => {
      const user = await createUserWithToken(t, org, 'member');
      const pair = async () => (await t.post('/v1/auth/login', { organization: org.slug, email: user.email, password: user.password })).body;
      const expired = await pair();
      const revoked = await pair();
      const live = await pair();
      expect((await t.post('/v1/auth/logout', { refreshToken: revoked.refreshToken }, revoked.accessToken)).status).toBe(204);
      await queryAsOwner(`update refresh_tokens set expires_at = now() - interval '2 days' where token_hash = ${hashOf('$1')}`, [expired.refreshToken]);
      await queryAsOwner(
        `update refresh_token_families set revoked_at = now() - interval '2 days' where id = (select family_id from refresh_tokens where token_hash = ${hashOf('$1')})`,
        [revoked.refreshToken],
      );
      const platform = (await t.post('/v1/auth/login', SUPERADMIN)).body;
      const platformLive = (await t.post('/v1/auth/login', SUPERADMIN)).body;
      await queryAsOwner(`update platform_refresh_tokens set expires_at = now() - interval '2 days' where token_hash = ${hashOf('$1')}`, [platform.refreshToken]);

      const spent = await createUser(t, org.admin.token);
      const lapsed = await createUser(t, org.admin.token);
      const waiting = await createUser(t, org.admin.token);
      for (const u of [spent, lapsed, waiting]) expect((await invite(u.id)).status).toBe(201);
      await queryAsOwner(`update invitations set used_at = now() - interval '2 days' where user_id = $1`, [spent.id]);
      await queryAsOwner(`update invitations set expires_at = now() - interval '2 days' where user_id = $1`, [lapsed.id]);

      const counts = await worker.get(HousekeepingService).purge();
      expect(counts.refreshTokens).toBeGreaterThanOrEqual(2);
      expect(counts.refreshTokenFamilies).toBeGreaterThanOrEqual(1);
      expect(counts.platformRefreshTokens).toBeGreaterThanOrEqual(1);
      expect(counts.invitations).toBeGreaterThanOrEqual(2);

      const tokenExists = async (table: string, token: string) =>
        (await queryAsOwner(`select 1 from ${table} where token_hash = ${hashOf('$1')}`, [token])).length === 1;
      expect(await tokenExists('refresh_tokens', expired.refreshToken)).toBe(false);
      expect(await tokenExists('refresh_tokens', revoked.refreshToken)).toBe(false);
      expect(await tokenExists('refresh_tokens', live.refreshToken)).toBe(true);
      expect(await tokenExists('platform_refresh_tokens', platform.refreshToken)).toBe(false);
      expect(await tokenExists('platform_refresh_tokens', platformLive.refreshToken)).toBe(true);
      expect((await t.post('/v1/auth/refresh', { refreshToken: live.refreshToken })).status).toBe(200);

      const invitationsOf = async (userId: string) => (await queryAsOwner('select id from invitations where user_id = $1', [userId])).length;
      expect(await invitationsOf(spent.id)).toBe(0);
      expect(await invitationsOf(lapsed.id)).toBe(0);
      expect(await invitationsOf(waiting.id)).toBe(1);
    });

    it('runs the purge as a job on the housekeeping queue', async () => {
      const queue = worker.module.get<Queue>(getQueueToken(HOUSEKEEPING_QUEUE), { strict: false });
      const job = await queue.add(HOUSEKEEPING_JOB, {});
      const result = await job.finished();
      expect(result).toMatchObject({ refreshTokens: expect.any(Number), invitations: expect.any(Number) });
    });
  });
});
