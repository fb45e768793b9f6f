import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiUuidParam, Idempotent, LoginRateLimited, Public, Roles, UuidPipe } from '@tenantry/core';
import { TokenPairDto } from '../dto/login.dto';
import { AcceptInvitationDto, InvitationDto } from './dto/invitation.dto';
import { InvitationsService } from './invitations.service';

@ApiTags('users')
@ApiBearerAuth()
@Controller('v1/users')
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post(':id/invitations')
  @ApiUuidParam()
  @Roles('admin')
  @Idempotent()
  @ApiOperation({ summary: 'Invite a pending user: a single-use token goes out by e-mail through the communication service (admin)' })
  @ApiCreatedResponse({ type: InvitationDto })
  @ApiForbiddenResponse({ description: 'Only an admin invites' })
  @ApiNotFoundResponse({ description: 'No such user in the organization' })
  @ApiConflictResponse({ description: 'The user is not pending' })
  invite(@Param('id', UuidPipe) id: string): Promise<InvitationDto> {
    return this.invitations.invite(id);
  }
}

@ApiTags('auth')
@Controller('v1/auth/invitations')
export class InvitationAcceptController {
  constructor(private readonly invitations: InvitationsService) {}

  // Not @Idempotent(), like login: a replayed answer would keep a usable refresh token in Redis in plain text.
  @Post('accept')
  @Public()
  @LoginRateLimited()
  @HttpCode(200)
  @ApiOperation({ summary: "Accept an invitation: set the password, activate the account and get a token pair" })
  @ApiOkResponse({ type: TokenPairDto })
  @ApiBadRequestResponse({ description: 'A missing token, or a password the rules refuse' })
  @ApiUnauthorizedResponse({ description: 'Unknown, spent, expired or replaced token, with one message' })
  @ApiTooManyRequestsResponse({ description: 'The login limits apply; see Retry-After' })
  accept(@Body() body: AcceptInvitationDto): Promise<TokenPairDto> {
    return this.invitations.accept(body);
  }
}
