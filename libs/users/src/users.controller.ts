import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { ApiUuidParam, Idempotent, Roles, UuidPipe, toPage } from '@tenantry/core';
import { BulkCreateUsersDto, BulkCreateUsersResultDto } from './dto/bulk-create-users.dto';
import { CreateUserDto } from './dto/create-user.dto';
import { ListUsersQueryDto } from './dto/list-users-query.dto';
import { UpdateUserDto } from './dto/update-user.dto';
import { UserDto, UserPageDto } from './dto/user.dto';
import { rolesFor } from './users.policy';
import { UsersService } from './users.service';

/** The roles on each route come from users.policy.ts; the service applies the rest of it (self, fields, last admin). */
@ApiTags('users')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'The role or the policy does not allow it (the superadmin has no organization, so no users)' })
@Controller('v1/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Roles(...rolesFor('list'))
  @ApiOperation({ summary: "List the organization's users (admin, viewer)" })
  @ApiOkResponse({ type: UserPageDto })
  @ApiBadRequestResponse({ description: 'A bad filter, sort or page' })
  async list(@Query() query: ListUsersQueryDto): Promise<UserPageDto> {
    const page = await this.users.list(query);
    return toPage(page.data.map(UserDto.from), page.meta.total, query);
  }

  @Post()
  @Roles(...rolesFor('create'))
  @Idempotent()
  @ApiOperation({ summary: 'Create a user (admin)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ description: 'The e-mail exists in the organization (case-insensitive)' })
  async create(@Body() body: CreateUserDto): Promise<UserDto> {
    return UserDto.from(await this.users.createUser(body));
  }

  @Post('bulk')
  @HttpCode(200)
  @Roles(...rolesFor('bulkCreate'))
  @Idempotent()
  @ApiOperation({ summary: 'Create up to 1000 users in one request, with a result per row (admin)' })
  @ApiOkResponse({ type: BulkCreateUsersResultDto })
  async bulkCreate(@Body() body: BulkCreateUsersDto): Promise<BulkCreateUsersResultDto> {
    return { results: await this.users.bulkCreate(body.users) };
  }

  @Get(':id')
  @ApiUuidParam()
  @Roles(...rolesFor('read'))
  @ApiOperation({ summary: 'One user (admin, viewer, or the user themselves)' })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user in the organization' })
  async get(@Param('id', UuidPipe) id: string): Promise<UserDto> {
    return UserDto.from(await this.users.get(id));
  }

  @Patch(':id')
  @ApiUuidParam()
  @Roles(...rolesFor('update'))
  @ApiOperation({ summary: 'Change a user: admin (name, role, status), or the user themselves (name; password with currentPassword)' })
  @ApiOkResponse({ type: UserDto })
  @ApiNotFoundResponse({ description: 'No such user in the organization' })
  @ApiConflictResponse({ description: 'It would leave the organization without an active admin' })
  async update(@Param('id', UuidPipe) id: string, @Body() body: UpdateUserDto): Promise<UserDto> {
    return UserDto.from(await this.users.update(id, body));
  }

  @Delete(':id')
  @ApiUuidParam()
  @HttpCode(204)
  @Roles(...rolesFor('delete'))
  @ApiOperation({ summary: "Deactivate a user; their tokens stop working at once (admin)" })
  @ApiNoContentResponse()
  @ApiNotFoundResponse({ description: 'No such user in the organization' })
  @ApiConflictResponse({ description: 'It would leave the organization without an active admin' })
  async deactivate(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.users.deactivate(id);
  }
}
