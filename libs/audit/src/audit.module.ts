import { DynamicModule, Module } from '@nestjs/common';
import { AuditLogsController } from './audit-logs.controller';
import { AuditLogsService } from './audit-logs.service';
import { AuditSubscriber } from './audit.subscriber';

/**
 * The audit trail: its writer (subscribed to every entity write, in the API and the worker alike) and, over HTTP, its
 * query API. The worker imports it without controllers.
 */
@Module({})
export class AuditModule {
  static forRoot(options: { http: boolean }): DynamicModule {
    return {
      module: AuditModule,
      controllers: options.http ? [AuditLogsController] : [],
      providers: [AuditSubscriber, AuditLogsService],
      exports: [AuditLogsService],
    };
  }
}
