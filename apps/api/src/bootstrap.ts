import { NestFactory } from '@nestjs/core';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig, PinoNestLogger, configureHttpApp, createFastifyAdapter, createRootLogger, loadConfigOrExit } from '@tenantry/core';
import { AppModule } from './app.module';

export async function createApiApp(): Promise<NestFastifyApplication> {
  const logger = createRootLogger('api');
  const app = await NestFactory.create<NestFastifyApplication>(AppModule, createFastifyAdapter(logger), {
    rawBody: true,
    bufferLogs: true,
    logger: new PinoNestLogger(logger),
  });
  configureHttpApp(app, logger);
  return app;
}

export async function startApi(): Promise<void> {
  loadConfigOrExit();
  const app = await createApiApp();
  const config = app.get(AppConfig);
  await app.listen(config.port, config.host);
}
