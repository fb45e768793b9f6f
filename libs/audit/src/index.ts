export * from './audit.module';
export * from './audit.subscriber';
export * from './audited';
export * from './audit-logs.service';
export * from './dto/audit-log.dto';
