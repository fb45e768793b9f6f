import { Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import { AuditModule } from '@tenantry/audit';
import { AuthModule, InvitationsModule, JwtAuthGuard, RolesGuard } from '@tenantry/auth';
import { IntegrationsModule } from '@tenantry/integrations';
import {
  AppConfig,
  ConfigModule,
  DatabaseModule,
  HealthModule,
  MetricsModule,
  RedisModule,
  RedisThrottlerStorage,
  throttlerOptions,
} from '@tenantry/core';
import { SuperadminBootstrap, TenancyModule } from '@tenantry/tenancy';
import { UsersModule } from '@tenantry/users';
import { WebhooksModule } from '@tenantry/webhooks';
import { stopTracing } from '@tenantry/core/tracing/start-tracing';

/** The HTTP API: controllers come from the libs; guards run in order: token, role, rate limit. */
@Module({
  imports: [
    ConfigModule,
    RedisModule,
    DatabaseModule.forRoot({ http: true }),
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, RedisThrottlerStorage],
      useFactory: (config: AppConfig, storage: RedisThrottlerStorage) => throttlerOptions(config, storage),
    }),
    HealthModule,
    MetricsModule.forRoot({ http: true }),
    AuditModule.forRoot({ http: true }),
    TenancyModule,
    UsersModule,
    AuthModule,
    IntegrationsModule.forRoot({ http: true, worker: false }),
    WebhooksModule.forRoot({ http: true, worker: false }),
    InvitationsModule.forRoot({ http: true, worker: false }),
  ],
  providers: [
    { provide: APP_GUARD, useExisting: JwtAuthGuard },
    { provide: APP_GUARD, useExisting: RolesGuard },
    { provide: APP_GUARD, useClass: ThrottlerGuard },
    SuperadminBootstrap,
  ],
})
export class AppModule implements OnApplicationShutdown {
  /** Spans still buffered are exported before the process goes. */
  onApplicationShutdown(): Promise<void> {
    return stopTracing();
  }
}
