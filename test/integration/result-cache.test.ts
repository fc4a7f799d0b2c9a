/**
 * Duplicate detection on real PostgreSQL, Redis and disk storage, with the worker in this process so
 * the pipeline runs can be counted (an instrumented `runPipeline` around the real threaded one):
 * the same bytes with the same options from the same user reuse the first result (`reused_from`, its own copy of the
 * files, the pipeline not run again, a final COMPLETED event); another seed is computed; the copy is
 * still served after the first conversion's files are deleted, and a cache entry whose files are gone
 * is a miss; another user's identical upload is computed afresh (issue 10, hole 8). With the cache's Redis (a private redis-server) killed, lookups are misses and jobs
 * complete.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Redis } from 'ioredis';
import type { EntityManager } from '@mikro-orm/postgresql';
import { filesRoute } from '../../src/graphql/files-route.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { signedPath } from '../../src/platform/signed-url.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { storageKeys } from '../../src/modules/conversion/conversion-job.js';
import { createResultCache } from '../../src/worker/result-cache.js';
import { runInThread, type RunPipeline } from '../../src/worker/run-in-thread.js';
import {
  attemptDirs,
  enqueue,
  insertPendingConversion,
  loadConversion,
  recordProgress,
  startWorkerEnv,
  storedFiles,
  type WorkerEnv,
} from '../support/worker-harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis.js';
import { Cleanup } from '../support/service-harness.js';

/** A completed conversion's files: its outputs (the upload is deleted once it completes). */
const OUTPUTS = ['report.json', 'score.mid', 'score.musicxml', 'vocals.mp3', 'vocals.wav'];
/** Duplicate detection on (the harness turns it off by default); no start limiter in the way. */
const CACHE_ENV = { RESULT_CACHE_TTL_SECONDS: '3600', JOB_START_LIMIT: '0' };

/** The real threaded pipeline, counting its runs by conversion seed. */
function countingPipeline(): { run: RunPipeline; runs: (number | null | undefined)[] } {
  const runs: (number | null | undefined)[] = [];
  return {
    runs,
    run: (audio, request, options, runOptions) => {
      runs.push(request.seed);
      return runInThread(audio, request, options, runOptions);
    },
  };
}

/**
 * How long one conversion may take (a real pipeline run; on a busy machine over 30 s). A test's own
 * timeout is this times its conversions, so the test never gives up before the waits it is made of.
 */
const CONVERSION_MS = 90_000;

/** Converts one conversion through the worker and returns its final event and row. */
async function convert(cleanup: Cleanup, env: WorkerEnv, options: { seed?: number; fileName?: string; userId?: string } = {}) {
  const conversion = await insertPendingConversion(env, { fileName: options.fileName, userId: options.userId });
  if (options.seed !== undefined)
    await (env.services.orm.em.fork() as EntityManager).nativeUpdate(Conversion, { id: conversion.id }, { seed: options.seed });
  const progress = await recordProgress(cleanup, env, conversion.id);
  await enqueue(env, conversion.id);
  const final = await progress.final(CONVERSION_MS);
  return { id: conversion.id, final, events: progress.events, row: await loadConversion(env, conversion.id) };
}

async function counter(env: WorkerEnv, name: 'cacheHits' | 'cacheMisses'): Promise<number> {
  const values = (
    await env.services
      .metrics!.registry.getSingleMetric(name === 'cacheHits' ? 'melody_cache_hits_total' : 'melody_cache_misses_total')!
      .get()
  ).values;
  return values.find((value) => value.labels.cache === 'result')?.value ?? 0;
}

describe('the same audio bytes with the same options from the same user', () => {
  const cleanup = new Cleanup();
  const owner = `owner-${randomUUID()}`;
  const pipeline = countingPipeline();
  let env: WorkerEnv;
  let filesUrl: string;
  beforeAll(async () => {
    env = await startWorkerEnv(cleanup, { env: CACHE_ENV, worker: { processor: { runPipeline: pipeline.run } } });
    // The files route of the API, on the same storage, to fetch results through signed links.
    const app = express();
    app.use('/files', filesRoute(env.services));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    cleanup.add(() => new Promise((resolve) => server.close(resolve)));
    filesUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => cleanup.run());

  let first: Awaited<ReturnType<typeof convert>>;
  let second: Awaited<ReturnType<typeof convert>>;

  it(
    'reuse the first result: reused_from set, its own copy of the files, the pipeline not run again',
    async () => {
      first = await convert(cleanup, env, { userId: owner });
      expect(first.row).toMatchObject({ status: ConversionStatus.COMPLETED, reusedFrom: null });
      expect(pipeline.runs).toEqual([7]);
      expect(await counter(env, 'cacheMisses')).toBe(1);

      second = await convert(cleanup, env, { userId: owner, fileName: 'second-take.flac' });
      expect(second.final).toMatchObject({ status: 'COMPLETED', final: true, progress: 100 });
      expect(second.events.filter((event) => event.final)).toHaveLength(1);
      expect(second.events.map((event) => event.message)).toContain('Reused the result of an identical conversion');
      expect(pipeline.runs).toEqual([7]);
      expect(await counter(env, 'cacheHits')).toBe(1);

      const { row } = second;
      expect(row.status).toBe(ConversionStatus.COMPLETED);
      expect(row.reusedFrom).toBe(first.id);
      expect(row.result).toEqual({ ...first.row.result, files: expect.any(Object) as unknown });
      expect(row.quality).toEqual(first.row.quality);
      expect(row.warnings).toEqual(first.row.warnings);
      for (const key of Object.values(row.result!.files))
        expect(key.startsWith(`${storageKeys.dir(second.id)}/${row.attemptId}/`)).toBe(true);
      expect(await storedFiles(env, second.id)).toEqual(OUTPUTS);
      const secondWav = await env.services.storage.read(row.result!.files.vocalsWav);
      expect(Buffer.compare(Buffer.from(secondWav), Buffer.from(await env.services.storage.read(first.row.result!.files.vocalsWav)))).toBe(
        0,
      );
      // The copied report names this conversion's upload, not the first one's.
      const report = JSON.parse(new TextDecoder().decode(await env.services.storage.read(row.result!.files.report))) as {
        input: { fileName: string };
      };
      expect(report.input.fileName).toBe('second-take.flac');
    },
    2 * CONVERSION_MS,
  );

  it('with another seed are computed again', async () => {
    const other = await convert(cleanup, env, { userId: owner, seed: 8 });
    expect(other.row).toMatchObject({ status: ConversionStatus.COMPLETED, reusedFrom: null });
    expect(pipeline.runs).toEqual([7, 8]);
    expect(other.row.result!.lyrics).not.toBe(first.row.result!.lyrics);
  });

  it(
    "keep the reused copy served after the first conversion's files are deleted; the stale entry is then a miss",
    async () => {
      await env.services.storage.deletePrefix(storageKeys.dir(first.id));
      for (const key of Object.values(second.row.result!.files)) {
        const response = await fetch(`${filesUrl}${signedPath(env.config, key)}`);
        const body = new Uint8Array(await response.arrayBuffer());
        expect([key, response.status]).toEqual([key, 200]);
        expect(body.byteLength).toBeGreaterThan(0);
      }
      // The cache still names the first conversion, whose files are gone: computed, and remembered anew.
      const third = await convert(cleanup, env, { userId: owner });
      expect(third.row).toMatchObject({ status: ConversionStatus.COMPLETED, reusedFrom: null });
      expect(pipeline.runs).toEqual([7, 8, 7]);
      const fourth = await convert(cleanup, env, { userId: owner });
      expect(fourth.row.reusedFrom).toBe(third.id);
      expect(pipeline.runs).toEqual([7, 8, 7]);
      expect(await attemptDirs(env, fourth.id)).toEqual([fourth.row.attemptId]);
    },
    2 * CONVERSION_MS,
  );

  it(
    "from another user are computed afresh: the first user's result, warnings and upload stay theirs",
    async () => {
      const runsBefore = pipeline.runs.length;
      const hitsBefore = await counter(env, 'cacheHits');
      const stranger = `stranger-${randomUUID()}`;
      const theirs = await convert(cleanup, env, { userId: stranger });
      expect(theirs.row).toMatchObject({ status: ConversionStatus.COMPLETED, reusedFrom: null });
      expect(theirs.events.map((event) => event.message)).not.toContain('Reused the result of an identical conversion');
      expect(pipeline.runs).toHaveLength(runsBefore + 1);
      expect(await counter(env, 'cacheHits')).toBe(hitsBefore);
      // Within the second user, reuse works as for the first.
      const again = await convert(cleanup, env, { userId: stranger });
      expect(again.row.reusedFrom).toBe(theirs.id);
      expect(pipeline.runs).toHaveLength(runsBefore + 1);
    },
    2 * CONVERSION_MS,
  );
});

describe('with the result cache off (RESULT_CACHE_TTL_SECONDS=0)', () => {
  const cleanup = new Cleanup();
  const pipeline = countingPipeline();
  let env: WorkerEnv;
  beforeAll(async () => {
    env = await startWorkerEnv(cleanup, {
      env: { RESULT_CACHE_TTL_SECONDS: '0', JOB_START_LIMIT: '0' },
      worker: { processor: { runPipeline: pipeline.run } },
    });
  });
  afterAll(() => cleanup.run());

  it(
    'every conversion is computed and nothing is stored in Redis',
    async () => {
      await convert(cleanup, env);
      const again = await convert(cleanup, env);
      expect(again.row.reusedFrom).toBeNull();
      expect(pipeline.runs).toEqual([7, 7]);
      expect(await env.services.redis.keys(`${env.config.redisPrefix}:result-cache:*`)).toEqual([]);
    },
    2 * CONVERSION_MS,
  );
});

describe('with the result cache on a Redis that dies', () => {
  const cleanup = new Cleanup();
  const pipeline = countingPipeline();
  let env: WorkerEnv;
  let server: PrivateRedis;
  let cacheRedis: Redis;

  beforeAll(async () => {
    // A private redis-server on a free port, nothing kept on disk; the shared Redis is never touched.
    server = await startPrivateRedis(cleanup);
    cacheRedis = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: (times) => Math.min(times * 200, 1000) });
    cacheRedis.on('error', () => undefined);
    cleanup.add(() => cacheRedis.disconnect());
    env = await startWorkerEnv(cleanup, {
      env: CACHE_ENV,
      worker: {
        processor: {
          runPipeline: pipeline.run,
          resultCache: createResultCache({
            redis: cacheRedis,
            prefix: 'mvtest-cache',
            ttlSeconds: 3600,
            logger: createLogger(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'error' }), 'worker'),
          }),
        },
      },
    });
  });
  afterAll(() => cleanup.run());

  it(
    'hits while it is up; once killed, lookups are misses and the jobs complete',
    async () => {
      const owner = `owner-${randomUUID()}`;
      await convert(cleanup, env, { userId: owner });
      expect((await convert(cleanup, env, { userId: owner })).row.reusedFrom).not.toBeNull();
      expect(pipeline.runs).toEqual([7]);

      await server.kill();
      const missesBefore = await counter(env, 'cacheMisses');
      const third = await convert(cleanup, env, { userId: owner });
      const fourth = await convert(cleanup, env, { userId: owner });
      expect([third.row.status, fourth.row.status]).toEqual([ConversionStatus.COMPLETED, ConversionStatus.COMPLETED]);
      expect([third.row.reusedFrom, fourth.row.reusedFrom]).toEqual([null, null]);
      expect(pipeline.runs).toEqual([7, 7, 7]);
      expect(await counter(env, 'cacheMisses')).toBe(missesBefore + 2);
    },
    4 * CONVERSION_MS,
  );
});
