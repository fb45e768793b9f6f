export * from './audit.module';
export * from './audit.subscriber';
export * from './audited';
