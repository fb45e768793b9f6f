import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../security/public.decorator';
import { SkipAllThrottles } from '../throttling/throttling';
import { RedisHealthIndicator } from './redis.health';

@ApiTags('health')
@Public()
@SkipAllThrottles()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly redis: RedisHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  @ApiOperation({ summary: 'Readiness: 200 when PostgreSQL and Redis answer, 503 naming the one that does not' })
  ready() {
    return this.health.check([
      () => this.db.pingCheck('postgres', { timeout: 1500 }),
      () => this.redis.isHealthy('redis'),
    ]);
  }
}
