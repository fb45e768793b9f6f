import { Histogram, Registry } from 'prom-client';
import { REQUEST_BUCKETS, RequestMetrics } from './request-metrics';

describe('RequestMetrics', () => {
  it('renders the same Prometheus text as prom-client’s own histogram for the same observations', async () => {
    const ours = new Registry();
    const requests = new RequestMetrics('requests_total', 'duration_seconds');
    requests.register(ours);
    const theirs = new Registry();
    const reference = new Histogram({ name: 'duration_seconds', help: 'x', labelNames: ['method', 'route', 'status'], buckets: [...REQUEST_BUCKETS], registers: [theirs] });
    const observations: Array<[string, string, number, number]> = [
      ['GET', '/v1/users/:id', 200, 0.0004],
      ['GET', '/v1/users/:id', 200, 0.001],
      ['GET', '/v1/users/:id', 200, 0.0011],
      ['GET', '/v1/users/:id', 404, 3],
      ['POST', '/v1/users', 201, 12],
      ['GET', 'unmatched', 404, 0.05],
    ];
    for (const [method, route, status, seconds] of observations) {
      requests.observe(method, route, status, seconds);
      reference.labels(method, route, String(status)).observe(seconds);
    }
    const body = (text: string) => text.split('\n').filter((line) => line.startsWith('duration_seconds')).sort();
    expect(body(await ours.metrics())).toEqual(body(await theirs.metrics()));
    expect(await ours.metrics()).toContain('requests_total{method="GET",route="/v1/users/:id",status="200"} 3');
    expect(await ours.metrics()).toContain('# TYPE requests_total counter');
    expect(await ours.metrics()).toContain('# TYPE duration_seconds histogram');
  });
});
