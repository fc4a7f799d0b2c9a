/**
 * Jobs that finish exactly once, with real worker processes (`node dist/src/main.js worker`) on a
 * PostgreSQL database, Redis prefix and storage directory of this test's own, and the stall interval
 * at 1 s (JOB_STALL_INTERVAL_MS):
 *
 * - `kill -9` of the worker running a job, with a second worker up: the job completes exactly once on
 *   the second worker (row COMPLETED, stall_count 1, one final event on the Redis channel, the files
 *   of one attempt only).
 * - A job whose worker is killed every time it reaches PROCESSING ends FAILED (WORKER_LOST, not
 *   retryable) once it has lost more than JOB_MAX_STALLS=2 workers; the quota unit comes back and no
 *   output is left.
 * - A PostgreSQL outage (this test's database only: ALLOW_CONNECTIONS false and its backends
 *   terminated, then allowed again) in the middle of a batch of 20 jobs: every job ends COMPLETED,
 *   exactly once, none lost.
 *
 * Duplicate detection is off here (each job must run the pipeline) and so is the job start limiter.
 */
import { knex } from '@mikro-orm/knex';
import type { EntityManager } from '@mikro-orm/postgresql';
import { encodeWav } from '../../src/audio/decode/wav.js';
import { loadConfig, type Config } from '../../src/platform/config.js';
import { createServices, type Services } from '../../src/services.js';
import { Conversion, ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { QuotaRepository } from '../../src/modules/quota/quota.repository.js';
import { renderMelody, twinkle } from '../support/signals.js';
import { Cleanup, POSTGRES_ADMIN_URL, createTestResources, type TestResources } from '../support/service-harness.js';
import { startServiceProcess, type ServiceProcess } from '../support/service-processes.js';
import { eventually } from '../support/eventually.js';
import { itWithOutputs } from '../support/it-with-outputs.js';
import {
  attemptDirs,
  enqueue,
  insertPendingConversion,
  loadConversion,
  recordProgress,
  storedFiles,
  type ProgressRecorder,
  type WorkerEnv,
} from '../support/worker-harness.js';

/** A completed conversion's files: its outputs (the upload is deleted once it completes). */
const OUTPUTS = ['report.json', 'score.mid', 'score.musicxml', 'vocals.mp3', 'vocals.wav'];

const cleanup = new Cleanup();
let resources: TestResources;
let config: Config;
let services: Services;
/** What the worker harness helpers need (the workers are the spawned processes). */
let env: WorkerEnv;
let workerEnv: Record<string, string>;
let workerCount = 0;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  resources = await createTestResources(cleanup, { storageLabel: 'mv-faults-' });
  config = loadConfig({ ...resources.env, LOG_LEVEL: 'error' });
  // Creates the database and applies the migrations before any worker starts.
  services = await createServices(config, { role: 'api' });
  cleanup.add(() => services.close());
  env = { config, services, worker: null as never, storageDir: resources.storageDir };
  workerEnv = {
    ...resources.env,
    JOB_STALL_INTERVAL_MS: '1000',
    JOB_MAX_STALLS: '2',
    JOB_START_LIMIT: '0',
    RESULT_CACHE_TTL_SECONDS: '0',
    WORKER_CONCURRENCY: '2',
  };
}, 120_000);

afterAll(() => cleanup.run(), 120_000);

async function startWorkerProcess(extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const worker = await startServiceProcess(cleanup, { name: `worker-${++workerCount}`, mode: 'worker', env: { ...workerEnv, ...extra } });
  workers.push(worker);
  return worker;
}

async function kill9(worker: ServiceProcess): Promise<void> {
  worker.child.kill('SIGKILL');
  await worker.exited;
}

/** `it`, with what the workers printed added to a failure's message. */
function withOutputs(name: string, body: () => Promise<void>, timeoutMs: number): void {
  itWithOutputs(name, () => workers, body, timeoutMs, 30);
}

async function rowState(id: string): Promise<{ status: string; attempt_id: string | null; stall_count: number }> {
  const [row] = await (services.orm.em.fork() as EntityManager)
    .getConnection()
    .execute<{ status: string; attempt_id: string | null; stall_count: number }[]>(
      'select "status", "attempt_id", "stall_count" from "conversions" where "id" = ?',
      [id],
    );
  return row;
}

const finals = (progress: ProgressRecorder) => progress.events.filter((event) => event.final);

describe('a worker killed with SIGKILL mid-job', () => {
  withOutputs(
    'hands the job to the other worker, which completes it exactly once',
    async () => {
      const pair = [await startWorkerProcess(), await startWorkerProcess()];
      const conversion = await insertPendingConversion(env);
      const progress = await recordProgress(cleanup, env, conversion.id);
      await enqueue(env, conversion.id);
      await progress.waitFor((event) => event.stage === 'PITCH_EXTRACTION', 60_000);
      const lost = await rowState(conversion.id);
      // The worker that claimed it says so in its log.
      const first = pair.find((worker) => worker.output().includes(`"attemptId":"${lost.attempt_id}"`));
      const second = pair.find((worker) => worker !== first)!;
      expect(first).toBeDefined();
      await kill9(first!);

      const final = await progress.final(120_000);
      expect(final).toMatchObject({ status: 'COMPLETED', final: true });
      // Every run that could still publish is over once the surviving worker has stopped.
      await second.stop();
      expect(finals(progress)).toHaveLength(1);
      const row = await loadConversion(env, conversion.id);
      expect(row).toMatchObject({ status: ConversionStatus.COMPLETED, stallCount: 1 });
      expect(row.attemptId).not.toBe(lost.attempt_id);
      expect(Object.values(row.result!.files).every((key) => key.includes(`/${row.attemptId}/`))).toBe(true);
      expect(await storedFiles(env, conversion.id)).toEqual(OUTPUTS);
      expect(await attemptDirs(env, conversion.id)).toEqual([row.attemptId]);
      expect(second.output()).toContain('Conversion resumed after its worker was lost');
    },
    240_000,
  );
});

describe('a job that loses its worker every time', () => {
  withOutputs(
    'ends FAILED with WORKER_LOST after JOB_MAX_STALLS=2 stalls, gives the quota unit back and leaves no output',
    async () => {
      const userId = `user-stalls-${Date.now()}`;
      const conversion = await insertPendingConversion(env, { userId });
      const em = services.orm.em.fork() as EntityManager;
      const quota = new QuotaRepository(em);
      const charge = await quota.reserve(userId, new Date(), 'UTC', { dailyQuota: 10, monthlyQuota: 100 });
      await quota.attach(conversion.id, charge!);
      const used = async () =>
        (
          await em.getConnection().execute<{ day_used: number }[]>('select "day_used" from "quota_counters" where "user_id" = ?', [userId])
        )[0].day_used;
      expect(await used()).toBe(1);

      const progress = await recordProgress(cleanup, env, conversion.id);
      await enqueue(env, conversion.id);
      const attempts: string[] = [];
      // Three runs reach PROCESSING and lose their worker (stall counts 0, 1, 2 at their claims).
      for (let run = 0; run < 3; run++) {
        const worker = await startWorkerProcess();
        const state = await eventually(`run ${run + 1} claims the row`, () => rowState(conversion.id), {
          until: (current) => current.status === 'PROCESSING' && current.attempt_id !== null && !attempts.includes(current.attempt_id),
          timeoutMs: 60_000,
          intervalMs: 100,
        });
        expect(state.stall_count).toBe(run);
        attempts.push(state.attempt_id!);
        await kill9(worker);
      }
      // The fourth claim counts the third stall, over the cap.
      await startWorkerProcess();
      const final = await progress.final(120_000);
      expect(final).toMatchObject({ status: 'FAILED', final: true, error: { code: 'AUDIO_PROCESSING_ERROR', retryable: false } });
      expect(final.message).toMatch(/stopped its worker 3 times/);

      const row = await loadConversion(env, conversion.id);
      expect(row.status).toBe(ConversionStatus.FAILED);
      expect(row.stallCount).toBe(3);
      expect(row.error).toMatchObject({ code: 'AUDIO_PROCESSING_ERROR', retryable: false });
      expect(await used()).toBe(0);
      expect(await storedFiles(env, conversion.id)).toEqual(['input']);
      expect(await attemptDirs(env, conversion.id)).toEqual([]);
      expect(finals(progress)).toHaveLength(1);
      // Failed for good in the queue: no retry is waiting.
      const counts = await services.queue.checkHealth();
      expect([counts.waiting, counts.delayed, counts.active]).toEqual([0, 0, 0]);
      expect(counts.failed).toBeGreaterThanOrEqual(1);
    },
    300_000,
  );
});

describe('a PostgreSQL outage during a batch of 20 jobs', () => {
  withOutputs(
    'every job ends COMPLETED exactly once once the database is back',
    async () => {
      for (const worker of workers) if (worker.running()) await worker.stop();
      // A short melody (2.7 s) keeps the batch quick; each job its own seed.
      const melody = renderMelody(twinkle(67, 0.35).slice(0, 7), { sampleRate: 22050, timbre: 'voice' });
      const audio = encodeWav([melody.samples], melody.sampleRate);
      const batch: { id: string; progress: ProgressRecorder }[] = [];
      for (let i = 0; i < 20; i++) {
        const conversion = await insertPendingConversion(env, { audio, fileName: 'twinkle.wav' });
        await (services.orm.em.fork() as EntityManager).nativeUpdate(Conversion, { id: conversion.id }, { seed: 100 + i });
        batch.push({ id: conversion.id, progress: await recordProgress(cleanup, env, conversion.id) });
      }
      const failedBefore = (await services.queue.checkHealth()).failed;
      const retryEnv = { JOB_RETRIES: '6', JOB_BACKOFF_MS: '500' };
      const a = await startWorkerProcess(retryEnv);
      const b = await startWorkerProcess(retryEnv);
      for (const { id } of batch) await enqueue(env, id);

      // Mid-batch: some jobs done, others running.
      await eventually('the first completions', () => batch.filter(({ progress }) => finals(progress).length > 0).length, {
        until: (done) => done >= 3,
        timeoutMs: 120_000,
        intervalMs: 100,
      });
      const admin = knex({ client: 'pg', connection: POSTGRES_ADMIN_URL, pool: { min: 0, max: 1 } });
      try {
        await admin.raw(`alter database "${resources.databaseName}" allow_connections false`);
        await admin.raw('select pg_terminate_backend("pid") from pg_stat_activity where "datname" = ? and "pid" <> pg_backend_pid()', [
          resources.databaseName,
        ]);
        // The fault: PostgreSQL refuses the database for 4 s (the length of the outage, not a wait for something).
        await new Promise((resolve) => setTimeout(resolve, 4000));
      } finally {
        await admin.raw(`alter database "${resources.databaseName}" allow_connections true`);
        await admin.destroy();
      }

      const ends = await Promise.all(batch.map(({ progress }) => progress.final(240_000)));
      await Promise.all([a.stop(), b.stop()]);
      expect(ends.map((event) => event.status)).toEqual(Array(20).fill('COMPLETED'));
      for (const { id, progress } of batch) {
        expect([id, finals(progress).length]).toEqual([id, 1]);
        const row = await loadConversion(env, id);
        expect([id, row.status]).toEqual([id, ConversionStatus.COMPLETED]);
        expect([id, await attemptDirs(env, id)]).toEqual([id, [row.attemptId]]);
        expect([id, await storedFiles(env, id)]).toEqual([id, OUTPUTS]);
      }
      const counts = await services.queue.checkHealth();
      expect([counts.waiting, counts.delayed, counts.active, counts.failed]).toEqual([0, 0, 0, failedBefore]);
      // The outage did reach the jobs (otherwise this proves nothing).
      const printed = a.output() + b.output();
      expect(printed).toMatch(/Database unavailable|Could not write progress|DATABASE_UNAVAILABLE/);
      const retried = batch.filter(
        ({ progress }) => progress.events.filter((event) => event.message === 'Processing started').length > 1,
      ).length;
      process.stdout.write(`postgres outage: 20/20 completed once; ${retried} jobs ran more than once\n`);
    },
    420_000,
  );
});
