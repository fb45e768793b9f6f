import { trim } from '@tenantry/core';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';


export class LoginDto {
  @ApiPropertyOptional({ description: "The organization's slug; omitted by the superadmin", example: 'acme' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  organization?: string;

  @ApiProperty({ example: 'ada@acme.test' })
  @Transform(trim)
  @IsString()
  @MinLength(3)
  @MaxLength(320)
  email: string;

  @ApiProperty({ writeOnly: true })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  password: string;
}

export class TokenPairDto {
  @ApiProperty() accessToken: string;
  @ApiProperty({ description: 'Opaque; rotate it with POST /v1/auth/refresh', example: 'rt_platform_…' }) refreshToken: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn: number;
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
  @ApiProperty({ enum: ['superadmin', 'admin', 'member', 'viewer'] }) role: string;
  @ApiProperty({ type: MeOrganizationDto, nullable: true }) organization: MeOrganizationDto | null;
}

export class RefreshTokenDto {
  @ApiProperty({ description: 'The refresh token of the latest pair', writeOnly: true })
  @IsString()
  @MaxLength(512)
  refreshToken: string;
}
