/**
 * Queue guarantees against real PostgreSQL, Redis and the real pipeline: priorities through the
 * worker's gate, PRIORITY_NOT_ALLOWED, the dead-letter list and its re-queue by an admin, the
 * retention sweep and the reconciler. One API and one worker (concurrency 1, start limiter off, no
 * retries) share the services in this process; a pipeline hold keeps the worker busy on demand.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Conversion, ConversionPriority, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { conversionUuidFromId } from '../../src/modules/node/global-id.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { beeKey, jobState } from '../../src/worker/bee-queue.adapter.js';
import { QUEUE_NAMES } from '../../src/worker/conversion-queues.js';
import { DeadLetters } from '../../src/modules/admin/dead-letter.store.js';
import { finishedKey, recordFinish } from '../../src/modules/conversion/conversion-job.js';
import { sweepQueueRecords } from '../../src/worker/queue-retention.js';
import { startWorker, type RunningWorker } from '../../src/worker/worker.js';
import { leftovers, postGraphQL, startApi, uploadConversion, type ApiEnv } from '../support/api-harness.js';
import { eventually } from '../support/eventually.js';
import { createPipelineHold, shortMelody, waitForEach, waitForStatus, type PipelineHold } from '../support/queue-harness.js';
import { Cleanup, mintToken } from '../support/service-harness.js';
import { insertConversion } from '../support/read-side-harness.js';

const cleanup = new Cleanup();
let api: ApiEnv;
let worker: RunningWorker;
let hold: PipelineHold;
const melody = shortMelody();

const token = (userId: string, role: Role = Role.USER) => mintToken(api.config.jwtSecret, userId, role);

/** Uploads through the API; returns the conversion's UUID. */
async function convert(prompt: string, options: { priority?: ConversionPriority; role?: Role; userId?: string } = {}): Promise<string> {
  const response = await uploadConversion(api, {
    token: token(
      options.userId ?? `user-${randomUUID()}`,
      options.role ?? (options.priority === ConversionPriority.HIGH ? Role.PARTNER : Role.USER),
    ),
    file: melody,
    input: { prompt, ...(options.priority ? { priority: options.priority } : {}) },
  });
  const payload = response.body.data?.convertMelody;
  if (!payload?.conversion) throw new Error(`convertMelody failed: ${JSON.stringify(response.body)}`);
  return conversionUuidFromId(payload.conversion.id)!;
}

const em = () => api.services.orm.em.fork() as EntityManager;

beforeAll(async () => {
  api = await startApi(cleanup, {
    WORKER_CONCURRENCY: '1',
    JOB_START_LIMIT: '0',
    JOB_RETRIES: '0',
    RECONCILE_INTERVAL_MS: '3600000',
    RECONCILE_GRACE_MS: '500',
    QUEUE_SWEEP_INTERVAL_MS: '3600000',
    DAILY_QUOTA: '100',
  });
  hold = createPipelineHold();
  worker = await startWorker(api.services, { stopTimeoutMs: 10_000, processor: { runPipeline: hold.runPipeline } });
  cleanup.add(() => worker.stop());
}, 60_000);

afterAll(() => cleanup.run());

describe('priorities', () => {
  it('starts the waiting jobs HIGH first, then NORMAL, then LOW, while one busy worker frees its only slot', async () => {
    hold.hold('busy-first');
    const busy = await convert('busy-first: a song that keeps the worker busy');
    await hold.held('busy-first');
    const low = await convert('a slow lullaby for the low queue', { priority: ConversionPriority.LOW });
    const normal = await convert('a plain song for the normal queue', { priority: ConversionPriority.NORMAL });
    const high = await convert('an urgent anthem for the high queue', { priority: ConversionPriority.HIGH });
    // All three fetched by this worker and waiting at its gate (Bee-Queue lists them as active).
    await eventually('the three jobs wait at the gate', async () => (await api.services.queue.checkHealth()).active, {
      until: (active) => active === 4,
      timeoutMs: 60_000,
    });
    hold.release('busy-first');
    // One slot: the four runs end one after another, however long each takes on this machine.
    const rows = await waitForEach(api.services.orm, [busy, low, normal, high]);
    const started = rows.slice(1).sort((a, b) => a.startedAt!.getTime() - b.startedAt!.getTime());
    expect(started.map((r) => r.id)).toEqual([high, normal, low]);
    expect(started.map((r) => r.priority)).toEqual([ConversionPriority.HIGH, ConversionPriority.NORMAL, ConversionPriority.LOW]);
    expect(started.every((r) => r.startedAt!.getTime() > rows[0].startedAt!.getTime())).toBe(true);
  }, 180_000);

  it('refuses HIGH to a USER with PRIORITY_NOT_ALLOWED and leaves nothing behind', async () => {
    const before = await leftovers(api);
    const response = await uploadConversion(api, {
      token: token(`user-${randomUUID()}`),
      file: melody,
      input: { prompt: 'a song that wants to jump the queue', priority: 'HIGH' },
    });
    expect(response.body.data?.convertMelody.conversion).toBeNull();
    expect(response.body.data?.convertMelody.userErrors).toEqual([
      { code: 'PRIORITY_NOT_ALLOWED', field: 'priority', message: expect.any(String) },
    ]);
    expect(await leftovers(api)).toEqual(before);
  });

  it('shows the priority on the conversion (default NORMAL)', async () => {
    const userId = `user-${randomUUID()}`;
    const id = await convert('a default priority song for the record', { userId });
    const response = await postGraphQL<{ conversion: { priority: string } }>(
      api,
      'query ($id: ID!) { conversion(id: $id) { priority } }',
      { id },
      token(userId),
    );
    expect(response.body.data?.conversion.priority).toBe('NORMAL');
    await waitForStatus(api.services.orm, id);
  }, 120_000);
});

const DEAD_LETTERS = `query ($first: Int, $after: String) { deadLetters(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { conversionId priority attempts failedAt error { code reason message retryable } conversion { id status } } } } }`;
const REQUEUE = `mutation ($id: ID!) { requeueDeadLetter(conversionId: $id) { conversion { id status retryCount priority } userErrors { code field message } } }`;

interface DeadLettersData {
  deadLetters: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    edges: {
      cursor: string;
      node: {
        conversionId: string;
        priority: string;
        attempts: number;
        error: { code: string; reason: string | null; retryable: boolean };
        conversion: { status: string } | null;
      };
    }[];
  };
}

describe('dead letters', () => {
  it('lists a job that failed for good with its error, and an admin re-queues it to COMPLETED', async () => {
    const admin = token(`admin-${randomUUID()}`, Role.ADMIN);
    hold.hold('busy-second');
    const busy = await convert('busy-second: keeps the worker busy meanwhile');
    await hold.held('busy-second');
    const doomed = await convert('a song whose upload goes missing', { priority: ConversionPriority.LOW });
    // The stored input disappears after acceptance, before the worker reads it.
    const inputKey = storageKeys.input(doomed);
    const input = await api.services.storage.read(inputKey);
    await api.services.storage.delete(inputKey);
    hold.release('busy-second');
    await waitForStatus(api.services.orm, busy);
    const failed = await waitForStatus(api.services.orm, doomed, ConversionStatus.FAILED);
    expect(failed.error).toMatchObject({ code: 'STORAGE_ERROR' });

    await eventually(
      'the dead letter is recorded',
      async () => (await new DeadLetters(api.services.redis, api.config.redisPrefix).get(doomed)) !== null,
      { timeoutMs: 10_000 },
    );
    const listed = await postGraphQL<DeadLettersData>(api, DEAD_LETTERS, { first: 10 }, admin);
    expect(listed.body.errors).toBeUndefined();
    expect(listed.body.data!.deadLetters.totalCount).toBe(1);
    expect(listed.body.data!.deadLetters.edges.map((edge) => edge.node)).toEqual([
      expect.objectContaining({
        priority: 'LOW',
        attempts: 1,
        error: expect.objectContaining({ code: 'STORAGE_ERROR' }),
        conversion: expect.objectContaining({ status: 'FAILED' }),
      }),
    ]);
    expect(conversionUuidFromId(listed.body.data!.deadLetters.edges[0].node.conversionId)).toBe(doomed);

    // Non-admins are refused.
    for (const query of [DEAD_LETTERS, REQUEUE]) {
      const refused = await postGraphQL(api, query, { id: doomed, first: 1 }, token(`user-${randomUUID()}`));
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    // Unknown ids and unfinished business.
    const missing = await postGraphQL<{ requeueDeadLetter: { userErrors: { code: string }[] } }>(api, REQUEUE, { id: randomUUID() }, admin);
    expect(missing.body.data!.requeueDeadLetter.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    const notFailed = await postGraphQL<{ requeueDeadLetter: { userErrors: { code: string }[] } }>(api, REQUEUE, { id: busy }, admin);
    expect(notFailed.body.data!.requeueDeadLetter.userErrors.map((e) => e.code)).toEqual(['NOT_FAILED']);

    await api.services.storage.write(inputKey, input);
    const requeued = await postGraphQL<{
      requeueDeadLetter: { conversion: { status: string; retryCount: number; priority: string }; userErrors: unknown[] };
    }>(api, REQUEUE, { id: doomed }, admin);
    expect(requeued.body.data!.requeueDeadLetter).toEqual({
      conversion: expect.objectContaining({ retryCount: 0, priority: 'LOW' }),
      userErrors: [],
    });
    // Back in the queue: the answer reads the row after the job is queued, and the idle worker may
    // already have taken it (it did in CI), so PENDING or PROCESSING; never FAILED.
    expect(['PENDING', 'PROCESSING']).toContain(requeued.body.data!.requeueDeadLetter.conversion.status);
    const done = await waitForStatus(api.services.orm, doomed);
    expect(done.error).toBeNull();
    const after = await postGraphQL<DeadLettersData>(api, DEAD_LETTERS, {}, admin);
    expect(after.body.data!.deadLetters).toMatchObject({ totalCount: 0, edges: [] });
    // Completed, it is no dead letter any more.
    const again = await postGraphQL<{ requeueDeadLetter: { userErrors: { code: string }[] } }>(api, REQUEUE, { id: doomed }, admin);
    expect(again.body.data!.requeueDeadLetter.userErrors.map((e) => e.code)).toEqual(['NOT_FAILED']);
  }, 180_000);

  it('pages through the list newest first with cursors', async () => {
    const letters = new DeadLetters(api.services.redis, `${api.config.redisPrefix}-paging`);
    const base = Date.parse('2026-01-01T00:00:00Z');
    const ids = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000000${i}`);
    // Two share a millisecond, to page across a tie.
    const times = [base, base + 1000, base + 1000, base + 2000, base + 3000];
    for (let i = 0; i < ids.length; i++) {
      await letters.record({
        conversionId: ids[i],
        priority: ConversionPriority.NORMAL,
        error: { code: 'UNKNOWN_ERROR', message: 'x', retryable: false },
        attempts: 1,
        failedAt: new Date(times[i]).toISOString(),
      });
    }
    cleanup.add(() => letters.removeOlderThan(Number.MAX_SAFE_INTEGER));
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 5; page++) {
      const result = await letters.list(2, after);
      seen.push(...result.entries.map((entry) => entry.conversionId));
      expect(result.totalCount).toBe(5);
      if (!result.hasNextPage) break;
      after = result.cursors.at(-1)!;
    }
    expect(seen).toEqual([ids[4], ids[3], ids[2], ids[1], ids[0]]);
  });
});

describe('retention sweep', () => {
  it('removes finished job records and dead letters older than their keep time and keeps younger ones', async () => {
    const { redis } = api.services;
    const prefix = api.config.redisPrefix;
    const letters = new DeadLetters(redis, prefix);
    // An old completed job of its own (not another test's leftovers), and no job still running whose
    // finish could land between the snapshot below and the sweep.
    const old = await convert('an old song the sweep must remove');
    await waitForStatus(api.services.orm, old);
    await eventually(
      'its finish time is recorded and no job waits or runs',
      async () => ({
        recorded: (await redis.zscore(finishedKey(prefix, 'succeeded'), `NORMAL:${old}`)) !== null,
        health: await api.services.queue.checkHealth(),
      }),
      { until: ({ recorded, health }) => recorded && health.active === 0 && health.waiting === 0, timeoutMs: 60_000 },
    );
    const succeeded = await redis.zrange(finishedKey(prefix, 'succeeded'), 0, -1, 'WITHSCORES');
    expect(succeeded.length).toBeGreaterThan(0);
    const newest = Math.max(...succeeded.filter((_, i) => i % 2 === 1).map(Number));
    const now = newest + 10_000;
    // A young completed job (finished "now") and an old and a young failed job with dead letters.
    const young = await convert('a young song the sweep must keep');
    await waitForStatus(api.services.orm, young);
    await eventually(
      'its finish time is recorded',
      async () => (await redis.zscore(finishedKey(prefix, 'succeeded'), `NORMAL:${young}`)) !== null,
      { timeoutMs: 10_000 },
    );
    await redis.zadd(finishedKey(prefix, 'succeeded'), now, `NORMAL:${young}`);
    const oldFailed = randomUUID();
    const youngFailed = randomUUID();
    for (const [id, at] of [
      [oldFailed, now - 3_000],
      [youngFailed, now - 500],
    ] as const) {
      await redis.hset(beeKey(prefix, QUEUE_NAMES.LOW, 'jobs'), id, '{}');
      await redis.sadd(beeKey(prefix, QUEUE_NAMES.LOW, 'failed'), id);
      await recordFinish(redis, prefix, 'failed', ConversionPriority.LOW, id, at);
      await letters.record({
        conversionId: id,
        priority: ConversionPriority.LOW,
        error: { code: 'AI_SERVICE_ERROR', message: 'x', retryable: true },
        attempts: 4,
        failedAt: new Date(at).toISOString(),
      });
    }
    const oldCompleted = succeeded.filter((_, i) => i % 2 === 0).map((member) => member.slice(member.indexOf(':') + 1));
    expect(oldCompleted).toContain(old);

    const result = await sweepQueueRecords({
      redis,
      redisPrefix: prefix,
      keepCompletedSeconds: 5,
      keepFailedSeconds: 2,
      deadLetters: letters,
      nowMs: now,
    });
    expect(result).toEqual({ completed: oldCompleted.length, failed: 1, deadLetters: 1 });
    for (const id of oldCompleted) expect(await api.services.queue.getJob(id)).toBeNull();
    expect(await api.services.queue.getJob(young)).not.toBeNull();
    expect(await jobState(redis, api.config, QUEUE_NAMES.NORMAL, young)).toBe('succeeded');
    expect(await jobState(redis, api.config, QUEUE_NAMES.LOW, oldFailed)).toBeNull();
    expect(await jobState(redis, api.config, QUEUE_NAMES.LOW, youngFailed)).toBe('failed');
    expect(await letters.get(oldFailed)).toBeNull();
    expect(await letters.get(youngFailed)).not.toBeNull();
    expect((await api.services.queue.checkHealth()).succeeded).toBe(1);
    // The rows are untouched: only the queue's records go.
    expect(await em().count(Conversion, { status: ConversionStatus.COMPLETED })).toBeGreaterThan(oldCompleted.length);
    await letters.remove(youngFailed);
  }, 120_000);
});

describe('reconciler', () => {
  it('re-enqueues a PROCESSING row whose job was deleted and a PENDING row that never got a job; both complete', async () => {
    hold.hold('busy-third');
    const busy = await convert('busy-third: keeps the worker busy while jobs vanish');
    await hold.held('busy-third');
    // A row whose job vanished while it looked PROCESSING.
    const vanished = await convert('a song whose job vanished from Redis');
    await eventually('the worker holds it', () => jobState(api.services.redis, api.config, QUEUE_NAMES.NORMAL, vanished), {
      until: (state) => state === 'active',
      timeoutMs: 60_000,
    });
    await api.services.queue.removeJob(vanished);
    await em().nativeUpdate(
      Conversion,
      { id: vanished },
      { status: ConversionStatus.PROCESSING, attemptId: randomUUID(), updatedAt: new Date(Date.now() - 60_000) },
    );
    // A row committed without a job: the API crashed before enqueueing (the job is removed as it lands).
    const orphan = await convert('a song whose enqueue never happened', { priority: ConversionPriority.LOW });
    await eventually('the worker holds it', () => jobState(api.services.redis, api.config, QUEUE_NAMES.LOW, orphan), {
      until: (state) => state === 'active',
      timeoutMs: 60_000,
    });
    await api.services.queue.removeJob(orphan);
    await em().nativeUpdate(Conversion, { id: orphan }, { updatedAt: new Date(Date.now() - 60_000) });

    const before = await metricValue('melody_reconciler_repairs_total');
    await worker.reconcileNow();
    const vanishedRow = await em().findOneOrFail(Conversion, { id: vanished });
    expect(vanishedRow).toMatchObject({ status: ConversionStatus.PENDING, attemptId: null });
    expect(await jobState(api.services.redis, api.config, QUEUE_NAMES.NORMAL, vanished)).not.toBeNull();
    expect(await jobState(api.services.redis, api.config, QUEUE_NAMES.LOW, orphan)).not.toBeNull();
    expect((await metricValue('melody_reconciler_repairs_total')) - before).toBe(2);

    hold.release('busy-third');
    for (const id of [busy, vanished, orphan]) await waitForStatus(api.services.orm, id);
    // The held copies of the deleted jobs ran too, but the pipeline ran once per conversion.
    for (const prompt of ['a song whose job vanished from Redis', 'a song whose enqueue never happened'])
      expect(hold.finished.get(prompt)).toBe(1);
  }, 180_000);

  it('removes storage folders of conversions that do not exist, older than the grace, and keeps young ones', async () => {
    const old = randomUUID();
    const young = randomUUID();
    for (const id of [old, young]) {
      await mkdir(join(api.storageDir, 'conversions', id), { recursive: true });
      await writeFile(join(api.storageDir, 'conversions', id, 'input'), 'x');
    }
    const past = new Date(Date.now() - 60_000);
    await utimes(join(api.storageDir, 'conversions', old), past, past);
    await worker.reconcileNow();
    expect(await api.services.storage.list!(`conversions/${old}`)).toEqual([]);
    expect((await api.services.storage.list!(`conversions/${young}`)).map((entry) => entry.name)).toEqual(['input']);
  }, 60_000);

  it('takes the outputs of a FAILED conversion, per-attempt folders included, and keeps its upload for a re-queue', async () => {
    const failed = await insertConversion(em(), { userId: randomUUID(), status: ConversionStatus.FAILED });
    const dir = join(api.storageDir, 'conversions', failed.id);
    await mkdir(join(dir, 'attempt-1'), { recursive: true });
    await writeFile(join(dir, 'input'), 'x');
    await writeFile(join(dir, 'attempt-1', 'vocals.wav'), 'x');
    await writeFile(join(dir, 'report.json'), '{}');
    const past = new Date(Date.now() - 60_000);
    await utimes(dir, past, past);
    await worker.reconcileNow();
    expect((await api.services.storage.list!(`conversions/${failed.id}`)).map((entry) => entry.name)).toEqual(['input']);
  }, 60_000);
});

async function metricValue(name: string): Promise<number> {
  const text = await api.services.metrics!.registry.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}
