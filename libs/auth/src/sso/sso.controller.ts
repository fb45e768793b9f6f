import { Body, Controller, Get, HttpCode, Param, Post, Put, Query, Redirect } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiFoundResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPropertyOptional,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { LoginRateLimited, Public, Roles } from '@tenantry/core';
import { TokenPairDto } from '../dto/login.dto';
import { PutSsoConnectionDto, SsoConnectionDto, SsoDiscoverDto, SsoDiscoveryDto } from './sso.dto';
import { SsoError } from './sso.errors';
import { SsoService } from './sso.service';

const SLUG = '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$';
const SlugParam = () => ApiParam({ name: 'orgSlug', schema: { type: 'string', pattern: SLUG, maxLength: 63 } });

/** What an identity provider may put on its redirect back (RFC 6749, 9207; Entra ID's session_state). */
export class SsoCallbackQueryDto {
  @ApiPropertyOptional({ maxLength: 2000 }) @IsOptional() @IsString() @MaxLength(2000) code?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) state?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) error?: string;
  @ApiPropertyOptional({ maxLength: 2000 }) @IsOptional() @IsString() @MaxLength(2000) error_description?: string;
  @ApiPropertyOptional({ maxLength: 500 }) @IsOptional() @IsString() @MaxLength(500) iss?: string;
  @ApiPropertyOptional({ maxLength: 500 }) @IsOptional() @IsString() @MaxLength(500) session_state?: string;
}

const slugOf = (value: string): string => {
  if (!new RegExp(SLUG).test(value)) throw SsoError.notConfigured();
  return value;
};

@ApiTags('organizations')
@ApiBearerAuth()
@Controller('v1/organizations/current/sso')
export class SsoConnectionController {
  constructor(private readonly sso: SsoService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: "The organization's OpenID Connect connection, without its secret (admin)" })
  @ApiOkResponse({ type: SsoConnectionDto })
  @ApiNotFoundResponse({ description: 'The organization has no connection' })
  get(): Promise<SsoConnectionDto> {
    return this.sso.get();
  }

  @Put()
  @Roles('admin')
  @ApiOperation({ summary: "Set the organization's OpenID Connect connection and claimed e-mail domains (admin)" })
  @ApiOkResponse({ type: SsoConnectionDto, description: 'The connection without its secret, with the redirectUri to register at the provider' })
  @ApiConflictResponse({ description: 'A domain is claimed by another organization' })
  put(@Body() body: PutSsoConnectionDto): Promise<SsoConnectionDto> {
    return this.sso.put(body);
  }
}

@ApiTags('auth')
@Public()
@Controller('v1/auth/sso')
export class SsoController {
  constructor(private readonly sso: SsoService) {}

  @Post('discover')
  @HttpCode(200)
  @LoginRateLimited()
  @ApiOperation({ summary: "Find the organization that signs in with this e-mail's domain, and its login URL" })
  @ApiOkResponse({ type: SsoDiscoveryDto })
  @ApiNotFoundResponse({ description: 'No organization claims the domain' })
  discover(@Body() body: SsoDiscoverDto): Promise<SsoDiscoveryDto> {
    return this.sso.discover(body.email);
  }

  @Get(':orgSlug/login')
  @SlugParam()
  @Redirect()
  @ApiOperation({ summary: "Start single sign-on: 302 to the organization's identity provider (code flow with state and nonce)" })
  @ApiFoundResponse({ description: 'To the authorization endpoint' })
  @ApiNotFoundResponse({ description: 'No single sign-on for this organization' })
  @ApiBadGatewayResponse({ description: 'The identity provider did not answer' })
  async login(@Param('orgSlug') orgSlug: string): Promise<{ url: string; statusCode: number }> {
    return { url: await this.sso.loginRedirect(slugOf(orgSlug)), statusCode: 302 };
  }

  @Get(':orgSlug/callback')
  @SlugParam()
  @LoginRateLimited()
  @ApiOperation({ summary: "The identity provider's redirect: exchanges the code and answers a token pair, as login does" })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Bad state, nonce, issuer, audience, signature or expiry, or a deactivated user' })
  callback(@Param('orgSlug') orgSlug: string, @Query() query: SsoCallbackQueryDto): Promise<TokenPairDto> {
    return this.sso.callback(slugOf(orgSlug), query as Record<string, string | undefined>);
  }
}
