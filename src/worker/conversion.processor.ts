/**
 * The conversion job handler: the only I/O shell around the pipeline for jobs. One call handles one
 * Bee-Queue job on its own `em.fork()`:
 *
 * 1. Load the row. Missing, CANCELLED or FAILED → nothing to do; COMPLETED → the existing result
 *    (running a job twice gives one result). Otherwise mark it PROCESSING (conditionally, so a cancel
 *    that landed meanwhile wins).
 * 2. Listen on {@link Topic.CONVERSION_CANCEL} for this conversion; start the per-job timeout.
 * 3. Read the upload from storage and run the pipeline in a worker thread (`deps.runPipeline`).
 *    Every progress event is published on {@link Topic.CONVERSION_PROGRESS}; the row's stage, progress
 *    and stage timestamps are written on every stage change and at most every 250 ms otherwise.
 * 4. Write the outputs, then mark the row COMPLETED only if it is still PROCESSING (a conditional
 *    update: a conversion cancelled at the last moment stays CANCELLED and its outputs are removed),
 *    and publish the final event.
 *
 * A final failure that is not VALIDATION_ERROR gives the user's quota unit back.
 * Failures become the error model in one place ({@link toJobError}). A retryable one with retries
 * left puts the row back to PENDING (retryCount + 1, the error kept as the reason) and is rethrown so
 * Bee-Queue retries it with exponential backoff; anything else marks the row FAILED, removes the
 * outputs, publishes the final event and fails the job without retries. A cancelled run ends
 * CANCELLED with all its files removed. Timeouts are not retried (see {@link jobTimeoutError}).
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ConvertRequest, ConversionStage, ProgressEvent } from '../audio/pipeline.js';
import type { Config } from '../platform/config.js';
import { AppError, type ErrorCode } from '../platform/errors.js';
import type { Logger } from '../platform/logger.js';
import type { Orm } from '../platform/database.js';
import { Topic, topicChannel, type ProgressPayload } from '../platform/pubsub.js';
import type { Storage } from '../platform/storage.js';
import { CANCELLED_ERROR, CANCELLED_MESSAGE } from '../modules/conversion/conversion-cancel.service.js';
import { QuotaRepository } from '../modules/quota/quota.repository.js';
import { Conversion, ConversionStatus, type ErrorData, type QualityData, type ResultData, type StageName, type StageTimestamps, type WarningData } from '../modules/conversion/conversion.entity.js';
import { storageKeys, type ConversionJobData } from './conversion-job.js';
import { runInThread, type RunPipeline } from './run-in-thread.js';
import type { Metrics } from '../platform/metrics.js';
import { withJobTelemetry, type JobTelemetry } from './job-telemetry.js';
import type { ThreadOutputs, ThreadPipelineOptions, ThreadRequest } from './thread-protocol.js';

/** The pub/sub operations the processor needs (graphql-redis-subscriptions' RedisPubSub has them). */
export interface JobPubSub {
  publish(trigger: string, payload: unknown): Promise<void>;
  subscribe(trigger: string, onMessage: (message: unknown) => void): Promise<number>;
  unsubscribe(subId: number): void;
}

/** The part of a Bee-Queue job the processor reads (and, to stop retries, writes). */
export interface ConversionJob {
  id: string;
  data: ConversionJobData;
  /** Bee-Queue's job options: `retries` left and the `backoff` (its `delay` is the next wait, ms). */
  options: { retries?: number; backoff?: { strategy?: string; delay?: number } };
}

/** How a job ended, as far as the row is concerned. */
export interface ConversionOutcome {
  conversionId: string;
  /** `SKIPPED`: the row was missing, cancelled or failed before the job ran. */
  status: 'COMPLETED' | 'CANCELLED' | 'SKIPPED';
  /** True when the row was already COMPLETED and nothing ran. */
  alreadyDone?: boolean;
}

export interface ConversionProcessorDeps {
  config: Pick<Config, 'redisPrefix' | 'jobTimeoutSeconds'>;
  orm: Orm;
  storage: Storage;
  pubsub: JobPubSub;
  logger: Logger;
  /** Runs the pipeline in a thread: a thread pool's `run` (what the worker uses), default {@link runInThread} (a new thread per run). */
  runPipeline?: RunPipeline;
  /** Pipeline options for every run (compressed format, loudness target...). */
  pipelineOptions?: ThreadPipelineOptions;
  /** Least time between two progress writes to the row within one stage, ms; default 250. */
  progressWriteIntervalMs?: number;
  /** Job and stage metrics (`services.metrics`); none counted without. */
  metrics?: Metrics;
}

export interface ConversionProcessor {
  /** Handles one job; resolves with the outcome, rejects when Bee-Queue should record a failure (see the module comment). */
  process(job: ConversionJob): Promise<ConversionOutcome>;
  /** Conversions running now. */
  running(): number;
  /**
   * Aborts every running conversion because this worker is going away: each goes back to PENDING
   * (its outputs removed) and its job is left for Bee-Queue's stalled-job check to hand to another worker.
   */
  abortAll(): void;
}

/** Pipeline stage → the stage name the service shows. */
export const STAGE_NAMES: Record<ConversionStage, StageName> = {
  validation: 'VALIDATION',
  pitch_extraction: 'PITCH_EXTRACTION',
  lyrics: 'LYRICS',
  synthesis: 'SYNTHESIS',
  quality_check: 'QUALITY_CHECK',
  finalization: 'FINALIZATION',
};

/** Output files a conversion may have, by storage name (the compressed one in either format). */
export const OUTPUT_NAMES = ['vocals.wav', 'vocals.mp3', 'vocals.opus', 'score.mid', 'score.musicxml', 'report.json'] as const;

/** Error codes a conversion's `error` may carry. */
const ERROR_MODEL: ReadonlySet<ErrorCode> = new Set(['VALIDATION_ERROR', 'AUDIO_PROCESSING_ERROR', 'AI_SERVICE_ERROR', 'TIMEOUT_ERROR', 'STORAGE_ERROR', 'UNKNOWN_ERROR']);

/**
 * The error a run that exceeds `JOB_TIMEOUT_SECONDS` fails with. Not retryable: the pipeline is
 * deterministic for a given input and seed and typically needs seconds, so a run that takes minutes is
 * pathological for that input and would most likely time out again, holding a worker slot each time.
 */
export function jobTimeoutError(seconds: number): AppError {
  return new AppError('TIMEOUT_ERROR', `The conversion took longer than ${seconds} s and was stopped.`, { reason: 'JOB_TIMEOUT', retryable: false });
}

/** Why a run was aborted from outside the pipeline. */
const CANCELLED = 'CANCELLED';
const SHUTDOWN = 'WORKER_SHUTDOWN';

/**
 * Any thrown value as an error of the model: AppErrors keep their code (ABORTED, which only our own
 * aborts should produce, becomes UNKNOWN_ERROR); anything else is UNKNOWN_ERROR, not retryable, with a
 * generic message (the details go to the log, never to users).
 */
export function toJobError(error: unknown): AppError {
  if (error instanceof AppError && ERROR_MODEL.has(error.code)) return error;
  return new AppError('UNKNOWN_ERROR', 'The conversion failed unexpectedly.', { reason: error instanceof AppError ? error.reason : 'UNKNOWN_ERROR', retryable: false, cause: error });
}

function errorData(error: AppError): ErrorData {
  return { code: error.code, message: error.message, retryable: error.retryable };
}

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The row's result, quality and warnings from the thread's outputs. */
function resultOf(outputs: ThreadOutputs, files: ResultData['files']): { result: ResultData; quality: QualityData; warnings: WarningData[] } {
  const { report } = outputs;
  return {
    result: {
      files,
      compressedFormat: outputs.vocalsCompressed.format,
      lyrics: report.lyrics.text,
      melody: {
        noteCount: report.melody.noteCount,
        phraseCount: report.melody.phraseCount,
        key: report.melody.key?.label ?? null,
        tempoBpm: finiteOrNull(report.melody.tempo?.bpm),
        durationSeconds: report.melody.durationSeconds,
      },
      lyricsInfo: {
        lineCount: report.lyrics.lineCount,
        syllableCount: report.lyrics.syllableCount,
        genre: report.lyrics.genre,
        mood: report.lyrics.mood,
        qualityScore: report.lyrics.qualityScore,
        source: report.lyrics.source,
      },
    },
    quality: {
      pitchAccuracy: finiteOrNull(report.quality.pitchAccuracy),
      lyricsQuality: report.lyrics.qualityScore,
      integratedLufs: finiteOrNull(report.quality.integratedLufs),
      truePeakDbtp: finiteOrNull(report.quality.truePeakDbtp),
    },
    warnings: report.warnings.map((w) => ({ code: w.code, message: w.message, stage: STAGE_NAMES[w.stage] })),
  };
}

/** The pipeline request stored in the row (the seed column is a bigint, which the driver may hand back as a string). */
function requestOf(conversion: Conversion): ThreadRequest {
  return {
    fileName: conversion.input?.fileName,
    prompt: conversion.prompt,
    genre: conversion.genre,
    mood: conversion.mood,
    lyrics: conversion.lyrics,
    voice: conversion.voice,
    seed: conversion.seed === null || conversion.seed === undefined ? null : Number(conversion.seed),
  } satisfies Omit<ConvertRequest, 'audio'>;
}

/** Creates the job handler. */
export function createConversionProcessor(deps: ConversionProcessorDeps): ConversionProcessor {
  const { config, orm, storage, pubsub } = deps;
  const runPipeline = deps.runPipeline ?? runInThread;
  const writeInterval = deps.progressWriteIntervalMs ?? 250;
  const active = new Map<string, AbortController>();

  const publish = (payload: ProgressPayload): Promise<void> => pubsub.publish(topicChannel(config.redisPrefix, Topic.CONVERSION_PROGRESS, payload.conversionId), payload);

  async function deleteOutputs(conversionId: string): Promise<void> {
    await Promise.all(OUTPUT_NAMES.map((name) => storage.delete(storageKeys.output(conversionId, name))));
  }

  /** {@link processJob} inside the job's span, with its metrics (job-telemetry.ts). */
  function process(job: ConversionJob): Promise<ConversionOutcome> {
    return withJobTelemetry(deps.metrics, job, async (telemetry) => {
      try {
        const outcome = await processJob(job, telemetry);
        telemetry.end({ outcome: outcome.status });
        return outcome;
      } catch (error) {
        const retrying = error instanceof AppError && (error.reason === SHUTDOWN || (error.retryable && Number(job.options.retries ?? 0) > 0));
        telemetry.end({ error, retrying });
        throw error;
      }
    });
  }

  async function processJob(job: ConversionJob, telemetry: JobTelemetry): Promise<ConversionOutcome> {
    const conversionId = job.data.conversionId;
    const log = deps.logger.child({ conversionId, jobId: job.id });
    const em = orm.em.fork() as EntityManager;
    const conversion = await em.findOne(Conversion, { id: conversionId }, { populate: [] });
    if (!conversion) {
      log.warn('Job for a conversion that does not exist; skipped');
      return { conversionId, status: 'SKIPPED' };
    }
    if (conversion.status === ConversionStatus.COMPLETED) return { conversionId, status: 'COMPLETED', alreadyDone: true };
    if (conversion.status === ConversionStatus.CANCELLED || conversion.status === ConversionStatus.FAILED) {
      log.info(`Job for a ${conversion.status} conversion; skipped`);
      return { conversionId, status: 'SKIPPED' };
    }
    const userId = conversion.user.id;
    if (active.has(conversionId)) {
      // The same conversion twice in this process (a stalled job re-delivered while it still runs).
      log.warn('Conversion already running in this worker; duplicate job skipped');
      return { conversionId, status: 'SKIPPED' };
    }

    const controller = new AbortController();
    active.set(conversionId, controller);
    let cancelSub: number | null = null;
    let timer: NodeJS.Timeout | null = null;
    const startedMs = Date.now();
    const startedAt = new Date(startedMs);

    // Progress: published on every event, written to the row throttled, in order.
    let stage: StageName = 'VALIDATION';
    let progress = 0;
    const stageTimestamps: StageTimestamps = { VALIDATION: { startedAt: startedAt.toISOString() } };
    let lastWriteMs = 0;
    let trailingWrite: NodeJS.Timeout | null = null;
    let writes: Promise<unknown> = Promise.resolve();
    let publishes: Promise<unknown> = Promise.resolve();
    const queuePublish = (payload: ProgressPayload): void => {
      publishes = publishes.then(() => publish(payload)).catch((error: Error) => log.warn('Could not publish progress', { error: error.message }));
    };
    const writeProgress = (): void => {
      if (trailingWrite) clearTimeout(trailingWrite);
      trailingWrite = null;
      lastWriteMs = Date.now();
      const data = { stage, progress, stageTimestamps: structuredClone(stageTimestamps), updatedAt: new Date() };
      writes = writes
        .then(() => em.nativeUpdate(Conversion, { id: conversionId, status: ConversionStatus.PROCESSING }, data))
        .catch((error: Error) => log.warn('Could not write progress', { error: error.message }));
    };
    const onProgress = (event: ProgressEvent): void => {
      const at = new Date().toISOString();
      const next = STAGE_NAMES[event.stage];
      const changed = next !== stage;
      if (changed) {
        const previous = stageTimestamps[stage];
        if (previous) previous.finishedAt = at;
        stageTimestamps[next] = { startedAt: at };
        stage = next;
        telemetry.stage(next);
      }
      progress = Math.max(progress, Math.round(event.percent));
      queuePublish({ conversionId, userId, status: 'PROCESSING', stage, progress, message: event.message, at, final: false, error: null });
      if (changed || Date.now() - lastWriteMs >= writeInterval) writeProgress();
      else trailingWrite ??= setTimeout(writeProgress, writeInterval - (Date.now() - lastWriteMs));
    };
    const settleProgress = async (): Promise<void> => {
      if (trailingWrite) clearTimeout(trailingWrite);
      trailingWrite = null;
      await writes;
      await publishes;
    };

    try {
      // Listen for cancels before claiming the row, so one published in between is not missed.
      cancelSub = await pubsub.subscribe(topicChannel(config.redisPrefix, Topic.CONVERSION_CANCEL, conversionId), () => {
        if (!controller.signal.aborted) controller.abort(CANCELLED);
      });
      const claimed = await em.nativeUpdate(
        Conversion,
        { id: conversionId, status: { $in: [ConversionStatus.PENDING, ConversionStatus.PROCESSING] } },
        { status: ConversionStatus.PROCESSING, stage, progress: 0, stageTimestamps, startedAt, completedAt: null, error: null, updatedAt: startedAt },
      );
      if (claimed === 0) {
        log.info('Conversion was cancelled before it started; skipped');
        return { conversionId, status: 'SKIPPED' };
      }
      lastWriteMs = Date.now();
      telemetry.stage(stage);
      queuePublish({ conversionId, userId, status: 'PROCESSING', stage, progress: 0, message: 'Processing started', at: startedAt.toISOString(), final: false, error: null });
      timer = setTimeout(() => controller.abort(jobTimeoutError(config.jobTimeoutSeconds)), config.jobTimeoutSeconds * 1000);

      const audio = await storage.read(conversion.inputKey);
      throwIfStopped(controller.signal);
      const outputs = await runPipeline(audio, requestOf(conversion), deps.pipelineOptions ?? {}, { signal: controller.signal, onProgress });
      throwIfStopped(controller.signal);

      const files: ResultData['files'] = {
        vocalsWav: storageKeys.output(conversionId, 'vocals.wav'),
        vocalsCompressed: storageKeys.output(conversionId, `vocals.${outputs.vocalsCompressed.extension}`),
        midi: storageKeys.output(conversionId, 'score.mid'),
        musicXml: storageKeys.output(conversionId, 'score.musicxml'),
        report: storageKeys.output(conversionId, 'report.json'),
      };
      await storage.write(files.vocalsWav, outputs.vocalsWav);
      await storage.write(files.vocalsCompressed, outputs.vocalsCompressed.bytes);
      await storage.write(files.midi, outputs.midi);
      await storage.write(files.musicXml, new TextEncoder().encode(outputs.musicXml));
      await storage.write(files.report, new TextEncoder().encode(`${JSON.stringify(outputs.report, null, 2)}\n`));
      throwIfStopped(controller.signal);

      await settleProgress();
      const completedAt = new Date();
      const finishedAt = completedAt.toISOString();
      const current = stageTimestamps[stage];
      if (current) current.finishedAt = finishedAt;
      const { result, quality, warnings } = resultOf(outputs, files);
      const processingMs = completedAt.getTime() - startedMs;
      const completed = await em.nativeUpdate(
        Conversion,
        { id: conversionId, status: ConversionStatus.PROCESSING },
        { status: ConversionStatus.COMPLETED, stage: 'FINALIZATION', progress: 100, stageTimestamps, result, quality, warnings, error: null, processingMs, completedAt, updatedAt: completedAt },
      );
      if (completed === 0) {
        // Cancelled between the pipeline's end and now: the cancel stands, the outputs go.
        await storage.deletePrefix(storageKeys.dir(conversionId));
        log.info('Conversion cancelled while its outputs were written; outputs removed');
        return { conversionId, status: 'CANCELLED' };
      }
      await publish({ conversionId, userId, status: 'COMPLETED', stage: 'FINALIZATION', progress: 100, message: 'Done', at: finishedAt, final: true, error: null });
      log.info('Conversion completed', { processingMs });
      return { conversionId, status: 'COMPLETED' };
    } catch (thrown) {
      if (timer) clearTimeout(timer);
      await settleProgress();
      const why = controller.signal.aborted ? controller.signal.reason : null;
      if (why === CANCELLED) return await endCancelled(em, conversionId, userId, log);
      if (why === SHUTDOWN) {
        await deleteOutputs(conversionId);
        await em.nativeUpdate(Conversion, { id: conversionId, status: ConversionStatus.PROCESSING }, { status: ConversionStatus.PENDING, stage: null, progress: 0, updatedAt: new Date() });
        await publish({ conversionId, userId, status: 'PENDING', stage: null, progress: 0, message: 'The worker stopped; the conversion will resume on another worker', at: new Date().toISOString(), final: false, error: null }).catch(() => undefined);
        throw new AppError('ABORTED', 'The worker shut down during the conversion.', { reason: SHUTDOWN, retryable: true, cause: thrown });
      }
      const error = toJobError(why instanceof AppError ? why : thrown);
      if (error.code === 'UNKNOWN_ERROR') log.error('Conversion failed unexpectedly', { error: thrown instanceof Error ? thrown.stack ?? thrown.message : String(thrown) });
      const retriesLeft = Number(job.options.retries ?? 0);
      await deleteOutputs(conversionId);
      if (error.retryable && retriesLeft > 0) {
        const delayMs = job.options.backoff?.delay ?? 0;
        const message = `Retrying in ${Math.round(delayMs / 100) / 10} s after ${error.code}: ${error.message}`;
        const reset = await em.nativeUpdate(
          Conversion,
          { id: conversionId, status: ConversionStatus.PROCESSING },
          { status: ConversionStatus.PENDING, stage: null, progress: 0, retryCount: conversion.retryCount + 1, error: errorData(error), updatedAt: new Date() },
        );
        if (reset === 0) return await endCancelled(em, conversionId, userId, log);
        await publish({ conversionId, userId, status: 'PENDING', stage: null, progress: 0, message, at: new Date().toISOString(), final: false, error: errorData(error) });
        log.warn('Conversion failed; will retry', { code: error.code, reason: error.reason, retriesLeft, delayMs });
        throw error;
      }
      const completedAt = new Date();
      const failed = await em.nativeUpdate(
        Conversion,
        { id: conversionId, status: ConversionStatus.PROCESSING },
        { status: ConversionStatus.FAILED, error: errorData(error), stageTimestamps, processingMs: completedAt.getTime() - startedMs, completedAt, updatedAt: completedAt },
      );
      if (failed === 0) return await endCancelled(em, conversionId, userId, log);
      // A failure the user did not cause gives their quota unit back (once; see quota.service.ts).
      if (error.code !== 'VALIDATION_ERROR') {
        await new QuotaRepository(em)
          .refundConversion(conversionId)
          .catch((refundError: Error) => log.warn('Could not give the quota unit back', { error: refundError.message }));
      }
      await publish({ conversionId, userId, status: 'FAILED', stage, progress, message: error.message, at: completedAt.toISOString(), final: true, error: errorData(error) });
      log.warn('Conversion failed', { code: error.code, reason: error.reason, retryable: error.retryable });
      // Tell Bee-Queue not to retry: the failure is final whatever retries the job had left.
      job.options.retries = 0;
      throw error;
    } finally {
      if (timer) clearTimeout(timer);
      if (trailingWrite) clearTimeout(trailingWrite);
      if (cancelSub !== null) pubsub.unsubscribe(cancelSub);
      active.delete(conversionId);
    }
  }

  /**
   * The run was cancelled: all the conversion's files go (the cancel mutation removes them too; doing
   * it here as well covers outputs written after it did). The row becomes CANCELLED if the mutation has
   * not made it so already; the final event is published by whoever made that change.
   */
  async function endCancelled(em: EntityManager, conversionId: string, userId: string, log: Logger): Promise<ConversionOutcome> {
    await storage.deletePrefix(storageKeys.dir(conversionId));
    const at = new Date();
    const changed = await em.nativeUpdate(
      Conversion,
      { id: conversionId, status: { $in: [ConversionStatus.PENDING, ConversionStatus.PROCESSING] } },
      { status: ConversionStatus.CANCELLED, error: CANCELLED_ERROR, completedAt: at, updatedAt: at },
    );
    if (changed > 0) {
      await publish({ conversionId, userId, status: 'CANCELLED', stage: null, progress: 0, message: CANCELLED_MESSAGE, at: at.toISOString(), final: true, error: { ...CANCELLED_ERROR } });
    }
    log.info('Conversion cancelled during processing');
    return { conversionId, status: 'CANCELLED' };
  }

  return {
    process,
    running: () => active.size,
    abortAll() {
      for (const controller of active.values()) if (!controller.signal.aborted) controller.abort(SHUTDOWN);
    },
  };
}

/** Throws the signal's reason (as an error) when it is aborted; used between the run's I/O steps. */
function throwIfStopped(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof AppError ? reason : new AppError('ABORTED', 'The conversion was stopped.', { reason: String(reason) });
}
