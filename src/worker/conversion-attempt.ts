/**
 * One run of a conversion job, as the parts of the job handler share it (src/worker/conversion.processor.ts
 * tells the whole story): the job as Bee-Queue hands it over, the attempt's identity and row access,
 * how a run ends, the reasons a run is aborted from outside, and the errors the handler makes itself.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import { AppError } from '../audio/errors.js';
import { toErrorModel } from './infrastructure-errors.js';
import type { Logger } from '../platform/logger.js';
import type { ConversionAttemptsRepository } from '../modules/conversion/conversion-attempts.repository.js';
import type { ConversionJobData } from '../modules/conversion/conversion-job.js';

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
  /**
   * Bee-Queue's job options: `retries` left, the `backoff` (its `delay` is the next wait, ms) and the
   * `timestamp` of the enqueueing (ms since the epoch; the queue-wait histogram reads it).
   */
  options: { retries?: number; backoff?: { strategy?: string; delay?: number }; timestamp?: number };
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

/** One attempt at a job: a fresh `attemptId` (uuid) on the job's own EntityManager fork. */
export interface Attempt {
  job: ConversionJob;
  conversionId: string;
  attemptId: string;
  /** The conversion's owner. */
  userId: string;
  /** When the attempt started (`Date.now()`), for `processingMs`. */
  startedMs: number;
  em: EntityManager;
  repository: ConversionAttemptsRepository;
  /** Stamps every line with the conversion, job and attempt ids. */
  log: Logger;
}

/**
 * The error a run that exceeds `JOB_TIMEOUT_SECONDS` fails with. Not retryable: the pipeline is
 * deterministic for a given input and seed and typically needs seconds, so a run that takes minutes is
 * pathological for that input and would most likely time out again, holding a worker slot each time.
 */
export function jobTimeoutError(seconds: number): AppError {
  return new AppError('TIMEOUT_ERROR', `The conversion took longer than ${seconds} s and was stopped.`, {
    reason: 'JOB_TIMEOUT',
    retryable: false,
  });
}

/**
 * The error a conversion ends with when its job lost its worker more than `JOB_MAX_STALLS` times.
 * Not retryable: a job that keeps killing workers (memory, a native crash) would otherwise loop.
 */
export function workerLostError(stalls: number): AppError {
  return new AppError('AUDIO_PROCESSING_ERROR', `The conversion stopped its worker ${stalls} times (a crash or a kill) and was given up.`, {
    reason: 'WORKER_LOST',
    retryable: false,
  });
}

/** Why a run was aborted from outside the pipeline (the abort signal's reason). */
export const CANCELLED = 'CANCELLED';
export const SHUTDOWN = 'WORKER_SHUTDOWN';
/** A newer attempt holds the row. */
export const SUPERSEDED = 'SUPERSEDED';

/**
 * Any thrown value as an error of the model (see the table in conversion.processor.ts; the mapping is
 * {@link toErrorModel} in src/worker/infrastructure-errors.ts).
 */
export function toJobError(error: unknown): AppError {
  return toErrorModel(error);
}

/**
 * The attempt hands the job back with the database unreachable (whether its last write landed is
 * unknown): the job's data names it, so the retry finishes what it left. @returns the error to throw.
 */
export function releaseAttempt(attempt: Pick<Attempt, 'job' | 'attemptId'>, cause: unknown): AppError {
  attempt.job.data.releasedAttemptId = attempt.attemptId;
  return toJobError(cause);
}

/** Throws the signal's reason (as an error) when it is aborted; used between the run's I/O steps. */
export function throwIfStopped(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof AppError ? reason : new AppError('ABORTED', 'The conversion was stopped.', { reason: String(reason) });
}
