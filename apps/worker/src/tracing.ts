import { startTracing } from '@tenantry/core/tracing/start-tracing';

// Imported first by main.ts: the instrumentations must patch http, pg and ioredis before anything requires them.
startTracing('tenantry-worker');
