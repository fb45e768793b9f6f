import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { Metrics, withinMs } from '@tenantry/core';
import { IntegrationClients } from './integration-clients';
import { CircuitName } from './integration-state';
import { QUEUE_NAMES } from './queues';
import { QueueRegistry } from './queue-registry';

const CIRCUIT_VALUES: Record<CircuitName, number> = { closed: 0, 'half-open': 1, open: 2 };
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
/** A scrape waits this long for Redis at most, then shows no queue depth rather than hang. */
const QUEUE_COUNT_TIMEOUT_MS = 1000;

/**
 * The circuit state of this process's own breakers (each process has its own; alert on `max by (provider)`), read
 * when Prometheus scrapes. No Redis round trip: what the breaker in this process decides is what its calls get.
 */
@Injectable()
export class CircuitMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly clients: IntegrationClients,
  ) {}

  onModuleInit(): void {
    this.metrics.scrapeGauge({
      name: 'tenantry_circuit_state',
      help: "State of this process's circuit breaker per external service: 0 closed, 1 half-open, 2 open",
      labelNames: ['provider'],
      collect: (gauge) => {
        for (const client of this.clients.all()) gauge.labels(client.provider).set(CIRCUIT_VALUES[client.circuit]);
      },
    });
  }
}

/**
 * Bull queue depths (waiting, active, delayed, failed) per queue, counted in Redis at scrape time. Served by the API
 * only: the queues are shared, and every worker reporting them again would only repeat the same figures. When Redis
 * does not answer within a second the series are left out, and the scrape still answers.
 */
@Injectable()
export class QueueMetrics implements OnModuleInit {
  private readonly logger = new Logger('QueueMetrics');

  constructor(
    private readonly metrics: Metrics,
    private readonly queues: QueueRegistry,
  ) {}

  onModuleInit(): void {
    this.metrics.scrapeGauge({
      name: 'tenantry_queue_jobs',
      help: 'Jobs in each Bull queue by state (waiting includes paused), read from Redis when scraped',
      labelNames: ['queue', 'state'],
      collect: async (gauge) => {
        gauge.reset();
        await Promise.all(
          QUEUE_NAMES.map(async (name) => {
            const queue = this.queues.get(name);
            try {
              if (queue.client.status !== 'ready') throw new Error(`redis ${queue.client.status}`);
              const counts = await withinMs(QUEUE_COUNT_TIMEOUT_MS, queue.getJobCounts());
              const paused = (counts as { paused?: number }).paused ?? 0;
              gauge.labels(name, 'waiting').set(counts.waiting + paused);
              gauge.labels(name, 'active').set(counts.active);
              gauge.labels(name, 'delayed').set(counts.delayed);
              gauge.labels(name, 'failed').set(counts.failed);
            } catch (error) {
              this.logger.debug({ event: 'metrics.queue_unread', queue: name, reason: (error as Error).message });
            }
          }),
        );
      },
    });
  }
}
