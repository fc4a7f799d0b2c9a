/**
 * The worker process's job loop: a Bee-Queue worker on the conversion queue running
 * `WORKER_CONCURRENCY` conversions at once, each in its own thread (so the stall heartbeats keep
 * beating), through {@link createConversionProcessor}.
 */
import BeeQueue from 'bee-queue';
import { beeQueueSettings, type Services } from '../platform/services.js';
import { CONVERSION_QUEUE, type ConversionJobData } from './conversion-job.js';
import { createConversionProcessor, type ConversionProcessor, type ConversionProcessorDeps } from './conversion.processor.js';
import { createThreadPool, type ThreadPool, type ThreadPoolOptions } from './thread-pool.js';

export interface WorkerOptions {
  /**
   * Bee-Queue's stall interval, ms: a job whose worker has not renewed its lock for this long is
   * handed to another worker. The lock is renewed every half interval from this process's event
   * loop, which the pipeline threads keep free. Default 5000.
   */
  stallIntervalMs?: number;
  /**
   * How often this worker looks for stalled jobs (of any worker) and re-queues them, ms; default the
   * stall interval. Bee-Queue leaves the check to its users; every worker doing it is cheap and means
   * a crashed worker's jobs are picked up within about two intervals.
   */
  stalledCheckIntervalMs?: number;
  /** How long {@link RunningWorker.stop} waits for running conversions before aborting them, ms; default 30 000. */
  stopTimeoutMs?: number;
  /** The pipeline threads (reuse, retirement, abort grace). */
  threads?: ThreadPoolOptions;
  /** Overrides for the job handler (tests: a storage wrapper, an instrumented `runPipeline`). */
  processor?: Partial<Omit<ConversionProcessorDeps, 'config' | 'orm' | 'logger'>>;
}

export interface RunningWorker {
  queue: BeeQueue<ConversionJobData>;
  processor: ConversionProcessor;
  /** The warm pipeline threads the jobs run in. */
  threads: ThreadPool;
  /**
   * Stops taking jobs and waits for the running ones (at most `stopTimeoutMs`); conversions still
   * running then are aborted and put back to PENDING, and their jobs are picked up again by another
   * worker through Bee-Queue's stalled-job check. Then the threads are closed. Safe to call twice.
   * Does not close `services`.
   */
  stop(): Promise<void>;
}

export const DEFAULT_STALL_INTERVAL_MS = 5000;
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** Starts processing conversion jobs with `services` (made with role `worker` or `all`). */
export async function startWorker(services: Services, options: WorkerOptions = {}): Promise<RunningWorker> {
  const { config, logger } = services;
  const log = logger.child({ component: 'worker' });
  const threads = createThreadPool(options.threads);
  const processor = createConversionProcessor({
    config,
    runPipeline: threads.run,
    orm: services.orm,
    storage: options.processor?.storage ?? services.storage,
    pubsub: options.processor?.pubsub ?? services.pubsub,
    logger: log,
    metrics: services.metrics,
    redis: services.redis,
    ...options.processor,
  });
  const queue = new BeeQueue<ConversionJobData>(CONVERSION_QUEUE, {
    ...beeQueueSettings(config, 'worker'),
    stallInterval: options.stallIntervalMs ?? config.jobStallIntervalMs,
    // Delayed jobs are how retries wait out their backoff.
    activateDelayedJobs: true,
    // Kept, so `stats` can report Bee-Queue's succeeded/failed counts, and so a finished job's id
    // stays taken: enqueueing a finished conversion again adds no job. The cost is one small hash per
    // job in Redis until a retention sweep removes old ones (not built yet).
    removeOnSuccess: false,
    removeOnFailure: false,
  });
  queue.on('error', (error) => log.warn('Queue error', { error: error.message }));
  queue.on('stalled', (jobId) => log.warn('Stalled job handed back to the queue', { jobId }));
  await queue.ready();
  const stallInterval = options.stallIntervalMs ?? config.jobStallIntervalMs;
  queue.checkStalledJobs(options.stalledCheckIntervalMs ?? stallInterval, (error) => {
    if (error) log.warn('Stalled-job check failed', { error: error.message });
  });
  queue.process(config.workerConcurrency, (job) => processor.process(job));
  log.info('Worker started', { concurrency: config.workerConcurrency });

  let stopped: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    const timeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    try {
      // Bee-Queue stops taking jobs at once and waits for the running ones up to the timeout.
      await queue.close(timeoutMs);
    } catch (error) {
      log.warn('Conversions still running at shutdown; aborting them', { running: processor.running(), error: (error as Error).message });
      processor.abortAll();
      // Give the aborted runs the thread's grace period to put their rows back.
      const deadline = Date.now() + 5000;
      while (processor.running() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await threads.close();
    log.info('Worker stopped');
  };
  return { queue, processor, threads, stop: () => (stopped ??= stop()) };
}
