import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { INTEGRATION_PROVIDERS, IntegrationProvider, PageMetaDto, PageQueryDto } from '@tenantry/core';
import { Invoice, Subscription, SyncedMessage } from '../synced.entities';

export class SyncAcceptedDto {
  @ApiProperty({ description: 'Follow it at GET /v1/integrations/jobs/{jobId}', example: '3f0c…:9a1e…' }) jobId: string;
}

export class SyncResultDto {
  @ApiProperty({ type: 'integer' }) created: number;
  @ApiProperty({ type: 'integer' }) updated: number;
  @ApiProperty({ type: 'integer' }) removed: number;
  @ApiProperty({ type: 'integer' }) unchanged: number;
  @ApiProperty({ type: 'integer', description: 'Records that could not be applied (e.g. a user whose e-mail belongs to another account)' })
  skipped: number;
  @ApiProperty({ type: 'integer', description: 'HTTP calls made to the service' }) calls: number;
  @ApiProperty({ type: 'integer', description: 'Of those, retries of a failed call' }) retries: number;
}

export class JobDto {
  @ApiProperty() id: string;
  @ApiProperty({ enum: INTEGRATION_PROVIDERS }) provider: IntegrationProvider;
  @ApiProperty({ enum: ['waiting', 'active', 'delayed', 'completed', 'failed'] }) state: string;
  @ApiProperty({ type: 'integer', description: 'Attempts of the job made so far' }) attempts: number;
  @ApiProperty({ type: SyncResultDto, nullable: true }) result: SyncResultDto | null;
  @ApiProperty({ type: String, nullable: true }) failedReason: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt: string | null;
}

export class QueueCountsDto {
  @ApiProperty({ type: 'integer' }) waiting: number;
  @ApiProperty({ type: 'integer' }) active: number;
  @ApiProperty({ type: 'integer' }) delayed: number;
  @ApiProperty({ type: 'integer' }) failed: number;
}

export class ProbeDto {
  @ApiProperty() ok: boolean;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ type: String, nullable: true }) error: string | null;
}

export class IntegrationHealthDto {
  @ApiProperty({ enum: INTEGRATION_PROVIDERS }) provider: IntegrationProvider;
  @ApiProperty({ enum: ['healthy', 'degraded', 'down'] }) status: string;
  @ApiProperty({ enum: ['closed', 'open', 'half-open'] }) circuit: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastSuccessAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastFailureAt: string | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Successful calls ÷ all calls in the last 5 minutes (null: no calls)' })
  successRate: number | null;
  @ApiProperty({ type: QueueCountsDto, description: "This organization's jobs in the service's queue" }) queue: QueueCountsDto;
  @ApiProperty({ type: 'integer', description: "This organization's jobs that exhausted their attempts" }) deadLetters: number;
  @ApiProperty({ type: ProbeDto, description: 'The latest live probe of the service (at most 10 s old)' }) probe: ProbeDto;
}

export const SUBSCRIPTION_STATUSES = ['active', 'trialing', 'past_due', 'canceled'] as const;
export const INVOICE_STATUSES = ['draft', 'open', 'paid', 'void', 'uncollectible'] as const;
export const MESSAGE_STATUSES = ['queued', 'sent', 'delivered', 'failed', 'bounced'] as const;

/** `?page&limit&status`: each list filters on the statuses its service uses. */
export class SubscriptionListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: SUBSCRIPTION_STATUSES })
  @IsOptional()
  @IsIn(SUBSCRIPTION_STATUSES)
  status?: string;
}

export class InvoiceListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INVOICE_STATUSES })
  @IsOptional()
  @IsIn(INVOICE_STATUSES)
  status?: string;
}

export class MessageListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: MESSAGE_STATUSES })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES)
  status?: string;
}

abstract class SyncedDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ description: "The service's own id" }) externalId: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the service removed it' }) removedAt: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the change that last wrote it happened at the service' }) sourceUpdatedAt: string;
  @ApiProperty({ format: 'date-time' }) createdAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
}

const base = (row: Subscription | Invoice | SyncedMessage) => ({
  id: row.id,
  externalId: row.externalId,
  removedAt: row.removedAt?.toISOString() ?? null,
  sourceUpdatedAt: row.sourceUpdatedAt.toISOString(),
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

export class SubscriptionDto extends SyncedDto {
  @ApiProperty() plan: string;
  @ApiProperty() status: string;
  static from(row: Subscription): SubscriptionDto {
    return { ...base(row), plan: row.plan, status: row.status };
  }
}

export class InvoiceDto extends SyncedDto {
  @ApiProperty({ type: String, nullable: true }) subscriptionId: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'In the currency’s minor unit' }) amount: number | null;
  @ApiProperty({ type: String, nullable: true }) currency: string | null;
  @ApiProperty() status: string;
  static from(row: Invoice): InvoiceDto {
    return { ...base(row), subscriptionId: row.subscriptionExternalId, amount: row.amount, currency: row.currency, status: row.status };
  }
}

export class MessageDto extends SyncedDto {
  @ApiProperty() recipient: string;
  @ApiProperty() channel: string;
  @ApiProperty() status: string;
  @ApiProperty({ type: String, nullable: true }) reason: string | null;
  @ApiProperty({ type: String, nullable: true }) subject: string | null;
  static from(row: SyncedMessage): MessageDto {
    return { ...base(row), recipient: row.recipient, channel: row.channel, status: row.status, reason: row.reason, subject: row.subject };
  }
}

export class SubscriptionPageDto {
  @ApiProperty({ type: [SubscriptionDto] }) data: SubscriptionDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
export class InvoicePageDto {
  @ApiProperty({ type: [InvoiceDto] }) data: InvoiceDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
export class MessagePageDto {
  @ApiProperty({ type: [MessageDto] }) data: MessageDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}
