import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ROLES, trim } from '@tenantry/core';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';


export class LoginDto {
  @ApiPropertyOptional({ description: "The organization's slug; omitted by the superadmin", example: 'acme', maxLength: 63 })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  organization?: string;

  @ApiProperty({ example: 'ada@acme.test', minLength: 3, maxLength: 320 })
  @Transform(trim)
  @IsString()
  @MinLength(3)
  @MaxLength(320)
  email: string;

  @ApiProperty({ writeOnly: true, minLength: 1, maxLength: 128 })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}

export class TokenPairDto {
  @ApiProperty() accessToken: string;
  @ApiProperty({ description: 'Opaque; rotate it with POST /v1/auth/refresh', example: 'rt_platform_…' }) refreshToken: string;
  @ApiProperty({ enum: ['Bearer'], enumName: 'TokenType' }) tokenType: 'Bearer';
  @ApiProperty({ type: 'integer', minimum: 1, description: 'Seconds until the access token expires', example: 900 }) expiresIn: number;
}

export class MeOrganizationDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() slug: string;
  @ApiProperty() name: string;
}

export class MeDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() email: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ROLES, enumName: 'Role' }) role: (typeof ROLES)[number];
  @ApiProperty({ type: MeOrganizationDto, nullable: true }) organization: MeOrganizationDto | null;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token of the latest pair', writeOnly: true, maxLength: 512 })
  @IsString()
  @MaxLength(512)
  refreshToken: string;
}
