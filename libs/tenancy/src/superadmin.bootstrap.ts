import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig, PasswordHasher, StartupError, SYSTEM_ACTOR, TenantContext, UnitOfWork } from '@tenantry/core';
import { PlatformAdmin } from './platform-admin.entity';

export class SuperadminBootstrapError extends StartupError {}

/**
 * First start: creates the platform operator from SUPERADMIN_EMAIL / SUPERADMIN_PASSWORD. Once any superadmin
 * exists, later starts change nothing, whatever those variables say. An advisory lock makes two API processes
 * starting together create one.
 */
@Injectable()
export class SuperadminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(SuperadminBootstrap.name);

  constructor(
    private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly hasher: PasswordHasher,
  ) {}

  onApplicationBootstrap(): Promise<void> {
    return this.context.runWithEnvelope({ orgId: null, actor: SYSTEM_ACTOR, requestId: 'bootstrap' }, () => this.run());
  }

  async run(): Promise<void> {
    const created = await this.uow.asPlatform(async (manager) => {
      await manager.query(`select pg_advisory_xact_lock(hashtext('tenantry:superadmin-bootstrap'))`);
      const existing = await manager.getRepository(PlatformAdmin).count();
      if (existing > 0) return null;
      const { superadminEmail: email, superadminPassword: password } = this.config;
      if (!email || !password) {
        throw new SuperadminBootstrapError(
          'No superadmin exists yet: set SUPERADMIN_EMAIL and SUPERADMIN_PASSWORD (see .env.example) for the first start',
        );
      }
      const repo = manager.getRepository(PlatformAdmin);
      return repo.save(repo.create({ email, name: 'Platform superadmin', passwordHash: await this.hasher.hash(password) }));
    }, { systemTask: 'superadmin-bootstrap' });
    if (created) this.logger.log({ event: 'superadmin.created', email: created.email }, 'Created the superadmin account');
  }
}
