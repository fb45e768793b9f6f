import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { INGEST_OUTCOMES, INTEGRATION_PROVIDERS, Metrics, PROCESSING_OUTCOMES, UnitOfWork, withinMs } from '@tenantry/core';

/** A scrape waits this long for PostgreSQL at most, then shows no dead-letter figure rather than hang. */
const DEAD_LETTER_TIMEOUT_MS = 1500;

/**
 * The API's webhook figures: its ingest outcomes start at 0, and dead letters are counted per provider across
 * organizations when scraped (a SECURITY DEFINER function that returns counts only; never an organization label).
 */
@Injectable()
export class WebhookIngestMetrics implements OnModuleInit {
  private readonly logger = new Logger('WebhookMetrics');

  constructor(
    private readonly metrics: Metrics,
    private readonly uow: UnitOfWork,
  ) {}

  onModuleInit(): void {
    this.metrics.declareWebhookOutcomes(INGEST_OUTCOMES);
    this.metrics.scrapeGauge({
      name: 'tenantry_webhook_dead_letters',
      help: 'Webhook events that ended dead (awaiting replay), per provider, across every organization',
      labelNames: ['provider'],
      collect: async (gauge) => {
        try {
          const rows = await withinMs(DEAD_LETTER_TIMEOUT_MS, this.uow.query<{ provider: string; dead: string }>('select provider, dead from webhook_dead_letter_counts()'));
          const counts = new Map(rows.map((row) => [row.provider, Number(row.dead)]));
          for (const provider of INTEGRATION_PROVIDERS) gauge.labels(provider).set(counts.get(provider) ?? 0);
        } catch (error) {
          gauge.reset();
          this.logger.debug({ event: 'metrics.dead_letters_unread', reason: (error as Error).message });
        }
      },
    });
  }
}

/** The worker's webhook figures: its processing outcomes start at 0. */
@Injectable()
export class WebhookProcessingMetrics implements OnModuleInit {
  constructor(private readonly metrics: Metrics) {}

  onModuleInit(): void {
    this.metrics.declareWebhookOutcomes(PROCESSING_OUTCOMES);
  }
}
