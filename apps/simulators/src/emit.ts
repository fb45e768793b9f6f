import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

import { asObject, badRequest, refuseUnknownFields } from './problem';

/** An event in the contract's webhook format. */
export interface WebhookEvent {
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface EmitRequest {
  organization: string;
  secret: string;
  count: number;
  batchSize: number;
  duplicateRate: number;
  outOfOrder: boolean;
  /** The fraction of events sent thin (only the record's identifier in `data`), where the event type allows it. */
  thin: number;
  /** Requests in flight at once. */
  concurrency: number;
}

export const MAX_EMIT_COUNT = 20_000;
export const MAX_BATCH_SIZE = 500;
const DEFAULT_BATCH_SIZE = 100;
const MAX_CONCURRENCY = 16;
// In order, one request at a time: two requests in flight may overtake each other and the order would be a lie.
const IN_ORDER_CONCURRENCY = 1;
const OUT_OF_ORDER_CONCURRENCY = 4;
const REQUEST_TIMEOUT_MS = 10_000;
const MAX_ATTEMPTS = 5;
const DEFAULT_RETRY_WAIT_MS = 1_000;
const MAX_RETRY_WAIT_MS = 30_000;
/** Bounds the answer: a 20,000-event emit must not answer megabytes. */
export const EVENTS_LISTED = 1_000;
const ERRORS_LISTED = 20;
// The platform's own lookup accepts these; anything else could not name an organization in the webhook path.
const ORGANIZATION_PATTERN = /^[a-z0-9-]{1,63}$/i;

const EMIT_FIELDS = ['organization', 'secret', 'count', 'batchSize', 'duplicateRate', 'outOfOrder', 'thin', 'concurrency'] as const;

function integerIn(value: unknown, name: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max) {
    throw badRequest(`${name} must be an integer from ${min} to ${max}`);
  }
  return value as number;
}

function fraction(value: unknown, name: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw badRequest(`${name} must be a number from 0 to 1`);
  return value;
}

export function parseEmitRequest(body: unknown): EmitRequest {
  const input = asObject(body);
  refuseUnknownFields(input, EMIT_FIELDS, 'field');
  const { organization, secret, count, batchSize = DEFAULT_BATCH_SIZE, duplicateRate = 0, outOfOrder = false, thin = 0 } = input;
  if (typeof organization !== 'string' || !ORGANIZATION_PATTERN.test(organization)) {
    throw badRequest('organization must be an organization slug (letters, digits and hyphens, at most 63)');
  }
  if (typeof secret !== 'string' || secret.length === 0) throw badRequest('secret must be a non-empty string (whsec_<base64>)');
  try {
    new Webhook(secret);
  } catch (error) {
    throw badRequest(`secret is not a Standard Webhooks secret (whsec_<base64>): ${(error as Error).message}`);
  }
  if (typeof outOfOrder !== 'boolean') throw badRequest('outOfOrder must be a boolean');
  const concurrency =
    input.concurrency === undefined ? (outOfOrder ? OUT_OF_ORDER_CONCURRENCY : IN_ORDER_CONCURRENCY) : integerIn(input.concurrency, 'concurrency', 1, MAX_CONCURRENCY);
  return {
    organization,
    secret,
    count: integerIn(count, 'count', 1, MAX_EMIT_COUNT),
    batchSize: integerIn(batchSize, 'batchSize', 1, MAX_BATCH_SIZE),
    duplicateRate: fraction(duplicateRate, 'duplicateRate'),
    outOfOrder,
    thin: fraction(thin, 'thin'),
    concurrency,
  };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Every event once, plus `round(count × duplicateRate)` distinct events a second time (a sender's retry: same id,
 * same content). In order, a retry comes somewhere after its original; out of order, everything is shuffled, so an
 * older change of a record can arrive after a newer one, and a retry before its original.
 */
export function planDeliveries(events: WebhookEvent[], duplicateRate: number, outOfOrder: boolean, random: () => number): WebhookEvent[] {
  const keyed = events.map((event, index) => ({ event, key: index }));
  const duplicated = shuffle(events.map((_, index) => index), random).slice(0, Math.round(events.length * duplicateRate));
  for (const index of duplicated) keyed.push({ event: events[index]!, key: index + random() * (events.length - index) });
  if (outOfOrder) return shuffle(keyed, random).map(({ event }) => event);
  return keyed.sort((a, b) => a.key - b.key).map(({ event }) => event);
}

export interface DeliveryError {
  /** The request's index, in sending order. */
  request: number;
  status?: number;
  eventId?: string;
  message: string;
}

export interface DeliveryReport {
  requests: number;
  /** Extra attempts after a 429. */
  retries: number;
  statuses: { accepted: number; duplicate: number; rejected: number };
  /** The final HTTP status of each request; a request that got no answer counts in `failedRequests` only. */
  httpStatuses: Record<string, number>;
  /** Requests without a 2xx answer (network error, timeout, or an error status). */
  failedRequests: number;
  errors: DeliveryError[];
  errorsOmitted: number;
}

function retryWaitMs(header: string | null): number {
  if (header === null) return DEFAULT_RETRY_WAIT_MS;
  const seconds = Number(header);
  const wait = header.trim() !== '' && Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
  return Number.isFinite(wait) ? Math.min(Math.max(wait, 0), MAX_RETRY_WAIT_MS) : DEFAULT_RETRY_WAIT_MS;
}

/** Duck-typed: under Jest, fetch's errors come from another realm and fail `instanceof Error`. */
function failureOf(error: unknown): string {
  const { name, message, cause } = (error ?? {}) as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS} ms`;
  const text = message ?? String(error);
  return cause ? `${text}: ${cause.code ?? cause.message}` : text;
}

/**
 * Sends the deliveries to `url` in batches, signed the Standard Webhooks way (a batch of 1 as a bare event). A 429 is
 * retried after its Retry-After, up to MAX_ATTEMPTS, with the same message id and body, signed again for a fresh
 * timestamp. Nothing here throws: every failure is counted and, up to ERRORS_LISTED, described.
 */
export async function deliver(options: {
  url: string;
  secret: string;
  deliveries: WebhookEvent[];
  batchSize: number;
  concurrency: number;
}): Promise<DeliveryReport> {
  const { url, deliveries, batchSize } = options;
  const webhook = new Webhook(options.secret);
  const batches: WebhookEvent[][] = [];
  for (let start = 0; start < deliveries.length; start += batchSize) batches.push(deliveries.slice(start, start + batchSize));
  const report: DeliveryReport = {
    requests: batches.length,
    retries: 0,
    statuses: { accepted: 0, duplicate: 0, rejected: 0 },
    httpStatuses: {},
    failedRequests: 0,
    errors: [],
    errorsOmitted: 0,
  };
  const recordError = (error: DeliveryError) => {
    if (report.errors.length < ERRORS_LISTED) report.errors.push(error);
    else report.errorsOmitted += 1;
  };

  const tallyResults = (request: number, batch: WebhookEvent[], text: string) => {
    let results: unknown;
    try {
      results = (JSON.parse(text) as { results?: unknown }).results;
    } catch {
      results = undefined;
    }
    if (!Array.isArray(results)) return recordError({ request, message: `the answer has no results array: ${text.slice(0, 200)}` });
    if (results.length !== batch.length) recordError({ request, message: `${results.length} results for ${batch.length} events` });
    for (const result of results as Array<{ id?: unknown; status?: unknown; error?: unknown }>) {
      const status = result?.status;
      if (status === 'accepted' || status === 'duplicate' || status === 'rejected') report.statuses[status] += 1;
      else recordError({ request, message: `unknown result status ${JSON.stringify(status)}` });
      if (status === 'rejected') {
        recordError({ request, eventId: String(result.id), message: `rejected: ${typeof result.error === 'string' ? result.error : JSON.stringify(result.error)}` });
      }
    }
  };

  const send = async (request: number): Promise<void> => {
    const batch = batches[request]!;
    const body = JSON.stringify(batchSize === 1 ? batch[0] : batch);
    const messageId = `msg_${randomUUID()}`;
    for (let attempt = 1; ; attempt++) {
      const timestamp = new Date();
      let status: number;
      let text: string;
      let retryAfter: string | null;
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': messageId,
            'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
            'webhook-signature': webhook.sign(messageId, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        text = await response.text();
      } catch (error) {
        report.failedRequests += 1;
        return recordError({ request, message: failureOf(error) });
      }
      if (status === 429 && attempt < MAX_ATTEMPTS) {
        report.retries += 1;
        await new Promise((resolve) => setTimeout(resolve, retryWaitMs(retryAfter)));
        continue;
      }
      report.httpStatuses[status] = (report.httpStatuses[status] ?? 0) + 1;
      if (status >= 200 && status < 300) return tallyResults(request, batch, text);
      report.failedRequests += 1;
      return recordError({ request, status, message: text.slice(0, 200) || `HTTP ${status}` });
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < batches.length) await send(next++);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, batches.length) }, worker));
  return report;
}
