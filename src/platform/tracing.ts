/**
 * OpenTelemetry through `@opentelemetry/api` only. Without a registered SDK every call here is a
 * no-op (the API's default tracer, propagator and context manager do nothing); a deployment that
 * wants traces registers an SDK and exporter before the service starts (e.g. `node --import
 * <otel-setup> dist/src/main.js`), configured by the SDK's own `OTEL_*` environment variables.
 *
 * One trace covers upload to result: the API injects the active context into the job's
 * `traceContext` when it enqueues ({@link injectTraceContext}), the worker extracts it
 * ({@link extractTraceContext}) and runs the job's span, and each pipeline stage's span, under it.
 */
import { context, propagation, trace, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';

export const TRACER_NAME = 'melody-vocals';

export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** The active context as carrier fields (W3C `traceparent`/`tracestate` with the W3C propagator); undefined when there is nothing to carry. */
export function injectTraceContext(from: Context = context.active()): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(from, carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The context a job's `traceContext` carries (the root context when it carries none). */
export function extractTraceContext(carrier: Record<string, string> | undefined): Context {
  return carrier ? propagation.extract(context.active(), carrier) : context.active();
}

/** Marks a span failed with `error` (its message only: no payloads, no tokens). */
export function recordSpanError(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  if (error instanceof Error) span.recordException({ name: error.name, message: error.message });
}
