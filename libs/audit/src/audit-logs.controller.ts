import { Controller, Get, Query } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '@tenantry/core';
import { AuditLogsService } from './audit-logs.service';
import { AuditLogPageDto, AuditVerificationDto, ListAuditLogsQueryDto } from './dto/audit-log.dto';

@ApiTags('audit')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: "Only an organization's admin reads its audit trail" })
@Controller('v1/audit-logs')
export class AuditLogsController {
  constructor(private readonly auditLogs: AuditLogsService) {}

  @Get()
  @Roles('admin')
  @ApiOperation({ summary: "The organization's audit trail, newest first (admin)" })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiBadRequestResponse({ description: 'A bad filter or page' })
  @ApiNotFoundResponse({ description: "entityId names no entity of the caller's organization" })
  list(@Query() query: ListAuditLogsQueryDto): Promise<AuditLogPageDto> {
    return this.auditLogs.list(query);
  }

  @Get('verify')
  @Roles('admin')
  @ApiOperation({ summary: "Walks the organization's hash chain and reports the first broken row (admin)" })
  @ApiOkResponse({ type: AuditVerificationDto })
  verify(): Promise<AuditVerificationDto> {
    return this.auditLogs.verify();
  }
}
