/**
 * The one file that knows Bee-Queue 2.0's internals (docs/decisions.md, "Bee-Queue behind one
 * adapter"). Everything else uses Bee-Queue's public API (`createJob`, `process`, `getJob`,
 * `removeJob`, `checkHealth`, `checkStalledJobs`) or the functions below. What is relied on, and
 * pinned by test/integration/bee-queue-adapter.test.ts:
 *
 * - Key layout under the `prefix` option: `<REDIS_PREFIX>:bq:<queue name>:<part>` with `jobs` (hash
 *   id → job JSON), `waiting` and `active` (lists; a worker takes from the right of `waiting`),
 *   `delayed` (sorted set by run time), `succeeded` and `failed` (sets), `stalling`, `stallBlock`, `id`.
 * - `lib/lua/index.js`: the script sources by name and `buildCache(client)`; `queue._evalScriptOn`
 *   runs every script; `queue.client` is the node_redis command client.
 * - `checkStalledJobs()` without a callback returns a promise (our own timer drives it).
 */
import { createRequire } from 'node:module';
import type BeeQueue from 'bee-queue';
import type { Redis } from 'ioredis';
import type { Config } from '../platform/config.js';

/**
 * Bee-Queue settings for the conversion queues. Keys live under `<REDIS_PREFIX>:bq:<queue name>:*`
 * (Bee-Queue's `prefix` option), so tests and deployments sharing a Redis never see each other's jobs.
 * - `producer`: no blocking client, no event subscription, no job map (an API replica would leak
 *   one entry per enqueued job otherwise).
 * - `worker`: processes jobs, publishes Bee-Queue events, activates delayed jobs (retry backoff).
 */
export function beeQueueSettings(config: Pick<Config, 'redisUrl' | 'redisPrefix'>, mode: 'producer' | 'worker'): BeeQueue.QueueSettings {
  // node_redis's own reconnection delay grows by 1.7× per attempt without a cap, so after a long
  // outage a queue would reconnect minutes after Redis is back; capped like createRedis's instead.
  const redis = { url: config.redisUrl, retry_strategy: ({ attempt }: { attempt: number }) => Math.min(attempt * 200, 2000) };
  const common = { prefix: `${config.redisPrefix}:bq`, redis: redis as BeeQueue.QueueSettings['redis'] };
  if (mode === 'producer') {
    return { ...common, isWorker: false, getEvents: false, sendEvents: false, storeJobs: false, activateDelayedJobs: false };
  }
  return { ...common, isWorker: true, getEvents: false, sendEvents: true, storeJobs: false, activateDelayedJobs: true };
}

/** Where a job is, as far as Bee-Queue's keys tell. */
export type JobState = 'waiting' | 'active' | 'delayed' | 'succeeded' | 'failed' | 'orphaned';

/** The Redis key of Bee-Queue's `part` of the queue `name`. */
export function beeKey(redisPrefix: string, name: string, part: string): string {
  return `${redisPrefix}:bq:${name}:${part}`;
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

/**
 * Bee-Queue loads its Lua scripts once, when a queue connects, and runs them with EVALSHA. A Redis that
 * restarted (or whose script cache was flushed) answers NOSCRIPT to every `addJob`, `removeJob`, stalled
 * check and delayed activation until they are loaded again; reloading when the command client is
 * ready again is not enough on its own, because node_redis sends the commands it queued during the
 * outage before it reports `ready` (and more may go out while the reload's round trips run).
 * `lib/lua` is Bee-Queue 2's internal script cache (`scripts`: name → source; no public API does this).
 */
const beeQueueLua = createRequire(import.meta.url)('bee-queue/lib/lua/index.js') as {
  scripts: Record<string, string>;
  buildCache(client: unknown): Promise<unknown>;
};

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
export function retryScriptsOnNoScript(queue: BeeQueue): void {
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
export function keepScriptsLoaded(queue: BeeQueue, onError: (error: Error) => void): void {
  const client = (queue as unknown as BeeQueueInternals).client;
  client?.on('ready', () => {
    beeQueueLua.buildCache(client).catch(onError);
  });
}

/** KEYS: active, waiting, stalling of one queue; ARGV[1] job id. Puts a job this worker holds back at the head of the line. */
const HAND_BACK_SCRIPT = `
if redis.call('LREM', KEYS[1], 0, ARGV[1]) > 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('RPUSH', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

/** Moves job `jobId` of the queue `name` from `active` back to the head of `waiting`; false when it was not active. */
export async function handBackJob(redis: Pick<Redis, 'eval'>, redisPrefix: string, name: string, jobId: string): Promise<boolean> {
  const key = (part: string) => beeKey(redisPrefix, name, part);
  return Number(await redis.eval(HAND_BACK_SCRIPT, 3, key('active'), key('waiting'), key('stalling'), jobId)) === 1;
}

/** KEYS[1] the finished set (succeeded|failed), KEYS[2] the jobs hash; ARGV[1] the job id. 1 when removed. */
const REMOVE_FINISHED_SCRIPT = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

/**
 * Removes the record of job `jobId` of the queue `name` while it is still in the `outcome` set (a job
 * queued again since under the same id keeps its record); true when removed.
 */
export async function removeFinishedJob(
  redis: Pick<Redis, 'eval'>,
  redisPrefix: string,
  name: string,
  outcome: 'succeeded' | 'failed',
  jobId: string,
): Promise<boolean> {
  return (
    Number(await redis.eval(REMOVE_FINISHED_SCRIPT, 2, beeKey(redisPrefix, name, outcome), beeKey(redisPrefix, name, 'jobs'), jobId)) === 1
  );
}

/**
 * Runs Bee-Queue's stalled-job check on each of `queues` now and then every `intervalMs`, one round at a
 * time; a failed check (Redis down or restarting) is reported to `onError` and tried again next
 * round. Not Bee-Queue's own `checkStalledJobs(interval, cb)` timer: Bee-Queue 2.0 hands the callback
 * the error but also leaves the promise it chains for the next round rejected and unobserved, so every
 * check that failed during a Redis outage became an unhandled rejection (which ends a Node process).
 */
export function startStalledChecks<K extends string>(
  queues: readonly { key: K; queue: Pick<BeeQueue, 'checkStalledJobs'> }[],
  intervalMs: number,
  onError: (error: Error, key: K) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let round: Promise<void> | null = null;
  const check = async (): Promise<void> => {
    await Promise.all(
      queues.map(async ({ key, queue }) => {
        try {
          await queue.checkStalledJobs();
        } catch (error) {
          onError(error as Error, key);
        }
      }),
    );
  };
  const next = (): void => {
    timer = null;
    round = check().finally(() => {
      round = null;
      if (!stopped) {
        timer = setTimeout(next, intervalMs);
        timer.unref();
      }
    });
  };
  next();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await round;
    },
  };
}
