import { Module } from '@nestjs/common';
import { AuditModule } from '@tenantry/audit';
import { ConfigModule, DatabaseModule, HealthModule, RedisModule } from '@tenantry/core';

/**
 * The worker: the same libs as the API, without their controllers. Queues arrive with the webhooks and
 * integrations modules; WORKER_QUEUES chooses which of them a process consumes.
 */
@Module({
  imports: [ConfigModule, RedisModule, DatabaseModule.forRoot({ http: false }), HealthModule, AuditModule.forRoot({ http: false })],
})
export class WorkerModule {}
