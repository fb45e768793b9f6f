import type { Metric, Registry } from 'prom-client';

/** Upper bounds of the request duration histogram, in seconds. */
export const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface Series {
  labels: { method: string; route: string; status: string };
  count: number;
  sumSeconds: number;
  /** Per bucket, not cumulative; the last slot is +Inf. */
  buckets: Float64Array;
}

/** What the registry needs of a metric: its name, help and type, and its values when scraped. */
interface ScrapedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Array<{ labels: object; value: number; metricName?: string }> }>;
}

/**
 * The request counter and duration histogram, counted in plain numbers on the hot path and turned into Prometheus
 * values only when scraped. prom-client's own `Counter`/`Histogram` hash and validate the labels on every call (about
 * a microsecond each here); this finds its series in nested maps keyed by the route template, method and status,
 * which Fastify hands over as the same strings each time, and allocates nothing once a series exists.
 */
export class RequestMetrics {
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();

  constructor(
    private readonly counterName: string,
    private readonly histogramName: string,
  ) {}

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) this.series.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) {
      series = { labels: { method, route, status: String(status) }, count: 0, sumSeconds: 0, buckets: new Float64Array(REQUEST_BUCKETS.length + 1) };
      byStatus.set(status, series);
    }
    series.count++;
    series.sumSeconds += seconds;
    let bucket = 0;
    while (bucket < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[bucket]) bucket++;
    series.buckets[bucket]++;
  }

  register(registry: Registry): void {
    const all = () => [...this.series.values()].flatMap((byMethod) => [...byMethod.values()].flatMap((byStatus) => [...byStatus.values()]));
    const counter: ScrapedMetric = {
      name: this.counterName,
      help: 'HTTP requests answered, by method, route template and status code',
      type: 'counter',
      aggregator: 'sum',
      get: async () => ({ ...metaOf(counter), values: all().map((s) => ({ labels: s.labels, value: s.count })) }),
    };
    const histogram: ScrapedMetric = {
      name: this.histogramName,
      help: 'Time from the request to the end of its response, by method, route template and status code',
      type: 'histogram',
      aggregator: 'sum',
      get: async () => ({
        ...metaOf(histogram),
        values: all().flatMap((s) => {
          let cumulative = 0;
          const buckets = [...REQUEST_BUCKETS, '+Inf' as const].map((le, i) => {
            cumulative += s.buckets[i];
            return { labels: { le, ...s.labels }, value: cumulative, metricName: `${this.histogramName}_bucket` };
          });
          return [
            ...buckets,
            { labels: s.labels, value: s.sumSeconds, metricName: `${this.histogramName}_sum` },
            { labels: s.labels, value: s.count, metricName: `${this.histogramName}_count` },
          ];
        }),
      }),
    };
    registry.registerMetric(counter as unknown as Metric);
    registry.registerMetric(histogram as unknown as Metric);
  }
}

const metaOf = (metric: ScrapedMetric) => ({ name: metric.name, help: metric.help, type: metric.type, aggregator: metric.aggregator });
