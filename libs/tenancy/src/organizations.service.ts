import { Injectable, Logger } from '@nestjs/common';
import { asOrgId, isUniqueViolation, OrgId, Page, PageQueryDto, TenantContext, toPage, UnitOfWork } from '@tenantry/core';
import { UsersService } from '@tenantry/users';
import { EntityManager } from 'typeorm';
import { CreateOrganizationDto, UpdateOrganizationDto } from './dto/organization.dto';
import { Organization } from './organization.entity';
import { OrganizationError, OrganizationErrorCode } from './organizations.errors';

/**
 * Organizations are managed by the superadmin through the platform path, and seen by their own members through
 * the tenant path. Another organization is always "not found", whatever the caller's role.
 */
@Injectable()
export class OrganizationsService {
  private readonly logger = new Logger(OrganizationsService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly users: UsersService,
  ) {}

  private get isSuperadmin(): boolean {
    return this.context.actor.role === 'superadmin';
  }

  async create(input: CreateOrganizationDto): Promise<Organization> {
    const org = await this.uow.asPlatform(async (manager) => {
      const repo = manager.getRepository(Organization);
      let created: Organization;
      try {
        created = await repo.save(repo.create({ name: input.name, slug: input.slug }));
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new OrganizationError(OrganizationErrorCode.SlugTaken, `The slug "${input.slug}" is taken`);
        }
        throw error;
      }
      // The first admin is a tenant row: bind the new organization, and RLS checks the insert like any other.
      await this.uow.bindTenant(asOrgId(created.id));
      await this.users.create(asOrgId(created.id), { ...input.admin, role: 'admin' });
      return created;
    });
    this.logger.log({ event: 'organization.created', organizationId: org.id, slug: org.slug, actorId: this.context.actor.id });
    return org;
  }

  async list(query: PageQueryDto): Promise<Page<Organization>> {
    return this.uow.asPlatform(async (manager) => {
      const [rows, total] = await manager.getRepository(Organization).findAndCount({
        order: { createdAt: 'DESC', id: 'ASC' },
        skip: query.offset,
        take: query.limit,
      });
      return toPage(rows, total, query);
    });
  }

  current(): Promise<Organization> {
    return this.uow.run((manager) => this.findOrFail(manager, this.context.requireOrgId()));
  }

  get(id: string): Promise<Organization> {
    if (this.isSuperadmin) return this.uow.asPlatform((manager) => this.findOrFail(manager, id));
    return this.uow.run((manager) => this.findOrFail(manager, this.ownOrNotFound(id)));
  }

  async update(id: string, input: UpdateOrganizationDto): Promise<Organization> {
    const apply = async (manager: EntityManager) => {
      const org = await this.findOrFail(manager, id);
      if (input.name !== undefined) org.name = input.name;
      if (input.slug !== undefined) org.slug = input.slug;
      try {
        return await manager.getRepository(Organization).save(org);
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new OrganizationError(OrganizationErrorCode.SlugTaken, `The slug "${input.slug}" is taken`);
        }
        throw error;
      }
    };
    if (this.isSuperadmin) return this.uow.asPlatform(apply);
    this.ownOrNotFound(id);
    if (this.context.actor.role !== 'admin') {
      throw new OrganizationError(OrganizationErrorCode.Forbidden, 'Only an admin can change the organization');
    }
    if (input.slug !== undefined) {
      throw new OrganizationError(OrganizationErrorCode.Forbidden, 'Only the platform operator can change a slug');
    }
    return this.uow.run(apply);
  }

  async deactivate(id: string): Promise<void> {
    if (!this.isSuperadmin) {
      this.ownOrNotFound(id);
      throw new OrganizationError(OrganizationErrorCode.Forbidden, 'Only the platform operator can deactivate an organization');
    }
    await this.uow.asPlatform(async (manager) => {
      const org = await this.findOrFail(manager, id);
      if (org.status === 'deactivated') return;
      org.status = 'deactivated';
      org.deactivatedAt = new Date();
      await manager.getRepository(Organization).save(org);
    });
    this.logger.log({ event: 'organization.deactivated', organizationId: id, actorId: this.context.actor.id });
  }

  /** For a tenant user, any organization but their own does not exist. */
  private ownOrNotFound(id: string): OrgId {
    if (id !== this.context.orgId) throw OrganizationError.notFound();
    return asOrgId(id);
  }

  private async findOrFail(manager: EntityManager, id: string): Promise<Organization> {
    const org = await manager.getRepository(Organization).findOne({ where: { id } });
    if (!org) throw OrganizationError.notFound();
    return org;
  }
}
