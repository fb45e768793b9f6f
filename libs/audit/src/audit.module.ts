import { Module } from '@nestjs/common';
import { AuditSubscriber } from './audit.subscriber';

/** The audit trail's writer: imported once per process (API and worker), it subscribes to every entity write. */
@Module({
  providers: [AuditSubscriber],
})
export class AuditModule {}
