/**
 * The API's observability: HTTP metrics and the GraphQL operation plugin (metrics, an OpenTelemetry
 * span and one log line per operation). The health probes and the scrape endpoint, which the worker
 * serves too, are src/platform/observability-routes.ts.
 */
import type { NextFunction, Request, Response } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { context as otelContext, trace, SpanKind, type Span } from '@opentelemetry/api';
import { metricOperationLabel, operationLabel, type Metrics } from '../platform/metrics.js';
import * as documentedOperations from '../generated/graphql.js';

/**
 * Names of the documented operations (schema/operations/*.graphql, compiled by codegen into
 * src/generated/graphql.ts): the only operation names that become metric labels; any other is `other`.
 */
export const KNOWN_OPERATIONS: ReadonlySet<string> = new Set(
  Object.values(documentedOperations as Record<string, unknown>).flatMap((value) => {
    const definitions = (value as { kind?: unknown; definitions?: { kind: string; name?: { value: string } }[] } | null)?.definitions;
    if ((value as { kind?: unknown } | null)?.kind !== 'Document' || !Array.isArray(definitions)) return [];
    return definitions
      .filter((definition) => definition.kind === 'OperationDefinition' && definition.name)
      .map((definition) => definition.name!.value);
  }),
);
import { recordSpanError, tracer } from '../platform/tracing.js';
import type { GraphQLContext } from '../modules/graphql-context.js';

/** Counts and times every HTTP request by method, route (not the raw path: no ids or signatures as labels) and status. */
export function httpMetrics(metrics: Metrics | undefined) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!metrics) {
      next();
      return;
    }
    const started = performance.now();
    // Read now: routers mounted on a path rewrite req.url while they handle the request.
    const path = req.path;
    const route = path.startsWith('/files/')
      ? '/files'
      : path === '/graphql'
        ? '/graphql'
        : ['/health', '/health/live', '/health/ready', '/metrics'].includes(path)
          ? path
          : 'other';
    res.once('finish', () => {
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpDuration.observe({ method: req.method, route }, (performance.now() - started) / 1000);
    });
    next();
  };
}

/**
 * Starts the request's server span and runs the rest of the request in its context, so that
 * everything the resolvers do (the enqueue, which copies the trace context into the job) belongs to
 * it. The GraphQL plugin names the span after the operation. A no-op without an OpenTelemetry SDK.
 */
export function graphqlSpan(req: Request, res: Response, next: NextFunction): void {
  const span = tracer().startSpan('graphql', { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } });
  res.once('close', () => span.end());
  otelContext.with(trace.setSpan(otelContext.active(), span), next);
}

/**
 * Per GraphQL operation over HTTP: the operation count and duration by name, type and outcome;
 * the span's name and attributes; one `GraphQL operation` log line through the context's logger
 * (which stamps the request id). Subscriptions over graphql-ws are counted by the ws server hooks.
 */
export function observabilityPlugin(metrics: Metrics | undefined): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      const span: Span | undefined = trace.getSpan(otelContext.active());
      let operation = 'anonymous';
      let metricOperation = 'anonymous';
      let type = 'unknown';
      return {
        async didResolveOperation({ operationName, operation: document }) {
          operation = operationLabel(operationName);
          metricOperation = metricOperationLabel(operationName, KNOWN_OPERATIONS);
          type = document?.operation ?? 'unknown';
          span?.updateName(`graphql.${type} ${operation}`);
          span?.setAttributes({ 'graphql.operation.name': operation, 'graphql.operation.type': type });
        },
        async willSendResponse({ contextValue, errors, response }) {
          const hasErrors =
            Boolean(errors?.length) || (response.body.kind === 'single' && Boolean(response.body.singleResult.errors?.length));
          const outcome = hasErrors ? 'error' : 'ok';
          const seconds = (performance.now() - started) / 1000;
          metrics?.graphqlOperations.inc({ operation: metricOperation, type, outcome });
          metrics?.graphqlDuration.observe({ operation: metricOperation, type }, seconds);
          if (hasErrors && span) recordSpanError(span, new Error(errors?.[0]?.message ?? 'GraphQL errors'));
          // Checked first: winston only drops a line below its level after building and piping it.
          if (contextValue.logger?.isInfoEnabled())
            contextValue.logger.info('GraphQL operation', { operation, type, outcome, durationMs: Math.round(seconds * 1000) });
        },
      };
    },
  };
}
