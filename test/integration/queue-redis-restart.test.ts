/**
 * A Redis restart in the middle of a batch of 20 conversions loses nothing and duplicates nothing.
 * The API and the worker run in this process against a PRIVATE `redis-server` (free port, no
 * persistence: `--save "" --appendonly no`) that the test kills mid-batch and starts again on the same
 * port, empty. The shared Redis is never touched. Bee-Queue's clients reconnect by themselves; its Lua
 * scripts are loaded again on reconnect (conversion-queues.ts); the jobs that were only in Redis are
 * queued again by the reconciler (short interval and grace here).
 *
 * Proves: every one of the 20 rows ends COMPLETED, and the pipeline ran to its end exactly once per
 * conversion (no conversion was computed twice, even though some jobs exist twice after the repair).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { startWorker, type RunningWorker } from '../../src/worker/worker.js';
import { startApi, uploadConversion, type ApiEnv } from '../support/api-harness.js';
import { createPipelineHold, shortMelody, waitUntil, type PipelineHold } from '../support/queue-harness.js';
import { Cleanup, freePort, mintToken } from '../support/service-harness.js';

const BATCH = 20;
const cleanup = new Cleanup();
let port: number;
let redis: ChildProcess | null = null;
let api: ApiEnv;
let worker: RunningWorker;
let hold: PipelineHold;

async function startRedis(): Promise<void> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redis = child;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end('PING\r\n');
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function stopRedis(): Promise<void> {
  const child = redis;
  redis = null;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  cleanup.add(() => stopRedis());
  api = await startApi(cleanup, {
    REDIS_URL: `redis://127.0.0.1:${port}`,
    WORKER_CONCURRENCY: '2',
    JOB_START_LIMIT: '0',
    JOB_STALL_INTERVAL_MS: '2000',
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
  if (!redis) await startRedis();
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
    await waitUntil('a few conversions completed', async () => (await completed()) >= 3, 120_000);
    await stopRedis();
    await startRedis();

    await waitUntil(`all ${BATCH} completed`, async () => (await completed()) === BATCH, 240_000).catch(async (error: Error) => {
      const rows = await em().find(Conversion, { id: { $in: ids } }, { fields: ['id', 'status', 'error'] });
      throw new Error(`${error.message}: ${JSON.stringify(rows.map((row) => [row.status, row.error?.code]))}`);
    });
    const rows = await em().find(Conversion, { id: { $in: ids } });
    expect(rows.map((row) => row.status)).toEqual(Array(BATCH).fill(ConversionStatus.COMPLETED));
    for (let i = 0; i < BATCH; i++) expect([i, hold.finished.get(`batch song number ${i} about the restart`)]).toEqual([i, 1]);
    // The queue works again: Bee-Queue answers on the restarted server.
    expect((await api.services.queue.checkHealth()).waiting).toBe(0);
  }, 420_000);
});
