import { ApiPropertyOptional } from '@nestjs/swagger';
import { OrgRole, trim } from '@tenantry/core';
import { Transform } from 'class-transformer';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { UserStatus } from '../user.entity';
import { ASSIGNABLE_ROLES } from '../users.policy';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './create-user.dto';

/** What an admin may set as a status; `pending` is where password-less users start, not a state to put someone in. */
export const SETTABLE_STATUSES = ['active', 'deactivated'] as const satisfies readonly UserStatus[];

const changesPassword = (body: UpdateUserDto) => body.password !== undefined || body.currentPassword !== undefined;

/**
 * PATCH /v1/users/{id}. Which of these fields the caller may send depends on who they are and whose record it is
 * (users.policy.ts); any other field (email, orgId, ...) is rejected with 400 before that.
 */
export class UpdateUserDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, description: 'Admin, or the user themselves' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ enum: ASSIGNABLE_ROLES, enumName: 'AssignableRole', description: 'Admin only; nobody raises their own role' })
  @IsOptional()
  @IsIn(ASSIGNABLE_ROLES, { message: `role must be one of: ${ASSIGNABLE_ROLES.join(', ')}` })
  role?: OrgRole;

  @ApiPropertyOptional({ enum: SETTABLE_STATUSES, enumName: 'SettableUserStatus', description: 'Admin only; leaving active revokes the user\'s tokens' })
  @IsOptional()
  @IsIn(SETTABLE_STATUSES, { message: `status must be one of: ${SETTABLE_STATUSES.join(', ')}` })
  status?: (typeof SETTABLE_STATUSES)[number];

  @ApiPropertyOptional({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    writeOnly: true,
    description: 'The user themselves, with currentPassword; every token issued before stops working',
  })
  @ValidateIf(changesPassword)
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(PASSWORD_MAX_LENGTH)
  password?: string;

  @ApiPropertyOptional({ writeOnly: true, minLength: 1, maxLength: PASSWORD_MAX_LENGTH, description: 'Required with password' })
  @ValidateIf(changesPassword)
  @IsString({ message: 'currentPassword is required to change the password' })
  @IsNotEmpty({ message: 'currentPassword is required to change the password' })
  @MaxLength(PASSWORD_MAX_LENGTH)
  currentPassword?: string;
}
