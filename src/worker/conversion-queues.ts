/**
 * The conversion queues: one Bee-Queue queue per {@link ConversionPriority} (Bee-Queue has no
 * priorities of its own), seen through one object. NORMAL keeps the historical name `conversions`, so
 * jobs queued before priorities existed are still found. Producers enqueue into the queue of the
 * row's priority; workers process all three through a gate (priority-gate.ts); counts, look-ups and
 * removals cover all three.
 *
 * Key layout (Bee-Queue's own, under its `prefix` option): `<REDIS_PREFIX>:bq:<queue name>:<key>` with
 * `jobs` (hash id → job JSON), `waiting` and `active` (lists), `delayed` (sorted set by run time),
 * `succeeded` and `failed` (sets), `stalling`, `stallBlock`, `id`.
 */
import { createRequire } from 'node:module';
import BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import type { Config } from '../platform/config.js';
import { ConversionPriority } from '../modules/conversion/conversion.entity.js';
import { CONVERSION_QUEUE, type ConversionJobData } from './conversion-job.js';

/** Queue name per priority. */
export const QUEUE_NAMES: Readonly<Record<ConversionPriority, string>> = {
  [ConversionPriority.HIGH]: `${CONVERSION_QUEUE}-high`,
  [ConversionPriority.NORMAL]: CONVERSION_QUEUE,
  [ConversionPriority.LOW]: `${CONVERSION_QUEUE}-low`,
};

/** Priorities in the order the gate serves them. */
export const PRIORITY_ORDER: readonly ConversionPriority[] = [ConversionPriority.HIGH, ConversionPriority.NORMAL, ConversionPriority.LOW];

export type BeeConversionQueue = BeeQueue<ConversionJobData>;

/** Bee-Queue's counts summed over the three queues (`checkHealth`'s shape). */
export interface QueueHealth {
  waiting: number;
  active: number;
  succeeded: number;
  failed: number;
  delayed: number;
  newestJob: number;
}

/** Where a job is, as far as Bee-Queue's keys tell. */
export type JobState = 'waiting' | 'active' | 'delayed' | 'succeeded' | 'failed' | 'orphaned';

/** The Redis key of Bee-Queue's `part` of the queue `name`. */
export function beeKey(redisPrefix: string, name: string, part: string): string {
  return `${redisPrefix}:bq:${name}:${part}`;
}

/**
 * Bee-Queue loads its Lua scripts once, when a queue connects, and runs them with EVALSHA. A Redis that
 * restarted (or whose script cache was flushed) answers NOSCRIPT to every `addJob`, `removeJob`, stalled
 * check and delayed activation until they are loaded again; reloading when the command client is
 * ready again is not enough on its own, because node_redis sends the commands it queued during the
 * outage before it reports `ready` (and more may go out while the reload's round trips run).
 * `lib/lua` is Bee-Queue 2's internal script cache (`scripts`: name → source; no public API does this).
 */
const beeQueueLua = createRequire(import.meta.url)('bee-queue/lib/lua/index.js') as { scripts: Record<string, string>; buildCache(client: unknown): Promise<unknown> };

/** The node_redis (v3) command client Bee-Queue makes, as far as it is used here. */
interface BeeRedisClient {
  on(event: 'ready', listener: () => void): void;
  eval(...args: unknown[]): boolean;
}

/** The Bee-Queue internals the script guard uses (Bee-Queue 2.0: queue.js). */
interface BeeQueueInternals {
  client: BeeRedisClient | null;
  /** Runs the script named `args[0]` with EVALSHA on `commandable` (the client, or a batch in `saveAll`). */
  _evalScriptOn(commandable: unknown, args: unknown[]): Promise<unknown>;
}

/** True for Redis's NOSCRIPT reply: the script is not in the server's cache, so nothing ran. */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * Makes every script call of `queue` survive a Redis that lost its script cache: a call answered
 * NOSCRIPT is sent again at once as EVAL with the script's source (safe, as NOSCRIPT means the script
 * did not run; EVAL also caches it again). Without this, the callers of those scripts (Bee-Queue's
 * stalled check, delayed activation, `Job#save`, `removeJob`) fail, and some of them (the stalled
 * check's timer) leave the rejection unhandled. Call right after constructing the queue.
 */
export function retryScriptsOnNoScript(queue: BeeConversionQueue): void {
  const internals = queue as unknown as BeeQueueInternals;
  const evalScriptOn = internals._evalScriptOn.bind(queue);
  internals._evalScriptOn = (commandable, args) => {
    // Bee-Queue replaces the name with the sha and appends a callback in place: copy first.
    const [name, ...scriptArgs] = args as [string, ...unknown[]];
    return evalScriptOn(commandable, args).catch((error: unknown) => {
      const client = internals.client;
      const source = beeQueueLua.scripts[name];
      if (!isNoScriptError(error) || !client || source === undefined) throw error;
      // On the command client even when the call was part of a batch: the batch has been sent already.
      return new Promise((resolve, reject) => {
        client.eval(source, ...scriptArgs, (evalError: Error | null, reply: unknown) => (evalError ? reject(evalError) : resolve(reply)));
      });
    });
  };
}

/**
 * Reloads Bee-Queue's scripts whenever `queue`'s command client becomes ready again, so that after a
 * Redis restart only the calls already in flight take the EVAL path of {@link retryScriptsOnNoScript}.
 * Call after `ready()` (the client exists from then on).
 */
export function keepScriptsLoaded(queue: BeeConversionQueue, onError: (error: Error) => void): void {
  const client = (queue as unknown as BeeQueueInternals).client;
  client?.on('ready', () => {
    beeQueueLua.buildCache(client).catch(onError);
  });
}

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
 * Creates the three queues with `settings` (beeQueueSettings from services.ts, plus a worker's
 * options), waits until they are connected and keeps their scripts working across Redis restarts
 * ({@link retryScriptsOnNoScript}, {@link keepScriptsLoaded}).
 */
export async function createConversionQueues(settings: BeeQueue.QueueSettings, onError: (error: Error) => void): Promise<ConversionQueues> {
  const byPriority = Object.fromEntries(PRIORITY_ORDER.map((priority) => [priority, new BeeQueue<ConversionJobData>(QUEUE_NAMES[priority], settings)])) as Record<
    ConversionPriority,
    BeeConversionQueue
  >;
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

/**
 * Where the job `jobId` of the queue `name` is, read from Bee-Queue's keys in one round trip; null
 * when Bee-Queue has no record of it. `orphaned`: a record in no list or set (nothing will run it).
 */
export async function jobState(redis: Redis, config: Pick<Config, 'redisPrefix'>, name: string, jobId: string): Promise<JobState | null> {
  const key = (part: string) => beeKey(config.redisPrefix, name, part);
  const results = await redis
    .multi()
    .hexists(key('jobs'), jobId)
    .sismember(key('succeeded'), jobId)
    .sismember(key('failed'), jobId)
    .zscore(key('delayed'), jobId)
    .lpos(key('waiting'), jobId)
    .lpos(key('active'), jobId)
    .exec();
  if (!results) throw new Error('Redis transaction aborted');
  for (const [error] of results) if (error) throw error;
  const [exists, succeeded, failed, delayed, waiting, active] = results.map(([, value]) => value);
  if (!exists) {
    // A job id still listed without its record (removed mid-flight) counts as missing too.
    return null;
  }
  if (Number(succeeded) === 1) return 'succeeded';
  if (Number(failed) === 1) return 'failed';
  if (active !== null) return 'active';
  if (waiting !== null) return 'waiting';
  if (delayed !== null) return 'delayed';
  return 'orphaned';
}
