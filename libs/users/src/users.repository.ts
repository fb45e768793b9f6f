import { Injectable } from '@nestjs/common';
import { OrgId, OrgRole, UnitOfWork } from '@tenantry/core';
import { Repository } from 'typeorm';
import { User } from './user.entity';

export interface TokenState {
  status: string;
  role: OrgRole;
  tokenVersion: number;
  orgStatus: string;
}

/**
 * Tenant-bound access to users. It works on the current unit of work's transaction: RLS scopes every query to the
 * bound organization, and the `orgId` parameters keep the intent visible (and typed) at the call sites.
 */
@Injectable()
export class UsersRepository {
  constructor(private readonly uow: UnitOfWork) {}

  private get repo(): Repository<User> {
    return this.uow.manager.getRepository(User);
  }

  findById(orgId: OrgId, id: string): Promise<User | null> {
    return this.repo.findOne({ where: { orgId, id } });
  }

  /** The only query that loads a password hash: login and password changes need it, nothing else does. */
  findWithPasswordByEmail(orgId: OrgId, email: string): Promise<User | null> {
    return this.repo
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.orgId = :orgId and lower(user.email) = lower(:email)', { orgId, email })
      .getOne();
  }

  /** What the token check needs on every request: the user's and the organization's state, in one query. */
  async findTokenState(orgId: OrgId, id: string): Promise<TokenState | null> {
    const rows: Array<{ status: string; role: OrgRole; token_version: number; org_status: string }> = await this.uow.manager.query(
      `select u.status, u.role, u.token_version, o.status as org_status
         from users u join organizations o on o.id = u.org_id
        where u.id = $1 and u.org_id = $2`,
      [id, orgId],
    );
    const row = rows[0];
    return row ? { status: row.status, role: row.role, tokenVersion: row.token_version, orgStatus: row.org_status } : null;
  }

  async insert(orgId: OrgId, data: Pick<User, 'email' | 'name' | 'role'> & Partial<User>): Promise<User> {
    const user = this.repo.create({ ...data, orgId });
    const saved = await this.repo.save(user);
    delete (saved as Partial<User>).passwordHash;
    return saved;
  }
}
