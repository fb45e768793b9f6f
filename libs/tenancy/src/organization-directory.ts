import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { OrgId, asOrgId } from '@tenantry/core';
import { DataSource } from 'typeorm';
import { OrganizationStatus } from './organization.entity';

export interface ResolvedOrganization {
  id: OrgId;
  slug: string;
  name: string;
  status: OrganizationStatus;
}

/**
 * Slug to organization, before anyone is authenticated (login, webhooks, SSO). It calls the narrow
 * `resolve_organization` function instead of opening the organizations table to unauthenticated reads.
 */
@Injectable()
export class OrganizationDirectory {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async resolve(slug: string): Promise<ResolvedOrganization | null> {
    if (!/^[a-z0-9-]{1,63}$/i.test(slug)) return null;
    const rows: ResolvedOrganization[] = await this.dataSource.query('select * from resolve_organization($1)', [slug]);
    return rows[0] ? { ...rows[0], id: asOrgId(rows[0].id) } : null;
  }
}
