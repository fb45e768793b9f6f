import { Injectable } from '@nestjs/common';
import { OrgId, OrgRole, UnitOfWork } from '@tenantry/core';
import { Repository } from 'typeorm';
import { UserSortField } from './dto/list-users-query.dto';
import { User, UserStatus } from './user.entity';

/** A user with their organization: who `GET /v1/auth/me` says the caller is. */
export interface UserWithOrganization {
  id: string;
  email: string;
  name: string;
  role: OrgRole;
  organization: { id: string; slug: string; name: string };
}

export interface UserFilter {
  role?: OrgRole;
  status?: UserStatus;
  /** Substring of the e-mail or name, matched case-insensitively and literally (`%` and `_` are not wildcards). */
  q?: string;
  sort: { field: UserSortField; direction: 'ASC' | 'DESC' };
  offset: number;
  limit: number;
}

const SORT_COLUMNS: Record<UserSortField, string> = { createdAt: 'created_at', email: 'email', name: 'name' };
/** Every column of `User` but the password hash, as `fromRow` reads them. */
const USER_COLUMNS = 'id, org_id, email, name, role, status, source, external_id, token_version, created_at, updated_at';

interface UserRow {
  id: string;
  org_id: string;
  email: string;
  name: string;
  role: OrgRole;
  status: UserStatus;
  source: User['source'];
  external_id: string | null;
  token_version: number;
  created_at: Date;
  updated_at: Date;
}

function fromRow(row: UserRow): User {
  return Object.assign(new User(), {
    id: row.id,
    orgId: row.org_id,
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    source: row.source,
    externalId: row.external_id,
    tokenVersion: row.token_version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
}

/** `\`, `%` and `_` taken literally in a LIKE pattern whose escape character is `\`. */
export const escapeLike = (value: string): string => value.replace(/[\\%_]/g, (char) => `\\${char}`);

/**
 * Tenant-bound access to users. It works on the current unit of work's transaction: RLS scopes every query to the
 * bound organization, and the `orgId` parameters keep the intent visible (and typed) at the call sites.
 * Writes go through the entity path (`save`), so entity subscribers (audit) see every row.
 */
@Injectable()
export class UsersRepository {
  constructor(private readonly uow: UnitOfWork) {}

  private get repo(): Repository<User> {
    return this.uow.manager.getRepository(User);
  }

  async findById(orgId: OrgId, id: string): Promise<User | null> {
    const rows = await this.uow.query<UserRow>(`select ${USER_COLUMNS} from users where org_id = $1 and id = $2`, [orgId, id]);
    return rows[0] ? fromRow(rows[0]) : null;
  }

  /** The user joined with their organization, in one query. */
  async findWithOrganization(orgId: OrgId, id: string): Promise<UserWithOrganization | null> {
    const rows = await this.uow.query<{ id: string; email: string; name: string; role: OrgRole; org_id: string; org_slug: string; org_name: string }>(
        `select u.id, u.email, u.name, u.role, o.id as org_id, o.slug as org_slug, o.name as org_name
           from users u join organizations o on o.id = u.org_id
          where u.org_id = $1 and u.id = $2`,
        [orgId, id],
      );
    const row = rows[0];
    if (!row) return null;
    return { id: row.id, email: row.email, name: row.name, role: row.role, organization: { id: row.org_id, slug: row.org_slug, name: row.org_name } };
  }

  /** The row, locked until the transaction ends: what a read-modify-write of a user starts with. */
  findByIdForUpdate(orgId: OrgId, id: string): Promise<User | null> {
    return this.repo
      .createQueryBuilder('user')
      .where('user.orgId = :orgId and user.id = :id', { orgId, id })
      .setLock('pessimistic_write')
      .getOne();
  }

  /**
   * Locks the organization's active admins (in id order, so that concurrent callers cannot deadlock) and returns their
   * ids. Two transactions that could each remove an admin serialize here; the second one sees the first one's result.
   */
  async lockActiveAdmins(orgId: OrgId): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.uow.manager.query(
      `select id from users where org_id = $1 and role = 'admin' and status = 'active' order by id for update`,
      [orgId],
    );
    return rows.map((row) => row.id);
  }

  /**
   * A page and the total that matches, in one prepared query (`count(*) over ()`); the statement's text depends only
   * on which filters are present and the sort, so each shape is parsed once per connection. Only a page past the end,
   * which has no row to carry the total, costs a second query.
   */
  async list(orgId: OrgId, filter: UserFilter): Promise<[User[], number]> {
    const values: unknown[] = [orgId];
    const where = ['org_id = $1'];
    if (filter.role) where.push(`role = $${values.push(filter.role)}`);
    if (filter.status) where.push(`status = $${values.push(filter.status)}`);
    if (filter.q) {
      const n = values.push(`%${escapeLike(filter.q)}%`);
      where.push(`(email ilike $${n} escape '\\' or name ilike $${n} escape '\\')`);
    }
    const conditions = where.join(' and ');
    const direction = filter.sort.direction === 'DESC' ? 'desc' : 'asc';
    const rows = await this.uow.query<UserRow & { total: string }>(
      `select ${USER_COLUMNS}, count(*) over () as total from users where ${conditions}
        order by ${SORT_COLUMNS[filter.sort.field]} ${direction}, id ${direction}
        limit $${values.push(filter.limit)} offset $${values.push(filter.offset)}`,
      values,
    );
    if (rows.length > 0) return [rows.map(fromRow), Number(rows[0].total)];
    if (filter.offset === 0) return [[], 0];
    const [{ total }] = await this.uow.query<{ total: string }>(`select count(*) as total from users where ${conditions}`, values.slice(0, -2));
    return [[], Number(total)];
  }

  /** Which of `emails` (lower-cased) already belong to a user of the organization, in one query. */
  async existingEmails(orgId: OrgId, lowerCasedEmails: string[]): Promise<Set<string>> {
    if (lowerCasedEmails.length === 0) return new Set();
    const rows: Array<{ email: string }> = await this.uow.manager.query(
      `select lower(email) as email from users where org_id = $1 and lower(email) = any($2::text[])`,
      [orgId, lowerCasedEmails],
    );
    return new Set(rows.map((row) => row.email));
  }

  /** The only query that loads a password hash: login and password changes need it, nothing else does. */
  findWithPasswordByEmail(orgId: OrgId, email: string): Promise<User | null> {
    return this.repo
      .createQueryBuilder('user')
      .addSelect('user.passwordHash')
      .where('user.orgId = :orgId and lower(user.email) = lower(:email)', { orgId, email })
      .getOne();
  }

  async passwordHashOf(orgId: OrgId, id: string): Promise<string | null> {
    const user = await this.repo
      .createQueryBuilder('user')
      .select(['user.id', 'user.passwordHash'])
      .where('user.orgId = :orgId and user.id = :id', { orgId, id })
      .getOne();
    return user?.passwordHash ?? null;
  }

  async insert(orgId: OrgId, data: Pick<User, 'email' | 'name' | 'role'> & Partial<User>): Promise<User> {
    const user = this.repo.create({ ...data, orgId });
    const saved = await this.repo.save(user);
    return withoutPasswordHash(saved);
  }

  /** Many new users in multi-row INSERTs of `chunk` rows each; ids and timestamps are filled in on the returned rows. */
  async insertMany(orgId: OrgId, rows: Array<Pick<User, 'email' | 'name' | 'role'> & Partial<User>>, chunk = 200): Promise<User[]> {
    if (rows.length === 0) return [];
    const users = rows.map((data) => this.repo.create({ ...data, orgId }));
    const saved = await this.repo.save(users, { chunk });
    return saved.map(withoutPasswordHash);
  }

  /** Saves a loaded (and changed) user. */
  async update(orgId: OrgId, user: User): Promise<User> {
    if (user.orgId !== orgId) throw new Error('A user is saved only within its own organization');
    const saved = await this.repo.save(user);
    return withoutPasswordHash(saved);
  }
}

function withoutPasswordHash(user: User): User {
  delete (user as Partial<User>).passwordHash;
  return user;
}
