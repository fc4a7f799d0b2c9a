/**
 * The worker process's job loop. Three Bee-Queue consumers, one per priority queue
 * (conversion-queues.ts), hand their jobs to one in-process gate (priority-gate.ts): `WORKER_CONCURRENCY`
 * conversions run at once, a free slot goes to the highest priority waiting, and each start first
 * passes the Redis start limiter shared by all workers (start-limiter.ts; JOB_START_LIMIT per
 * JOB_START_WINDOW_MS). Each conversion runs in its own thread (so the stall heartbeats keep beating)
 * through {@link createConversionProcessor}; its per-job timeout starts there, after the gate.
 *
 * Around the jobs: finish times are recorded for the retention sweep (queue-retention.ts); jobs that
 * fail for good (other than VALIDATION_ERROR) go to the dead-letter list (dead-letter.ts); and, one
 * worker at a time, the retention sweep and the reconciler (reconciler.ts) run periodically.
 */
import type BeeQueue from 'bee-queue';
import { AppError } from '../audio/errors.js';
import { redisKey } from '../platform/redis.js';
import type { Services } from '../platform/services.js';
import { beeQueueSettings, handBackJob, startStalledChecks } from './bee-queue.adapter.js';
import { ConversionPriority } from '../modules/conversion/conversion.entity.js';
import { recordFinish, type ConversionJobData } from '../modules/conversion/conversion-job.js';
import { createConversionQueues, PRIORITY_ORDER, QUEUE_NAMES, type ConversionQueues } from './conversion-queues.js';
import { createConversionProcessor, type ConversionProcessor, type ConversionProcessorDeps } from './conversion.processor.js';
import { toJobError } from './conversion-attempt.js';
import { DeadLetters } from '../modules/admin/dead-letter.store.js';
import { startPeriodicTask, type PeriodicTask } from './periodic-task.js';
import { createPriorityGate } from './priority-gate.js';
import { sweepQueueRecords, type SweepResult } from './queue-retention.js';
import { reconcile, type ReconcileResult } from './reconciler.js';
import { createStartLimiter } from './start-limiter.js';
import { createThreadPool, type ThreadPool, type ThreadPoolOptions } from './thread-pool.js';
import { createProviderHost } from '../platform/providers/create-provider-host.js';
import type { ProviderHost } from '../platform/providers/provider-host.js';
import { publishBreakerStates } from '../platform/providers/breaker-publisher.js';

export interface WorkerOptions {
  /**
   * Bee-Queue's stall interval, ms: a job whose worker has not renewed its lock for this long is
   * handed to another worker. The lock is renewed every half interval from this process's event
   * loop, which the pipeline threads keep free. Default `JOB_STALL_INTERVAL_MS` (5000).
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
  /**
   * Remote providers every job may use, shared by all of them (one breaker per provider for the
   * process). Default: the configured ones (`createProviderHost(config)`), closed by `stop()`; a host
   * given here is the caller's to close.
   */
  providers?: ProviderHost;
  /** Overrides for the job handler (tests: a storage wrapper, an instrumented `runPipeline`). */
  processor?: Partial<Omit<ConversionProcessorDeps, 'config' | 'orm' | 'logger'>>;
}

export interface RunningWorker {
  /** The NORMAL queue's consumer (the queue named `conversions`). */
  queue: BeeQueue<ConversionJobData>;
  /** The consumers of all three priority queues. */
  queues: ConversionQueues;
  processor: ConversionProcessor;
  /** The warm pipeline threads the jobs run in. */
  threads: ThreadPool;
  /** Runs a retention sweep now (unless another worker holds its lock: then null). */
  sweepNow(): Promise<void>;
  /** Runs a reconciler round now (unless another worker holds its lock). */
  reconcileNow(): Promise<void>;
  /**
   * Stops taking jobs and waits for the running ones (at most `stopTimeoutMs`); conversions still
   * running then are aborted and put back to PENDING. Jobs this worker had fetched but not started,
   * and the aborted ones, go back to the head of their queue at once (else Bee-Queue's stalled-job
   * check of another worker would hand them back within two stall intervals). Then the threads are
   * closed. Safe to call twice. Does not close `services`.
   */
  stop(): Promise<void>;
}

export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/** How long closing the queues waits for handlers once no conversion runs any more (only held jobs remain), ms. */
const CLOSE_DRAIN_MS = 100;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Starts processing conversion jobs with `services` (made with role `worker` or `all`). */
export async function startWorker(services: Services, options: WorkerOptions = {}): Promise<RunningWorker> {
  const { config, logger } = services;
  const log = logger.child({ component: 'worker' });
  const prefix = config.redisPrefix;
  const providers = options.providers ?? createProviderHost(config, { logger: log, metrics: services.metrics });
  // Every process's breaker states go to Redis, where `stats` reads them.
  const breakerPublisher = publishBreakerStates(providers, services.redis, prefix, { logger: log });
  const threads = createThreadPool({ providers, maxHeapMb: config.pipelineThreadHeapMb, ...options.threads });
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
  const stallInterval = options.stallIntervalMs ?? config.jobStallIntervalMs;
  let stopping = false;
  const queues = await createConversionQueues(
    {
      ...beeQueueSettings(config, 'worker'),
      stallInterval,
      // Delayed jobs are how retries wait out their backoff.
      activateDelayedJobs: true,
      // Kept, so `stats` can report Bee-Queue's succeeded/failed counts, and so a finished job's id
      // stays taken: enqueueing a finished conversion again adds no job. The retention sweep removes
      // them after JOB_KEEP_COMPLETED_SECONDS / JOB_KEEP_FAILED_SECONDS.
      removeOnSuccess: false,
      removeOnFailure: false,
    },
    (error) => {
      // After stop, held jobs' handlers settle on a closed queue, which Bee-Queue reports: expected.
      if (stopping && /unable to update the status/.test(error.message)) return;
      log.warn('Queue error', { error: error.message });
    },
  );

  const limiter = createStartLimiter(services.redis, {
    limit: config.jobStartLimit,
    windowMs: config.jobStartWindowMs,
    key: redisKey(prefix, 'queue', 'starts'),
    logger: log,
  });
  const gate = createPriorityGate(config.workerConcurrency, (signal) => limiter.acquire(signal));
  const deadLetters = new DeadLetters(services.redis, prefix);
  /** Jobs this worker fetched whose handler has not settled: id → priority, and whether it got a slot. */
  const owned = new Map<string, { priority: ConversionPriority; started: boolean }>();
  /** Jobs whose handler settled after the queues closed (Bee-Queue could not record them): handed back at stop. */
  const settledAfterClose: { id: string; priority: ConversionPriority }[] = [];
  let queuesClosed = false;

  const onFinalFailure = async (priority: ConversionPriority, job: BeeQueue.Job<ConversionJobData>, thrown: unknown): Promise<void> => {
    const error = thrown instanceof AppError ? thrown : toJobError(thrown);
    const failedAt = new Date();
    await recordFinish(services.redis, prefix, 'failed', priority, job.id, failedAt.getTime());
    if (error.code === 'VALIDATION_ERROR') return;
    const stacktraces = (job.options as { stacktraces?: unknown[] }).stacktraces;
    await deadLetters.record({
      conversionId: job.data.conversionId,
      priority,
      error: {
        code: error.code,
        ...(error.reason !== error.code ? { reason: error.reason } : {}),
        message: error.message,
        retryable: error.retryable,
      },
      attempts: Math.max(1, stacktraces?.length ?? 1),
      failedAt: failedAt.toISOString(),
    });
    services.metrics?.deadLetters.inc();
    log.warn('Conversion job failed for good; added to the dead letters', {
      conversionId: job.data.conversionId,
      code: error.code,
      priority,
    });
  };

  for (const priority of PRIORITY_ORDER) {
    const queue = queues.of(priority);
    queue.on('stalled', (jobId) => {
      services.metrics?.jobsStalled.inc();
      log.warn('Stalled job handed back to the queue', { jobId, priority });
    });
    queue.on('succeeded', (job) => {
      recordFinish(services.redis, prefix, 'succeeded', priority, job.id).catch((error: Error) =>
        log.warn('Could not record a finish time', { jobId: job.id, error: error.message }),
      );
    });
    // Bee-Queue emits `failed` for retries too (then the job's status is `retrying`).
    queue.on('failed', (job, error) => {
      if ((job as { status?: string }).status !== 'failed') return;
      onFinalFailure(priority, job, error).catch((recordError: Error) =>
        log.warn('Could not record a failed job', { jobId: job.id, error: recordError.message }),
      );
    });
    // One more than the slots, so each level keeps a job at the gate while the slots are busy
    // (priority-gate.ts states the trade-off).
    queue.process(config.workerConcurrency + 1, async (job) => {
      const mine = { priority, started: false };
      owned.set(job.id, mine);
      try {
        const release = await gate.enter(priority);
        mine.started = true;
        try {
          return await processor.process(job);
        } finally {
          release();
        }
      } finally {
        owned.delete(job.id);
        if (queuesClosed && mine.started) settledAfterClose.push({ id: job.id, priority });
      }
    });
  }

  const stalledChecks = startStalledChecks(
    PRIORITY_ORDER.map((priority) => ({ key: priority, queue: queues.of(priority) })),
    options.stalledCheckIntervalMs ?? stallInterval,
    (error, priority) => {
      if (!stopping) log.warn('Stalled-job check failed', { error: error.message, priority });
    },
  );

  const sweep = startPeriodicTask({
    name: 'Queue retention sweep',
    redis: services.redis,
    lockKey: redisKey(prefix, 'lock', 'queue-sweep'),
    intervalMs: config.queueSweepIntervalMs,
    logger: log,
    task: (): Promise<SweepResult> =>
      sweepQueueRecords({
        redis: services.redis,
        redisPrefix: prefix,
        keepCompletedSeconds: config.jobKeepCompletedSeconds,
        keepFailedSeconds: config.jobKeepFailedSeconds,
        deadLetters,
        logger: log,
      }),
  });
  const reconciler: PeriodicTask = startPeriodicTask({
    name: 'Reconciler',
    redis: services.redis,
    lockKey: redisKey(prefix, 'lock', 'reconcile'),
    intervalMs: config.reconcileIntervalMs,
    logger: log,
    task: (): Promise<ReconcileResult> =>
      reconcile({
        config,
        orm: services.orm,
        redis: services.redis,
        queue: services.queue,
        storage: services.storage,
        pubsub: services.pubsub,
        deadLetters,
        logger: log,
        metrics: services.metrics,
      }),
  });
  log.info('Worker started', {
    concurrency: config.workerConcurrency,
    startLimit: config.jobStartLimit,
    startWindowMs: config.jobStartWindowMs,
  });

  const handBack = async (jobs: { id: string; priority: ConversionPriority }[]): Promise<void> => {
    for (const { id, priority } of jobs) {
      const name = QUEUE_NAMES[priority];
      try {
        await handBackJob(services.redis, prefix, name, id);
      } catch (error) {
        // The stalled-job check of another worker hands it back instead.
        log.warn('Could not hand a job back', { jobId: id, error: (error as Error).message });
      }
    }
  };

  let stopped: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    stopping = true;
    const timeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
    gate.close();
    await Promise.all([sweep.stop(), reconciler.stop(), stalledChecks.stop()]);
    const deadline = Date.now() + timeoutMs;
    while (gate.active() > 0 && Date.now() < deadline) await delay(50);
    // Only held jobs (never started) may remain unsettled now, unless the wait timed out.
    await queues.close(CLOSE_DRAIN_MS).catch(() => undefined);
    queuesClosed = true;
    if (processor.running() > 0) {
      log.warn('Conversions still running at shutdown; aborting them', { running: processor.running() });
      processor.abortAll();
      // Give the aborted runs the thread's grace period to put their rows back.
      const graceEnd = Date.now() + 5000;
      while (processor.running() > 0 && Date.now() < graceEnd) await delay(50);
    }
    const held = [...owned].filter(([, job]) => !job.started).map(([id, job]) => ({ id, priority: job.priority }));
    await handBack([...held, ...settledAfterClose]);
    gate.rejectWaiting();
    await threads.close();
    await breakerPublisher.stop();
    if (!options.providers) providers.close();
    log.info('Worker stopped', { handedBack: held.length + settledAfterClose.length });
  };
  return {
    queue: queues.of(ConversionPriority.NORMAL),
    queues,
    processor,
    threads,
    sweepNow: () => sweep.runNow(),
    reconcileNow: () => reconciler.runNow(),
    stop: () => (stopped ??= stop()),
  };
}
