import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { PageMetaDto, PageQueryDto } from '@tenantry/core';
import { IsIn, IsISO8601, IsOptional, IsUUID, MaxLength } from 'class-validator';

export const AUDIT_ACTIONS = ['create', 'update', 'delete'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_ENTITY_TYPES = ['user', 'organization', 'subscription', 'invoice', 'message', 'webhook_secret', 'sso_connection'] as const;
export const ACTOR_TYPES = ['user', 'system', 'integration', 'anonymous'] as const;

/** GET /v1/audit-logs: newest first, filtered by the contract's fields. */
export class ListAuditLogsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: AUDIT_ENTITY_TYPES, enumName: 'AuditEntityType' })
  @IsOptional()
  @IsIn(AUDIT_ENTITY_TYPES, { message: `entityType must be one of: ${AUDIT_ENTITY_TYPES.join(', ')}` })
  entityType?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "An entity of the caller's organization (404 for any other)" })
  @IsOptional()
  @IsUUID()
  entityId?: string;

  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, enumName: 'AuditAction' })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS, { message: `action must be one of: ${AUDIT_ACTIONS.join(', ')}` })
  action?: AuditAction;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ format: 'date-time', maxLength: 40, description: 'Rows at or after this instant (ISO 8601)' })
  @IsOptional()
  @MaxLength(40)
  @IsISO8601({ strict: true, strictSeparator: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', maxLength: 40, description: 'Rows before this instant (ISO 8601)' })
  @IsOptional()
  @MaxLength(40)
  @IsISO8601({ strict: true, strictSeparator: true })
  to?: string;
}

export class AuditActorDto {
  @ApiProperty({ enum: ACTOR_TYPES, enumName: 'ActorType' }) type: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) id: string | null;
}

export class AuditLogDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: AUDIT_ACTIONS, enumName: 'AuditAction' }) action: AuditAction;
  @ApiProperty({ enum: AUDIT_ENTITY_TYPES, enumName: 'AuditEntityType' }) entityType: string;
  @ApiProperty() entityId: string;
  @ApiProperty({ type: AuditActorDto }) actor: AuditActorDto;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'object', properties: { from: {}, to: {} } },
    description: 'Field by field, {from, to}; secrets and password hashes show as "[redacted]"',
  })
  changes: Record<string, { from: unknown; to: unknown }>;
  @ApiProperty({ type: String, nullable: true }) requestId: string | null;
  @ApiProperty({ type: String, nullable: true }) ip: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
}

export class AuditLogPageMetaDto extends PageMetaDto {
  @ApiProperty({ description: `true when more rows match than are counted (total stops at the count bound)` })
  totalCapped: boolean;
}

export class AuditLogPageDto {
  @ApiProperty({ type: [AuditLogDto] }) data: AuditLogDto[];
  @ApiProperty({ type: AuditLogPageMetaDto }) meta: AuditLogPageMetaDto;
}

export class AuditVerificationDto {
  @ApiProperty() valid: boolean;
  @ApiProperty({ type: 'integer', minimum: 0 }) checked: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) firstBrokenId: string | null;
}
