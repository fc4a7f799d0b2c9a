/**
 * The API's observability: health probes, the Prometheus scrape endpoint, HTTP metrics, and the
 * GraphQL operation plugin (metrics, an OpenTelemetry span and one log line per operation).
 *
 * - `GET /health/live`: the process is up (served by server.ts; nothing external is checked).
 * - `GET /health/ready`: 200 when PostgreSQL, Redis and the migrations are ok, else 503; load
 *   balancers take a replica out while it answers 503.
 * - `GET /health`: the same checks with their details (latency, error) and the queue counts.
 * - `GET /metrics`: `services.metrics` in the Prometheus text format 0.0.4.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import { context as otelContext, trace, SpanKind, type Span } from '@opentelemetry/api';
import { checkHealth } from '../platform/health.js';
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
    return definitions.filter((definition) => definition.kind === 'OperationDefinition' && definition.name).map((definition) => definition.name!.value);
  }),
);
import type { Services } from '../platform/services.js';
import { recordSpanError, tracer } from '../platform/tracing.js';
import type { GraphQLContext } from './context.js';

/** Answers 401 unless the request carries `Authorization: Bearer <token>` (compared in constant time); open when `token` is null. */
function requireToken(token: string | null) {
  const expected = token === null ? null : createHash('sha256').update(token).digest();
  return (req: Request, res: Response, next: NextFunction): void => {
    if (expected === null) {
      next();
      return;
    }
    const given = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization?.trim() ?? '')?.[1] ?? '';
    if (timingSafeEqual(createHash('sha256').update(given).digest(), expected)) {
      next();
      return;
    }
    res.status(401).set('WWW-Authenticate', 'Bearer').json({ errors: [{ message: 'This endpoint needs the metrics token.', extensions: { code: 'UNAUTHENTICATED' } }] });
  };
}

/** `/health/ready` (open, for probes), and `/health` and `/metrics` (behind METRICS_TOKEN when set). */
export function observabilityRoutes(services: Services): Router {
  const router = Router();
  const operatorsOnly = requireToken(services.config.metricsToken);
  router.get('/health/ready', async (_req, res) => {
    const report = await checkHealth(services);
    res.status(report.status === 'ok' ? 200 : 503).set('Cache-Control', 'no-store').json({ status: report.status, checks: Object.fromEntries(Object.entries(report.checks).map(([name, check]) => [name, check.ok ? 'ok' : 'down'])) });
  });
  router.get('/health', operatorsOnly, async (_req, res) => {
    const report = await checkHealth(services);
    const queue = await Promise.race([
      services.queue.checkHealth().then((counts) => counts as unknown as Record<string, number>),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 800).unref()),
    ]).catch(() => null);
    res.status(report.status === 'ok' ? 200 : 503).set('Cache-Control', 'no-store').json({ ...report, queue });
  });
  router.get('/metrics', operatorsOnly, async (_req, res) => {
    const metrics = services.metrics;
    if (!metrics) {
      res.status(404).end();
      return;
    }
    res.set('Content-Type', metrics.registry.contentType).set('Cache-Control', 'no-store').send(await metrics.registry.metrics());
  });
  return router;
}

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
    const route = path.startsWith('/files/') ? '/files' : path === '/graphql' ? '/graphql' : ['/health', '/health/live', '/health/ready', '/metrics'].includes(path) ? path : 'other';
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
          const hasErrors = Boolean(errors?.length) || (response.body.kind === 'single' && Boolean(response.body.singleResult.errors?.length));
          const outcome = hasErrors ? 'error' : 'ok';
          const seconds = (performance.now() - started) / 1000;
          metrics?.graphqlOperations.inc({ operation: metricOperation, type, outcome });
          metrics?.graphqlDuration.observe({ operation: metricOperation, type }, seconds);
          if (hasErrors && span) recordSpanError(span, new Error(errors?.[0]?.message ?? 'GraphQL errors'));
          contextValue.logger?.info('GraphQL operation', { operation, type, outcome, durationMs: Math.round(seconds * 1000) });
        },
      };
    },
  };
}
