/**
 * A Redis restart in the middle of a batch of 20 conversions loses nothing and duplicates nothing.
 * The API and the worker run in this process against a PRIVATE `redis-server` (free port, no
 * persistence: `--save "" --appendonly no`) that the test kills mid-batch and starts again on the same
 * port, empty. The shared Redis is never touched. Bee-Queue's clients reconnect by themselves; its Lua
 * scripts are loaded again on reconnect (conversion-queues.ts); the jobs that were only in Redis are
 * queued again by the reconciler (short interval and grace here).
 *
 * Redis stays down for two stall intervals, so every timer of the worker (stall heartbeats and
 * checks, delayed-job activation, the reconciler, the start limiter) meets the outage, and the
 * commands node_redis queued meanwhile reach a server without Bee-Queue's Lua scripts.
 *
 * Proves: every one of the 20 rows ends COMPLETED, and the pipeline ran to its end exactly once per
 * conversion (no conversion was computed twice, even though some jobs exist twice after the repair);
 * after that, with the server's script cache flushed (no reconnect, so nothing reloads the scripts),
 * a new upload is still queued by the API and completed by the worker.
 *
 * And that nothing escapes: jest-circus fails a test with every unhandled rejection and uncaught
 * exception raised in this process while it runs (listeners of the test's own `process` would not see
 * them: jest gives the test a copy). That is how the NOSCRIPT and "connection lost" errors of Bee-Queue's
 * clients showed up before the fixes; test/e2e/worker-redis-restart.e2e.test.ts checks the same
 * in a real worker process.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { startWorker, type RunningWorker } from '../../src/worker/worker.js';
import { startApi, uploadConversion, type ApiEnv } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { createPipelineHold, shortMelody, type PipelineHold } from '../support/queue-harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { Cleanup, mintToken } from '../support/service-harness.js';

const BATCH = 20;
const STALL_INTERVAL_MS = 2000;
const cleanup = new Cleanup();
let redis: PrivateRedis;
let api: ApiEnv;
let worker: RunningWorker;
let hold: PipelineHold;

beforeAll(async () => {
  redis = await startPrivateRedis(cleanup);
  api = await startApi(cleanup, {
    REDIS_URL: redis.url,
    WORKER_CONCURRENCY: '2',
    JOB_START_LIMIT: '0',
    JOB_STALL_INTERVAL_MS: String(STALL_INTERVAL_MS),
    RECONCILE_INTERVAL_MS: '1000',
    RECONCILE_GRACE_MS: '3000',
    DAILY_QUOTA: '100',
  });
  hold = createPipelineHold();
  worker = await startWorker(api.services, { stopTimeoutMs: 10_000, processor: { runPipeline: hold.runPipeline } });
  cleanup.add(() => worker.stop());
}, 60_000);

afterAll(async () => {
  // The services close their Redis clients; a stopped server must not make that hang.
  if (!redis.running()) await redis.start();
  await cleanup.run();
}, 60_000);

describe('a Redis restart during a batch', () => {
  it('ends every one of 20 conversions COMPLETED, each computed once', async () => {
    const melody = shortMelody();
    const token = mintToken(api.config.jwtSecret, `user-${randomUUID()}`);
    const ids: string[] = [];
    for (let i = 0; i < BATCH; i++) {
      const response = await uploadConversion(api, { token, file: melody, input: { prompt: `batch song number ${i} about the restart` } });
      const id = response.body.data?.convertMelody.conversion?.id;
      if (!id) throw new Error(JSON.stringify(response.body));
      ids.push(conversionUuidFromId(id)!);
    }
    const em = () => api.services.orm.em.fork() as EntityManager;
    const completed = () => em().count(Conversion, { id: { $in: ids }, status: ConversionStatus.COMPLETED });
    // Mid-batch: some done, most still queued or running.
    await eventually('a few conversions completed', completed, { until: (n) => n >= 3, timeoutMs: 120_000 });
    await redis.kill();
    // The fault: an outage of two stall intervals (not a limit on anything the test measures).
    await new Promise((resolve) => setTimeout(resolve, 2 * STALL_INTERVAL_MS));
    await redis.start();

    await eventually(`all ${BATCH} completed`, completed, { until: (n) => n === BATCH, timeoutMs: 240_000 }).catch(async (error: Error) => {
      const rows = await em().find(Conversion, { id: { $in: ids } }, { fields: ['id', 'status', 'error'] });
      throw new Error(`${error.message}: ${JSON.stringify(rows.map((row) => [row.status, row.error?.code]))}`);
    });
    const rows = await em().find(Conversion, { id: { $in: ids } });
    expect(rows.map((row) => row.status)).toEqual(Array(BATCH).fill(ConversionStatus.COMPLETED));
    for (let i = 0; i < BATCH; i++) expect([i, hold.finished.get(`batch song number ${i} about the restart`)]).toEqual([i, 1]);
    // The queue works again: Bee-Queue answers on the restarted server.
    expect((await api.services.queue.checkHealth()).waiting).toBe(0);
  }, 420_000);

  it('queues and completes a new conversion after the server lost its scripts without a reconnect', async () => {
    // The private server forgets Bee-Queue's scripts; the clients stay connected, so only the
    // NOSCRIPT → EVAL fallback (conversion-queues.ts) can make addJob and the stalled checks work.
    await api.services.redis.script('FLUSH');
    const token = mintToken(api.config.jwtSecret, `user-${randomUUID()}`);
    const prompt = 'one more song after the script flush';
    const response = await uploadConversion(api, { token, file: shortMelody(), input: { prompt } });
    const id = response.body.data?.convertMelody.conversion?.id;
    if (!id) throw new Error(JSON.stringify(response.body));
    const uuid = conversionUuidFromId(id)!;
    const em = () => api.services.orm.em.fork() as EntityManager;
    await eventually('the new conversion completed', async () => (await em().findOneOrFail(Conversion, { id: uuid })).status, {
      until: (status) => status === ConversionStatus.COMPLETED,
      timeoutMs: 120_000,
    });
    expect(hold.finished.get(prompt)).toBe(1);
  }, 180_000);
});
