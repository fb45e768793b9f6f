import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { LoginRateLimited, Public } from '@tenantry/core';
import { AuthService } from './auth.service';
import { LoginDto, MeDto, TokenPairDto } from './dto/login.dto';

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

  @Get('me')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'The caller and their organization' })
  @ApiOkResponse({ type: MeDto })
  me(): Promise<MeDto> {
    return this.auth.me();
  }
}
