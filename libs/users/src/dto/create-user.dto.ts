import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { OrgRole, trim } from '@tenantry/core';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import { ASSIGNABLE_ROLES } from '../users.policy';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** One new user: the body of POST /v1/users, and each row of POST /v1/users/bulk. */
export class CreateUserDto {
  @ApiProperty({ format: 'email', maxLength: 320, example: 'grace@acme.test', description: 'Unique in the organization, compared case-insensitively' })
  @Transform(trim)
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;

  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Grace Hopper' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ enum: ASSIGNABLE_ROLES, enumName: 'AssignableRole', description: 'Never superadmin' })
  @IsIn(ASSIGNABLE_ROLES, { message: `role must be one of: ${ASSIGNABLE_ROLES.join(', ')}` })
  role: OrgRole;

  @ApiPropertyOptional({
    minLength: PASSWORD_MIN_LENGTH,
    maxLength: PASSWORD_MAX_LENGTH,
    writeOnly: true,
    description: 'Without one the user is created `pending`: they cannot log in with a password until they have one',
  })
  @IsOptional()
  @IsString()
  @MinLength(PASSWORD_MIN_LENGTH)
  @MaxLength(PASSWORD_MAX_LENGTH)
  password?: string;
}
