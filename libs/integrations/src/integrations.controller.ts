import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { INTEGRATION_PROVIDERS, IntegrationProvider, Idempotent, Public, Roles, SkipAllThrottles, TenantContext, UnitOfWork, toPage } from '@tenantry/core';
import { FindOptionsWhere } from 'typeorm';
import {
  IntegrationHealthDto,
  InvoiceDto,
  InvoicePageDto,
  JobDto,
  MessageDto,
  MessagePageDto,
  SubscriptionDto,
  SubscriptionPageDto,
  SyncAcceptedDto,
  InvoiceListQueryDto,
  MessageListQueryDto,
  SubscriptionListQueryDto,
} from './dto/integrations.dto';
import { IntegrationError } from './integration.errors';
import { IntegrationsService, isProvider } from './integrations.service';
import { JOB_ID_PATTERN } from './queues';
import { Invoice, Subscription, SyncedMessage } from './synced.entities';

const ProviderParam = () => ApiParam({ name: 'provider', enum: INTEGRATION_PROVIDERS });

function provider(value: string): IntegrationProvider {
  if (!isProvider(value)) throw IntegrationError.unknownProvider();
  return value;
}

@ApiTags('integrations')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Admins only' })
@Controller('v1/integrations')
export class IntegrationsController {
  constructor(
    private readonly integrations: IntegrationsService,
    private readonly context: TenantContext,
  ) {}

  @Post(':provider/sync')
  @HttpCode(202)
  @Roles('admin')
  @Idempotent()
  @ProviderParam()
  @ApiOperation({ summary: "Pull the organization's records from a service and reconcile them (admin)" })
  @ApiAcceptedResponse({ type: SyncAcceptedDto, description: 'Queued, or joined to a pull of the same service still queued' })
  @ApiNotFoundResponse({ description: 'No such provider' })
  @ApiServiceUnavailableResponse({ description: 'The queue did not answer' })
  sync(@Param('provider') name: string): Promise<SyncAcceptedDto> {
    return this.integrations.requestSync(provider(name));
  }

  @Get('jobs/:jobId')
  @Roles('admin')
  @ApiParam({ name: 'jobId', schema: { type: 'string', pattern: JOB_ID_PATTERN, maxLength: 73 } })
  @ApiOperation({ summary: 'A sync job: its state, attempts and result (admin)' })
  @ApiOkResponse({ type: JobDto })
  @ApiNotFoundResponse({ description: 'No such job in this organization' })
  job(@Param('jobId') jobId: string): Promise<JobDto> {
    if (!new RegExp(JOB_ID_PATTERN).test(jobId)) throw IntegrationError.jobNotFound();
    return this.integrations.getJob(jobId);
  }

  @Get('health')
  @Roles('admin')
  @ApiOperation({ summary: "Each service's health, with this organization's queue and dead letters (admin)" })
  @ApiOkResponse({ type: [IntegrationHealthDto] })
  health(): Promise<IntegrationHealthDto[]> {
    return this.integrations.health(this.context.requireOrgId());
  }
}

/** Read endpoints of the synced data, newest first; what the service removed stays listed, with its `removedAt`. */
@ApiTags('integrations')
@ApiBearerAuth()
@ApiForbiddenResponse({ description: 'Admins and viewers only' })
@Controller('v1')
export class SyncedDataController {
  constructor(private readonly uow: UnitOfWork) {}

  private async page<E extends Subscription | Invoice | SyncedMessage, D>(entity: new () => E, query: SubscriptionListQueryDto, toDto: (row: E) => D) {
    const where: FindOptionsWhere<Subscription> = {};
    if (query.status) where.status = query.status;
    const [rows, total] = await this.uow.run((manager) =>
      manager.findAndCount(entity, { where: where as FindOptionsWhere<E>, order: { createdAt: 'DESC', id: 'ASC' } as never, skip: query.offset, take: query.limit }),
    );
    return toPage(rows.map(toDto), total, query);
  }

  @Get('subscriptions')
  @Roles('admin', 'viewer')
  @ApiOperation({ summary: 'Subscriptions synced from the payment service (admin, viewer)' })
  @ApiOkResponse({ type: SubscriptionPageDto })
  subscriptions(@Query() query: SubscriptionListQueryDto): Promise<SubscriptionPageDto> {
    return this.page(Subscription, query, SubscriptionDto.from);
  }

  @Get('invoices')
  @Roles('admin', 'viewer')
  @ApiOperation({ summary: 'Invoices synced from the payment service (admin, viewer)' })
  @ApiOkResponse({ type: InvoicePageDto })
  invoices(@Query() query: InvoiceListQueryDto): Promise<InvoicePageDto> {
    return this.page(Invoice, query, InvoiceDto.from);
  }

  @Get('messages')
  @Roles('admin', 'viewer')
  @ApiOperation({ summary: 'The delivery log synced from the communication service (admin, viewer)' })
  @ApiOkResponse({ type: MessagePageDto })
  messages(@Query() query: MessageListQueryDto): Promise<MessagePageDto> {
    return this.page(SyncedMessage, query, MessageDto.from);
  }
}

/** Terminus: one indicator per service, up while its breaker is not open and its latest probe (≤ 10 s old) passed. */
@ApiTags('health')
@Public()
@SkipAllThrottles()
@Controller('health')
export class IntegrationsHealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly integrations: IntegrationsService,
  ) {}

  @Get('integrations')
  @HealthCheck()
  @ApiOperation({ summary: 'Each external service: up or down from its circuit breaker and a live probe' })
  async check() {
    const reports = await this.integrations.health(null);
    return this.health.check(
      reports.map((report) => () => {
        const indicator = this.indicators.check(report.provider);
        const details = { circuit: report.circuit, probe: report.probe.ok ? 'ok' : report.probe.error, lastSuccessAt: report.lastSuccessAt, lastFailureAt: report.lastFailureAt };
        return report.status === 'down' ? indicator.down(details) : indicator.up(details);
      }),
    );
  }
}
