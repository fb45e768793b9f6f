import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '@tenantry/users';
import { Organization } from './organization.entity';
import { OrganizationDirectory } from './organization-directory';
import { OrganizationsController } from './organizations.controller';
import { OrganizationsService } from './organizations.service';
import { PlatformAdmin } from './platform-admin.entity';
import { PlatformAdminsRepository } from './platform-admins.repository';
import { SuperadminBootstrap } from './superadmin.bootstrap';

@Module({
  imports: [TypeOrmModule.forFeature([Organization, PlatformAdmin]), UsersModule],
  controllers: [OrganizationsController],
  providers: [OrganizationsService, OrganizationDirectory, PlatformAdminsRepository, SuperadminBootstrap],
  exports: [OrganizationsService, OrganizationDirectory, PlatformAdminsRepository, SuperadminBootstrap],
})
export class TenancyModule {}
