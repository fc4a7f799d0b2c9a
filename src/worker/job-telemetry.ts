/**
 * Metrics and OpenTelemetry spans of one conversion job, kept out of the processor's logic: the
 * processor reports the job's start, each stage change (from the pipeline's progress events, since
 * the pure pipeline must not know about OTel) and the end; this turns them into the job span (a
 * child of the enqueuing request's trace, carried in the job's `traceContext`), one span per stage,
 * the stage and job duration histograms and the job outcome counters.
 */
import { context as otelContext, trace, SpanKind, type Span } from '@opentelemetry/api';
import { AppError } from '../audio/errors.js';
import type { Metrics } from '../platform/metrics.js';
import { extractTraceContext, recordSpanError, tracer } from '../platform/tracing.js';
import type { ConversionJobData } from '../modules/conversion/conversion-job.js';

export interface JobTelemetry {
  /** The pipeline entered `stage` (a stage name such as `PITCH_EXTRACTION`). */
  stage(stage: string): void;
  /** The job ended with `outcome`, or threw `error` (`retrying`: handed back to the queue). */
  end(result: { outcome: string } | { error: unknown; retrying: boolean }): void;
}

/** Starts the job's telemetry; `run` executes in the job span's context. */
export async function withJobTelemetry<T>(
  metrics: Metrics | undefined,
  job: { id: string; data: ConversionJobData; options?: { timestamp?: number } },
  run: (telemetry: JobTelemetry) => Promise<T>,
): Promise<T> {
  // Bee-Queue stamps `options.timestamp` (ms since the epoch) when the job is saved; a retry keeps it,
  // so a retried run's wait includes its backoff delay.
  const enqueuedAt = Number(job.options?.timestamp);
  if (Number.isFinite(enqueuedAt) && enqueuedAt > 0) metrics?.queueWait.observe(Math.max(0, Date.now() - enqueuedAt) / 1000);
  const parent = extractTraceContext(job.data.traceContext);
  const jobSpan = tracer().startSpan(
    'conversion.job',
    { kind: SpanKind.CONSUMER, attributes: { 'melody.conversion_id': job.data.conversionId, 'messaging.message.id': job.id } },
    parent,
  );
  const jobContext = trace.setSpan(parent, jobSpan);
  const started = performance.now();
  let stageSpan: Span | null = null;
  let stageName: string | null = null;
  let stageStarted = 0;
  const closeStage = (error?: unknown): void => {
    if (!stageSpan || !stageName) return;
    metrics?.jobDuration.observe({ stage: stageName }, (performance.now() - stageStarted) / 1000);
    if (error !== undefined) recordSpanError(stageSpan, error);
    stageSpan.end();
    stageSpan = null;
    stageName = null;
  };
  const telemetry: JobTelemetry = {
    stage(stage) {
      if (stage === stageName) return;
      closeStage();
      stageName = stage;
      stageStarted = performance.now();
      stageSpan = tracer().startSpan(`conversion.stage ${stage}`, { attributes: { 'melody.stage': stage } }, jobContext);
    },
    end(result) {
      if ('outcome' in result) {
        closeStage();
        metrics?.jobsCompleted.inc({ outcome: result.outcome });
        jobSpan.setAttribute('melody.outcome', result.outcome);
      } else {
        closeStage(result.error);
        const code = result.error instanceof AppError ? result.error.code : 'UNKNOWN_ERROR';
        if (result.retrying)
          metrics?.jobsRetried.inc({
            reason: result.error instanceof AppError && result.error.reason === 'WORKER_SHUTDOWN' ? 'WORKER_SHUTDOWN' : code,
          });
        else metrics?.jobsFailed.inc({ code });
        recordSpanError(jobSpan, result.error);
      }
      metrics?.jobDuration.observe({ stage: 'job' }, (performance.now() - started) / 1000);
      jobSpan.end();
    },
  };
  return otelContext.with(jobContext, () => run(telemetry));
}
