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
 * 4. Read the upload. Duplicate detection (result-reuse.ts over result-cache.ts): when the same bytes with the
 *    same options were converted before and that conversion is still COMPLETED with its files, the
 *    files are copied and the row completed from it (`reused_from`) without running the pipeline.
 *    Otherwise run the pipeline in a worker thread (`deps.runPipeline`), publishing progress on
 *    {@link Topic.CONVERSION_PROGRESS} and writing it to the row on every stage change and at most
 *    every 250 ms otherwise, and remember the result in the cache once completed.
 * 5. Outputs go under `conversions/<id>/<attemptId>/`, so two attempts never overwrite or delete each
 *    other's files; the row's `result.files` names them (the files route serves any stored key).
 *
 * Failures become the error model in one place ({@link toJobError}, src/worker/infrastructure-errors.ts):
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
 *
 * This file is the story; the parts live beside it: the claim and every conditional write in
 * src/modules/conversion/conversion-attempts.repository.ts, progress in progress-reporter.ts, reuse in
 * result-reuse.ts, the endings (state machine, refunds) in attempt-endings.ts, output keys and
 * row ↔ pipeline mapping in attempt-outputs.ts, the job's types and errors in conversion-attempt.ts.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { readMelodyFile } from '../audio/score/melody-file.js';
import type { Config } from '../platform/config.js';
import { AppError } from '../audio/errors.js';
import { DATABASE_UNAVAILABLE, REDIS_UNAVAILABLE } from './infrastructure-errors.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics } from '../platform/metrics.js';
import type { Orm } from '../platform/database.js';
import { Topic, topicChannel } from '../platform/pubsub.js';
import type { Storage } from '../platform/storage.js';
import { ConversionAttemptsRepository, type Completion } from '../modules/conversion/conversion-attempts.repository.js';
import { ConversionStatus, type Conversion } from '../modules/conversion/conversion.entity.js';
import { attemptKeys, requestOf, resultOf, writeOutputs } from './attempt-outputs.js';
import { createAttemptEndings } from './attempt-endings.js';
import {
  CANCELLED,
  SHUTDOWN,
  SUPERSEDED,
  jobTimeoutError,
  releaseAttempt,
  throwIfStopped,
  toJobError,
  workerLostError,
  type Attempt,
  type ConversionJob,
  type ConversionOutcome,
  type JobPubSub,
} from './conversion-attempt.js';
import { storageKeys } from '../modules/conversion/conversion-job.js';
import { withJobTelemetry, type JobTelemetry } from './job-telemetry.js';
import { createProgressPublisher, createProgressReporter } from './progress-reporter.js';
import { createResultCache, type ResultCache, type ResultCacheOptions } from './result-cache.js';
import { createResultReuse } from './result-reuse.js';
import { runInThread, type RunPipeline } from './run-in-thread.js';
import type { ThreadPipelineOptions, ThreadRequest } from './thread-protocol.js';

export type { AttemptJobData, ConversionJob, ConversionOutcome, JobPubSub } from './conversion-attempt.js';

export interface ConversionProcessorDeps {
  config: Pick<
    Config,
    'redisPrefix' | 'jobTimeoutSeconds' | 'jobMaxStalls' | 'resultCacheTtlSeconds' | 'llmApiUrl' | 'llmModel' | 'expertMusicAiUrl'
  >;
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

/** Creates the job handler. */
export function createConversionProcessor(deps: ConversionProcessorDeps): ConversionProcessor {
  const { config, orm, storage, pubsub } = deps;
  const runPipeline = deps.runPipeline ?? runInThread;
  const pipelineOptions = deps.pipelineOptions ?? {};
  const cache: ResultCache | null =
    deps.resultCache !== undefined
      ? deps.resultCache
      : deps.redis
        ? createResultCache({
            redis: deps.redis,
            prefix: config.redisPrefix,
            ttlSeconds: config.resultCacheTtlSeconds,
            logger: deps.logger.child({ component: 'result-cache' }),
          })
        : null;
  const reuse = createResultReuse({ cache, storage, metrics: deps.metrics });
  const publisher = createProgressPublisher(pubsub, config.redisPrefix);
  const endings = createAttemptEndings({ storage, publisher });
  const active = new Map<string, AbortController>();

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
          deps.logger.warn(
            `${error.reason === DATABASE_UNAVAILABLE ? 'Database' : 'Redis'} unavailable; the job is handed back to the queue`,
            {
              conversionId: job.data.conversionId,
              jobId: job.id,
              retriesLeft: Number(job.options.retries ?? 0),
            },
          );
        }
        telemetry.end({ error, retrying });
        throw error;
      }
    });
  }

  /** Step 1 of the module comment: the outcome when the row needs no run, else null. */
  async function alreadyHandled(
    job: ConversionJob,
    conversion: Conversion,
    em: EntityManager,
    log: Logger,
  ): Promise<ConversionOutcome | null> {
    const conversionId = conversion.id;
    if (conversion.status === ConversionStatus.COMPLETED || conversion.status === ConversionStatus.FAILED) {
      // An attempt that lost the database while ending may have ended the row without telling anyone.
      const released = job.data.releasedAttemptId ?? null;
      if (released !== null && conversion.attemptId === released) await endings.finishReleased({ conversionId, em, log }, conversion);
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
    return null;
  }

  async function processJob(job: ConversionJob, telemetry: JobTelemetry): Promise<ConversionOutcome> {
    const conversionId = job.data.conversionId;
    const attemptId = randomUUID();
    const log = deps.logger.child({ conversionId, jobId: job.id, attemptId });
    const em = orm.em.fork() as EntityManager;
    const repository = new ConversionAttemptsRepository(em);
    const conversion = await repository.find(conversionId);
    if (!conversion) {
      log.warn('Job for a conversion that does not exist; skipped');
      return { conversionId, status: 'SKIPPED' };
    }
    const done = await alreadyHandled(job, conversion, em, log);
    if (done) return done;

    const attempt: Attempt = { job, conversionId, attemptId, userId: conversion.user.id, startedMs: Date.now(), em, repository, log };
    const controller = new AbortController();
    const { signal } = controller;
    active.set(conversionId, controller);
    let claimed = false;
    let cancelSub: number | null = null;
    let timer: NodeJS.Timeout | null = null;
    const startedAt = new Date(attempt.startedMs);
    const progress = createProgressReporter({
      conversionId,
      userId: attempt.userId,
      startedAt,
      publisher,
      write: (data) => repository.writeProgress(conversionId, attemptId, data),
      // A progress write changed nothing: find out whether the row was cancelled or taken over, and stop.
      onLostWrite: async () => {
        if (signal.aborted) return;
        const state = await repository.readState(conversionId);
        if (!state || state.attemptId !== attemptId) controller.abort(SUPERSEDED);
        else if (state.status === ConversionStatus.CANCELLED) controller.abort(CANCELLED);
      },
      signal,
      superseded: () => signal.aborted && signal.reason === SUPERSEDED,
      onStage: (stage) => telemetry.stage(stage),
      intervalMs: deps.progressWriteIntervalMs ?? 250,
      log,
    });

    try {
      // Listen for cancels before claiming the row, so one published in between is not missed.
      try {
        cancelSub = await pubsub.subscribe(topicChannel(config.redisPrefix, Topic.CONVERSION_CANCEL, conversionId), () => {
          if (!signal.aborted) controller.abort(CANCELLED);
        });
      } catch (error) {
        throw new AppError('STORAGE_ERROR', 'Redis was unavailable; the conversion will be retried.', {
          reason: REDIS_UNAVAILABLE,
          retryable: true,
          cause: error,
        });
      }
      const released = job.data.releasedAttemptId ?? null;
      const claim = await repository
        .claim(conversionId, attemptId, released, progress.stage, progress.stageTimestamps, startedAt)
        .catch((error: unknown) => {
          // The claim may have landed before the connection broke: the retry must not count it as a stall.
          throw releaseAttempt(attempt, error);
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
      progress.claimed();
      if (claim.stalled)
        log.warn('Conversion resumed after its worker was lost', { stallCount: claim.stallCount, maxStalls: config.jobMaxStalls });
      if (claim.stallCount > config.jobMaxStalls) throw workerLostError(claim.stallCount);
      progress.publishStarted();
      timer = setTimeout(() => controller.abort(jobTimeoutError(config.jobTimeoutSeconds)), config.jobTimeoutSeconds * 1000);

      const audio = await storage.read(conversion.inputKey);
      // The melody file the request gave (checked by the API with the same reader); a missing file is a STORAGE_ERROR like a missing input.
      const melodyBytes = conversion.input?.melody ? await storage.read(storageKeys.melody(conversionId)) : null;
      throwIfStopped(signal);
      const request: ThreadRequest = { ...requestOf(conversion), melody: melodyBytes ? readMelodyFile(melodyBytes) : null };
      // Hashed before the pipeline runs: the bytes are transferred to its thread.
      const cacheKey = reuse.keyOf(attempt.userId, audio, request, pipelineOptions, config, melodyBytes);
      let completion: Completion | null = null;
      if (cacheKey !== null) {
        completion = await reuse.reuse(cacheKey, attempt, conversion);
        throwIfStopped(signal);
        if (completion) progress.reused();
      }
      if (!completion) {
        const outputs = await runPipeline(audio, request, pipelineOptions, { signal, onProgress: progress.onProgress });
        throwIfStopped(signal);
        const files = await writeOutputs(storage, conversionId, attemptId, outputs, (bytes) =>
          deps.metrics?.storageBytesWritten.inc({ kind: 'output' }, bytes),
        );
        completion = { ...resultOf(outputs, files), reusedFrom: null };
      }
      throwIfStopped(signal);

      await progress.settle();
      throwIfStopped(signal);
      const outcome = await endings.complete(attempt, conversion, completion, progress);
      if (cacheKey !== null && outcome.status === 'COMPLETED') await reuse.remember(cacheKey, conversionId, completion);
      return outcome;
    } catch (thrown) {
      if (timer) clearTimeout(timer);
      await progress.settle();
      // Nothing of this attempt is in the row or in storage yet: the wrapper maps and rethrows.
      if (!claimed) throw thrown;
      return await endings.fail(attempt, conversion, thrown, signal, progress);
    } finally {
      if (timer) clearTimeout(timer);
      progress.dispose();
      if (cancelSub !== null) pubsub.unsubscribe(cancelSub);
      active.delete(conversionId);
    }
  }

  return {
    process,
    running: () => active.size,
    abortAll() {
      for (const controller of active.values()) if (!controller.signal.aborted) controller.abort(SHUTDOWN);
    },
  };
}
