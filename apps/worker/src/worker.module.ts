import { Module, OnApplicationShutdown } from '@nestjs/common';
import { AuditModule } from '@tenantry/audit';
import { ConfigModule, DatabaseModule, HealthModule, MetricsModule, RedisModule } from '@tenantry/core';
import { InvitationsModule } from '@tenantry/auth';
import { IntegrationsModule } from '@tenantry/integrations';
import { WebhooksModule } from '@tenantry/webhooks';
import { stopTracing } from '@tenantry/core/tracing/start-tracing';

/**
 * The worker: the same libs as the API, without their controllers, plus the queue processors; WORKER_QUEUES
 * chooses which queues a process consumes.
 */
@Module({
  imports: [
    ConfigModule,
    RedisModule,
    DatabaseModule.forRoot({ http: false }),
    HealthModule,
    MetricsModule.forRoot({ http: false }),
    AuditModule.forRoot({ http: false }),
    IntegrationsModule.forRoot({ http: false, worker: true }),
    WebhooksModule.forRoot({ http: false, worker: true }),
    InvitationsModule.forRoot({ http: false, worker: true }),
  ],
})
export class WorkerModule implements OnApplicationShutdown {
  /** Spans still buffered are exported before the process goes. */
  onApplicationShutdown(): Promise<void> {
    return stopTracing();
  }
}
