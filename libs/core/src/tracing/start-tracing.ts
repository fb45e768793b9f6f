import type { NodeSDK } from '@opentelemetry/sdk-node';

let sdk: NodeSDK | undefined;

const REDACTED_QUERY_PARAMS = ['code', 'state', 'id_token', 'access_token', 'token', 'email', 'search', 'q', 'error_description'];

/**
 * Starts OpenTelemetry when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and does nothing else otherwise: the SDK is not even
 * loaded, and the spans the code opens go to the API's no-op tracer. It must run before `http`, `pg` and `ioredis`
 * are first required (the instrumentations patch them as they load), so each app's main imports it first, and this
 * file imports nothing of the app.
 *
 * Traces only, over OTLP/HTTP (`<endpoint>/v1/traces`); the OTEL_* variables of the SDK (sampler, batch sizes,
 * headers, resource attributes) apply as documented.
 */
export function startTracing(serviceName: string): void {
  if (!process.env.OTEL_EXPORTER_OTLP_ENDPOINT || sdk) return;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  /* eslint-enable @typescript-eslint/no-require-imports */
  sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME || serviceName,
    traceExporter: new OTLPTraceExporter(),
    // Traces only: without these, the SDK would also export metrics and logs to the same endpoint.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => request.url?.startsWith('/health') === true,
        // An SSO callback's code and state, and the filters of list routes, stay out of `url.query`.
        redactedQueryParamsServer: REDACTED_QUERY_PARAMS,
      }),
      // Statements are recorded as text with their placeholders; their values (`enhancedDatabaseReporting`) never are.
      // No span per pool checkout: one per transaction, and the query spans already show the time.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      // The command name only: Bull's scripts carry job data among their arguments, and keys may name tokens or states.
      new IORedisInstrumentation({ requireParentSpan: true, dbStatementSerializer: (command) => command }),
    ],
  });
  sdk.start();
}

/** Exports what is still buffered; called when the app closes. A no-op when tracing is off. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  await running?.shutdown().catch(() => undefined);
}
