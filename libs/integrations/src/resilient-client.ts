import { Logger } from '@nestjs/common';
import {
  BulkheadPolicy,
  CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  IPolicy,
  TimeoutStrategy,
  bulkhead,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
} from 'cockatiel';
import { IntegrationPolicyConfig, IntegrationProvider, SpanKind, inSpan } from '@tenantry/core';
import { IntegrationConnectionError, IntegrationHttpError, connectionCode, describeFailure, isRetryable } from './integration-errors';
import { CircuitName, IntegrationStateStore } from './integration-state';

/** Counts of one logical operation's HTTP calls (a sync's pages, say): what the job shows as its retries. */
export interface CallStats {
  calls: number;
  retries: number;
}

const CIRCUIT_NAMES: Record<CircuitState, CircuitName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'open',
};

/**
 * A service path as a template, so that a span names the route without an organization's slug, a record's id or a
 * query: `/orgs/{org}/subscriptions/{id}`.
 */
export function pathTemplate(path: string): string {
  const segments = path.split('?')[0].split('/');
  if (segments[1] === 'orgs') {
    if (segments.length > 2) segments[2] = '{org}';
    if (segments.length > 4) segments[4] = '{id}';
  }
  return segments.join('/');
}

const MAX_RETRY_DELAY_MS = 10_000;
const PROBE_TIMEOUT_MS = 2000;

/**
 * One external service behind cockatiel's policies, outermost first: a bulkhead (so a slow service cannot take every
 * socket), retries with exponential backoff and decorrelated jitter on retryable failures only, a consecutive-failure
 * breaker that lets a trial call through `halfOpenMs` after it opened, and a timeout per attempt that aborts the
 * request. An open breaker fails a call at once, without a request and without retries.
 */
export class ResilientClient {
  private readonly logger: Logger;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly bulkhead: BulkheadPolicy;
  private readonly policy: IPolicy;
  private readonly trialPolicy: IPolicy;

  constructor(
    readonly provider: IntegrationProvider,
    readonly settings: IntegrationPolicyConfig,
    halfOpenMs: number,
    private readonly state: IntegrationStateStore,
  ) {
    this.logger = new Logger(`Integration:${provider}`);
    const failures = handleWhen(isRetryable);
    this.breaker = circuitBreaker(failures, { halfOpenAfter: halfOpenMs, breaker: new ConsecutiveBreaker(settings.breakerFailures) });
    const retries = retry(failures, {
      maxAttempts: settings.maxAttempts - 1,
      backoff: new ExponentialBackoff({ initialDelay: settings.retryBaseMs, maxDelay: MAX_RETRY_DELAY_MS }),
    });
    const perAttempt = timeout(settings.timeoutMs, TimeoutStrategy.Aggressive);
    this.bulkhead = bulkhead(settings.bulkhead, settings.bulkhead);
    this.policy = wrap(this.bulkhead, retries, this.breaker, perAttempt);
    this.trialPolicy = wrap(this.breaker, timeout(Math.min(settings.timeoutMs, PROBE_TIMEOUT_MS), TimeoutStrategy.Aggressive));

    this.breaker.onStateChange((next) => {
      const circuit = CIRCUIT_NAMES[next];
      this.state.recordCircuit(provider, circuit);
      const entry = { event: 'integration.circuit', provider, circuit };
      if (circuit === 'open') this.logger.warn(entry);
      else this.logger.log(entry);
    });
    retries.onRetry((reason) => {
      const error = 'error' in reason ? reason.error : undefined;
      this.logger.debug({ event: 'integration.retry', provider, reason: describeFailure(error), delayMs: Math.round(reason.delay) });
    });
  }

  get circuit(): CircuitName {
    return CIRCUIT_NAMES[this.breaker.state];
  }

  /** A JSON call through every policy; the body of a 2xx answer (undefined for 204). */
  async request<T>(method: string, path: string, body?: unknown, stats?: CallStats): Promise<T> {
    let attempt = 0;
    try {
      const result = await this.policy.execute(({ signal }) => {
        attempt += 1;
        if (stats) {
          stats.calls += 1;
          if (attempt > 1) stats.retries += 1;
        }
        // fetch (undici) is not seen by the http instrumentation: each attempt gets its CLIENT span here.
        const attributes = {
          'integration.provider': this.provider,
          'http.request.method': method,
          'url.template': pathTemplate(path),
          'integration.attempt': attempt,
        };
        return inSpan('integration.request', { kind: SpanKind.CLIENT, attributes }, (span) =>
          this.send<T>(method, path, body, signal).catch((error: unknown) => {
            if (error instanceof IntegrationHttpError) span.setAttribute('http.response.status_code', error.status);
            throw error;
          }),
        );
      });
      this.state.recordCall(this.provider, true);
      return result as T;
    } catch (error) {
      // What the service did wrong counts against it; a 4xx is ours, and a refusal by our own breaker or bulkhead is
      // already counted by the failures that caused it.
      if (isRetryable(error)) this.state.recordCall(this.provider, false);
      throw error;
    }
  }

  /**
   * A trial call through the breaker alone: when the breaker is open and its half-open time has passed, this is the
   * call that closes it again (or opens it for another period). The worker runs it for open breakers, so that a
   * service that came back is seen as back without waiting for traffic.
   */
  async trial(): Promise<boolean> {
    try {
      await this.trialPolicy.execute(({ signal }) => this.send('GET', '/health', undefined, signal));
      return true;
    } catch {
      return false;
    }
  }

  /** A live probe of the service itself, outside the policies (so an open breaker does not hide a recovery). */
  async probe(): Promise<{ ok: boolean; error: string | null }> {
    try {
      await this.send('GET', '/health', undefined, AbortSignal.timeout(Math.min(this.settings.timeoutMs, PROBE_TIMEOUT_MS)));
      return { ok: true, error: null };
    } catch (error) {
      const reason = (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError' ? 'timeout' : describeFailure(error);
      return { ok: false, error: reason };
    }
  }

  private async send<T>(method: string, path: string, body: unknown, signal: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.settings.url}${path}`, {
        method,
        signal,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      if (signal.aborted) throw error;
      throw new IntegrationConnectionError(this.provider, path, connectionCode(error));
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new IntegrationHttpError(this.provider, response.status, path);
    }
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }
}
