import './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppConfig, PinoNestLogger, createRootLogger, exitWith, loadConfigOrExit } from '@tenantry/core';
import { createWorkerHealthServer } from './health-server';

import { WorkerModule } from './worker.module';

/** A Nest application context (no HTTP router) plus a bare health and metrics server for the orchestrator. */
async function main(): Promise<void> {
  const startup = loadConfigOrExit();
  const logger = createRootLogger('worker', startup.logLevel);
  const app = await NestFactory.createApplicationContext(WorkerModule, { logger: new PinoNestLogger(logger), bufferLogs: true });
  const config = app.get(AppConfig);
  const server = await createWorkerHealthServer(app);
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
