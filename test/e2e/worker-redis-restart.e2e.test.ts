/**
 * A real worker process (`node dist/src/main.js worker`) survives its Redis being killed in the middle
 * of a job and started again empty. The Redis is a PRIVATE `redis-server` of this test (free port,
 * nothing on disk); this test's own database and storage; stall interval 1 s; reconciler every second
 * with a 3 s grace, so the job the restart lost is queued again from its row.
 *
 * Proves: the process is still running afterwards and never reached its last-resort handlers (main.ts
 * logs every unhandled rejection and uncaught exception; neither line may appear), the interrupted
 * conversion ends COMPLETED, a conversion queued after the restart is completed too, and the worker
 * still stops gracefully (exit code 0).
 */
import { ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { loadConfig } from '../../src/platform/config.js';
import { createServices } from '../../src/services.js';
import { Cleanup, createTestResources } from '../support/service-harness.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-processes.js';
import { eventually } from '../support/eventually.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { enqueue, insertPendingConversion, loadConversion, type WorkerEnv } from '../support/worker-harness.js';

const STALL_INTERVAL_MS = 1000;
/** What main.ts's last-resort handlers log. */
const ESCAPED = /Unhandled promise rejection|Uncaught exception/;

const cleanup = new Cleanup();
let redis: PrivateRedis;
let env: WorkerEnv;
let worker: ServiceProcess;
const escaped: string[] = [];
/** Lines in which the worker reported the outage. */
const outage: string[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis(cleanup);
  const resources = await createTestResources(cleanup, { storageLabel: 'mv-redis-restart-' });
  const serviceEnv = { ...resources.env, REDIS_URL: redis.url };
  const config = loadConfig({ ...serviceEnv, LOG_LEVEL: 'error' });
  // Creates the database and applies the migrations before the worker starts; enqueues like the API.
  const services = await createServices(config, { role: 'api' });
  cleanup.add(() => services.close());
  env = { config, services, worker: null as never, storageDir: resources.storageDir };
  worker = await startServiceProcess(cleanup, {
    name: 'worker',
    mode: 'worker',
    env: {
      ...serviceEnv,
      JOB_STALL_INTERVAL_MS: String(STALL_INTERVAL_MS),
      JOB_START_LIMIT: '0',
      RESULT_CACHE_TTL_SECONDS: '0',
      WORKER_CONCURRENCY: '1',
      RECONCILE_INTERVAL_MS: '1000',
      RECONCILE_GRACE_MS: '3000',
    },
    onLine: (line) => {
      if (ESCAPED.test(line)) escaped.push(line);
      if (/Stalled-job check failed|Queue error/.test(line)) outage.push(line);
    },
  });
}, 120_000);

afterAll(async () => {
  if (!redis.running()) await redis.start();
  await cleanup.run();
}, 120_000);

/** `what`, and the worker's last 40 lines of output, for a failure's message. */
const withOutput = (what: string) => () => `${what}. Worker output:\n${worker.output().split('\n').slice(-40).join('\n')}`;

const statusOf = async (id: string) => (await loadConversion(env, id)).status;

describe('a worker process whose Redis is killed mid-job and restarted empty', () => {
  it('stays up without escaped errors, finishes the interrupted conversion and a new one, and stops cleanly', async () => {
    const interrupted = await insertPendingConversion(env);
    await enqueue(env, interrupted.id);
    await eventually(withOutput('the first conversion is PROCESSING'), () => statusOf(interrupted.id), {
      until: (status) => status === ConversionStatus.PROCESSING,
      timeoutMs: 60_000,
      intervalMs: 100,
    });

    await redis.kill();
    // The fault: an outage of several stall intervals, so the worker's heartbeats, stalled checks,
    // delayed activation and reconciler all fail at least once (not a limit on anything measured).
    await new Promise((resolve) => setTimeout(resolve, 3 * STALL_INTERVAL_MS));
    await redis.start();

    await eventually(withOutput('the interrupted conversion is COMPLETED'), () => statusOf(interrupted.id), {
      until: (status) => status === ConversionStatus.COMPLETED,
      timeoutMs: 180_000,
      intervalMs: 100,
    });
    const after = await insertPendingConversion(env);
    await enqueue(env, after.id);
    await eventually(withOutput('the conversion queued after the restart is COMPLETED'), () => statusOf(after.id), {
      until: (status) => status === ConversionStatus.COMPLETED,
      timeoutMs: 180_000,
      intervalMs: 100,
    });

    expect(worker.running()).toBe(true);
    expect(escaped).toEqual([]);
    // It did meet the outage (else this test proves nothing).
    expect(outage.length).toBeGreaterThan(0);
    expect(await worker.stop()).toBe(0);
    expect(escaped).toEqual([]);
  }, 480_000);
});
