'use strict';
/** The load generator: autocannon as a library, in the bench's own process, never inside a server. */
const autocannon = require('autocannon');
const { cpuMicros } = require('./processes');

/**
 * Fires `amount` requests over `connections` and answers what came back. `prepared`: bodies made (and signed) before
 * the round, `[{ body: string, headers }]`, one per request in order, so that the load generator only picks them.
 * `overallRate`: requests per second across all connections (autocannon paces them), for a latency at a given rate. autocannon itself only notices that it is
 * done at its next sample tick, so the round ends (and `atEnd` runs: the server's CPU is read there) when the last
 * answer or error arrives, by our own clock.
 */
function fire({ url, headers, method = 'GET', body, prepared, amount, connections, timeoutSec, overallRate, atStart = () => undefined, atEnd = () => undefined }) {
  return new Promise((resolve, reject) => {
    let finished = 0;
    let sent = 0;
    let endedAt = null;
    let endState;
    const started = process.hrtime.bigint();
    const startState = atStart();
    const settle = () => {
      if (endedAt !== null) return;
      endedAt = process.hrtime.bigint();
      endState = atEnd();
    };
    const instance = autocannon(
      {
        url,
        method,
        headers: body || prepared ? { ...headers, 'content-type': 'application/json' } : headers,
        // A body made per request (`body(n)`): a PATCH that sends the same value twice changes nothing the second time.
        ...(body && !prepared ? { requests: [{ method, setupRequest: (req) => ({ ...req, body: JSON.stringify(body(sent++)) }) }] } : {}),
        // autocannon also sets up one request per connection before the first is sent: `prepared` holds a few spare.
        ...(prepared
          ? {
              requests: [
                {
                  method,
                  setupRequest: (req) => {
                    const next = prepared[sent++ % prepared.length];
                    return { ...req, body: next.body, headers: { ...req.headers, ...next.headers } };
                  },
                },
              ],
            }
          : {}),
        amount,
        connections: Math.min(connections, amount),
        ...(overallRate ? { overallRate } : {}),
        timeout: timeoutSec,
        sampleInt: 100,
      },
      (error, result) => {
        if (error) return reject(error);
        settle();
        const statusCodes = {};
        let answered = 0;
        for (const [code, { count }] of Object.entries(result.statusCodeStats || {})) {
          statusCodes[code] = count;
          answered += count;
        }
        resolve({
          answered,
          ok: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          statusCodes,
          seconds: Number(endedAt - started) / 1e9,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          startState,
          endState,
        });
      },
    );
    const count = () => {
      if (++finished >= amount) settle();
    };
    instance.on('response', count);
    instance.on('reqError', count);
  });
}

/** One measured round: the server's CPU time is read before and after; per-request figures divide by the answers. */
async function measureRound({ pid, url, headers, method, body, prepared, amount, connections, timeoutSec, overallRate }) {
  const shot = await fire({ url, headers, method, body, prepared, amount, connections, timeoutSec, overallRate, atStart: () => cpuMicros(pid), atEnd: () => cpuMicros(pid) });
  const requests = shot.answered || 1;
  return {
    ...shot,
    cpuUsPerReq: (shot.endState - shot.startState) / requests,
    reqPerSec: shot.answered / shot.seconds,
  };
}

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** The medians of a side's rounds, with the totals of everything that was not a 2xx. */
function summarize(rounds) {
  return {
    cpuUsPerReq: median(rounds.map((r) => r.cpuUsPerReq)),
    reqPerSec: median(rounds.map((r) => r.reqPerSec)),
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    requests: rounds.reduce((n, r) => n + r.answered, 0),
    non2xx: rounds.reduce((n, r) => n + r.non2xx, 0),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    timeouts: rounds.reduce((n, r) => n + r.timeouts, 0),
    statusCodes: rounds.reduce((acc, r) => {
      for (const [code, count] of Object.entries(r.statusCodes)) acc[code] = (acc[code] || 0) + count;
      return acc;
    }, {}),
  };
}

module.exports = { fire, measureRound, summarize, median };
