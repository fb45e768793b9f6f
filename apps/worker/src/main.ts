import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { AppConfig, PinoNestLogger, RedisHealthIndicator, createRootLogger, exitWith, loadConfigOrExit } from '@tenantry/core';
import { createServer } from 'node:http';

import { WorkerModule } from './worker.module';

/** A Nest application context (no HTTP router) plus a bare health endpoint for the orchestrator. */
async function main(): Promise<void> {
  const startup = loadConfigOrExit();
  const logger = createRootLogger('worker', startup.logLevel);
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: new PinoNestLogger(logger), bufferLogs: true });
  const config = app.get(AppConfig);
  const health = await app.resolve(HealthCheckService);
  const db = await app.resolve(TypeOrmHealthIndicator);
  const redis = await app.resolve(RedisHealthIndicator);

  const server = createServer((req, res) => {
    const respond = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/health/live') return respond(200, { status: 'ok' });
    if (req.url === '/health/ready') {
      health
        .check([() => db.pingCheck('postgres', { timeout: 1500 }), () => redis.isHealthy('redis')])
        .then((result) => respond(200, result))
        .catch((error: { response?: unknown }) => respond(503, error.response ?? { status: 'error' }));
      return;
    }
    respond(404, { type: 'about:blank', title: 'Not Found', status: 404 });
  });
  server.listen(config.workerHealthPort, '127.0.0.1');
  logger.info({ queues: config.workerQueues, healthPort: config.workerHealthPort }, 'worker ready');
  const stop = async () => {
    server.close();
    await app.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch(exitWith);
