/**
 * The worker end to end in this process, on a real PostgreSQL database, Redis (queue and pub/sub)
 * and disk storage of the test's own: a PENDING conversion with a real upload is enqueued with
 * Bee-Queue, the worker runs the pipeline in a thread, and we check the row, the files and the events
 * a subscriber receives. Also: a job run twice gives one result, a non-audio upload fails for good
 * with nothing left behind, and a cancel published mid-run stops the thread and leaves no outputs.
 */
import { performance } from 'node:perf_hooks';
import { decodeWav } from '../../src/audio/decode/wav.js';
import { Topic, topicChannel, type CancelPayload, type ProgressPayload } from '../../src/platform/pubsub.js';
import { ConversionStatus } from '../../src/modules/conversion/conversion.entity.js';
import { attemptKeys } from '../../src/worker/attempt-outputs.js';
import { createThreadPool, type ThreadPool } from '../../src/worker/thread-pool.js';
import {
  enqueue,
  FIXTURE_SECONDS,
  insertPendingConversion,
  loadConversion,
  recordProgress,
  startWorkerEnv,
  storedFiles,
  type WorkerEnv,
} from '../support/worker-harness.js';
import { eventually } from '../support/eventually.js';
import { Cleanup } from '../support/service-harness.js';

const STAGES = ['VALIDATION', 'PITCH_EXTRACTION', 'LYRICS', 'SYNTHESIS', 'QUALITY_CHECK', 'FINALIZATION'];
/** A completed conversion's files: its outputs (the upload is deleted once it completes). */
const OUTPUTS = ['report.json', 'score.mid', 'score.musicxml', 'vocals.mp3', 'vocals.wav'];

const cleanup = new Cleanup();
let env: WorkerEnv;
/** Every pipeline run: when it started and when the call settled (its thread idle again, or gone). */
const runs: { started: number; settled: number | null }[] = [];
/** Ids of the pipeline threads started. */
const threadIds: number[] = [];
let pool: ThreadPool;

beforeAll(async () => {
  // The worker's own kind of pool, instrumented.
  pool = createThreadPool({ onThreadStart: (id) => threadIds.push(id) });
  cleanup.add(() => pool.close());
  env = await startWorkerEnv(cleanup, {
    worker: {
      processor: {
        runPipeline: (audio, request, pipelineOptions, options) => {
          const run = { started: performance.now(), settled: null as number | null };
          runs.push(run);
          return pool.run(audio, request, pipelineOptions, options).finally(() => (run.settled = performance.now()));
        },
      },
    },
  });
});

afterAll(() => cleanup.run());

describe('the conversion worker', () => {
  it('completes a conversion: row COMPLETED with result and quality, outputs stored, the WAV as long as the melody, events in order over all six stages', async () => {
    const conversion = await insertPendingConversion(env);
    const progress = await recordProgress(cleanup, env, conversion.id);
    // The worker shares this process: measure how late a 20 ms timer fires while it works.
    let last = performance.now();
    let worstLag = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      worstLag = Math.max(worstLag, now - last - 20);
      last = now;
    }, 20);
    const enqueuedAt = performance.now();
    const loopBefore = performance.eventLoopUtilization();
    await enqueue(env, conversion.id);
    const final = await progress.final(60_000).finally(() => clearInterval(ticker));
    const loop = performance.eventLoopUtilization(loopBefore);
    const jobMs = performance.now() - enqueuedAt;

    expect(final).toMatchObject({
      conversionId: conversion.id,
      status: 'COMPLETED',
      stage: 'FINALIZATION',
      progress: 100,
      final: true,
      error: null,
    });
    const row = await loadConversion(env, conversion.id);
    expect(row.status).toBe(ConversionStatus.COMPLETED);
    expect(row.progress).toBe(100);
    expect(row.error).toBeNull();
    expect(row.retryCount).toBe(0);
    expect(row.processingMs).toBeGreaterThan(0);
    expect(row.startedAt!.getTime()).toBeLessThanOrEqual(row.completedAt!.getTime());
    expect(row.result?.files.vocalsWav).toBe(attemptKeys.output(conversion.id, row.attemptId!, 'vocals.wav'));
    expect(row.result?.compressedFormat).toBe('mp3');
    expect(row.result?.lyrics.length).toBeGreaterThan(10);
    expect(row.result?.melody.noteCount).toBeGreaterThan(10);
    expect(row.result?.lyricsInfo).toMatchObject({ genre: 'ballad', mood: 'romantic', source: 'writer' });
    // The pipeline's own gate for this fixture is ≥ 95 % of frames within 50 cents, -14 LUFS ± 0.5.
    expect(row.quality?.pitchAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(row.quality!.integratedLufs! - -14)).toBeLessThanOrEqual(0.5);
    // Every stage has its start and end, in pipeline order.
    const times = STAGES.map((s) => row.stageTimestamps[s as keyof typeof row.stageTimestamps]);
    for (let i = 0; i < times.length; i++) {
      expect(times[i]?.startedAt).toBeDefined();
      expect(Date.parse(times[i]!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(times[i]!.startedAt));
      if (i > 0) expect(Date.parse(times[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(times[i - 1]!.startedAt));
    }

    expect(await storedFiles(env, conversion.id)).toEqual(OUTPUTS);
    const wav = decodeWav(await env.services.storage.read(row.result!.files.vocalsWav));
    expect(wav.sampleRate).toBe(44100);
    // The vocals follow the melody's notes (10.7 s of input, the last note ends at 10.4 s) plus a
    // short release: within -1.2/+1.5 s of the input's length.
    const seconds = wav.channels[0].length / wav.sampleRate;
    expect(seconds).toBeGreaterThan(FIXTURE_SECONDS - 1.2);
    expect(seconds).toBeLessThan(FIXTURE_SECONDS + 1.5);
    const report = JSON.parse(new TextDecoder().decode(await env.services.storage.read(row.result!.files.report))) as {
      melody: { noteCount: number };
      seed: number;
      voice: { id: string };
    };
    expect(report.melody.noteCount).toBe(row.result?.melody.noteCount);
    // The row's request reached the pipeline (the bigint seed column comes back as a JS bigint).
    expect(report.seed).toBe(7);
    expect(report.voice.id).toBe('high');

    // Events: PROCESSING ones, then exactly one final COMPLETED, last.
    const events = progress.events;
    expect(events.filter((e) => e.final)).toHaveLength(1);
    expect(events.at(-1)).toBe(final);
    expect(events.slice(0, -1).every((e) => e.status === 'PROCESSING' && e.userId === row.user.id)).toBe(true);
    for (let i = 1; i < events.length; i++) {
      expect(events[i].progress).toBeGreaterThanOrEqual(events[i - 1].progress);
      expect(STAGES.indexOf(events[i].stage!)).toBeGreaterThanOrEqual(STAGES.indexOf(events[i - 1].stage!));
      expect(Date.parse(events[i].at)).toBeGreaterThanOrEqual(Date.parse(events[i - 1].at));
    }
    expect([...new Set(events.map((e) => e.stage))]).toEqual(STAGES);
    // The pipeline ran off this event loop: this thread was idle most of the job. Run here, the pipeline's
    // seconds of work would keep the loop busy (utilisation near 1); the share does not depend on how fast
    // or loaded the machine is, unlike a timer's lateness, which is only reported below.
    expect(loop.utilization).toBeLessThan(0.5);
    // Figures for the report (not asserted): job time from enqueue to the final event, events seen.
    process.stdout.write(
      `worker job: ${jobMs.toFixed(0)} ms enqueue→final, pipeline ${row.processingMs} ms, ${events.length} events, worst timer lag ${worstLag.toFixed(0)} ms, event loop busy ${(100 * loop.utilization).toFixed(0)} %\n`,
    );
  });

  it('gives one result when the same job runs twice: the second run finds the row COMPLETED and changes nothing', async () => {
    const conversion = await insertPendingConversion(env);
    const progress = await recordProgress(cleanup, env, conversion.id);
    await enqueue(env, conversion.id);
    // Enqueued again while waiting: one job per conversion id.
    await enqueue(env, conversion.id);
    await progress.final(60_000);
    const first = await loadConversion(env, conversion.id);
    const before = await env.services.storage.stat(first.result!.files.vocalsWav);
    const runsBefore = runs.length;

    // Enqueued again after it finished: the finished job keeps its id, so nothing is added.
    await enqueue(env, conversion.id);
    // And the handler run again on the same conversion (a job delivered twice) does nothing.
    const again = await env.worker.processor.process({ id: 'again', data: { conversionId: conversion.id }, options: { retries: 3 } });
    expect(again).toEqual({ conversionId: conversion.id, status: 'COMPLETED', alreadyDone: true });
    // Whatever those two did has happened: no job is left to run and every event they published has arrived.
    await eventually('no job is waiting or running', async () => {
      const queue = await env.services.queue.checkHealth();
      return queue.waiting + queue.active + queue.delayed === 0 && env.worker.processor.running() === 0;
    });
    await progress.settled();

    const second = await loadConversion(env, conversion.id);
    expect(runs.length).toBe(runsBefore);
    expect(second.completedAt?.toISOString()).toBe(first.completedAt?.toISOString());
    expect(second.result).toEqual(first.result);
    expect((await env.services.storage.stat(first.result!.files.vocalsWav))?.modifiedAt.getTime()).toBe(before?.modifiedAt.getTime());
    expect(progress.events.filter((e) => e.message === 'Processing started')).toHaveLength(1);
    expect(progress.events.filter((e) => e.final)).toHaveLength(1);
  });

  it('fails a non-audio upload with VALIDATION_ERROR at once (no retry) and leaves no outputs', async () => {
    const text = new TextEncoder().encode('This is a text file pretending to be a recording of a melody.\n'.repeat(40));
    const conversion = await insertPendingConversion(env, { audio: text, fileName: 'melody.mp3' });
    const progress = await recordProgress(cleanup, env, conversion.id);
    const failed = new Promise<void>((resolve) => env.worker.queue.once('failed', () => resolve()));
    await enqueue(env, conversion.id);
    const final = await progress.final(30_000);
    await failed;

    expect(final).toMatchObject({ status: 'FAILED', final: true, error: { code: 'VALIDATION_ERROR', retryable: false } });
    const row = await loadConversion(env, conversion.id);
    expect(row.status).toBe(ConversionStatus.FAILED);
    expect(row.error).toMatchObject({ code: 'VALIDATION_ERROR', retryable: false });
    expect(row.error?.message).toBe(final.error?.message);
    expect(row.retryCount).toBe(0);
    expect(row.result).toBeNull();
    expect(row.completedAt).not.toBeNull();
    expect(progress.events.filter((e) => e.message === 'Processing started')).toHaveLength(1);
    // The upload stays with its row; no output was left.
    expect(await storedFiles(env, conversion.id)).toEqual(['input']);
    // Bee-Queue recorded one failed job and has nothing left to retry.
    const health = await env.services.queue.checkHealth();
    expect(health.delayed + health.waiting).toBe(0);
    expect(health.failed).toBe(1);
  });

  it('stops a running conversion when a cancel is published: CANCELLED within a second, its thread stopped, its files removed', async () => {
    const conversion = await insertPendingConversion(env);
    const progress = await recordProgress(cleanup, env, conversion.id);
    await enqueue(env, conversion.id);
    await progress.waitFor((e) => e.stage === 'PITCH_EXTRACTION', 30_000);
    const run = runs.at(-1)!;
    const cancelledAt = performance.now();
    const cancel: CancelPayload = { conversionId: conversion.id, at: new Date().toISOString() };
    await env.services.pubsub.publish(topicChannel(env.config.redisPrefix, Topic.CONVERSION_CANCEL, conversion.id), cancel);
    const final = await progress.final(10_000);
    const finalAfterMs = progress.arrivals[progress.events.indexOf(final)] - cancelledAt;

    expect(final).toMatchObject({ status: 'CANCELLED', final: true });
    expect(finalAfterMs).toBeLessThan(1000);
    // The thread stopped the pipeline through its AbortSignal (no terminate needed): the run is over,
    // and the thread is idle again, ready for the next job.
    expect(run.settled).not.toBeNull();
    expect(run.settled! - cancelledAt).toBeLessThan(1000);
    expect(env.worker.processor.running()).toBe(0);
    expect(pool.size()).toEqual({ busy: 0, idle: 1 });
    const row = await loadConversion(env, conversion.id);
    expect(row.status).toBe(ConversionStatus.CANCELLED);
    expect(row.result).toBeNull();
    expect(await storedFiles(env, conversion.id)).toEqual([]);
    process.stdout.write(
      `cancel: final event ${finalAfterMs.toFixed(0)} ms, run stopped ${(run.settled! - cancelledAt).toFixed(0)} ms after the cancel\n`,
    );
  });

  it('ran every job so far in one warm thread, one after another', () => {
    expect(runs.length).toBeGreaterThanOrEqual(4);
    expect(threadIds).toHaveLength(1);
  });

  it('never overwrites a row the cancel mutation already marked CANCELLED', async () => {
    const conversion = await insertPendingConversion(env);
    const progress = await recordProgress(cleanup, env, conversion.id);
    await enqueue(env, conversion.id);
    await progress.waitFor((e) => e.stage === 'LYRICS', 30_000);
    // What cancelConversion does: mark the row, then publish the cancel and the final event.
    const em = env.services.orm.em.fork();
    const marked = await em
      .getConnection()
      .execute<{ affectedRows: number }>(
        `update "conversions" set "status" = 'CANCELLED', "completed_at" = now() where "id" = ? and "status" in ('PENDING', 'PROCESSING')`,
        [conversion.id],
        'run',
      );
    expect(marked.affectedRows).toBe(1);
    const finalByMutation: ProgressPayload = {
      conversionId: conversion.id,
      userId: 'x',
      status: 'CANCELLED',
      stage: null,
      progress: 0,
      message: 'Cancelled',
      at: new Date().toISOString(),
      final: true,
      error: null,
    };
    await env.services.pubsub.publish(topicChannel(env.config.redisPrefix, Topic.CONVERSION_CANCEL, conversion.id), {
      conversionId: conversion.id,
      at: finalByMutation.at,
    });
    await env.services.pubsub.publish(topicChannel(env.config.redisPrefix, Topic.CONVERSION_PROGRESS, conversion.id), finalByMutation);
    await eventually('the worker has stopped the run', () => env.worker.processor.running(), {
      until: (running) => running === 0,
      timeoutMs: 5000,
    });
    await progress.settled();

    const row = await loadConversion(env, conversion.id);
    expect(row.status).toBe(ConversionStatus.CANCELLED);
    expect(row.result).toBeNull();
    // The worker published no second final event: the mutation's is the only one.
    expect(progress.events.filter((e) => e.final)).toHaveLength(1);
    expect(await storedFiles(env, conversion.id)).toEqual([]);
  });
});
