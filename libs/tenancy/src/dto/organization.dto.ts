import { PageMetaDto, trim } from '@tenantry/core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { IsEmail, IsNotEmpty, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateNested } from 'class-validator';
import { ORGANIZATION_STATUSES, Organization, OrganizationStatus } from '../organization.entity';

export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,61}[a-z0-9]$/;
const SLUG_MESSAGE = 'slug must be 2-63 lowercase letters, digits or hyphens, starting and ending with a letter or digit';

export class InitialAdminDto {
  @ApiProperty({ format: 'email', maxLength: 320, example: 'ada@acme.test' })
  @Transform(trim)
  @IsEmail({}, { message: 'email must be an e-mail address' })
  @MaxLength(320)
  email: string;

  @ApiProperty({ maxLength: 200, example: 'Ada Lovelace' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ minLength: 12, maxLength: 128, writeOnly: true })
  @IsString()
  @MinLength(12)
  @MaxLength(128)
  password: string;
}

export class CreateOrganizationDto {
  @ApiProperty({ minLength: 1, maxLength: 200, example: 'Acme Inc' })
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name: string;

  @ApiProperty({ example: 'acme', pattern: SLUG_PATTERN.source, minLength: 2, maxLength: 63 })
  @IsString()
  @Matches(SLUG_PATTERN, { message: SLUG_MESSAGE })
  slug: string;

  @ApiProperty({ type: InitialAdminDto, description: 'The organization\'s first admin, created with it' })
  @ValidateNested()
  @Type(() => InitialAdminDto)
  admin: InitialAdminDto;
}

export class UpdateOrganizationDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200, example: 'Acme Corporation' })
  @IsOptional()
  @Transform(trim)
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  name?: string;

  @ApiPropertyOptional({ description: 'Superadmin only: webhook and login URLs use it', pattern: SLUG_PATTERN.source, minLength: 2, maxLength: 63 })
  @IsOptional()
  @IsString()
  @Matches(SLUG_PATTERN, { message: SLUG_MESSAGE })
  slug?: string;
}

export class OrganizationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() name: string;
  @ApiProperty() slug: string;
  @ApiProperty({ enum: ORGANIZATION_STATUSES, enumName: 'OrganizationStatus' }) status: OrganizationStatus;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;

  static from(org: Organization): OrganizationDto {
    return {
      id: org.id,
      name: org.name,
      slug: org.slug,
      status: org.status,
      createdAt: org.createdAt.toISOString(),
      updatedAt: org.updatedAt.toISOString(),
    };
  }
}

export class OrganizationPageDto {
  @ApiProperty({ type: [OrganizationDto] }) data: OrganizationDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
