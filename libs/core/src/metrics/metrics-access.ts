import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export type MetricsAccess = 'allowed' | 'unauthorized' | 'forbidden';

const isLoopback = (address: string | undefined): boolean =>
  !!address && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Who may scrape /metrics (the API's and the worker's alike): a client on loopback, or anyone presenting
 * `METRICS_TOKEN` as a bearer. A request that came through a proxy (it carries `Forwarded` or `X-Forwarded-For`) is
 * not a loopback request, whatever the socket says: a reverse proxy on the same host would otherwise open the
 * metrics to the world. The socket's address is used, never `request.ip`, which a client can set through those headers.
 *
 * Without a token configured, a remote scrape is forbidden (403: no credential would help); with one, a missing or
 * wrong bearer is 401.
 */
export function metricsAccess(token: string | null, remoteAddress: string | undefined, headers: IncomingHttpHeaders): MetricsAccess {
  const proxied = headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined;
  if (!proxied && isLoopback(remoteAddress)) return 'allowed';
  if (!token) return 'forbidden';
  const match = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '');
  return match && timingSafeEqual(digest(match[1]), digest(token)) ? 'allowed' : 'unauthorized';
}
