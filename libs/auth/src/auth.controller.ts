import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { Idempotent, LoginRateLimited, Public } from '@tenantry/core';
import { AuthService } from './auth.service';
import { LoginDto, MeDto, RefreshTokenDto, TokenPairDto } from './dto/login.dto';

@ApiTags('auth')
@Controller('v1/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @Public()
  @LoginRateLimited()
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with a password (the superadmin omits organization)' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Any mismatch, with one message' })
  @ApiTooManyRequestsResponse({ description: 'Per IP and per e-mail limits; see Retry-After' })
  login(@Body() body: LoginDto): Promise<TokenPairDto> {
    return this.auth.login(body);
  }

  // Login and refresh are not @Idempotent(): replaying their answer would mean keeping a usable refresh token in
  // Redis in plain text, where the database keeps only hashes. A lost answer is recovered by logging in again.
  @Post('refresh')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Spend a refresh token for a new pair; presenting a spent one again revokes its whole family' })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiUnauthorizedResponse({ description: 'Unknown, malformed, spent, revoked or expired token, or the user can no longer log in' })
  refresh(@Body() body: RefreshTokenDto): Promise<TokenPairDto> {
    return this.auth.refresh(body);
  }

  @Post('logout')
  @HttpCode(204)
  @Idempotent()
  @ApiBearerAuth()
  @ApiOperation({ summary: "Revoke the caller's refresh token (and its family); another's token is left alone" })
  @ApiNoContentResponse()
  logout(@Body() body: RefreshTokenDto): Promise<void> {
    return this.auth.logout(body);
  }

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The caller and their organization' })
  @ApiOkResponse({ type: MeDto })
  me(): Promise<MeDto> {
    return this.auth.me();
  }
}
