/**
 * A conversion attempt's progress: every pipeline event is published on
 * {@link Topic.CONVERSION_PROGRESS} (in order, one at a time) and written to the row on every stage
 * change and at most every `intervalMs` otherwise (a trailing write catches the last event of a quiet
 * stretch). Writes are chained too, so the row never goes back to an older progress.
 */
import type { ProgressEvent } from '../audio/pipeline.js';
import type { Logger } from '../platform/logger.js';
import { Topic, topicChannel, type ProgressPayload } from '../platform/pubsub.js';
import { stageName, type StageName } from '../audio/stages.js';
import type { StageTimestamps } from '../modules/conversion/conversion.entity.js';
import type { ProgressWrite } from '../modules/conversion/conversion-attempts.repository.js';
import type { JobPubSub } from './conversion-attempt.js';

/** Publishes a conversion's progress events. */
export interface ProgressPublisher {
  publish(payload: ProgressPayload): Promise<void>;
  /** Publishes an event whose loss must not undo what the row already says (logged instead of thrown). */
  publishFinal(payload: ProgressPayload, log: Logger): Promise<void>;
  /** Publishes that the conversion is back to PENDING (handed back or to be retried), with why and the error if any. */
  publishPending(conversion: { conversionId: string; userId: string }, message: string, error: ProgressPayload['error']): Promise<void>;
}

export function createProgressPublisher(pubsub: Pick<JobPubSub, 'publish'>, redisPrefix: string): ProgressPublisher {
  const publish = (payload: ProgressPayload): Promise<void> =>
    pubsub.publish(topicChannel(redisPrefix, Topic.CONVERSION_PROGRESS, payload.conversionId), payload);
  return {
    publish,
    publishFinal: (payload, log) =>
      publish(payload).catch((error: Error) => {
        log.warn('Could not publish the final event', { status: payload.status, error: error.message });
      }),
    publishPending: ({ conversionId, userId }, message, error) =>
      publish({
        conversionId,
        userId,
        status: 'PENDING',
        stage: null,
        progress: 0,
        message,
        at: new Date().toISOString(),
        final: false,
        error,
      }),
  };
}

export interface ProgressReporterOptions {
  conversionId: string;
  userId: string;
  /** When the attempt started: the first stage's start. */
  startedAt: Date;
  publisher: ProgressPublisher;
  /** Writes the progress to the row; resolves with the rows changed (0: the attempt lost the row). */
  write(data: ProgressWrite): Promise<number>;
  /** Called after a write that changed nothing (find out why and stop the run). */
  onLostWrite(): Promise<void>;
  /** The run's signal: nothing is written once it is aborted. */
  signal: AbortSignal;
  /** True when a newer attempt holds the row: nothing is published then (the holder publishes). */
  superseded(): boolean;
  /** Told each stage the attempt enters (job telemetry). */
  onStage(stage: StageName): void;
  /** Least time between two progress writes within one stage, ms. */
  intervalMs: number;
  log: Logger;
}

export interface ProgressReporter {
  /** The stage the attempt is in. */
  readonly stage: StageName;
  /** Percent done, never decreasing. */
  readonly progress: number;
  /** When each stage started and finished (ISO strings), as written to the row. */
  readonly stageTimestamps: StageTimestamps;
  /** The row was claimed (with the first stage and its timestamps): the throttle starts now. */
  claimed(): void;
  /** Publishes "Processing started". */
  publishStarted(): void;
  /** The pipeline's progress callback. */
  onProgress(event: ProgressEvent): void;
  /** The result was reused: straight to FINALIZATION at 90 %. */
  reused(): void;
  /** Closes the current stage at `at` (ISO string). */
  finishStage(at: string): void;
  /** Drops a pending trailing write and waits for the writes and publishes under way. */
  settle(): Promise<void>;
  /** Drops a pending trailing write. */
  dispose(): void;
}

export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  const { conversionId, userId, publisher, signal, log } = options;
  let stage: StageName = 'VALIDATION';
  let progress = 0;
  const stageTimestamps: StageTimestamps = { VALIDATION: { startedAt: options.startedAt.toISOString() } };
  let lastWriteMs = 0;
  let trailingWrite: NodeJS.Timeout | null = null;
  let writes: Promise<unknown> = Promise.resolve();
  let publishes: Promise<unknown> = Promise.resolve();

  const queuePublish = (payload: ProgressPayload): void => {
    publishes = publishes
      .then(() => (options.superseded() ? undefined : publisher.publish(payload)))
      .catch((error: Error) => log.warn('Could not publish progress', { error: error.message }));
  };
  const clearTrailing = (): void => {
    if (trailingWrite) clearTimeout(trailingWrite);
    trailingWrite = null;
  };
  const writeProgress = (): void => {
    clearTrailing();
    lastWriteMs = Date.now();
    const data = { stage, progress, stageTimestamps: structuredClone(stageTimestamps), updatedAt: new Date() };
    writes = writes
      .then(async () => {
        if (signal.aborted) return;
        const written = await options.write(data);
        if (written === 0) await options.onLostWrite();
      })
      .catch((error: Error) => log.warn('Could not write progress', { error: error.message }));
  };
  const enter = (next: StageName, at: string): void => {
    const previous = stageTimestamps[stage];
    if (previous) previous.finishedAt = at;
    stageTimestamps[next] = { startedAt: at };
    stage = next;
    options.onStage(next);
  };

  return {
    get stage() {
      return stage;
    },
    get progress() {
      return progress;
    },
    stageTimestamps,
    claimed() {
      lastWriteMs = Date.now();
      options.onStage(stage);
    },
    publishStarted() {
      queuePublish({
        conversionId,
        userId,
        status: 'PROCESSING',
        stage,
        progress: 0,
        message: 'Processing started',
        at: options.startedAt.toISOString(),
        final: false,
        error: null,
      });
    },
    onProgress(event) {
      const at = new Date().toISOString();
      const next = stageName(event.stage);
      const changed = next !== stage;
      if (changed) enter(next, at);
      progress = Math.max(progress, Math.round(event.percent));
      queuePublish({ conversionId, userId, status: 'PROCESSING', stage, progress, message: event.message, at, final: false, error: null });
      if (changed || Date.now() - lastWriteMs >= options.intervalMs) writeProgress();
      else trailingWrite ??= setTimeout(writeProgress, options.intervalMs - (Date.now() - lastWriteMs));
    },
    reused() {
      const at = new Date().toISOString();
      enter('FINALIZATION', at);
      queuePublish({
        conversionId,
        userId,
        status: 'PROCESSING',
        stage,
        progress: 90,
        message: 'Reused the result of an identical conversion',
        at,
        final: false,
        error: null,
      });
    },
    finishStage(at) {
      const current = stageTimestamps[stage];
      if (current) current.finishedAt = at;
    },
    async settle() {
      clearTrailing();
      await writes;
      await publishes;
    },
    dispose: clearTrailing,
  };
}
