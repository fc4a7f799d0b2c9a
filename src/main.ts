/**
 * The service's entry point: `node dist/src/main.js api | worker | all`
 * (`npm run api`, `npm run worker`, `npm start`).
 *
 * - `api`: the GraphQL/HTTP server on PORT.
 * - `worker`: the conversion worker (WORKER_CONCURRENCY jobs at once).
 * - `all`: both in one process, for local use.
 *
 * Start-up creates the database if missing and applies the migrations (createServices → initOrm).
 * SIGTERM or SIGINT stops gracefully: the API stops accepting and drains, the worker finishes or
 * hands back its running jobs, then every connection is closed. A second signal, or 45 s without
 * finishing, exits at once with code 1. An unhandled promise rejection is logged (level error) and the
 * process keeps running; an uncaught exception is logged and the process stops the same way, with
 * code 1, within 15 s.
 */
import 'reflect-metadata';
import { pathToFileURL } from 'node:url';
import { loadConfig, ConfigError } from './platform/config.js';
import { createLogger } from './platform/logger.js';
import { createServices, type ProcessRole, type Services } from './services.js';

const MODES: readonly ProcessRole[] = ['api', 'worker', 'all'];
const FORCED_EXIT_MS = 45_000;
/** How long the shutdown after an uncaught exception may take before the process exits anyway, ms. */
const CRASH_SHUTDOWN_MS = 15_000;

/** Something that must be stopped on shutdown, in reverse order of starting. */
type Stopper = () => Promise<void>;

/** Runs `mode` until a signal; resolves with the process exit code. */
export async function run(mode: ProcessRole): Promise<number> {
  const config = loadConfig(process.env);
  const logger = createLogger(config, mode);
  const stoppers: Stopper[] = [];
  let services: Services | null = null;

  const shutdown = async (reason: string): Promise<void> => {
    logger.info('Shutting down', { reason });
    while (stoppers.length) {
      try {
        await stoppers.pop()!();
      } catch (error) {
        logger.error('Error during shutdown', { error: (error as Error).message });
      }
    }
  };

  // Last resort (docs/decisions.md, "Redis restarts"): a promise nobody observed is logged and the
  // process goes on; an exception nobody caught stops the process (gracefully, with a deadline) so
  // its supervisor starts a clean one.
  process.on('unhandledRejection', (reason) => {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    logger.error('Unhandled promise rejection (a bug: every promise should be observed)', { error: error.message, stack: error.stack });
  });
  let crashed = false;
  process.on('uncaughtException', (error) => {
    logger.error('Uncaught exception; stopping the process', { error: error.message, stack: error.stack });
    if (crashed) return;
    crashed = true;
    process.exitCode = 1;
    setTimeout(() => process.exit(1), CRASH_SHUTDOWN_MS).unref();
    void shutdown('uncaught exception').finally(() => process.exit(1));
  });

  try {
    services = await createServices(config, { role: mode, logger });
    const ready = services;
    stoppers.push(() => ready.close());
    // Each role loads only its own code: an API process never loads the pipeline (the lyric writer's
    // language data, the singing engines), a worker never loads Apollo (start-up time, issue 16).
    if (mode === 'worker' || mode === 'all') {
      const { startWorker } = await import('./worker/worker.js');
      const { startWorkerHttp } = await import('./worker/worker-http.js');
      const worker = await startWorker(ready);
      stoppers.push(() => worker.stop());
      if (mode === 'worker' && config.metricsPort !== null) {
        const http = await startWorkerHttp(ready, config.metricsPort, config.host);
        // Stopped last of the worker's parts, so the probes and metrics answer while jobs finish.
        stoppers.splice(stoppers.length - 1, 0, () => http.stop());
        logger.info('Worker metrics and health', { url: `${http.url}/metrics` });
      }
    }
    if (mode === 'api' || mode === 'all') {
      const { createApiServer, GRAPHQL_PATH } = await import('./graphql/server.js');
      const server = await createApiServer(ready);
      stoppers.push(() => server.stop());
      const url = await server.start(config.port, config.host);
      logger.info(`GraphQL at ${url}${GRAPHQL_PATH}${config.env === 'development' ? ' (Apollo Sandbox in the browser)' : ''}`);
    }
  } catch (error) {
    logger.error('Start-up failed', { error: (error as Error).message });
    await shutdown('start-up failed');
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn('Second signal: exiting now', { signal });
        process.exit(1);
      }
      stopping = true;
      const timer = setTimeout(() => {
        logger.error('Shutdown took too long: exiting now');
        process.exit(1);
      }, FORCED_EXIT_MS);
      timer.unref();
      void shutdown(signal).then(() => resolve(0));
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  const mode = process.argv[2] as ProcessRole | undefined;
  if (!mode || !MODES.includes(mode)) {
    console.error(
      `Usage: node dist/src/main.js <${MODES.join('|')}>\n  api     GraphQL API on PORT\n  worker  conversion worker\n  all     both in one process (local use)`,
    );
    process.exitCode = 2;
  } else {
    try {
      // Exit explicitly: a library handle left open must not keep a stopped process alive.
      process.exit(await run(mode));
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`Configuration error: ${error.message}`);
        process.exitCode = 2;
      } else {
        throw error;
      }
    }
  }
}
