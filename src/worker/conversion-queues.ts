/**
 * The conversion queues: one Bee-Queue queue per {@link ConversionPriority} (Bee-Queue has no
 * priorities of its own), seen through one object. NORMAL keeps the historical name `conversions`, so
 * jobs queued before priorities existed are still found. Producers enqueue into the queue of the
 * row's priority; workers process all three through a gate (priority-gate.ts); counts, look-ups and
 * removals cover all three. Only Bee-Queue's public API is used here; what this service relies on
 * beyond it (key layout, scripts, the stalled check) is in bee-queue.adapter.ts.
 */
import BeeQueue from 'bee-queue';
import { ConversionPriority } from '../modules/conversion/conversion.entity.js';
import type { QueueHealth } from '../platform/job-queue.js';
import { CONVERSION_QUEUE, type ConversionJobData } from '../modules/conversion/conversion-job.js';
import { keepScriptsLoaded, retryScriptsOnNoScript } from './bee-queue.adapter.js';

/** Queue name per priority. */
export const QUEUE_NAMES: Readonly<Record<ConversionPriority, string>> = {
  [ConversionPriority.HIGH]: `${CONVERSION_QUEUE}-high`,
  [ConversionPriority.NORMAL]: CONVERSION_QUEUE,
  [ConversionPriority.LOW]: `${CONVERSION_QUEUE}-low`,
};

/** Priorities in the order the gate serves them. */
export const PRIORITY_ORDER: readonly ConversionPriority[] = [ConversionPriority.HIGH, ConversionPriority.NORMAL, ConversionPriority.LOW];

export type BeeConversionQueue = BeeQueue<ConversionJobData>;

/** The three conversion queues as one. Built by {@link createConversionQueues}. */
export class ConversionQueues {
  constructor(readonly byPriority: Readonly<Record<ConversionPriority, BeeConversionQueue>>) {}

  /** The queue of `priority`. */
  of(priority: ConversionPriority): BeeConversionQueue {
    return this.byPriority[priority];
  }

  /** All three, HIGH first. */
  all(): BeeConversionQueue[] {
    return PRIORITY_ORDER.map((priority) => this.byPriority[priority]);
  }

  /** A job on the NORMAL queue (what callers that know no priority get; see `enqueueConversion`). */
  createJob(data: ConversionJobData): BeeQueue.Job<ConversionJobData> {
    return this.byPriority[ConversionPriority.NORMAL].createJob(data);
  }

  /** Bee-Queue's counts of the three queues, summed. */
  async checkHealth(): Promise<QueueHealth> {
    const counts = await Promise.all(this.all().map((queue) => queue.checkHealth()));
    const sum: QueueHealth = { waiting: 0, active: 0, succeeded: 0, failed: 0, delayed: 0, newestJob: 0 };
    for (const count of counts) {
      sum.waiting += count.waiting;
      sum.active += count.active;
      sum.succeeded += count.succeeded;
      sum.failed += count.failed;
      sum.delayed += count.delayed;
      sum.newestJob = Math.max(sum.newestJob, Number(count.newestJob ?? 0));
    }
    return sum;
  }

  /**
   * The job with this id in whichever queue holds it (HIGH first); null when none does. Typed as
   * Bee-Queue types its own `getJob` (which also resolves null for an unknown id).
   */
  async getJob(jobId: string): Promise<BeeQueue.Job<ConversionJobData>> {
    for (const queue of this.all()) {
      const job = (await queue.getJob(jobId)) as BeeQueue.Job<ConversionJobData> | null;
      if (job) return job;
    }
    return null as unknown as BeeQueue.Job<ConversionJobData>;
  }

  /** Removes the job with this id from all three queues (its record and every list or set it is in). */
  async removeJob(jobId: string): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.removeJob(jobId)));
  }

  on(event: 'error', listener: (error: Error) => void): this {
    for (const queue of this.all()) queue.on(event, listener);
    return this;
  }

  async ready(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.ready()));
  }

  async close(timeoutMs?: number): Promise<void> {
    await Promise.all(this.all().map((queue) => (timeoutMs === undefined ? queue.close() : queue.close(timeoutMs))));
  }
}

/**
 * Creates the three queues with `settings` (beeQueueSettings from bee-queue.adapter.ts, plus a worker's
 * options), waits until they are connected and keeps their scripts working across Redis restarts
 * ({@link retryScriptsOnNoScript}, {@link keepScriptsLoaded}).
 */
export async function createConversionQueues(settings: BeeQueue.QueueSettings, onError: (error: Error) => void): Promise<ConversionQueues> {
  const byPriority = Object.fromEntries(
    PRIORITY_ORDER.map((priority) => [priority, new BeeQueue<ConversionJobData>(QUEUE_NAMES[priority], settings)]),
  ) as Record<ConversionPriority, BeeConversionQueue>;
  const queues = new ConversionQueues(byPriority);
  for (const queue of queues.all()) retryScriptsOnNoScript(queue);
  queues.on('error', onError);
  try {
    await queues.ready();
  } catch (error) {
    await queues.close(1000).catch(() => undefined);
    throw error;
  }
  for (const queue of queues.all()) keepScriptsLoaded(queue, onError);
  return queues;
}
