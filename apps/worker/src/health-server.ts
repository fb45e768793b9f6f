import type { INestApplicationContext } from '@nestjs/common';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppConfig, Metrics, RedisHealthIndicator, metricsAccess } from '@tenantry/core';
import { Server, ServerResponse, createServer } from 'node:http';

const problem = (res: ServerResponse, status: number, title: string, detail: string) =>
  res
    .writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8', ...(status === 401 ? { 'www-authenticate': 'Bearer' } : {}) })
    .end(JSON.stringify({ type: 'about:blank', title, status, detail }));

/**
 * The worker's only HTTP: liveness and readiness for the orchestrator, and its own Prometheus metrics (processing
 * outcomes, its breakers, the process defaults) under the API's access rule: loopback, or METRICS_TOKEN as a bearer.
 */
export async function createWorkerHealthServer(app: INestApplicationContext): Promise<Server> {
  const config = app.get(AppConfig);
  const metrics = app.get(Metrics, { strict: false });
  const health = await app.resolve(HealthCheckService);
  const db = await app.resolve(TypeOrmHealthIndicator);
  const redis = await app.resolve(RedisHealthIndicator);

  return createServer((req, res) => {
    const respond = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health/live') return respond(200, { status: 'ok' });
    if (path === '/health/ready') {
      health
        .check([() => db.pingCheck('postgres', { timeout: 1500 }), () => redis.isHealthy('redis')])
        .then((result) => respond(200, result))
        .catch((error: { response?: unknown }) => respond(503, error.response ?? { status: 'error' }));
      return;
    }
    if (path === '/metrics') {
      if (req.method !== 'GET') return problem(res, 405, 'Method Not Allowed', 'Scrape metrics with GET');
      const access = metricsAccess(config.metricsToken, req.socket.remoteAddress, req.headers);
      if (access === 'unauthorized') return problem(res, 401, 'Unauthorized', 'Send METRICS_TOKEN as a bearer token to scrape metrics from outside this host');
      if (access === 'forbidden') return problem(res, 403, 'Forbidden', 'Metrics are served to loopback only: set METRICS_TOKEN to scrape them from elsewhere');
      metrics
        .render()
        .then((text) => res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(text))
        .catch(() => problem(res, 500, 'Internal Server Error', 'The metrics could not be collected'));
      return;
    }
    problem(res, 404, 'Not Found', `No route ${req.method} ${path}`);
  });
}
