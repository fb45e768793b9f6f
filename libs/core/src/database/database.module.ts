import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsService, ClsServiceManager } from 'nestjs-cls';
import { AppConfig } from '../config/app-config';
import { TenantContext } from '../context/tenant-context';
import { UnitOfWork } from './unit-of-work';

/**
 * The application's connection pool, as the app role (never the owner), plus the AsyncLocalStorage context that
 * carries the tenant and the current transaction. HTTP apps open that context in one Fastify hook per request
 * (`configureHttpApp`); the worker opens one per job (`TenantContext.runWithEnvelope`).
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: { http: boolean }): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            type: 'postgres' as const,
            url: config.databaseUrl,
            autoLoadEntities: true,
            synchronize: false,
            migrationsRun: false,
            logging: false,
            extra: { max: config.databasePoolSize, application_name: options.http ? 'tenantry-api' : 'tenantry-worker' },
          }),
        }),
      ],
      providers: [
        // The process's one ClsService, without ClsModule.forRoot: that module mounts a global guard and a global
        // interceptor (no-ops when not enabled) on every route, and any global interceptor puts each request through
        // RxJS. Contexts are opened by our own Fastify hook and per job, so nothing here needs them.
        { provide: ClsService, useFactory: () => ClsServiceManager.getClsService() },
        TenantContext,
        UnitOfWork,
      ],
      exports: [ClsService, TenantContext, UnitOfWork],
    };
  }
}
