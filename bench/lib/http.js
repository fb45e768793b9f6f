'use strict';
/**
 * Control-plane requests (probes, seeding, readiness): node:http on a fresh connection each time, so that no pooled
 * keep-alive socket to a server that has since stopped (or a port that has since been reused) can fail a request.
 */
const http = require('node:http');

/** `body` is sent as JSON; `rawBody` (a string) as it is, with a JSON content type: for bodies signed byte for byte. */
function request(url, { method = 'GET', headers = {}, body, rawBody, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = rawBody !== undefined ? Buffer.from(rawBody) : body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, ok: res.statusCode >= 200 && res.statusCode < 300, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

module.exports = { request };
