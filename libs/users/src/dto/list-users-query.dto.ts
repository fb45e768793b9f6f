import { ApiPropertyOptional } from '@nestjs/swagger';
import { ORG_ROLES, OrgRole, PageQueryDto } from '@tenantry/core';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { USER_STATUSES, UserStatus } from '../user.entity';

export const USER_SORT_FIELDS = ['createdAt', 'email', 'name'] as const;
export type UserSortField = (typeof USER_SORT_FIELDS)[number];
export const USER_SORTS = USER_SORT_FIELDS.flatMap((field) => [field, `-${field}`]);

/** GET /v1/users: a page, optionally filtered and sorted (`-` for descending). */
export class ListUsersQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ORG_ROLES, enumName: 'OrgRole' })
  @IsOptional()
  @IsIn(ORG_ROLES, { message: `role must be one of: ${ORG_ROLES.join(', ')}` })
  role?: OrgRole;

  @ApiPropertyOptional({ enum: USER_STATUSES, enumName: 'UserStatus' })
  @IsOptional()
  @IsIn(USER_STATUSES, { message: `status must be one of: ${USER_STATUSES.join(', ')}` })
  status?: UserStatus;

  @ApiPropertyOptional({ description: 'Case-insensitive substring of the e-mail or the name', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  q?: string;

  @ApiPropertyOptional({ enum: USER_SORTS, enumName: 'UserSort', default: '-createdAt' })
  @IsOptional()
  @IsIn(USER_SORTS, { message: `sort must be one of: ${USER_SORTS.join(', ')}` })
  sort: string = '-createdAt';
}
