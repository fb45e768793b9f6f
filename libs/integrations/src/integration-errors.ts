import { BrokenCircuitError, BulkheadRejectedError, TaskCancelledError } from 'cockatiel';
import type { IntegrationProvider } from '@tenantry/core';

/** The service answered with an error status. */
export class IntegrationHttpError extends Error {
  constructor(
    readonly provider: IntegrationProvider,
    readonly status: number,
    readonly path: string,
  ) {
    super(`${provider} answered ${status} to ${path}`);
    this.name = 'IntegrationHttpError';
  }
}

/** The service could not be reached, or dropped the connection before answering. */
export class IntegrationConnectionError extends Error {
  constructor(
    readonly provider: IntegrationProvider,
    readonly path: string,
    readonly code: string,
  ) {
    super(`${provider} could not be reached for ${path} (${code})`);
    this.name = 'IntegrationConnectionError';
  }
}

/**
 * Worth another attempt: a 5xx, a timeout, a connection error. A 4xx is the caller's mistake and fails at once; an
 * open breaker and a full bulkhead fail fast by design.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof IntegrationHttpError) return error.status >= 500;
  return error instanceof IntegrationConnectionError || error instanceof TaskCancelledError;
}

/** A short, log-safe description of why a call failed (never a body, never a URL with a secret). */
export function describeFailure(error: unknown): string {
  if (error instanceof TaskCancelledError) return 'timeout';
  if (error instanceof BrokenCircuitError) return 'circuit open';
  if (error instanceof BulkheadRejectedError) return 'bulkhead full';
  if (error instanceof IntegrationHttpError) return `http ${error.status}`;
  if (error instanceof IntegrationConnectionError) return `connection (${error.code})`;
  return error instanceof Error ? error.name : 'unknown';
}

/** The code of an undici `fetch failed` error (ECONNREFUSED, UND_ERR_SOCKET, ...). */
export function connectionCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } })?.cause;
  return cause?.code ?? (error as { code?: string })?.code ?? 'ECONNERROR';
}
