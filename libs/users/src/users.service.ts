import { Injectable } from '@nestjs/common';
import { OrgId, OrgRole, PasswordHasher } from '@tenantry/core';
import { QueryFailedError } from 'typeorm';
import { User } from './user.entity';
import { UserError, UserErrorCode } from './users.errors';
import { UsersRepository } from './users.repository';

export interface NewUser {
  email: string;
  name: string;
  role: OrgRole;
  password?: string;
}

const isUniqueViolation = (error: unknown): boolean =>
  error instanceof QueryFailedError && (error as QueryFailedError & { code?: string }).code === '23505';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  /** Creates a user in `orgId`; the caller's unit of work must be bound to that organization. */
  async create(orgId: OrgId, input: NewUser): Promise<User> {
    const passwordHash = input.password ? await this.hasher.hash(input.password) : null;
    try {
      return await this.users.insert(orgId, {
        email: input.email.trim(),
        name: input.name.trim(),
        role: input.role,
        passwordHash,
        status: 'active',
        source: 'local',
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new UserError(UserErrorCode.EmailTaken, `A user with e-mail ${input.email} already exists in this organization`);
      }
      throw error;
    }
  }
}
