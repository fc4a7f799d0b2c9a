/**
 * Health probes and the Prometheus scrape endpoint, served by the API (graphql/server.ts) and by the
 * worker's small HTTP server (worker/worker-http.ts) alike.
 *
 * - `GET /health/live`: the process is up (served by each server itself; nothing external is checked).
 * - `GET /health/ready`: 200 when PostgreSQL, Redis and the migrations are ok, else 503; load
 *   balancers take a replica out while it answers 503.
 * - `GET /health`: the same checks with their details (latency, error) and the queue counts.
 * - `GET /metrics`: `services.metrics` in the Prometheus text format 0.0.4.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { checkHealth } from './health.js';
import type { Services } from './services.js';

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
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer')
      .json({ errors: [{ message: 'This endpoint needs the metrics token.', extensions: { code: 'UNAUTHENTICATED' } }] });
  };
}

/** `/health/ready` (open, for probes), and `/health` and `/metrics` (behind METRICS_TOKEN when set). */
export function observabilityRoutes(services: Services): Router {
  const router = Router();
  const operatorsOnly = requireToken(services.config.metricsToken);
  router.get('/health/ready', async (_req, res) => {
    const report = await checkHealth(services);
    res
      .status(report.status === 'ok' ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({
        status: report.status,
        checks: Object.fromEntries(Object.entries(report.checks).map(([name, check]) => [name, check.ok ? 'ok' : 'down'])),
      });
  });
  router.get('/health', operatorsOnly, async (_req, res) => {
    const report = await checkHealth(services);
    const queue = await Promise.race([
      services.queue.checkHealth().then((counts) => counts as unknown as Record<string, number>),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 800).unref()),
    ]).catch(() => null);
    res
      .status(report.status === 'ok' ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json({ ...report, queue });
  });
  router.get('/metrics', operatorsOnly, async (_req, res) => {
    const metrics = services.metrics;
    if (!metrics) {
      res.status(404).end();
      return;
    }
    res
      .set('Content-Type', metrics.registry.contentType)
      .set('Cache-Control', 'no-store')
      .send(await metrics.registry.metrics());
  });
  return router;
}
