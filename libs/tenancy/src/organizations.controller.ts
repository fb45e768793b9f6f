import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiUuidParam, Idempotent, PageQueryDto, Roles, UuidPipe, toPage } from '@tenantry/core';
import { CreateOrganizationDto, OrganizationDto, OrganizationPageDto, UpdateOrganizationDto } from './dto/organization.dto';
import { OrganizationsService } from './organizations.service';

@ApiTags('organizations')
@ApiBearerAuth()
@Controller('v1/organizations')
export class OrganizationsController {
  constructor(private readonly organizations: OrganizationsService) {}

  @Post()
  @Roles('superadmin')
  @Idempotent()
  @ApiOperation({ summary: 'Create an organization with its first admin (superadmin)' })
  @ApiCreatedResponse({ type: OrganizationDto })
  async create(@Body() body: CreateOrganizationDto): Promise<OrganizationDto> {
    return OrganizationDto.from(await this.organizations.create(body));
  }

  @Get()
  @Roles('superadmin')
  @ApiOperation({ summary: 'List every organization (superadmin)' })
  @ApiOkResponse({ type: OrganizationPageDto })
  async list(@Query() query: PageQueryDto): Promise<OrganizationPageDto> {
    const page = await this.organizations.list(query);
    return toPage(page.data.map(OrganizationDto.from), page.meta.total, query);
  }

  @Get('current')
  @Roles('admin', 'member', 'viewer')
  @ApiOperation({ summary: "The caller's own organization" })
  @ApiOkResponse({ type: OrganizationDto })
  async current(): Promise<OrganizationDto> {
    return OrganizationDto.from(await this.organizations.current());
  }

  @Get(':id')
  @ApiUuidParam()
  @ApiOperation({ summary: 'One organization (superadmin, or a member of it)' })
  @ApiOkResponse({ type: OrganizationDto })
  async get(@Param('id', UuidPipe) id: string): Promise<OrganizationDto> {
    return OrganizationDto.from(await this.organizations.get(id));
  }

  @Patch(':id')
  @ApiUuidParam()
  @ApiOperation({ summary: 'Rename an organization (superadmin, or its admin); the slug is the superadmin\'s' })
  @ApiOkResponse({ type: OrganizationDto })
  async update(@Param('id', UuidPipe) id: string, @Body() body: UpdateOrganizationDto): Promise<OrganizationDto> {
    return OrganizationDto.from(await this.organizations.update(id, body));
  }

  @Delete(':id')
  @ApiUuidParam()
  @HttpCode(204)
  @ApiOperation({ summary: 'Deactivate an organization: its users cannot log in and their tokens are refused at once (superadmin)' })
  @ApiNoContentResponse()
  async deactivate(@Param('id', UuidPipe) id: string): Promise<void> {
    await this.organizations.deactivate(id);
  }
}
