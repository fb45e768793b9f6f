import { Injectable, Logger } from '@nestjs/common';
import { isUniqueViolation, OrgId, OrgRole, Page, PasswordHasher, TenantContext, toFieldErrors, toPage, UnitOfWork } from '@tenantry/core';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { BulkRowResultDto } from './dto/bulk-create-users.dto';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQueryDto, UserSortField } from './dto/list-users-query.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { User, UserStatus } from './user.entity';
import { UserError, UserErrorCode } from './users.errors';
import { PatchField, TargetRelation, UserAction, forbiddenPatchFields, isAllowed, raisesOwnRole } from './users.policy';
import { UsersRepository } from './users.repository';

export interface NewUser {
  email: string;
  name: string;
  role: OrgRole;
  password?: string;
}

const PATCH_FIELDS: readonly PatchField[] = ['name', 'role', 'status', 'password'];
/** A concurrent request may take an e-mail between our check and our insert; the bulk then starts over, this often. */
const BULK_ATTEMPTS = 3;

/** Users without a password cannot log in with one yet: they start `pending` (the API says so on CreateUserDto.password). */
const initialStatus = (passwordHash: string | null): UserStatus => (passwordHash ? 'active' : 'pending');

/**
 * The users of the caller's organization. Every public method runs in one unit of work (RLS binds it to the
 * caller's organization) and asks `users.policy.ts` before it reads or writes anything: a user of another
 * organization is not found, one of the caller's own organization that the policy keeps from them is forbidden.
 */
@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly uow: UnitOfWork,
    private readonly context: TenantContext,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /**
   * Creates a user in `orgId` without asking the policy: for other modules that already decided (an organization's
   * first admin). The caller's unit of work must be bound to that organization.
   */
  async create(orgId: OrgId, input: NewUser): Promise<User> {
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    try {
      return await this.users.insert(orgId, {
        email: input.email.trim(),
        name: input.name.trim(),
        role: input.role,
        passwordHash,
        status: initialStatus(passwordHash),
        source: 'local',
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new UserError(UserErrorCode.EmailTaken, `A user with e-mail ${input.email} already exists in this organization`);
      }
      throw error;
    }
  }

  async list(query: ListUsersQueryDto): Promise<Page<User>> {
    const orgId = this.authorizeCollection('list');
    const descending = query.sort.startsWith('-');
    const field = (descending ? query.sort.slice(1) : query.sort) as UserSortField;
    const [rows, total] = await this.uow.run(() =>
      this.users.list(orgId, {
        role: query.role,
        status: query.status,
        q: query.q,
        sort: { field, direction: descending ? 'DESC' : 'ASC' },
        offset: query.offset,
        limit: query.limit,
      }),
    );
    return toPage(rows, total, query);
  }

  async createUser(input: CreateUserDto): Promise<User> {
    const orgId = this.authorizeCollection('create');
    const user = await this.uow.run(() => this.create(orgId, input));
    this.logger.log({ event: 'user.created', userId: user.id, role: user.role, actorId: this.context.actor.id });
    return user;
  }

  get(id: string): Promise<User> {
    const orgId = this.tenant();
    return this.uow.run(async () => {
      const user = await this.users.findById(orgId, id);
      if (!user) throw UserError.notFound();
      this.authorize('read', this.relationTo(id));
      return user;
    });
  }

  async update(id: string, patch: UpdateUserDto): Promise<User> {
    const orgId = this.tenant();
    const fields = PATCH_FIELDS.filter((field) => patch[field] !== undefined);
    const actor = this.context.actor;
    const relation = this.relationTo(id);
    const updated = await this.uow.run(async () => {
      if (!(await this.users.findById(orgId, id))) throw UserError.notFound();
      this.authorize('update', relation);
      const forbidden = forbiddenPatchFields(actor.role, relation, fields);
      if (forbidden.length > 0) {
        throw UserError.forbidden(`You may not change ${forbidden.join(', ')} of ${relation === 'self' ? 'your own account' : 'this user'}`);
      }
      // Role and status changes can remove an admin: take the admins' locks first, then the target's.
      const activeAdmins = patch.role !== undefined || patch.status !== undefined ? await this.lockActiveAdmins(orgId) : null;
      const user = await this.users.findByIdForUpdate(orgId, id);
      if (!user) throw UserError.notFound();
      const wasActive = user.status === 'active';
      let revokeTokens = false;

      if (patch.role !== undefined && patch.role !== user.role) {
        if (relation === 'self' && raisesOwnRole(user.role, patch.role)) throw UserError.forbidden('Nobody can raise their own role');
        revokeTokens = true;
      }
      const nextRole = patch.role ?? user.role;
      const nextStatus = patch.status ?? user.status;
      if (activeAdmins && user.role === 'admin' && wasActive && (nextRole !== 'admin' || nextStatus !== 'active')) {
        this.assertAnotherActiveAdmin(activeAdmins, user.id);
      }
      if (patch.password !== undefined) {
        const currentHash = await this.users.passwordHashOf(orgId, id);
        if (!(await this.hasher.verify(currentHash, patch.currentPassword ?? ''))) throw UserError.currentPasswordIncorrect();
        user.passwordHash = await this.hasher.hash(patch.password);
        revokeTokens = true;
      }
      if (wasActive && nextStatus !== 'active') revokeTokens = true;

      if (patch.name !== undefined) user.name = patch.name;
      user.role = nextRole;
      user.status = nextStatus;
      if (revokeTokens) user.tokenVersion += 1;
      return this.users.update(orgId, user);
    });
    this.logger.log({ event: 'user.updated', userId: id, fields, actorId: actor.id });
    return updated;
  }

  /** Soft delete: the user is deactivated and every token issued to them stops working at once. */
  async deactivate(id: string): Promise<void> {
    const orgId = this.tenant();
    await this.uow.run(async () => {
      if (!(await this.users.findById(orgId, id))) throw UserError.notFound();
      this.authorize('delete', this.relationTo(id));
      const activeAdmins = await this.lockActiveAdmins(orgId);
      const user = await this.users.findByIdForUpdate(orgId, id);
      if (!user) throw UserError.notFound();
      if (user.status === 'deactivated') return;
      if (user.role === 'admin' && user.status === 'active') this.assertAnotherActiveAdmin(activeAdmins, user.id);
      user.status = 'deactivated';
      user.tokenVersion += 1;
      await this.users.update(orgId, user);
    });
    this.logger.log({ event: 'user.deactivated', userId: id, actorId: this.context.actor.id });
  }

  /**
   * Up to 1000 users in one request and one transaction: each row is validated on its own, e-mails are checked
   * against the batch and the organization in one query, and the new rows go in through multi-row INSERTs on the
   * entity path. The answer has one result per row, in order.
   */
  async bulkCreate(rows: readonly unknown[]): Promise<BulkRowResultDto[]> {
    const orgId = this.authorizeCollection('bulkCreate');
    const results: BulkRowResultDto[] = new Array(rows.length);
    const candidates: Array<{ index: number; input: CreateUserDto; key: string }> = [];
    const firstIndexOf = new Map<string, number>();

    await Promise.all(
      rows.map(async (row, index) => {
        const checked = await validateRow(row);
        if ('error' in checked) results[index] = { index, status: 'invalid', error: checked.error };
        else candidates.push({ index, input: checked.input, key: checked.input.email.toLowerCase() });
      }),
    );
    candidates.sort((a, b) => a.index - b.index);
    const unique = candidates.filter((candidate) => {
      const first = firstIndexOf.get(candidate.key);
      if (first === undefined) {
        firstIndexOf.set(candidate.key, candidate.index);
        return true;
      }
      results[candidate.index] = { index: candidate.index, status: 'conflict', error: `The e-mail repeats row ${first}` };
      return false;
    });
    // Hashing is the slow part (argon2 on the thread pool): done before the transaction, so no lock waits on it.
    const hashes = await Promise.all(unique.map((candidate) => (candidate.input.password ? this.hasher.hash(candidate.input.password) : null)));

    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await this.uow.run(async () => {
          const taken = await this.users.existingEmails(orgId, unique.map((candidate) => candidate.key));
          const fresh = unique.map((candidate, i) => ({ ...candidate, passwordHash: hashes[i] })).filter((candidate) => !taken.has(candidate.key));
          const created = await this.users.insertMany(
            orgId,
            fresh.map(({ input, passwordHash }) => ({
              email: input.email,
              name: input.name,
              role: input.role,
              passwordHash,
              status: initialStatus(passwordHash),
              source: 'local' as const,
            })),
          );
          return { taken, created: fresh.map((candidate, i) => ({ index: candidate.index, id: created[i].id })) };
        });
        for (const candidate of unique) {
          if (outcome.taken.has(candidate.key)) {
            results[candidate.index] = { index: candidate.index, status: 'conflict', error: 'A user with this e-mail already exists in the organization' };
          }
        }
        for (const { index, id } of outcome.created) results[index] = { index, status: 'created', id };
        this.logger.log({ event: 'users.bulk_created', created: outcome.created.length, rows: rows.length, actorId: this.context.actor.id });
        return results;
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= BULK_ATTEMPTS) throw error;
      }
    }
  }

  /** The superadmin has no organization, hence no users: the policy gives it nothing, and this keeps that so. */
  private tenant(): OrgId {
    const orgId = this.context.orgId;
    if (!orgId) throw UserError.forbidden('Users belong to an organization; this account belongs to none');
    return orgId;
  }

  private relationTo(id: string): TargetRelation {
    return id === this.context.actor.id ? 'self' : 'other';
  }

  private authorize(action: UserAction, relation: TargetRelation): void {
    if (!isAllowed(action, this.context.actor.role, relation)) {
      throw UserError.forbidden(relation === 'self' ? 'You may not do this to your own account' : 'You may not do this to this user');
    }
  }

  /** list, create, bulk: allowed for the role or not, with no particular target. */
  private authorizeCollection(action: UserAction): OrgId {
    const orgId = this.tenant();
    this.authorize(action, 'other');
    return orgId;
  }

  /**
   * The active admins, locked. The caller must be one of them when they act as admin: a request that was admitted
   * as admin but waited here while another demoted it must not go on with the old role.
   */
  private async lockActiveAdmins(orgId: OrgId): Promise<string[]> {
    const admins = await this.users.lockActiveAdmins(orgId);
    const actor = this.context.actor;
    if (actor.role === 'admin' && (!actor.id || !admins.includes(actor.id))) {
      throw UserError.forbidden('Your admin role was changed while this request waited; sign in again');
    }
    return admins;
  }

  private assertAnotherActiveAdmin(activeAdmins: readonly string[], leavingId: string): void {
    if (!activeAdmins.some((id) => id !== leavingId)) throw UserError.lastAdmin();
  }
}

/** One bulk row, validated as a POST /v1/users body would be (unknown fields included), without failing the others. */
async function validateRow(row: unknown): Promise<{ input: CreateUserDto } | { error: string }> {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return { error: 'Each user must be an object' };
  const input = plainToInstance(CreateUserDto, row);
  const errors = await validate(input, { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } });
  if (errors.length === 0) return { input };
  return { error: toFieldErrors(errors).map((error) => error.message).join('; ') };
}
