import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { INTEGRATION_PROVIDERS, IntegrationProvider } from '../config/config';
import { RequestMetrics } from './request-metrics';

/** What became of a webhook event: the first three on the API's ingest path, the last three in the worker. */
export const INGEST_OUTCOMES = ['accepted', 'duplicate', 'rejected'] as const;
export const PROCESSING_OUTCOMES = ['processed', 'failed', 'dead'] as const;
export type WebhookOutcome = (typeof INGEST_OUTCOMES)[number] | (typeof PROCESSING_OUTCOMES)[number];

/** The route label of a request no route matched: one series for every unknown URL, whatever was asked. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * One Prometheus registry per app (never prom-client's global one: two apps in one process, as in the tests, keep
 * their own figures), with the process defaults, the HTTP metrics and the webhook counter. Modules that own other
 * figures register gauges read at scrape time (`scrapeGauge`), so nothing is polled between scrapes.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new RequestMetrics('tenantry_http_requests_total', 'tenantry_http_request_duration_seconds');
  private readonly webhookEventsTotal: Counter<'provider' | 'outcome'>;
  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.requests.register(this.registry);
    this.webhookEventsTotal = new Counter({
      name: 'tenantry_webhook_events_total',
      help: 'Webhook events by provider and outcome: accepted, duplicate, rejected (API ingest); processed, failed, dead (worker)',
      labelNames: ['provider', 'outcome'],
      registers: [this.registry],
    });
  }

  /** Called once per response from the HTTP app's onResponse hook; `route` is the route template, never the URL. */
  observeRequest(method: string, route: string | undefined, status: number, elapsedMs: number): void {
    this.requests.observe(method, route ?? UNMATCHED_ROUTE, status, elapsedMs / 1000);
  }

  webhookEvents(provider: IntegrationProvider, outcome: WebhookOutcome, n = 1): void {
    if (n > 0) this.webhookEventsTotal.labels(provider, outcome).inc(n);
  }

  /** Counts a batch's results (what the ingest path answered) by outcome. */
  webhookResults(provider: IntegrationProvider, results: ReadonlyArray<{ status: (typeof INGEST_OUTCOMES)[number] }>): void {
    let accepted = 0;
    let duplicate = 0;
    let rejected = 0;
    for (const result of results) {
      if (result.status === 'accepted') accepted++;
      else if (result.status === 'duplicate') duplicate++;
      else rejected++;
    }
    this.webhookEvents(provider, 'accepted', accepted);
    this.webhookEvents(provider, 'duplicate', duplicate);
    this.webhookEvents(provider, 'rejected', rejected);
  }

  /** Shows `outcomes` at 0 for every provider from the start, so that `rate()` and `increase()` see the first event. */
  declareWebhookOutcomes(outcomes: readonly WebhookOutcome[]): void {
    for (const provider of INTEGRATION_PROVIDERS) for (const outcome of outcomes) this.webhookEventsTotal.labels(provider, outcome).inc(0);
  }

  /**
   * A gauge whose values are read when Prometheus scrapes: `collect` sets them (and must bound its own wait: a scrape
   * that hangs on a dead dependency shows nothing at all).
   */
  scrapeGauge<L extends string>(options: { name: string; help: string; labelNames: readonly L[]; collect: (gauge: Gauge<L>) => Promise<void> | void }): Gauge<L> {
    const { collect, ...rest } = options;
    return new Gauge<L>({
      ...rest,
      registers: [this.registry],
      async collect() {
        await collect(this);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** Resolves with `work`'s value, or rejects after `ms`: what a scrape-time read waits for at most. */
export async function withinMs<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
