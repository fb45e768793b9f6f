'use strict';
/**
 * The bare Fastify baselines: each route does what the API's route must do and nothing more (see
 * /work/shared/BENCH-METHOD.md, "Same-work baselines"). One process serves one baseline, chosen by BASELINE:
 *   hello       GET /hello: the JSON that GET /health/live answers
 *   auth-me     GET /v1/auth/me: verify the HS256 token with a KeyObject, then in one transaction bound to the tenant
 *               read the user joined with its organization, refuse a stale token, answer the same body
 *   users-list  GET /v1/users?limit=20: verify the token, then in one transaction bound to the tenant read the newest
 *               page and its total with `count(*) over ()`, answer {data, meta}
 *   echo        POST /v1/webhooks/:orgSlug/:provider: read the JSON body (Fastify's own parser) and answer 202 with the
 *               ingest route's body shape; no signature, no database, no queue (the floor under webhook ingest)
 * Env: PORT, HOST, LOG_LEVEL, and for the database routes DATABASE_URL (the app role), DATABASE_POOL_SIZE, JWT_SECRET.
 */
const crypto = require('node:crypto');
const Fastify = require('fastify');

const ISSUER = 'tenantry';
const AUDIENCE = 'tenantry-api';

const mode = process.env.BASELINE;
// The same log level as the API: at `warn` neither side writes an access-log line.
const app = Fastify({ logger: { level: process.env.LOG_LEVEL || 'warn' } });

function databaseRoutes() {
  const jwt = require('jsonwebtoken');
  const { Pool } = require('pg');
  const key = crypto.createSecretKey(Buffer.from(process.env.JWT_SECRET, 'utf8'));
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DATABASE_POOL_SIZE || 10) });
  pool.on('error', () => undefined);
  app.addHook('onClose', () => pool.end());

  /** The verified claims, or null (the API answers 401 to anything it cannot verify). */
  function claimsOf(request) {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !header.startsWith('Bearer ')) return null;
    try {
      return jwt.verify(header.slice(7), key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    } catch {
      return null;
    }
  }

  /** begin, set_config(app.tenant_id) local to the transaction, the work, commit: the API's unit of work. */
  async function inTenant(orgId, work) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await client.query("select set_config('app.tenant_id', $1, true)", [orgId]);
      const result = await work(client);
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  const unauthorized = (reply) => reply.code(401).send({ status: 401, title: 'Unauthorized' });

  if (mode === 'auth-me') {
    app.get('/v1/auth/me', async (request, reply) => {
      const claims = claimsOf(request);
      if (!claims || !claims.org) return unauthorized(reply);
      const { rows } = await inTenant(claims.org, (client) =>
        client.query(
          `select u.id, u.email, u.name, u.role, u.status, u.token_version,
                  o.id as org_id, o.slug as org_slug, o.name as org_name, o.status as org_status
             from users u join organizations o on o.id = u.org_id
            where u.id = $1 and u.org_id = $2`,
          [claims.sub, claims.org],
        ),
      );
      const row = rows[0];
      if (!row || row.status !== 'active' || row.org_status !== 'active' || row.token_version !== claims.ver) return unauthorized(reply);
      return {
        id: row.id,
        email: row.email,
        name: row.name,
        role: row.role,
        organization: { id: row.org_id, slug: row.org_slug, name: row.org_name },
      };
    });
  } else if (mode === 'users-list') {
    app.get('/v1/users', async (request, reply) => {
      const claims = claimsOf(request);
      if (!claims || !claims.org) return unauthorized(reply);
      const limit = 20;
      const { rows } = await inTenant(claims.org, (client) =>
        client.query(
          `select id, org_id, email, name, role, status, source, external_id, token_version, created_at, updated_at,
                  count(*) over () as total
             from users
            where org_id = $1
            order by created_at desc, id desc
            limit $2`,
          [claims.org, limit],
        ),
      );
      return {
        data: rows.map((row) => ({
          id: row.id,
          email: row.email,
          name: row.name,
          role: row.role,
          status: row.status,
          externalId: row.external_id,
          source: row.source,
          createdAt: row.created_at.toISOString(),
          updatedAt: row.updated_at.toISOString(),
        })),
        meta: { page: 1, limit, total: rows.length ? Number(rows[0].total) : 0 },
      };
    });
  } else {
    throw new Error(`unknown BASELINE "${mode}"`);
  }
}

if (mode === 'hello') {
  app.get('/hello', (_request, reply) => {
    void reply.send({ status: 'ok' });
  });
} else if (mode === 'echo') {
  app.post('/v1/webhooks/:orgSlug/:provider', (request, reply) => {
    const events = Array.isArray(request.body) ? request.body : [request.body];
    void reply.code(202).send({ results: events.map((event) => ({ id: typeof event?.id === 'string' ? event.id : null, status: 'accepted' })) });
  });
} else {
  databaseRoutes();
}

app.listen({ port: Number(process.env.PORT), host: process.env.HOST || '127.0.0.1' }).catch((error) => {
  console.error(error);
  process.exit(1);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    app.close().finally(() => process.exit(0));
  });
}
