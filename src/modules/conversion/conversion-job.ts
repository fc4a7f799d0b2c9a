/**
 * The contract between the API, which enqueues, and the worker, which runs conversions. The job
 * carries only the conversion id (the row is the truth) and the trace context of the request that
 * created it. Jobs go through the queue port (src/platform/job-queue.ts), so this module needs neither
 * the queue library nor the worker. Also here: the finish times the worker records per job (the
 * queue's retention sweeps by them, src/worker/queue-retention.ts) and putting a job in again.
 */
import type { Redis } from 'ioredis';
import type { Config } from '../../platform/config.js';
import type { ConversionQueuePort, JobQueue } from '../../platform/job-queue.js';
import { redisKey } from '../../platform/redis.js';
import { injectTraceContext } from '../../platform/tracing.js';
import { ConversionPriority } from './conversion.entity.js';

export type { ConversionJobData, JobQueue } from '../../platform/job-queue.js';

export const CONVERSION_QUEUE = 'conversions';

/** Storage keys of a conversion's files. */
export const storageKeys = {
  dir: (conversionId: string) => `conversions/${conversionId}`,
  input: (conversionId: string) => `conversions/${conversionId}/input`,
  /** The melody file (MIDI or MusicXML) sung instead of the transcription, when the request gave one. */
  melody: (conversionId: string) => `conversions/${conversionId}/melody`,
  output: (conversionId: string, name: string) => `conversions/${conversionId}/${name}`,
};

/**
 * The job's policy (CONVENTIONS principle 8), declared where jobs are made. Retries apply to retryable
 * errors only: the worker fails a job at once on a non-retryable error, whatever retries remain.
 */
export interface ConversionJobPolicy {
  /** Retries after a retryable failure (`JOB_RETRIES`, default 3). */
  retries: number;
  /** First retry delay in ms, doubled on each further retry (`JOB_BACKOFF_MS`, default 5000). */
  backoffMs: number;
}

/** The policy from the configuration. */
export function jobPolicy(config: { jobRetries: number; jobBackoffMs: number }): ConversionJobPolicy {
  return { retries: config.jobRetries, backoffMs: config.jobBackoffMs };
}

/**
 * Enqueues the conversion's job. The job id is the conversion id, so enqueueing a conversion that
 * is already waiting, delayed or running adds nothing (Bee-Queue keeps one job per id); the worker
 * treats a job whose row is already finished as done. The active OpenTelemetry context goes into
 * `traceContext` unless the caller gave one.
 */
export async function enqueueConversion(
  queue: JobQueue,
  data: Parameters<JobQueue['createJob']>[0],
  policy: ConversionJobPolicy,
): Promise<void> {
  // The enqueuing request's trace continues in the worker (no-op without an OpenTelemetry SDK).
  const traceContext = data.traceContext ?? injectTraceContext();
  const job = queue.createJob(traceContext ? { ...data, traceContext } : data);
  job.setId(data.conversionId);
  job.retries(policy.retries);
  job.backoff('exponential', policy.backoffMs);
  await job.save();
}

export type FinishOutcome = 'succeeded' | 'failed';

/** The sorted set of finish times of `outcome`. */
export function finishedKey(redisPrefix: string, outcome: FinishOutcome): string {
  return redisKey(redisPrefix, 'queue', 'finished', outcome);
}

function member(priority: ConversionPriority, jobId: string): string {
  return `${priority}:${jobId}`;
}

/** Records that the job `jobId` of `priority` finished with `outcome` at `atMs` (epoch ms). */
export async function recordFinish(
  redis: Pick<Redis, 'zadd'>,
  redisPrefix: string,
  outcome: FinishOutcome,
  priority: ConversionPriority,
  jobId: string,
  atMs = Date.now(),
): Promise<void> {
  await redis.zadd(finishedKey(redisPrefix, outcome), atMs, member(priority, jobId));
}

/** Forgets the finish times of `jobId` (any outcome, any priority): its job is being queued again. */
export async function forgetFinish(redis: Pick<Redis, 'zrem'>, redisPrefix: string, jobId: string): Promise<void> {
  const members = Object.values(ConversionPriority).map((priority) => member(priority, jobId));
  await Promise.all((['succeeded', 'failed'] as const).map((outcome) => redis.zrem(finishedKey(redisPrefix, outcome), ...members)));
}

/**
 * Puts a conversion's job in the queue again under the same id: the old record (any queue) and its
 * finish times are removed first, so the queue accepts the id again and the retention sweep leaves the
 * new run alone.
 */
export async function requeueJob(
  deps: {
    queue: Pick<ConversionQueuePort, 'removeJob' | 'of'>;
    redis: Pick<Redis, 'zrem'>;
    config: Pick<Config, 'redisPrefix' | 'jobRetries' | 'jobBackoffMs'>;
  },
  conversionId: string,
  priority: ConversionPriority,
): Promise<void> {
  await deps.queue.removeJob(conversionId);
  await forgetFinish(deps.redis, deps.config.redisPrefix, conversionId);
  await enqueueConversion(deps.queue.of(priority), { conversionId }, jobPolicy(deps.config));
}
