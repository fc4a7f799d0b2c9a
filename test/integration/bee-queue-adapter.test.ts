/**
 * Pins what src/worker/bee-queue.adapter.ts relies on in Bee-Queue 2.0 beyond its public API, against a
 * private `redis-server` (the script-cache test flushes it, which the shared Redis must not see):
 * the key layout (`<prefix>:bq:<name>:jobs|waiting|active|succeeded|stalling`), that a worker takes
 * jobs from the right of `waiting`, that script calls go through `_evalScriptOn` with sources in
 * `lib/lua`, and that `checkStalledJobs()` without a callback returns a promise and hands a job
 * nobody renews back after two rounds. A Bee-Queue upgrade that changes any of these fails here.
 */
import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/platform/redis.js';
import {
  beeKey,
  beeQueueSettings,
  handBackJob,
  jobState,
  removeFinishedJob,
  retryScriptsOnNoScript,
  startStalledChecks,
} from '../../src/worker/bee-queue.adapter.js';
import { eventually } from '../support/eventually.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { Cleanup, uniqueSuffix } from '../support/service-harness.js';

interface Data {
  conversionId: string;
}

const cleanup = new Cleanup();
let server: PrivateRedis;
let redis: Redis;
let config: { redisUrl: string; redisPrefix: string };

beforeAll(async () => {
  server = await startPrivateRedis(cleanup);
  redis = createRedis(server.url);
  cleanup.add(() => redis.quit());
  config = { redisUrl: server.url, redisPrefix: `mvtest-${uniqueSuffix()}` };
}, 30_000);

afterAll(() => cleanup.run());

/** A queue named `name` in `mode` that the cleanup closes; `settings` are added to the adapter's. */
async function openQueue(
  name: string,
  mode: 'producer' | 'worker',
  settings: Partial<BeeQueue.QueueSettings> = {},
  guard = true,
): Promise<BeeQueue<Data>> {
  const queue = new BeeQueue<Data>(name, { ...beeQueueSettings(config, mode), ...settings });
  if (guard) retryScriptsOnNoScript(queue);
  queue.on('error', () => undefined);
  cleanup.add(() => queue.close(1000));
  await queue.ready();
  return queue;
}

async function enqueue(queue: BeeQueue<Data>, id: string): Promise<void> {
  await queue.createJob({ conversionId: id }).setId(id).save();
}

describe('Bee-Queue behind its adapter', () => {
  it('keeps a saved job under <prefix>:bq:<name>:jobs and waiting, and a processed one in succeeded', async () => {
    const name = `keys-${uniqueSuffix()}`;
    const producer = await openQueue(name, 'producer');
    await enqueue(producer, 'job-1');
    expect(await redis.hexists(beeKey(config.redisPrefix, name, 'jobs'), 'job-1')).toBe(1);
    expect(await redis.lrange(beeKey(config.redisPrefix, name, 'waiting'), 0, -1)).toEqual(['job-1']);
    expect(await jobState(redis, config, name, 'job-1')).toBe('waiting');

    const worker = await openQueue(name, 'worker', { removeOnSuccess: false });
    worker.process(async () => 'done');
    await eventually('the job succeeded', async () => (await jobState(redis, config, name, 'job-1')) === 'succeeded', {
      timeoutMs: 10_000,
    });
    expect(await redis.sismember(beeKey(config.redisPrefix, name, 'succeeded'), 'job-1')).toBe(1);

    // The retention sweep's removal: only while the record is in the finished set.
    expect(await removeFinishedJob(redis, config.redisPrefix, name, 'succeeded', 'job-1')).toBe(true);
    expect(await jobState(redis, config, name, 'job-1')).toBeNull();
    expect(await removeFinishedJob(redis, config.redisPrefix, name, 'succeeded', 'job-1')).toBe(false);
  });

  it('hands a job a worker holds back to the end of waiting its workers take from first', async () => {
    const name = `hand-back-${uniqueSuffix()}`;
    const producer = await openQueue(name, 'producer');
    await enqueue(producer, 'held');
    let release: () => void = () => undefined;
    const worker = await openQueue(name, 'worker', { removeOnSuccess: false });
    worker.process(() => new Promise<void>((resolve) => (release = resolve)));
    cleanup.add(() => release());
    await eventually('the worker holds the job', async () => (await jobState(redis, config, name, 'held')) === 'active', {
      timeoutMs: 10_000,
    });
    await enqueue(producer, 'next');

    expect(await handBackJob(redis, config.redisPrefix, name, 'held')).toBe(true);
    expect(await jobState(redis, config, name, 'held')).toBe('waiting');
    // Bee-Queue's workers take from the right (BRPOPLPUSH): the handed-back job goes before 'next'.
    expect(await redis.lrange(beeKey(config.redisPrefix, name, 'waiting'), 0, -1)).toEqual(['next', 'held']);
    expect(await handBackJob(redis, config.redisPrefix, name, 'held')).toBe(false);
  });

  it('loses every script call to a flushed script cache unless the queue is guarded, which replays it as EVAL', async () => {
    const name = `scripts-${uniqueSuffix()}`;
    const unguarded = await openQueue(name, 'producer', {}, false);
    const guarded = await openQueue(name, 'producer');
    await redis.script('FLUSH');

    await expect(enqueue(unguarded, 'lost')).rejects.toThrow(/NOSCRIPT/);
    await enqueue(guarded, 'saved');
    expect(await jobState(redis, config, name, 'saved')).toBe('waiting');
    expect(await jobState(redis, config, name, 'lost')).toBeNull();
  });

  it('hands a job whose worker stopped renewing it back after two stalled-check rounds driven by our timer', async () => {
    const name = `stalled-${uniqueSuffix()}`;
    const stallInterval = 300;
    const queue = await openQueue(name, 'worker', { stallInterval });
    const producer = await openQueue(name, 'producer');
    await enqueue(producer, 'orphan');
    // A worker that took the job and died: in `active`, with no lock renewal.
    await redis.lmove(beeKey(config.redisPrefix, name, 'waiting'), beeKey(config.redisPrefix, name, 'active'), 'RIGHT', 'LEFT');
    expect(await jobState(redis, config, name, 'orphan')).toBe('active');

    expect(queue.checkStalledJobs()).toBeInstanceOf(Promise);
    const errors: Error[] = [];
    const checks = startStalledChecks([{ key: 'only', queue }], stallInterval, (error) => errors.push(error));
    cleanup.add(() => checks.stop());
    await eventually('the stalled job is waiting again', async () => (await jobState(redis, config, name, 'orphan')) === 'waiting', {
      timeoutMs: 10_000,
    });
    await checks.stop();
    expect(errors).toEqual([]);
  });
});
