import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsEmail,
  IsIn,
  IsObject,
  IsString,
  IsUrl,
  Matches,
  MaxLength,
  MinLength,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { ORG_ROLES, OrgRole } from '@tenantry/core';
import { SSO_PROVIDERS, SsoProvider } from './sso-connection.entity';

const DOMAIN = /^(?=.{3,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** `{group: role}` with at most 100 groups, each name 1..200 characters and each role an organization role. */
function IsGroupRoleMap(options?: ValidationOptions) {
  return ValidateBy(
    {
      name: 'isGroupRoleMap',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= 100 &&
          Object.entries(value).every(([group, role]) => group.length >= 1 && group.length <= 200 && ORG_ROLES.includes(role as OrgRole)),
        defaultMessage: () => 'groupRoles must map at most 100 group names (1-200 characters) to admin, member or viewer',
      },
    },
    options,
  );
}

export class PutSsoConnectionDto {
  @ApiProperty({ enum: SSO_PROVIDERS }) @IsIn(SSO_PROVIDERS) provider: SsoProvider;

  @ApiProperty({ format: 'uri', maxLength: 500, example: 'http://127.0.0.1:4011/oauth2/default' })
  @IsString()
  @MaxLength(500)
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  issuer: string;

  @ApiProperty({ minLength: 1, maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) clientId: string;

  @ApiProperty({ minLength: 1, maxLength: 500, description: 'Stored sealed; never returned or logged' })
  @IsString()
  @MinLength(1)
  @MaxLength(500)
  clientSecret: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 20, items: { type: 'string', maxLength: 253, pattern: DOMAIN.source }, example: ['acme.com'] })
  @Transform(({ value }) => (Array.isArray(value) ? value.map((domain) => (typeof domain === 'string' ? domain.toLowerCase() : domain)) : value))
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @MaxLength(253, { each: true })
  @Matches(DOMAIN, { each: true, message: 'each domain must be a DNS name such as acme.com' })
  domains: string[];

  @ApiProperty({ enum: ORG_ROLES, description: 'The role of a user whose groups match no entry of groupRoles' })
  @IsIn(ORG_ROLES)
  defaultRole: OrgRole;

  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', enum: [...ORG_ROLES] }, maxProperties: 100, example: { 'Tenantry Admins': 'admin' } })
  @IsObject()
  @IsGroupRoleMap()
  groupRoles: Record<string, OrgRole>;
}

export class SsoConnectionDto {
  @ApiProperty({ enum: SSO_PROVIDERS }) provider: SsoProvider;
  @ApiProperty({ format: 'uri' }) issuer: string;
  @ApiProperty() clientId: string;
  @ApiProperty({ type: [String] }) domains: string[];
  @ApiProperty({ enum: ORG_ROLES }) defaultRole: OrgRole;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string', enum: [...ORG_ROLES] } }) groupRoles: Record<string, OrgRole>;
  @ApiProperty({ format: 'uri', description: 'Register this at the identity provider' }) redirectUri: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

export class SsoDiscoverDto {
  @ApiProperty({ format: 'email', maxLength: 254 }) @IsString() @MaxLength(254) @IsEmail() email: string;
}

export class SsoDiscoveryDto {
  @ApiProperty({ description: "The organization's slug" }) organization: string;
  @ApiProperty({ format: 'uri' }) loginUrl: string;
}
