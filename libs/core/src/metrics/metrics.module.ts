import { DynamicModule, Module } from '@nestjs/common';
import { Metrics } from './metrics';
import { MetricsAccessGuard, MetricsController } from './metrics.controller';

/**
 * The process's metrics: one `Metrics` (its own registry) for every module that counts something. Global, like the
 * config: ingest, processors and clients inject it without importing this module. `http` adds `GET /metrics`; the
 * worker serves the same registry on its health port instead.
 */
@Module({})
export class MetricsModule {
  static forRoot(options: { http: boolean }): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: options.http ? [MetricsController] : [],
      providers: [Metrics, MetricsAccessGuard],
      exports: [Metrics],
    };
  }
}
