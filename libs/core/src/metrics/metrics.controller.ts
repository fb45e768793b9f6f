import { CanActivate, Controller, ExecutionContext, Get, Header, Injectable, UseGuards } from '@nestjs/common';
import { ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../config/app-config';
import { CommonError, CommonErrorCode } from '../errors/domain-error';
import { Public } from '../security/public.decorator';
import { SkipAllThrottles } from '../throttling/throttling';
import { Metrics } from './metrics';
import { metricsAccess } from './metrics-access';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Loopback, or `METRICS_TOKEN` as a bearer (see metricsAccess). */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  constructor(private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    switch (metricsAccess(this.config.metricsToken, request.socket.remoteAddress, request.headers)) {
      case 'allowed':
        return true;
      case 'unauthorized':
        throw new CommonError(CommonErrorCode.Unauthorized, 'Send METRICS_TOKEN as a bearer token to scrape metrics from outside this host');
      case 'forbidden':
        throw new CommonError(CommonErrorCode.Forbidden, 'Metrics are served to loopback only: set METRICS_TOKEN to scrape them from elsewhere');
    }
  }
}

@ApiTags('health')
@Public()
@SkipAllThrottles()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get()
  @UseGuards(MetricsAccessGuard)
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics of this API process',
    description:
      'Prometheus text format: HTTP requests and latency by route template and status, Bull queue depths, webhook events by ' +
      'provider and outcome, circuit state per provider, dead letters, and the Node.js process defaults. Open to loopback; ' +
      'from elsewhere send METRICS_TOKEN as a bearer token (401 without it or with a wrong one, 403 when no token is configured). ' +
      'The access token of a user is not a metrics token.',
    security: [],
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiUnauthorizedResponse({ description: 'Not on loopback, and no or a wrong METRICS_TOKEN bearer' })
  @ApiForbiddenResponse({ description: 'Not on loopback, and no METRICS_TOKEN is configured' })
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
