/**
 * The conversion job handler: the only I/O shell around the pipeline for jobs. One call handles one
 * Bee-Queue job on its own `em.fork()`, as one *attempt* with a fresh `attemptId` (uuid):
 *
 * 1. Load the row. Missing, CANCELLED or FAILED → nothing to do; COMPLETED → the existing result
 *    (running a job twice gives one result).
 * 2. Listen on {@link Topic.CONVERSION_CANCEL}, then **claim** the row in one conditional statement:
 *    PENDING or PROCESSING → PROCESSING with `attempt_id` = this attempt. A row found PROCESSING under
 *    another attempt means that attempt lost its worker (crash, kill -9, a stalled lock): `stall_count`
 *    goes up in the same statement, the lost attempt's files are deleted, and past `JOB_MAX_STALLS`
 *    the conversion ends FAILED (AUDIO_PROCESSING_ERROR, reason WORKER_LOST, not retried) with the
 *    quota unit given back.
 * 3. Every later write of the attempt (progress, completion, failure, reset to PENDING, cancel) is
 *    conditional on `attempt_id` = this attempt. A write that changes nothing means the row was
 *    cancelled (→ CANCELLED, all files removed) or taken by a newer attempt (→ this run is
 *    *superseded*: it aborts its pipeline, deletes only its own files, publishes no final event and
 *    resolves the job, so the queue does not run it a third time).
 * 4. Read the upload. Duplicate detection (src/worker/result-cache.ts): when the same bytes with the
 *    same options were converted before and that conversion is still COMPLETED with its files, the
 *    files are copied and the row completed from it (`reused_from`) without running the pipeline.
 *    Otherwise run the pipeline in a worker thread (`deps.runPipeline`), publishing progress on
 *    {@link Topic.CONVERSION_PROGRESS} and writing it to the row on every stage change and at most
 *    every 250 ms otherwise, and remember the result in the cache once completed.
 * 5. Outputs go under `conversions/<id>/<attemptId>/`, so two attempts never overwrite or delete each
 *    other's files; the row's `result.files` names them (the files route serves any stored key).
 *
 * Failures become the error model in one place ({@link toJobError}, src/platform/errors.ts):
 *
 * | failure                                                        | code                   | reason                    | retryable |
 * | -------------------------------------------------------------- | ---------------------- | ------------------------- | --------- |
 * | input rejected by the pipeline's checks                        | VALIDATION_ERROR       | the check's code          | no        |
 * | decoder/pipeline failure, pipeline thread crash                | AUDIO_PROCESSING_ERROR | as raised                 | as raised |
 * | the job lost its worker more than `JOB_MAX_STALLS` times       | AUDIO_PROCESSING_ERROR | WORKER_LOST               | no        |
 * | remote provider failure without fallback                       | AI_SERVICE_ERROR       | as raised by the provider | as raised |
 * | run longer than `JOB_TIMEOUT_SECONDS`                          | TIMEOUT_ERROR          | JOB_TIMEOUT               | no        |
 * | any other operation timing out (`TimeoutError`)                | TIMEOUT_ERROR          | OPERATION_TIMEOUT         | yes       |
 * | storage ENOSPC, EDQUOT                                         | STORAGE_ERROR          | STORAGE_FULL              | yes       |
 * | storage EIO, EMFILE, ENFILE, EBUSY, EAGAIN                     | STORAGE_ERROR          | STORAGE_IO                | yes       |
 * | storage EACCES, EPERM, EROFS (our own directory)               | STORAGE_ERROR          | STORAGE_PERMISSION        | no        |
 * | input file missing from storage                                | STORAGE_ERROR          | NOT_FOUND                 | no        |
 * | PostgreSQL unreachable (ECONNREFUSED…, SQLSTATE 08xxx, 57P01–03, 53300, "Connection terminated", database not accepting connections) | STORAGE_ERROR | DATABASE_UNAVAILABLE | yes |
 * | Redis unreachable (MaxRetriesPerRequestError, "Connection is closed") | STORAGE_ERROR   | REDIS_UNAVAILABLE         | yes       |
 * | anything else (a bug)                                          | UNKNOWN_ERROR          | UNKNOWN_ERROR             | no        |
 *
 * Only retryable errors are retried by the queue (a non-retryable one sets the job's retries to 0).
 * A retryable failure with retries left puts the row back to PENDING (retryCount + 1, the error kept
 * as the reason) and Bee-Queue retries it with exponential backoff; a final failure marks the row
 * FAILED, removes the attempt's outputs, gives the quota unit back unless the input was at fault
 * (VALIDATION_ERROR), publishes the final event and fails the job. A cancelled run ends CANCELLED with
 * all its files removed.
 *
 * Database unavailable: whether the attempt's last write landed is unknown, so its files are kept and
 * the job records `releasedAttemptId` in its data (saved by Bee-Queue with the retry). The retry then
 * finishes what the attempt left: a row COMPLETED or FAILED by it gets its final event (and refund);
 * a row still PROCESSING under it is claimed without counting a stall and the attempt's files are
 * replaced. Rows whose job is gone altogether are repaired by the reconciler.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ConvertRequest, ConversionStage, ProgressEvent } from '../audio/pipeline.js';
import { readMelodyFile } from '../audio/score/melody-file.js';
import type { Config } from '../platform/config.js';
import { AppError } from '../audio/errors.js';
import { DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE, isDatabaseUnavailable, toErrorModel } from './infrastructure-errors.js';
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
import { createResultCache, resultCacheKey, type ResultCache, type ResultCacheOptions } from './result-cache.js';
import type { ThreadOutputs, ThreadPipelineOptions, ThreadRequest } from './thread-protocol.js';

/** The pub/sub operations the processor needs (graphql-redis-subscriptions' RedisPubSub has them). */
export interface JobPubSub {
  publish(trigger: string, payload: unknown): Promise<void>;
  subscribe(trigger: string, onMessage: (message: unknown) => void): Promise<number>;
  unsubscribe(subId: number): void;
}

/** What the processor keeps in a job's data between its runs (Bee-Queue saves the data with a retry). */
export interface AttemptJobData extends ConversionJobData {
  /**
   * The attempt that handed the job back while the database was unreachable, so the outcome of its
   * last write is unknown; the next run finishes what it left and does not count it as a stall.
   */
  releasedAttemptId?: string;
}

/** The part of a Bee-Queue job the processor reads (and, to stop retries or release an attempt, writes). */
export interface ConversionJob {
  id: string;
  data: AttemptJobData;
  /** Bee-Queue's job options: `retries` left and the `backoff` (its `delay` is the next wait, ms). */
  options: { retries?: number; backoff?: { strategy?: string; delay?: number } };
}

/** How a job ended, as far as the row is concerned. */
export interface ConversionOutcome {
  conversionId: string;
  /**
   * `SKIPPED`: the row was missing, cancelled or failed before the job ran. `SUPERSEDED`: a newer
   * attempt (another worker, after this one stalled) holds the row; this run stopped quietly.
   */
  status: 'COMPLETED' | 'CANCELLED' | 'SKIPPED' | 'SUPERSEDED';
  /** True when the row was already COMPLETED and nothing ran. */
  alreadyDone?: boolean;
  /** The conversion whose result was reused (duplicate detection), when one was. */
  reusedFrom?: string;
}

export interface ConversionProcessorDeps {
  config: Pick<Config, 'redisPrefix' | 'jobTimeoutSeconds' | 'jobMaxStalls' | 'resultCacheTtlSeconds' | 'llmApiUrl' | 'llmModel' | 'expertMusicAiUrl'>;
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
  /** The Redis connection of the default result cache (`services.redis`); no duplicate detection without it or `resultCache`. */
  redis?: ResultCacheOptions['redis'];
  /** The result cache (duplicate detection); default one on `redis` with `RESULT_CACHE_TTL_SECONDS`. */
  resultCache?: ResultCache | null;
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

/** Storage keys of one attempt's outputs: `conversions/<id>/<attemptId>/<name>`. */
export const attemptKeys = {
  dir: (conversionId: string, attemptId: string) => `${storageKeys.dir(conversionId)}/${attemptId}`,
  output: (conversionId: string, attemptId: string, name: string) => `${storageKeys.dir(conversionId)}/${attemptId}/${name}`,
};

/**
 * The error a run that exceeds `JOB_TIMEOUT_SECONDS` fails with. Not retryable: the pipeline is
 * deterministic for a given input and seed and typically needs seconds, so a run that takes minutes is
 * pathological for that input and would most likely time out again, holding a worker slot each time.
 */
export function jobTimeoutError(seconds: number): AppError {
  return new AppError('TIMEOUT_ERROR', `The conversion took longer than ${seconds} s and was stopped.`, { reason: 'JOB_TIMEOUT', retryable: false });
}

/**
 * The error a conversion ends with when its job lost its worker more than `JOB_MAX_STALLS` times.
 * Not retryable: a job that keeps killing workers (memory, a native crash) would otherwise loop.
 */
export function workerLostError(stalls: number): AppError {
  return new AppError('AUDIO_PROCESSING_ERROR', `The conversion stopped its worker ${stalls} times (a crash or a kill) and was given up.`, { reason: 'WORKER_LOST', retryable: false });
}

/** Why a run was aborted from outside the pipeline. */
const CANCELLED = 'CANCELLED';
const SHUTDOWN = 'WORKER_SHUTDOWN';
/** A newer attempt holds the row. */
const SUPERSEDED = 'SUPERSEDED';

/**
 * Any thrown value as an error of the model (see the table above; the mapping is
 * {@link toErrorModel} in src/platform/errors.ts).
 */
export function toJobError(error: unknown): AppError {
  return toErrorModel(error);
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

/** The row's status and holder as they are in the database now (never the identity map's copy). */
async function readState(em: EntityManager, conversionId: string): Promise<{ status: ConversionStatus; attemptId: string | null } | null> {
  const rows = await em.getConnection().execute<{ status: ConversionStatus; attempt_id: string | null }[]>('select "status", "attempt_id" from "conversions" where "id" = ?', [conversionId]);
  return rows[0] ? { status: rows[0].status, attemptId: rows[0].attempt_id } : null;
}

/** `report.json` bytes with `input.fileName` set to this conversion's upload name (a reused report names another upload). */
function reportFor(bytes: Uint8Array, fileName: string | null): Uint8Array {
  try {
    const report = JSON.parse(new TextDecoder().decode(bytes)) as { input?: { fileName?: string | null } };
    if (report.input && typeof report.input === 'object') report.input.fileName = fileName;
    return new TextEncoder().encode(`${JSON.stringify(report, null, 2)}\n`);
  } catch {
    return bytes;
  }
}

/** True for warnings that say a remote provider failed and the embedded engine stood in: such results are not remembered. */
function isDegraded(warnings: WarningData[]): boolean {
  return warnings.some((warning) => /FALLBACK/i.test(warning.code));
}

/** The row's data for a completed attempt. */
interface Completion {
  result: ResultData;
  quality: QualityData | null;
  warnings: WarningData[];
  reusedFrom: string | null;
}

/** Creates the job handler. */
export function createConversionProcessor(deps: ConversionProcessorDeps): ConversionProcessor {
  const { config, orm, storage, pubsub } = deps;
  const runPipeline = deps.runPipeline ?? runInThread;
  const writeInterval = deps.progressWriteIntervalMs ?? 250;
  const cache: ResultCache | null =
    deps.resultCache !== undefined
      ? deps.resultCache
      : deps.redis
        ? createResultCache({ redis: deps.redis, prefix: config.redisPrefix, ttlSeconds: config.resultCacheTtlSeconds, logger: deps.logger.child({ component: 'result-cache' }) })
        : null;
  const active = new Map<string, AbortController>();

  const publish = (payload: ProgressPayload): Promise<void> => pubsub.publish(topicChannel(config.redisPrefix, Topic.CONVERSION_PROGRESS, payload.conversionId), payload);
  /** Publishes an event whose loss must not undo what the row already says (logged instead). */
  const publishFinal = (payload: ProgressPayload, log: Logger): Promise<void> =>
    publish(payload).catch((error: Error) => {
      log.warn('Could not publish the final event', { status: payload.status, error: error.message });
    });

  /** {@link processJob} inside the job's span, with its metrics (job-telemetry.ts). */
  function process(job: ConversionJob): Promise<ConversionOutcome> {
    return withJobTelemetry(deps.metrics, job, async (telemetry) => {
      try {
        const outcome = await processJob(job, telemetry);
        telemetry.end({ outcome: outcome.status });
        return outcome;
      } catch (thrown) {
        const error = thrown instanceof AppError && thrown.reason === SHUTDOWN ? thrown : toJobError(thrown);
        // Only retryable failures are retried by the queue.
        if (!error.retryable) job.options.retries = 0;
        const retrying = error.reason === SHUTDOWN || (error.retryable && Number(job.options.retries ?? 0) > 0);
        if (error.reason === DATABASE_UNAVAILABLE || error.reason === REDIS_UNAVAILABLE) {
          deps.logger.warn(`${error.reason === DATABASE_UNAVAILABLE ? 'Database' : 'Redis'} unavailable; the job is handed back to the queue`, {
            conversionId: job.data.conversionId,
            jobId: job.id,
            retriesLeft: Number(job.options.retries ?? 0),
          });
        }
        telemetry.end({ error, retrying });
        throw error;
      }
    });
  }

  async function processJob(job: ConversionJob, telemetry: JobTelemetry): Promise<ConversionOutcome> {
    const conversionId = job.data.conversionId;
    const attemptId = randomUUID();
    const log = deps.logger.child({ conversionId, jobId: job.id, attemptId });
    const em = orm.em.fork() as EntityManager;
    const conversion = await em.findOne(Conversion, { id: conversionId }, { populate: [] });
    if (!conversion) {
      log.warn('Job for a conversion that does not exist; skipped');
      return { conversionId, status: 'SKIPPED' };
    }
    const userId = conversion.user.id;
    const released = job.data.releasedAttemptId ?? null;
    if (conversion.status === ConversionStatus.COMPLETED || conversion.status === ConversionStatus.FAILED) {
      // An attempt that lost the database while ending may have ended the row without telling anyone.
      if (released !== null && conversion.attemptId === released) await finishReleased(em, conversion, log);
      if (conversion.status === ConversionStatus.COMPLETED) return { conversionId, status: 'COMPLETED', alreadyDone: true };
      log.info('Job for a FAILED conversion; skipped');
      return { conversionId, status: 'SKIPPED' };
    }
    if (conversion.status === ConversionStatus.CANCELLED) {
      log.info('Job for a CANCELLED conversion; skipped');
      return { conversionId, status: 'SKIPPED' };
    }
    if (active.has(conversionId)) {
      // The same conversion twice in this process (a stalled job re-delivered while it still runs).
      log.warn('Conversion already running in this worker; duplicate job skipped');
      return { conversionId, status: 'SKIPPED' };
    }

    const controller = new AbortController();
    active.set(conversionId, controller);
    let claimed = false;
    let cancelSub: number | null = null;
    let timer: NodeJS.Timeout | null = null;
    const startedMs = Date.now();
    const startedAt = new Date(startedMs);
    const superseded = () => controller.signal.aborted && controller.signal.reason === SUPERSEDED;
    const deleteOwnFiles = () =>
      storage.deletePrefix(attemptKeys.dir(conversionId, attemptId)).catch((error: Error) => log.warn("Could not delete the attempt's files", { error: error.message }));

    // Progress: published on every event, written to the row throttled, in order.
    let stage: StageName = 'VALIDATION';
    let progress = 0;
    const stageTimestamps: StageTimestamps = { VALIDATION: { startedAt: startedAt.toISOString() } };
    let lastWriteMs = 0;
    let trailingWrite: NodeJS.Timeout | null = null;
    let writes: Promise<unknown> = Promise.resolve();
    let publishes: Promise<unknown> = Promise.resolve();
    const queuePublish = (payload: ProgressPayload): void => {
      publishes = publishes
        .then(() => (superseded() ? undefined : publish(payload)))
        .catch((error: Error) => log.warn('Could not publish progress', { error: error.message }));
    };
    /** A conditional write changed nothing: find out whether the row was cancelled or taken over, and stop. */
    const checkClaim = async (): Promise<void> => {
      if (controller.signal.aborted) return;
      const state = await readState(em, conversionId);
      if (!state || state.attemptId !== attemptId) controller.abort(SUPERSEDED);
      else if (state.status === ConversionStatus.CANCELLED) controller.abort(CANCELLED);
    };
    const writeProgress = (): void => {
      if (trailingWrite) clearTimeout(trailingWrite);
      trailingWrite = null;
      lastWriteMs = Date.now();
      const data = { stage, progress, stageTimestamps: structuredClone(stageTimestamps), updatedAt: new Date() };
      writes = writes
        .then(async () => {
          if (controller.signal.aborted) return;
          const written = await em.nativeUpdate(Conversion, { id: conversionId, status: ConversionStatus.PROCESSING, attemptId }, data);
          if (written === 0) await checkClaim();
        })
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
    /** The attempt hands the job back with the database unreachable: the retry finishes what it left. */
    const release = (cause: unknown): AppError => {
      job.data.releasedAttemptId = attemptId;
      return toJobError(cause);
    };

    try {
      // Listen for cancels before claiming the row, so one published in between is not missed.
      try {
        cancelSub = await pubsub.subscribe(topicChannel(config.redisPrefix, Topic.CONVERSION_CANCEL, conversionId), () => {
          if (!controller.signal.aborted) controller.abort(CANCELLED);
        });
      } catch (error) {
        throw new AppError('STORAGE_ERROR', 'Redis was unavailable; the conversion will be retried.', { reason: REDIS_UNAVAILABLE, retryable: true, cause: error });
      }
      const claim = await claimRow(em, conversionId, attemptId, released, stage, stageTimestamps, startedAt).catch((error: unknown) => {
        // The claim may have landed before the connection broke: the retry must not count it as a stall.
        throw release(error);
      });
      if (!claim) {
        log.info('Conversion was cancelled before it started; skipped');
        return { conversionId, status: 'SKIPPED' };
      }
      claimed = true;
      log.info('Conversion claimed', { previousStatus: claim.previousStatus, stallCount: claim.stallCount });
      if (claim.previousAttempt !== null && claim.previousAttempt !== attemptId) {
        // The previous attempt can no longer write the row; whatever files it left are orphans now.
        await storage
          .deletePrefix(attemptKeys.dir(conversionId, claim.previousAttempt))
          .catch((error: Error) => log.warn("Could not delete a previous attempt's files", { error: error.message }));
      }
      lastWriteMs = Date.now();
      telemetry.stage(stage);
      if (claim.stalled) log.warn('Conversion resumed after its worker was lost', { stallCount: claim.stallCount, maxStalls: config.jobMaxStalls });
      if (claim.stallCount > config.jobMaxStalls) throw workerLostError(claim.stallCount);
      queuePublish({ conversionId, userId, status: 'PROCESSING', stage, progress: 0, message: 'Processing started', at: startedAt.toISOString(), final: false, error: null });
      timer = setTimeout(() => controller.abort(jobTimeoutError(config.jobTimeoutSeconds)), config.jobTimeoutSeconds * 1000);

      const audio = await storage.read(conversion.inputKey);
      // The melody file the request gave (checked by the API with the same reader); a missing file is a STORAGE_ERROR like a missing input.
      const melodyBytes = conversion.input?.melody ? await storage.read(storageKeys.melody(conversionId)) : null;
      throwIfStopped(controller.signal);
      const request: ThreadRequest = { ...requestOf(conversion), melody: melodyBytes ? readMelodyFile(melodyBytes) : null };
      const pipelineOptions = deps.pipelineOptions ?? {};
      // Hashed before the pipeline runs: the bytes are transferred to its thread.
      const cacheKey = cache?.enabled ? resultCacheKey(userId, audio, request, pipelineOptions, config, melodyBytes) : null;
      let completion: Completion | null = null;
      if (cacheKey !== null && cache) {
        const sourceId = await cache.lookup(cacheKey);
        completion = sourceId !== null && sourceId !== conversionId ? await reuse(em, sourceId, conversion, attemptId, log) : null;
        deps.metrics?.[completion ? 'cacheHits' : 'cacheMisses'].inc({ cache: 'result' });
        if (!completion && sourceId !== null) await cache.forget(cacheKey, sourceId);
        throwIfStopped(controller.signal);
        if (completion) {
          stage = 'FINALIZATION';
          const at = new Date().toISOString();
          const first = stageTimestamps.VALIDATION;
          if (first) first.finishedAt = at;
          stageTimestamps.FINALIZATION = { startedAt: at };
          telemetry.stage(stage);
          queuePublish({ conversionId, userId, status: 'PROCESSING', stage, progress: 90, message: 'Reused the result of an identical conversion', at, final: false, error: null });
        }
      }
      if (!completion) {
        const outputs = await runPipeline(audio, request, pipelineOptions, { signal: controller.signal, onProgress });
        throwIfStopped(controller.signal);
        const files: ResultData['files'] = {
          vocalsWav: attemptKeys.output(conversionId, attemptId, 'vocals.wav'),
          vocalsCompressed: attemptKeys.output(conversionId, attemptId, `vocals.${outputs.vocalsCompressed.extension}`),
          midi: attemptKeys.output(conversionId, attemptId, 'score.mid'),
          musicXml: attemptKeys.output(conversionId, attemptId, 'score.musicxml'),
          report: attemptKeys.output(conversionId, attemptId, 'report.json'),
        };
        await storage.write(files.vocalsWav, outputs.vocalsWav);
        await storage.write(files.vocalsCompressed, outputs.vocalsCompressed.bytes);
        await storage.write(files.midi, outputs.midi);
        await storage.write(files.musicXml, new TextEncoder().encode(outputs.musicXml));
        await storage.write(files.report, new TextEncoder().encode(`${JSON.stringify(outputs.report, null, 2)}\n`));
        completion = { ...resultOf(outputs, files), reusedFrom: null };
      }
      throwIfStopped(controller.signal);

      await settleProgress();
      throwIfStopped(controller.signal);
      const completedAt = new Date();
      const finishedAt = completedAt.toISOString();
      const current = stageTimestamps[stage];
      if (current) current.finishedAt = finishedAt;
      const processingMs = completedAt.getTime() - startedMs;
      const completed = await em.nativeUpdate(
        Conversion,
        { id: conversionId, status: ConversionStatus.PROCESSING, attemptId },
        {
          status: ConversionStatus.COMPLETED,
          stage: 'FINALIZATION',
          progress: 100,
          stageTimestamps,
          result: completion.result,
          quality: completion.quality,
          warnings: completion.warnings,
          reusedFrom: completion.reusedFrom,
          error: null,
          processingMs,
          completedAt,
          updatedAt: completedAt,
        },
      );
      if (completed === 0) return await afterLostWrite(em, conversionId, attemptId, userId, log);
      // The upload is no longer needed once the conversion is COMPLETED (nothing re-runs a completed
      // conversion; reuse copies outputs, not inputs): keep users' recordings no longer than that, and
      // delete it before the final event, so whoever sees "completed" sees it gone. A failed
      // conversion keeps its input while it can be re-queued.
      await storage.delete(conversion.inputKey).catch((error: Error) => log.warn('Could not delete the upload of a completed conversion', { error: error.message }));
      if (conversion.input?.melody) await storage.delete(storageKeys.melody(conversionId)).catch((error: Error) => log.warn('Could not delete the melody file of a completed conversion', { error: error.message }));
      await publishFinal({ conversionId, userId, status: 'COMPLETED', stage: 'FINALIZATION', progress: 100, message: 'Done', at: finishedAt, final: true, error: null }, log);
      if (cacheKey !== null && cache && completion.reusedFrom === null && !isDegraded(completion.warnings)) await cache.remember(cacheKey, conversionId);
      log.info('Conversion completed', { processingMs, reusedFrom: completion.reusedFrom });
      return completion.reusedFrom === null ? { conversionId, status: 'COMPLETED' } : { conversionId, status: 'COMPLETED', reusedFrom: completion.reusedFrom };
    } catch (thrown) {
      if (timer) clearTimeout(timer);
      await settleProgress();
      // Nothing of this attempt is in the row or in storage yet: the wrapper maps and rethrows.
      if (!claimed) throw thrown;
      const why: unknown = controller.signal.aborted ? controller.signal.reason : null;
      if (why === SUPERSEDED) return await endSuperseded(conversionId, attemptId, log);
      if (why === CANCELLED) return await endCancelled(em, conversionId, attemptId, userId, log);
      if (why === SHUTDOWN) {
        await deleteOwnFiles();
        await em
          .nativeUpdate(Conversion, { id: conversionId, status: ConversionStatus.PROCESSING, attemptId }, { status: ConversionStatus.PENDING, stage: null, progress: 0, updatedAt: new Date() })
          .catch((error: Error) => log.warn('Could not put the conversion back to PENDING', { error: error.message }));
        await publish({ conversionId, userId, status: 'PENDING', stage: null, progress: 0, message: 'The worker stopped; the conversion will resume on another worker', at: new Date().toISOString(), final: false, error: null }).catch(() => undefined);
        throw new AppError('ABORTED', 'The worker shut down during the conversion.', { reason: SHUTDOWN, retryable: true, cause: thrown });
      }
      const error = toJobError(why instanceof AppError ? why : thrown);
      if (error.code === 'UNKNOWN_ERROR') log.error('Conversion failed unexpectedly', { error: thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown) });
      if (error.reason === DATABASE_UNAVAILABLE) {
        // The completion (or failure) write may have landed or not: keep the files, let the retry find out.
        throw release(error);
      }
      const retriesLeft = Number(job.options.retries ?? 0);
      await deleteOwnFiles();
      if (error.retryable && retriesLeft > 0) {
        const delayMs = job.options.backoff?.delay ?? 0;
        const message = `Retrying in ${Math.round(delayMs / 100) / 10} s after ${error.code}: ${error.message}`;
        const reset = await em
          .nativeUpdate(
            Conversion,
            { id: conversionId, status: ConversionStatus.PROCESSING, attemptId },
            { status: ConversionStatus.PENDING, stage: null, progress: 0, retryCount: conversion.retryCount + 1, error: errorData(error), updatedAt: new Date() },
          )
          .catch((cause: unknown) => {
            throw release(cause);
          });
        if (reset === 0) return await afterLostWrite(em, conversionId, attemptId, userId, log);
        await publish({ conversionId, userId, status: 'PENDING', stage: null, progress: 0, message, at: new Date().toISOString(), final: false, error: errorData(error) }).catch((publishError: Error) =>
          log.warn('Could not publish the retry', { error: publishError.message }),
        );
        log.warn('Conversion failed; will retry', { code: error.code, reason: error.reason, retriesLeft, delayMs });
        throw error;
      }
      const completedAt = new Date();
      const failed = await em
        .nativeUpdate(
          Conversion,
          { id: conversionId, status: ConversionStatus.PROCESSING, attemptId },
          { status: ConversionStatus.FAILED, error: errorData(error), stageTimestamps, processingMs: completedAt.getTime() - startedMs, completedAt, updatedAt: completedAt },
        )
        .catch((cause: unknown) => {
          throw release(cause);
        });
      if (failed === 0) return await afterLostWrite(em, conversionId, attemptId, userId, log);
      await refundUnlessInputFault(em, conversionId, error.code, log).catch((cause: unknown) => {
        throw release(cause);
      });
      await publishFinal({ conversionId, userId, status: 'FAILED', stage, progress, message: error.message, at: completedAt.toISOString(), final: true, error: errorData(error) }, log);
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
   * The claim (see the module comment): one statement that takes a PENDING or PROCESSING row for
   * `attemptId` and counts a stall when another attempt held it PROCESSING (unless that attempt is
   * `released`: it handed the job back itself). @returns null when the row was neither.
   */
  async function claimRow(
    em: EntityManager,
    conversionId: string,
    attemptId: string,
    released: string | null,
    stage: StageName,
    stageTimestamps: StageTimestamps,
    startedAt: Date,
  ): Promise<{ previousStatus: ConversionStatus; previousAttempt: string | null; stallCount: number; stalled: boolean } | null> {
    const at = startedAt.toISOString();
    const rows = await em.getConnection().execute<{ previous_status: ConversionStatus; previous_attempt: string | null; stall_count: number; stalled: boolean }[]>(
      `update "conversions" c set
         "status" = 'PROCESSING', "attempt_id" = ?, "stall_count" = c."stall_count" + (case when o."stalled" then 1 else 0 end),
         "stage" = ?, "progress" = 0, "stage_timestamps" = ?::jsonb, "started_at" = ?, "completed_at" = null, "error" = null, "updated_at" = ?
       from (
         select "id", "status", "attempt_id", ("status" = 'PROCESSING' and "attempt_id" is not null and "attempt_id" is distinct from ?) as "stalled"
         from "conversions" where "id" = ? and "status" in ('PENDING', 'PROCESSING') for update
       ) o
       where c."id" = o."id"
       returning o."status" as "previous_status", o."attempt_id" as "previous_attempt", c."stall_count" as "stall_count", o."stalled" as "stalled"`,
      [attemptId, stage, JSON.stringify(stageTimestamps), at, at, released, conversionId],
    );
    const row = rows[0];
    if (!row) return null;
    return { previousStatus: row.previous_status, previousAttempt: row.previous_attempt, stallCount: Number(row.stall_count), stalled: row.stalled === true };
  }

  /**
   * Duplicate detection's hit: copies the files of COMPLETED conversion `sourceId` to this attempt's
   * keys and returns the row data to complete with, or null when the source is gone, another user's, not COMPLETED,
   * lacks a file, or the copy failed (then nothing of the copy is left).
   */
  async function reuse(em: EntityManager, sourceId: string, conversion: Conversion, attemptId: string, log: Logger): Promise<Completion | null> {
    const rows = await em.getConnection().execute<{ status: ConversionStatus; result: ResultData | null; quality: QualityData | null; warnings: WarningData[] }[]>(
      // Only a conversion of the same user: reuse never crosses users, whatever the cache holds.
      'select "status", "result", "quality", "warnings" from "conversions" where "id" = ? and "user_id" = ?',
      [sourceId, conversion.user.id],
    );
    const source = rows[0];
    if (!source || source.status !== ConversionStatus.COMPLETED || !source.result) return null;
    const entries = Object.entries(source.result.files) as [keyof ResultData['files'], string][];
    try {
      for (const [, key] of entries) if (!(await storage.stat(key))) return null;
      const files = {} as ResultData['files'];
      for (const [field, key] of entries) {
        const name = key.slice(key.lastIndexOf('/') + 1);
        const bytes = await storage.read(key);
        const target = attemptKeys.output(conversion.id, attemptId, name);
        await storage.write(target, field === 'report' ? reportFor(bytes, conversion.input?.fileName ?? null) : bytes);
        files[field] = target;
      }
      log.info('Reusing the result of an identical conversion', { reusedFrom: sourceId });
      return { result: { ...source.result, files }, quality: source.quality, warnings: source.warnings, reusedFrom: sourceId };
    } catch (error) {
      log.warn('Could not reuse the cached result; computing it instead', { reusedFrom: sourceId, error: (error as Error).message });
      await storage.deletePrefix(attemptKeys.dir(conversion.id, attemptId)).catch(() => undefined);
      return null;
    }
  }

  /** A failure the user did not cause gives their quota unit back (at most once; see quota.service.ts). */
  async function refundUnlessInputFault(em: EntityManager, conversionId: string, code: string, log: Logger): Promise<void> {
    if (code === 'VALIDATION_ERROR') return;
    try {
      await new QuotaRepository(em).refundConversion(conversionId);
    } catch (error) {
      // Unreachable database: the caller hands the job back so a retry gives the unit back.
      if (isDatabaseUnavailable(error)) throw error;
      log.warn('Could not give the quota unit back', { error: (error as Error).message });
    }
  }

  /**
   * The job's previous attempt ended the row while the database was failing, then handed the job back
   * without knowing: publish the final event it could not (and give the quota unit back for a failure).
   */
  async function finishReleased(em: EntityManager, conversion: Conversion, log: Logger): Promise<void> {
    const at = (conversion.completedAt ?? new Date()).toISOString();
    const base = { conversionId: conversion.id, userId: conversion.user.id, at, final: true } as const;
    if (conversion.status === ConversionStatus.COMPLETED) {
      await publishFinal({ ...base, status: 'COMPLETED', stage: 'FINALIZATION', progress: 100, message: 'Done', error: null }, log);
    } else {
      const error = conversion.error ?? { code: 'UNKNOWN_ERROR', message: 'The conversion failed.', retryable: false };
      await refundUnlessInputFault(em, conversion.id, error.code, log);
      await publishFinal({ ...base, status: 'FAILED', stage: conversion.stage, progress: conversion.progress, message: error.message, error }, log);
    }
    log.info('Finished what a previous attempt left', { status: conversion.status });
  }

  /** A conditional write of this attempt changed nothing: the row was cancelled, or taken over. */
  async function afterLostWrite(em: EntityManager, conversionId: string, attemptId: string, userId: string, log: Logger): Promise<ConversionOutcome> {
    const state = await readState(em, conversionId);
    if (state?.status === ConversionStatus.CANCELLED) return endCancelled(em, conversionId, attemptId, userId, log);
    return endSuperseded(conversionId, attemptId, log);
  }

  /** A newer attempt holds the row: only this attempt's files go; no event (the holder publishes). */
  async function endSuperseded(conversionId: string, attemptId: string, log: Logger): Promise<ConversionOutcome> {
    await storage.deletePrefix(attemptKeys.dir(conversionId, attemptId)).catch((error: Error) => log.warn("Could not delete the attempt's files", { error: error.message }));
    log.warn('Another attempt holds the conversion; this run stopped without publishing');
    return { conversionId, status: 'SUPERSEDED' };
  }

  /**
   * The run was cancelled: the row becomes CANCELLED if the mutation has not made it so already (the
   * final event is published by whoever made that change), and all the conversion's files go (the
   * cancel mutation removes them too; doing it here as well covers outputs written after it did).
   */
  async function endCancelled(em: EntityManager, conversionId: string, attemptId: string, userId: string, log: Logger): Promise<ConversionOutcome> {
    const at = new Date();
    const changed = await em.nativeUpdate(
      Conversion,
      { id: conversionId, attemptId, status: { $in: [ConversionStatus.PENDING, ConversionStatus.PROCESSING] } },
      { status: ConversionStatus.CANCELLED, error: CANCELLED_ERROR, completedAt: at, updatedAt: at },
    );
    if (changed === 0 && (await readState(em, conversionId))?.status !== ConversionStatus.CANCELLED) return endSuperseded(conversionId, attemptId, log);
    await storage.deletePrefix(storageKeys.dir(conversionId));
    if (changed > 0) {
      await publishFinal({ conversionId, userId, status: 'CANCELLED', stage: null, progress: 0, message: CANCELLED_MESSAGE, at: at.toISOString(), final: true, error: { ...CANCELLED_ERROR } }, log);
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
