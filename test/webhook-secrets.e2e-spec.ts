import { RedisService, SecretBox } from '@tenantry/core';
import { randomBytes } from 'node:crypto';
import { WebhookSecretsService } from '@tenantry/webhooks';
import { LogCapture, TestApp } from './support/app';
import { connect, queryAsOwner } from './support/db';
import { TestOrganization, createOrganization, createUserWithToken, loginSuperadmin } from './support/factories';

/**
 * Webhook signing secrets: rotation over HTTP, what the ingest path reads (`forEndpoint`), and that no secret is ever
 * at rest or in a log in plaintext. The API runs in this process on the run's PostgreSQL and Redis.
 */
describe('webhook secrets', () => {
  const logs = new LogCapture();
  let t: TestApp;
  let service: WebhookSecretsService;
  let superToken: string;
  const grace = 3600;
  /** Every secret any test saw: none may appear in a log line. */
  const seen: string[] = [];

  beforeAll(async () => {
    t = await TestApp.boot({ webhookSecretGraceSeconds: grace }, logs);
    service = t.app.get(WebhookSecretsService);
    superToken = await loginSuperadmin(t);
  });

  afterAll(async () => {
    await t?.close();
  });

  const rotate = async (org: TestOrganization, provider = 'payment-service', headers: Record<string, string> = {}) => {
    const response = await t.request('POST', `/v1/integrations/${provider}/webhook-secret`, { token: org.admin.token, headers });
    if (response.body?.secret) seen.push(response.body.secret);
    return response;
  };

  it('creates a whsec_ secret on the first rotation, with no previous secret', async () => {
    const org = await createOrganization(t, superToken);
    const response = await rotate(org);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/), previousValidUntil: null });
    expect(Buffer.from(response.body.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(await service.forEndpoint(org.slug, 'payment-service')).toEqual({ orgId: org.id, secrets: [response.body.secret] });
  });

  it('keeps the previous secret working until now + WEBHOOK_SECRET_GRACE, then only the new one', async () => {
    const org = await createOrganization(t, superToken);
    const first = (await rotate(org, 'user-service')).body.secret;
    const before = Date.now();
    const second = await rotate(org, 'user-service');
    expect(second.status).toBe(201);
    expect(second.body.secret).not.toBe(first);
    const until = Date.parse(second.body.previousValidUntil);
    expect(until).toBeGreaterThanOrEqual(before + grace * 1000 - 1000);
    expect(until).toBeLessThanOrEqual(Date.now() + grace * 1000 + 1000);

    expect(await service.forEndpoint(org.slug, 'user-service')).toEqual({ orgId: org.id, secrets: [second.body.secret, first] });

    await queryAsOwner(`update webhook_secrets set previous_valid_until = now() - interval '1 second' where org_id = $1 and provider = 'user-service'`, [org.id]);
    // Still cached: the cache is what makes the ingest path cheap; the fresh read is what a failed signature asks for.
    expect(await service.forEndpointFresh(org.slug, 'user-service')).toEqual({ orgId: org.id, secrets: [second.body.secret] });
    service.invalidate(org.slug, 'user-service');
    expect(await service.forEndpoint(org.slug, 'user-service')).toEqual({ orgId: org.id, secrets: [second.body.secret] });
  });

  it('picks up a rotation made elsewhere with a fresh read, while the cache still answers the old secret', async () => {
    const org = await createOrganization(t, superToken);
    const first = (await rotate(org, 'communication-service')).body.secret;
    expect((await service.forEndpoint(org.slug, 'communication-service'))?.secrets).toEqual([first]);
    // Another process rotated, so this one's cache was not told: its row is written here as that process would.
    const second = 'whsec_' + randomBytes(32).toString('base64');
    const sealed = t.app.get(SecretBox).seal(second, `webhook-secret:${org.id}:communication-service`);
    await queryAsOwner(
      `update webhook_secrets set previous_secret = secret, previous_valid_until = now() + interval '1 hour', secret = $2
        where org_id = $1 and provider = 'communication-service'`,
      [org.id, sealed],
    );
    expect((await service.forEndpoint(org.slug, 'communication-service'))?.secrets).toEqual([first]);
    expect((await service.forEndpointFresh(org.slug, 'communication-service'))?.secrets).toEqual([second, first]);
  });

  it('answers both of two first rotations made at once: one secret, the other its previous', async () => {
    const org = await createOrganization(t, superToken);
    const [x, y] = await Promise.all([rotate(org, 'user-service'), rotate(org, 'user-service')]);
    expect([x.status, y.status]).toEqual([201, 201]);
    expect([x.body.previousValidUntil, y.body.previousValidUntil].filter((until) => until === null)).toHaveLength(1);
    const [newer, older] = x.body.previousValidUntil === null ? [y, x] : [x, y];
    expect(await service.forEndpointFresh(org.slug, 'user-service')).toEqual({ orgId: org.id, secrets: [newer.body.secret, older.body.secret] });
  });

  it('stores secrets only sealed: the row holds neither the secret, its base64 part nor its bytes', async () => {
    const org = await createOrganization(t, superToken);
    const first = (await rotate(org)).body.secret as string;
    const second = (await rotate(org)).body.secret as string;
    const [row] = await queryAsOwner<{ secret: Buffer; previous_secret: Buffer; text: string }>(
      `select secret, previous_secret, w::text as text from webhook_secrets w where org_id = $1 and provider = 'payment-service'`,
      [org.id],
    );
    for (const secret of [first, second]) {
      const encoded = secret.slice('whsec_'.length);
      for (const column of [row.secret, row.previous_secret]) {
        expect(column.includes(Buffer.from(secret))).toBe(false);
        expect(column.includes(Buffer.from(encoded))).toBe(false);
        expect(column.includes(Buffer.from(encoded, 'base64'))).toBe(false);
      }
      expect(row.text).not.toContain(encoded);
      expect(row.text).not.toContain(Buffer.from(encoded, 'base64').toString('hex'));
    }
    // The audit trail says that the secret changed, never what it is.
    const audits = await queryAsOwner<{ action: string; changes: Record<string, { from: unknown; to: unknown }> }>(
      `select action, changes from audit_logs where org_id = $1 and entity_type = 'webhook_secret' order by created_at`,
      [org.id],
    );
    expect(audits.map((a) => a.action)).toEqual(['create', 'update']);
    expect(audits[0].changes.secret).toEqual({ from: null, to: '[redacted]' });
    expect(audits[1].changes.secret).toEqual({ from: '[redacted]', to: '[redacted]' });
    expect(audits[1].changes.previousSecret).toEqual({ from: '[redacted]', to: '[redacted]' });
    expect(JSON.stringify(audits)).not.toContain(first.slice(6));
    expect(JSON.stringify(audits)).not.toContain(second.slice(6));
  });

  it('replays the same secret for the same Idempotency-Key, stored sealed in Redis', async () => {
    const org = await createOrganization(t, superToken);
    const first = await rotate(org, 'payment-service', { 'idempotency-key': 'rotate-1' });
    const again = await rotate(org, 'payment-service', { 'idempotency-key': 'rotate-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.headers['idempotency-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
    // Only one rotation happened: the replay did not make the first secret previous.
    expect((await service.forEndpointFresh(org.slug, 'payment-service'))?.secrets).toEqual([first.body.secret]);
    const redis = t.app.get(RedisService);
    const stored = await redis.client.get(redis.key('idempotency', `org:${org.id}`, 'rotate-1'));
    expect(stored).toEqual(expect.any(String));
    expect(stored).not.toContain(first.body.secret.slice(6));
    expect(JSON.parse(stored!)).not.toHaveProperty('body');
  });

  it("does not touch another organization's secret", async () => {
    const a = await createOrganization(t, superToken);
    const b = await createOrganization(t, superToken);
    const mine = (await rotate(a)).body.secret;
    const theirs = await rotate(b);
    expect(theirs.status).toBe(201);
    expect(theirs.body.previousValidUntil).toBeNull();
    await rotate(b);
    expect(await service.forEndpointFresh(a.slug, 'payment-service')).toEqual({ orgId: a.id, secrets: [mine] });
    // Row-level security: as the app role bound to B, A's row is not there to read or to change.
    const app = await connect('app');
    try {
      await app.query('begin');
      await app.query(`select set_config('app.tenant_id', $1, true)`, [b.id]);
      expect((await app.query(`select org_id from webhook_secrets where org_id = $1`, [a.id])).rowCount).toBe(0);
      expect((await app.query(`update webhook_secrets set previous_secret = null, previous_valid_until = null where org_id = $1`, [a.id])).rowCount).toBe(0);
      expect((await app.query(`select org_id from webhook_secrets`)).rows).toEqual([{ org_id: b.id }]);
      await app.query('rollback');
    } finally {
      await app.end();
    }
  });

  it('refuses viewers and members with 403, an unknown provider with a 404 problem', async () => {
    const org = await createOrganization(t, superToken);
    for (const role of ['viewer', 'member'] as const) {
      const user = await createUserWithToken(t, org, role);
      const response = await t.post('/v1/integrations/payment-service/webhook-secret', undefined, user.token);
      expect(response.status).toBe(403);
    }
    expect((await t.post('/v1/integrations/payment-service/webhook-secret', undefined, superToken)).status).toBe(403);
    const unknown = await t.post('/v1/integrations/billing-service/webhook-secret', undefined, org.admin.token);
    expect(unknown.status).toBe(404);
    expect(unknown.headers['content-type']).toContain('application/problem+json');
    expect(unknown.body.type).toContain('webhook_secret_unknown_provider');
    expect(await service.forEndpointFresh(org.slug, 'payment-service')).toBeNull();
  });

  it('answers null for an unknown slug, an unknown provider, no secret set, and a deactivated organization', async () => {
    const org = await createOrganization(t, superToken);
    expect(await service.forEndpoint(org.slug, 'payment-service')).toBeNull();
    await rotate(org);
    expect(await service.forEndpointFresh(org.slug, 'payment-service')).not.toBeNull();
    expect(await service.forEndpoint('no-such-org-anywhere', 'payment-service')).toBeNull();
    expect(await service.forEndpoint(org.slug, 'billing-service')).toBeNull();
    expect(await service.forEndpoint('bad\u0000slug', 'payment-service')).toBeNull();
    expect(await service.forEndpoint(org.slug.toUpperCase(), 'payment-service')).not.toBeNull();

    expect((await t.delete(`/v1/organizations/${org.id}`, superToken)).status).toBe(204);
    expect(await service.forEndpointFresh(org.slug, 'payment-service')).toBeNull();
    // The function itself says so, without any secret, in one row.
    const [row] = await queryAsOwner(`select * from webhook_endpoint_secrets($1, 'payment-service')`, [org.slug]);
    expect(row).toEqual({ org_id: org.id, org_active: false, secret: null, previous_secret: null, previous_valid_until: null });
  });

  it('never writes a secret to the logs', () => {
    expect(seen.length).toBeGreaterThan(5);
    const text = JSON.stringify(logs.lines);
    expect(logs.lines.some((line) => line.event === 'webhook_secret.rotated')).toBe(true);
    for (const secret of seen) expect(text).not.toContain(secret.slice('whsec_'.length));
  });
});
