/**
 * A run that loses its claim, on real PostgreSQL, Redis and disk storage (worker in this process): the
 * row is taken over by another attempt while the run is going, as happens when a stalled job is handed
 * to another worker. The run stops: no final event, only its own files deleted, the other attempt's
 * files and the row left as they are. Its job resolves (no retry that would take the row back).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { randomUUID } from 'node:crypto';
import { Conversion, ConversionStatus, type ResultData } from '../../src/modules/conversion/conversion.entity.js';
import { attemptKeys } from '../../src/worker/attempt-outputs.js';
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
import { eventually } from '../support/eventually.js';
import { Cleanup } from '../support/service-harness.js';

/** What the instrumented pipeline does to the row, and when. */
let takeOver: ((conversionId: string, when: 'during' | 'after') => Promise<void>) | null = null;
let current = '';

const pipeline: RunPipeline = async (audio, request, options, runOptions) => {
  let tookOver: Promise<void> | null = null;
  const outputs = await runInThread(audio, request, options, {
    ...runOptions,
    onProgress: (event) => {
      if (event.stage === 'pitch_extraction') tookOver ??= takeOver?.(current, 'during') ?? Promise.resolve();
      runOptions?.onProgress?.(event);
    },
  });
  await tookOver;
  await takeOver?.(current, 'after');
  return outputs;
};

async function succeededJobs(env: WorkerEnv): Promise<number> {
  return (await env.services.queue.checkHealth()).succeeded;
}

describe('a run whose row is taken over by another attempt', () => {
  const cleanup = new Cleanup();
  let env: WorkerEnv;
  beforeAll(async () => {
    env = await startWorkerEnv(cleanup, { env: { JOB_START_LIMIT: '0' }, worker: { processor: { runPipeline: pipeline } } });
  });
  afterAll(() => cleanup.run());
  afterEach(() => (takeOver = null));

  it('after its pipeline finished, while the other attempt already COMPLETED the row: keeps their files, deletes its own, publishes nothing', async () => {
    const other = randomUUID();
    const conversion = await insertPendingConversion(env);
    current = conversion.id;
    const otherFile = attemptKeys.output(conversion.id, other, 'vocals.wav');
    takeOver = async (id, when) => {
      if (when !== 'after') return;
      await env.services.storage.write(otherFile, new Uint8Array([1, 2, 3]));
      const files: ResultData['files'] = {
        vocalsWav: otherFile,
        vocalsCompressed: otherFile,
        midi: otherFile,
        musicXml: otherFile,
        report: otherFile,
      };
      await (env.services.orm.em.fork() as EntityManager).nativeUpdate(
        Conversion,
        { id },
        { status: ConversionStatus.COMPLETED, attemptId: other, result: { files } as ResultData },
      );
    };
    const progress = await recordProgress(cleanup, env, conversion.id);
    const before = await succeededJobs(env);
    await enqueue(env, conversion.id);
    await eventually(
      'its job has succeeded and the worker is idle',
      async () => (await succeededJobs(env)) > before && env.worker.processor.running() === 0,
      { timeoutMs: 60_000 },
    );

    const row = await loadConversion(env, conversion.id);
    expect(row).toMatchObject({ status: ConversionStatus.COMPLETED, attemptId: other });
    expect(await attemptDirs(env, conversion.id)).toEqual([other]);
    expect(await storedFiles(env, conversion.id)).toEqual(['input', 'vocals.wav']);
    expect(progress.events.filter((event) => event.final)).toEqual([]);
  });

  it('while its pipeline runs: its next progress write finds the row gone, the pipeline is aborted and nothing of it is left', async () => {
    const other = randomUUID();
    const conversion = await insertPendingConversion(env);
    current = conversion.id;
    takeOver = async (id, when) => {
      if (when === 'during') await (env.services.orm.em.fork() as EntityManager).nativeUpdate(Conversion, { id }, { attemptId: other });
    };
    const progress = await recordProgress(cleanup, env, conversion.id);
    const before = await succeededJobs(env);
    await enqueue(env, conversion.id);
    await eventually(
      'its job has succeeded and the worker is idle',
      async () => (await succeededJobs(env)) > before && env.worker.processor.running() === 0,
      { timeoutMs: 60_000 },
    );

    const row = await loadConversion(env, conversion.id);
    expect(row).toMatchObject({ status: ConversionStatus.PROCESSING, attemptId: other, result: null });
    expect(await attemptDirs(env, conversion.id)).toEqual([]);
    expect(progress.events.filter((event) => event.final)).toEqual([]);
    // It stopped inside the pipeline: it never reached the last stage.
    expect(progress.events.some((event) => event.stage === 'FINALIZATION')).toBe(false);
  });
});
