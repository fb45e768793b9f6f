import { BullModule } from '@nestjs/bull';
import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig, HealthModule } from '@tenantry/core';
import { User } from '@tenantry/users';
import { IntegrationClients } from './integration-clients';
import { CircuitMetrics, QueueMetrics } from './integration-metrics';
import { IntegrationStateStore } from './integration-state';
import { IntegrationsController, IntegrationsHealthController, SyncedDataController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';
import { HousekeepingService, HousekeepingWorker } from './housekeeping';
import { IntegrationsWorker } from './integrations.worker';
import { QUEUE_NAMES, bullRootOptions, closeBullConnections } from './queues';
import { QueueRegistry } from './queue-registry';
import { Reconciler } from './reconciler';
import { SyncService } from './sync.service';
import { Invoice, Subscription, SyncedMessage } from './synced.entities';

/**
 * The external services: resilient clients, their queues, pull sync and health. The API gets the controllers and
 * only produces jobs; the worker gets the processors (`worker: true`), for the queues `WORKER_QUEUES` names.
 */
@Module({})
export class IntegrationsModule implements OnApplicationShutdown {
  constructor(
    private readonly queues: QueueRegistry,
    @Inject('BULL_CONFIG(default)') private readonly bullOptions: Parameters<typeof closeBullConnections>[0],
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(QUEUE_NAMES.map((name) => this.queues.get(name).close().catch(() => undefined)));
    closeBullConnections(this.bullOptions);
  }

  static forRoot(options: { http: boolean; worker: boolean }): DynamicModule {
    return {
      module: IntegrationsModule,
      // One set of queues and clients per process, for every module that talks to the services (webhooks,
      // invitations): imported once, by the app or the worker.
      global: true,
      imports: [
        BullModule.forRootAsync({ inject: [AppConfig], useFactory: (config: AppConfig) => bullRootOptions(config) }),
        BullModule.registerQueue(...QUEUE_NAMES.map((name) => ({ name }))),
        TypeOrmModule.forFeature([User, Subscription, Invoice, SyncedMessage]),
        HealthModule,
      ],
      controllers: options.http ? [IntegrationsController, SyncedDataController, IntegrationsHealthController] : [],
      providers: [
        QueueRegistry,
        IntegrationStateStore,
        IntegrationClients,
        Reconciler,
        SyncService,
        IntegrationsService,
        HousekeepingService,
        CircuitMetrics,
        ...(options.http ? [QueueMetrics] : []),
        ...(options.worker ? [IntegrationsWorker, HousekeepingWorker] : []),
      ],
      exports: [QueueRegistry, IntegrationClients, IntegrationsService, HousekeepingService, Reconciler, IntegrationStateStore, BullModule],
    };
  }
}
