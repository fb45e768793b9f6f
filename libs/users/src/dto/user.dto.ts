import { ApiProperty } from '@nestjs/swagger';
import { ORG_ROLES, OrgRole, PageMetaDto } from '@tenantry/core';
import { USER_SOURCES, USER_STATUSES, User, UserSource, UserStatus } from '../user.entity';

/** A user as the API shows it: never a password hash. */
export class UserDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'email' }) email: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole' }) role: OrgRole;
  @ApiProperty({ enum: USER_STATUSES, enumName: 'UserStatus' }) status: UserStatus;
  @ApiProperty({ type: String, nullable: true }) externalId: string | null;
  @ApiProperty({ enum: USER_SOURCES, enumName: 'UserSource' }) source: UserSource;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static from(user: User): UserDto {
    return {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      status: user.status,
      externalId: user.externalId,
      source: user.source,
      createdAt: user.createdAt.toISOString(),
      updatedAt: user.updatedAt.toISOString(),
    };
  }
}

export class UserPageDto {
  @ApiProperty({ type: [UserDto] }) data: UserDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
