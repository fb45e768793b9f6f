import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@tenantry/core';
import { PlatformAdmin } from './platform-admin.entity';

/** Platform admins live behind the platform policy: authentication reads them as a named system task. */
@Injectable()
export class PlatformAdminsRepository {
  constructor(private readonly uow: UnitOfWork) {}

  findWithPasswordByEmail(email: string): Promise<PlatformAdmin | null> {
    return this.uow.asPlatform((manager) =>
      manager
        .getRepository(PlatformAdmin)
        .createQueryBuilder('admin')
        .addSelect('admin.passwordHash')
        .where('lower(admin.email) = lower(:email)', { email })
        .getOne(),
      { systemTask: 'authenticate' },
    );
  }

  findById(id: string): Promise<PlatformAdmin | null> {
    return this.uow.asPlatform((manager) => manager.getRepository(PlatformAdmin).findOne({ where: { id } }), {
      systemTask: 'authenticate',
    });
  }
}
