import { Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { IsIn, IsOptional } from 'class-validator';
import { ApiUuidParam, INTEGRATION_PROVIDERS, Idempotent, IntegrationProvider, PageMetaDto, PageQueryDto, Public, Roles, SkipAllThrottles, UuidPipe } from '@tenantry/core';
import { isProvider } from '@tenantry/integrations';
import { EVENT_TYPES } from './event-types';
import { EVENT_STATUSES, WebhookEventView, WebhookEventsService } from './webhook-events.service';
import { WebhookError } from './webhook.errors';
import { MAX_BATCH, WebhookIngestService } from './webhook-ingest.service';

const ALL_TYPES = Object.values(EVENT_TYPES).flat();

export class InboundEventDto {
  @ApiProperty({ description: "The sender's event id, unique per provider", maxLength: 200 }) id: string;
  @ApiProperty({ enum: ALL_TYPES }) type: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: 'The record, in the event vocabulary; only its id for a thin event' })
  data: Record<string, unknown>;
}

export class EventResultDto {
  @ApiProperty({ type: String, nullable: true }) id: string | null;
  @ApiProperty({ enum: ['accepted', 'duplicate', 'rejected'] }) status: string;
  @ApiPropertyOptional() error?: string;
}

export class IngestResultDto {
  @ApiProperty({ type: [EventResultDto], description: 'One result per event, in order' }) results: EventResultDto[];
}

export class WebhookEventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: INTEGRATION_PROVIDERS }) provider: string;
  @ApiProperty({ description: "The sender's event id" }) eventId: string;
  @ApiProperty({ enum: ALL_TYPES }) type: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ enum: EVENT_STATUSES }) status: string;
  @ApiProperty({ type: 'integer' }) attempts: number;
  @ApiProperty({ type: String, nullable: true }) lastError: string | null;
  @ApiProperty({ format: 'date-time' }) receivedAt: string;
  @ApiProperty({ format: 'date-time' }) updatedAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) processedAt: string | null;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'The event data (single reads only)' }) data?: Record<string, unknown>;
}

export class WebhookEventPageDto {
  @ApiProperty({ type: [WebhookEventDto] }) data: WebhookEventDto[];
  @ApiProperty({ type: PageMetaDto }) meta: PageMetaDto;
}

export class ListEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: INTEGRATION_PROVIDERS }) @IsOptional() @IsIn(INTEGRATION_PROVIDERS) provider?: IntegrationProvider;
  @ApiPropertyOptional({ enum: EVENT_STATUSES }) @IsOptional() @IsIn(EVENT_STATUSES) status?: string;
  @ApiPropertyOptional({ enum: ALL_TYPES }) @IsOptional() @IsIn(ALL_TYPES) type?: string;
}

export class ReplayDeadQueryDto {
  @ApiPropertyOptional({ enum: INTEGRATION_PROVIDERS }) @IsOptional() @IsIn(INTEGRATION_PROVIDERS) provider?: IntegrationProvider;
}

export class ReplayDeadResultDto {
  @ApiProperty({ type: 'integer' }) queued: number;
}

/** Signed event ingestion: public (the signature is the credential), limited per organization, never processed here. */
@ApiTags('webhooks')
@Public()
@SkipAllThrottles()
@Controller('v1/webhooks')
@ApiExtraModels(InboundEventDto)
export class WebhookIngestController {
  constructor(private readonly ingest: WebhookIngestService) {}

  @Post(':orgSlug/:provider')
  @HttpCode(202)
  @ApiParam({ name: 'orgSlug', schema: { type: 'string', pattern: '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$', maxLength: 63 } })
  @ApiParam({ name: 'provider', enum: INTEGRATION_PROVIDERS })
  @ApiHeader({ name: 'webhook-id', required: true })
  @ApiHeader({ name: 'webhook-timestamp', required: true, description: 'Unix seconds; more than 300 s from now is stale' })
  @ApiHeader({ name: 'webhook-signature', required: true, description: 'Space-separated `v1,<base64 HMAC-SHA256>` entries' })
  @ApiBody({
    description: `One event, or an array of at most ${MAX_BATCH}`,
    schema: { oneOf: [{ $ref: getSchemaPath(InboundEventDto) }, { type: 'array', maxItems: MAX_BATCH, items: { $ref: getSchemaPath(InboundEventDto) } }] },
  })
  @ApiOperation({ summary: 'Receive signed events (Standard Webhooks) from a service: stored durably, processed asynchronously' })
  @ApiAcceptedResponse({ type: IngestResultDto })
  @ApiUnauthorizedResponse({ description: 'Missing or bad signature, or a stale timestamp; nothing is stored' })
  @ApiNotFoundResponse({ description: 'Unknown organization or provider' })
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMIT_WEBHOOKS_PER_ORG requests a second reached; see Retry-After' })
  async receive(
    @Param('orgSlug') orgSlug: string,
    @Param('provider') provider: string,
    @Headers() headers: Record<string, string | string[] | undefined>,
    @Req() request: FastifyRequest & { rawBody?: Buffer },
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<IngestResultDto> {
    if (!isProvider(provider) || orgSlug.length > 63) throw WebhookError.unknownEndpoint();
    try {
      return await this.ingest.ingest(orgSlug, provider, headers, request.rawBody, request.body);
    } catch (error) {
      if (error instanceof WebhookError && error.retryAfterSeconds) void reply.header('Retry-After', String(error.retryAfterSeconds));
      throw error;
    }
  }
}

@ApiTags('webhooks')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Admins only' })
@Controller('v1/webhooks')
export class WebhookEventsController {
  constructor(private readonly events: WebhookEventsService) {}

  @Get('events')
  @Roles('admin')
  @ApiOperation({ summary: "The organization's received events, newest first (admin)" })
  @ApiOkResponse({ type: WebhookEventPageDto })
  list(@Query() query: ListEventsQueryDto): Promise<WebhookEventPageDto> {
    return this.events.list(query);
  }

  @Get('events/:id')
  @Roles('admin')
  @ApiUuidParam()
  @ApiOperation({ summary: 'One event with its data, attempts and last error (admin)' })
  @ApiOkResponse({ type: WebhookEventDto })
  @ApiNotFoundResponse({ description: 'No such event in this organization' })
  get(@Param('id', UuidPipe) id: string): Promise<WebhookEventView> {
    return this.events.get(id);
  }

  @Post('events/:id/replay')
  @HttpCode(202)
  @Roles('admin')
  @Idempotent()
  @ApiUuidParam()
  @ApiOperation({ summary: 'Queue a dead or failed event again, with fresh attempts (admin)' })
  @ApiAcceptedResponse({ type: WebhookEventDto })
  @ApiConflictResponse({ description: 'The event is neither dead nor failed; nothing was queued' })
  @ApiNotFoundResponse({ description: 'No such event in this organization' })
  replay(@Param('id', UuidPipe) id: string): Promise<WebhookEventView> {
    return this.events.replay(id);
  }

  @Post('dead-letters/replay')
  @HttpCode(202)
  @Roles('admin')
  @Idempotent()
  @ApiOperation({ summary: 'Queue every dead event of the organization again, optionally of one provider (admin)' })
  @ApiAcceptedResponse({ type: ReplayDeadResultDto })
  replayDead(@Query() query: ReplayDeadQueryDto): Promise<ReplayDeadResultDto> {
    return this.events.replayDead(query.provider);
  }
}
