/**
 * The contract between the API, which enqueues, and the worker, which runs conversions. The job
 * carries only the conversion id (the row is the truth) and the trace context of the request that
 * created it.
 */
import { injectTraceContext } from '../platform/tracing.js';

export const CONVERSION_QUEUE = 'conversions';

export interface ConversionJobData {
  conversionId: string;
  /** W3C trace context of the enqueuing request (traceparent/tracestate), when tracing is on. */
  traceContext?: Record<string, string>;
}

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

/** The part of a Bee-Queue queue {@link enqueueConversion} uses (any producer or worker queue). */
export interface JobQueue {
  createJob(data: ConversionJobData): {
    setId(id: string): unknown;
    retries(n: number): unknown;
    backoff(strategy: string, delayFactor?: number): unknown;
    save(): Promise<unknown>;
  };
}

/**
 * Enqueues the conversion's job. The job id is the conversion id, so enqueueing a conversion that
 * is already waiting, delayed or running adds nothing (Bee-Queue keeps one job per id); the worker
 * treats a job whose row is already finished as done. The active OpenTelemetry context goes into
 * `traceContext` unless the caller gave one.
 */
export async function enqueueConversion(queue: JobQueue, data: ConversionJobData, policy: ConversionJobPolicy): Promise<void> {
  // The enqueuing request's trace continues in the worker (no-op without an OpenTelemetry SDK).
  const traceContext = data.traceContext ?? injectTraceContext();
  const job = queue.createJob(traceContext ? { ...data, traceContext } : data);
  job.setId(data.conversionId);
  job.retries(policy.retries);
  job.backoff('exponential', policy.backoffMs);
  await job.save();
}
