/**
 * The job queue as the rest of the service sees it: a port. `Services.queue` is one, made by the
 * composition root (src/services.ts) from the worker's Bee-Queue queues (src/worker/conversion-queues.ts),
 * so that nothing below the worker depends on the queue library or on the worker.
 */

/** What a conversion job carries: the id of the row it works on (the row is the truth) and the enqueuing trace context. */
export interface ConversionJobData {
  conversionId: string;
  /** W3C trace context of the enqueuing request (traceparent/tracestate), when tracing is on. */
  traceContext?: Record<string, string>;
}

/** What a queue offers to enqueue one job (Bee-Queue's `createJob` chain). */
export interface JobQueue {
  createJob(data: ConversionJobData): {
    setId(id: string): unknown;
    retries(n: number): unknown;
    backoff(strategy: string, delayFactor?: number): unknown;
    save(): Promise<unknown>;
  };
}

/** The queue's counts (summed over every priority). */
export interface QueueHealth {
  waiting: number;
  active: number;
  succeeded: number;
  failed: number;
  delayed: number;
  newestJob: number;
}

/** A job as the queue holds it. */
export interface QueuedJob {
  id: string;
  data: ConversionJobData;
  /** The queue's own job options (`retries`, `backoff`...). */
  options: Record<string, unknown>;
}

/** The queues of every priority as one: enqueue into one priority, count, look up and remove across all. */
export interface ConversionQueuePort extends JobQueue {
  /** The queue of `priority` (a ConversionPriority). `createJob` on the port itself uses NORMAL. */
  of(priority: string): JobQueue;
  /** The job with this id in whichever queue holds it; null (typed as the queue library types it) when none does. */
  getJob(jobId: string): Promise<QueuedJob>;
  /** Removes the job with this id from every queue. */
  removeJob(jobId: string): Promise<void>;
  checkHealth(): Promise<QueueHealth>;
  close(timeoutMs?: number): Promise<void>;
}
