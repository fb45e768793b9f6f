import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Config, PinoNestLogger, configureHttpApp, createFastifyAdapter, createRootLogger, loadConfigOrExit } from '@tenantry/core';
import { AppModule } from './app.module';

export async function createApiApp(config: Config): Promise<NestFastifyApplication> {
  const logger = createRootLogger('api', config.logLevel);
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createFastifyAdapter(logger, config), {
    rawBody: true,
    bufferLogs: true,
    logger: new PinoNestLogger(logger),
  });
  configureHttpApp(app, logger);
  return app;
}

export async function startApi(): Promise<void> {
  const config = loadConfigOrExit();
  const app = await createApiApp(config);
  await app.listen(config.port, config.host);
}
