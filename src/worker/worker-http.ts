/**
 * The worker process's small HTTP server (only when `METRICS_PORT` is set): `/health/live`,
 * `/health/ready`, `/health` and `/metrics`, the same handlers the API serves, so the worker's job
 * metrics (which live in the worker process) can be scraped and the worker can be probed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Services } from '../platform/services.js';
import { observabilityRoutes } from '../platform/observability-routes.js';

export interface WorkerHttp {
  server: Server;
  /** `http://<host>:<port>` */
  url: string;
  stop(): Promise<void>;
}

/** Listens on `port` (0: a free one) and `host`. */
export async function startWorkerHttp(services: Services, port: number, host: string): Promise<WorkerHttp> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health/live', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  app.use(observabilityRoutes(services));
  const server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  let stopped: Promise<void> | null = null;
  return {
    server,
    url: `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${address.port}`,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
