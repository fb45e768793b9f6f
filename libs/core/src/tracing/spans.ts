import { Attributes, Context, ROOT_CONTEXT, Span, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';

export { SpanKind };
export type { Span };

/**
 * The W3C trace context of the span a job was enqueued in, carried in the job's envelope beside the tenant context
 * (`traceparent`, and `tracestate` when a vendor set one).
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/**
 * Through the API's global tracer: a no-op until an SDK registers a provider (see start-tracing.ts), and a proxy to
 * that provider from then on, however early this module loaded.
 */
const tracer = trace.getTracer('tenantry');

/** The active trace context as a job carries it; undefined when nothing is traced (tracing off, or no span active). */
export function traceCarrier(): TraceCarrier | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return carrier.tracestate ? { traceparent: carrier.traceparent, tracestate: carrier.tracestate } : { traceparent: carrier.traceparent };
}

/**
 * Runs `fn` in a new active span, a child of the active one; ends it when `fn` settles,
 * and marks it as an error, with the error's type only (its message may quote a body), when `fn` throws.
 */
export function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Attributes },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return runSpan(name, options.kind ?? SpanKind.INTERNAL, options.attributes, context.active(), fn);
}

/**
 * Runs a job in a CONSUMER span that continues the trace its envelope carries; a job without one (enqueued by a relay,
 * or while tracing was off) starts a trace of its own, never a child of whatever the queue's callback ran in.
 */
export function inJobSpan<T>(name: string, carrier: TraceCarrier | undefined, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier) : ROOT_CONTEXT;
  return runSpan(name, SpanKind.CONSUMER, attributes, parent, fn);
}

function runSpan<T>(name: string, kind: SpanKind, attributes: Attributes | undefined, parent: Context, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.setAttribute('error.type', (error as Error)?.name ?? 'Error');
      throw error;
    } finally {
      span.end();
    }
  });
}
