/**
 * How a claimed attempt ends (the state machine of src/worker/conversion.processor.ts's module
 * comment). Every write is conditional on the attempt still holding the row; one that changes nothing
 * means the row was cancelled (→ CANCELLED, all files removed) or taken by a newer attempt
 * (→ SUPERSEDED: only this attempt's files go, nothing is published). After a failure:
 *
 * - aborted because the worker shuts down → back to PENDING, the job handed back (retryable ABORTED);
 * - database unavailable → files kept, the job released for the retry to finish what it left;
 * - retryable with retries left → PENDING with the error as the reason, the queue retries;
 * - otherwise → FAILED, the quota unit given back unless the input was at fault, final event, and the
 *   job's retries set to 0.
 */
import { AppError } from '../audio/errors.js';
import { DATABASE_UNAVAILABLE, isDatabaseUnavailable } from './infrastructure-errors.js';
import type { Storage } from '../platform/storage.js';
import { CANCELLED_ERROR, CANCELLED_MESSAGE } from '../modules/conversion/conversion-cancel.service.js';
import type { Completion } from '../modules/conversion/conversion-attempts.repository.js';
import { ConversionStatus, type Conversion, type ErrorData } from '../modules/conversion/conversion.entity.js';
import { QuotaRepository } from '../modules/quota/quota.repository.js';
import { attemptKeys } from './attempt-outputs.js';
import { CANCELLED, SHUTDOWN, SUPERSEDED, releaseAttempt, toJobError, type Attempt, type ConversionOutcome } from './conversion-attempt.js';
import { storageKeys } from '../modules/conversion/conversion-job.js';
import type { ProgressPublisher, ProgressReporter } from './progress-reporter.js';

export interface AttemptEndings {
  /** Completes the row with `completion`, deletes the inputs and publishes the final event. */
  complete(attempt: Attempt, conversion: Conversion, completion: Completion, progress: ProgressReporter): Promise<ConversionOutcome>;
  /**
   * Ends the attempt after `thrown` (the run's `signal` says whether it was stopped from outside).
   * Resolves when the run ended quietly (cancelled, superseded); otherwise rejects with the job's error.
   */
  fail(
    attempt: Attempt,
    conversion: Conversion,
    thrown: unknown,
    signal: AbortSignal,
    progress: ProgressReporter,
  ): Promise<ConversionOutcome>;
  /**
   * The job's previous attempt ended the row while the database was failing, then handed the job back
   * without knowing: publish the final event it could not (and give the quota unit back for a failure).
   */
  finishReleased(attempt: Pick<Attempt, 'conversionId' | 'em' | 'log'>, conversion: Conversion): Promise<void>;
}

export function createAttemptEndings(deps: { storage: Storage; publisher: ProgressPublisher }): AttemptEndings {
  const { storage, publisher } = deps;

  const deleteOwnFiles = async ({ conversionId, attemptId, log }: Attempt): Promise<void> => {
    await storage
      .deletePrefix(attemptKeys.dir(conversionId, attemptId))
      .catch((error: Error) => log.warn("Could not delete the attempt's files", { error: error.message }));
  };

  /** A failure the user did not cause gives their quota unit back (at most once; see quota.service.ts). */
  async function refundUnlessInputFault(attempt: Pick<Attempt, 'conversionId' | 'em' | 'log'>, code: string): Promise<void> {
    if (code === 'VALIDATION_ERROR') return;
    try {
      await new QuotaRepository(attempt.em).refundConversion(attempt.conversionId);
    } catch (error) {
      // Unreachable database: the caller hands the job back so a retry gives the unit back.
      if (isDatabaseUnavailable(error)) throw error;
      attempt.log.warn('Could not give the quota unit back', { error: (error as Error).message });
    }
  }

  /** A conditional write of this attempt changed nothing: the row was cancelled, or taken over. */
  async function afterLostWrite(attempt: Attempt): Promise<ConversionOutcome> {
    const state = await attempt.repository.readState(attempt.conversionId);
    if (state?.status === ConversionStatus.CANCELLED) return endCancelled(attempt);
    return endSuperseded(attempt);
  }

  /** A newer attempt holds the row: only this attempt's files go; no event (the holder publishes). */
  async function endSuperseded(attempt: Attempt): Promise<ConversionOutcome> {
    await deleteOwnFiles(attempt);
    attempt.log.warn('Another attempt holds the conversion; this run stopped without publishing');
    return { conversionId: attempt.conversionId, status: 'SUPERSEDED' };
  }

  /**
   * The run was cancelled: the row becomes CANCELLED if the mutation has not made it so already (the
   * final event is published by whoever made that change), and all the conversion's files go (the
   * cancel mutation removes them too; doing it here as well covers outputs written after it did).
   */
  async function endCancelled(attempt: Attempt): Promise<ConversionOutcome> {
    const { conversionId, userId, repository, log } = attempt;
    const at = new Date();
    const changed = await repository.cancel(conversionId, attempt.attemptId, CANCELLED_ERROR, at);
    if (changed === 0 && (await repository.readState(conversionId))?.status !== ConversionStatus.CANCELLED) return endSuperseded(attempt);
    await storage.deletePrefix(storageKeys.dir(conversionId));
    if (changed > 0) {
      await publisher.publishFinal(
        {
          conversionId,
          userId,
          status: 'CANCELLED',
          stage: null,
          progress: 0,
          message: CANCELLED_MESSAGE,
          at: at.toISOString(),
          final: true,
          error: { ...CANCELLED_ERROR },
        },
        log,
      );
    }
    log.info('Conversion cancelled during processing');
    return { conversionId, status: 'CANCELLED' };
  }

  /** The worker shuts down: back to PENDING, the job left for another worker. */
  async function handBack(attempt: Attempt, thrown: unknown): Promise<never> {
    const { conversionId, userId, log } = attempt;
    await deleteOwnFiles(attempt);
    await attempt.repository
      .resetToPending(conversionId, attempt.attemptId)
      .catch((error: Error) => log.warn('Could not put the conversion back to PENDING', { error: error.message }));
    await publisher
      .publishPending({ conversionId, userId }, 'The worker stopped; the conversion will resume on another worker', null)
      .catch(() => undefined);
    throw new AppError('ABORTED', 'The worker shut down during the conversion.', { reason: SHUTDOWN, retryable: true, cause: thrown });
  }

  /** A retryable failure with retries left: back to PENDING with the error as the reason; the queue retries after its backoff. */
  async function retry(attempt: Attempt, conversion: Conversion, error: AppError, retriesLeft: number): Promise<ConversionOutcome> {
    const { conversionId, userId, log } = attempt;
    const delayMs = attempt.job.options.backoff?.delay ?? 0;
    const message = `Retrying in ${Math.round(delayMs / 100) / 10} s after ${error.code}: ${error.message}`;
    const reset = await attempt.repository
      .resetToPending(conversionId, attempt.attemptId, { retryCount: conversion.retryCount + 1, error: errorData(error) })
      .catch((cause: unknown) => {
        throw releaseAttempt(attempt, cause);
      });
    if (reset === 0) return await afterLostWrite(attempt);
    await publisher
      .publishPending({ conversionId, userId }, message, errorData(error))
      .catch((publishError: Error) => log.warn('Could not publish the retry', { error: publishError.message }));
    log.warn('Conversion failed; will retry', { code: error.code, reason: error.reason, retriesLeft, delayMs });
    throw error;
  }

  /** A final failure: FAILED, the quota unit back unless the input was at fault, the final event, no more retries. */
  async function endFailed(attempt: Attempt, error: AppError, progress: ProgressReporter): Promise<ConversionOutcome> {
    const { conversionId, userId, log } = attempt;
    const completedAt = new Date();
    const ended = { stageTimestamps: progress.stageTimestamps, processingMs: completedAt.getTime() - attempt.startedMs, completedAt };
    const failed = await attempt.repository.fail(conversionId, attempt.attemptId, errorData(error), ended).catch((cause: unknown) => {
      throw releaseAttempt(attempt, cause);
    });
    if (failed === 0) return await afterLostWrite(attempt);
    await refundUnlessInputFault(attempt, error.code).catch((cause: unknown) => {
      throw releaseAttempt(attempt, cause);
    });
    const payload = {
      conversionId,
      userId,
      stage: progress.stage,
      progress: progress.progress,
      at: completedAt.toISOString(),
      final: true,
    } as const;
    await publisher.publishFinal({ ...payload, status: 'FAILED', message: error.message, error: errorData(error) }, log);
    log.warn('Conversion failed', { code: error.code, reason: error.reason, retryable: error.retryable });
    // Tell Bee-Queue not to retry: the failure is final whatever retries the job had left.
    attempt.job.options.retries = 0;
    throw error;
  }

  return {
    async complete(attempt, conversion, completion, progress) {
      const { conversionId, userId, log } = attempt;
      const completedAt = new Date();
      const finishedAt = completedAt.toISOString();
      progress.finishStage(finishedAt);
      const processingMs = completedAt.getTime() - attempt.startedMs;
      const completed = await attempt.repository.complete(conversionId, attempt.attemptId, completion, {
        stageTimestamps: progress.stageTimestamps,
        processingMs,
        completedAt,
      });
      if (completed === 0) return await afterLostWrite(attempt);
      // The upload is no longer needed once the conversion is COMPLETED (nothing re-runs a completed
      // conversion; reuse copies outputs, not inputs): keep users' recordings no longer than that, and
      // delete it before the final event, so whoever sees "completed" sees it gone. A failed
      // conversion keeps its input while it can be re-queued.
      await storage
        .delete(conversion.inputKey)
        .catch((error: Error) => log.warn('Could not delete the upload of a completed conversion', { error: error.message }));
      if (conversion.input?.melody) {
        await storage
          .delete(storageKeys.melody(conversionId))
          .catch((error: Error) => log.warn('Could not delete the melody file of a completed conversion', { error: error.message }));
      }
      await publisher.publishFinal(
        {
          conversionId,
          userId,
          status: 'COMPLETED',
          stage: 'FINALIZATION',
          progress: 100,
          message: 'Done',
          at: finishedAt,
          final: true,
          error: null,
        },
        log,
      );
      log.info('Conversion completed', { processingMs, reusedFrom: completion.reusedFrom });
      return completion.reusedFrom === null
        ? { conversionId, status: 'COMPLETED' }
        : { conversionId, status: 'COMPLETED', reusedFrom: completion.reusedFrom };
    },

    async fail(attempt, conversion, thrown, signal, progress) {
      const why: unknown = signal.aborted ? signal.reason : null;
      if (why === SUPERSEDED) return await endSuperseded(attempt);
      if (why === CANCELLED) return await endCancelled(attempt);
      if (why === SHUTDOWN) return await handBack(attempt, thrown);
      const error = toJobError(why instanceof AppError ? why : thrown);
      if (error.code === 'UNKNOWN_ERROR')
        attempt.log.error('Conversion failed unexpectedly', {
          error: thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown),
        });
      // The completion (or failure) write may have landed or not: keep the files, let the retry find out.
      if (error.reason === DATABASE_UNAVAILABLE) throw releaseAttempt(attempt, error);
      const retriesLeft = Number(attempt.job.options.retries ?? 0);
      await deleteOwnFiles(attempt);
      if (error.retryable && retriesLeft > 0) return await retry(attempt, conversion, error, retriesLeft);
      return await endFailed(attempt, error, progress);
    },

    async finishReleased(attempt, conversion) {
      const { log } = attempt;
      const at = (conversion.completedAt ?? new Date()).toISOString();
      const base = { conversionId: conversion.id, userId: conversion.user.id, at, final: true } as const;
      if (conversion.status === ConversionStatus.COMPLETED) {
        await publisher.publishFinal(
          { ...base, status: 'COMPLETED', stage: 'FINALIZATION', progress: 100, message: 'Done', error: null },
          log,
        );
      } else {
        const error = conversion.error ?? { code: 'UNKNOWN_ERROR', message: 'The conversion failed.', retryable: false };
        await refundUnlessInputFault(attempt, error.code);
        await publisher.publishFinal(
          { ...base, status: 'FAILED', stage: conversion.stage, progress: conversion.progress, message: error.message, error },
          log,
        );
      }
      log.info('Finished what a previous attempt left', { status: conversion.status });
    },
  };
}

function errorData(error: AppError): ErrorData {
  return { code: error.code, message: error.message, retryable: error.retryable };
}
