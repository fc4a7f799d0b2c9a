/**
 * Retention of finished jobs' queue records. Workers keep Bee-Queue's records of succeeded and failed
 * jobs (`removeOnSuccess/Failure: false`: the counts in `stats`, and a finished job's id stays taken),
 * but Bee-Queue records no finish times, so the worker records them itself: one sorted set per outcome,
 * `<REDIS_PREFIX>:queue:finished:<succeeded|failed>`, member `<priority>:<job id>`, scored by the finish
 * time (ms). The sweep removes records older than JOB_KEEP_COMPLETED_SECONDS (succeeded) or
 * JOB_KEEP_FAILED_SECONDS (failed, with their dead-letter entries), one worker at a time
 * (periodic-task.ts).
 *
 * A record is removed only while the job is still in its finished set (one script: `SREM` and `HDEL`
 * only when `SISMEMBER`), so a job re-queued since (same id: requeueDeadLetter, the reconciler) is
 * never swept away from under its new run.
 */
import type { Redis } from 'ioredis';
import { ConversionPriority } from '../modules/conversion/conversion.entity.js';
import type { Logger } from '../platform/logger.js';
import { redisKey } from '../platform/redis.js';
import { beeKey, QUEUE_NAMES } from './conversion-queues.js';
import type { DeadLetters } from './dead-letter.js';

export type FinishOutcome = 'succeeded' | 'failed';

/** KEYS[1] the finished set (succeeded|failed), KEYS[2] the jobs hash; ARGV[1] the job id. 1 when removed. */
const REMOVE_FINISHED_SCRIPT = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('SREM', KEYS[1], ARGV[1])
  redis.call('HDEL', KEYS[2], ARGV[1])
  return 1
end
return 0
`;

/** The sorted set of finish times of `outcome`. */
export function finishedKey(redisPrefix: string, outcome: FinishOutcome): string {
  return redisKey(redisPrefix, 'queue', 'finished', outcome);
}

function member(priority: ConversionPriority, jobId: string): string {
  return `${priority}:${jobId}`;
}

/** Records that the job `jobId` of `priority` finished with `outcome` at `atMs` (epoch ms). */
export async function recordFinish(redis: Pick<Redis, 'zadd'>, redisPrefix: string, outcome: FinishOutcome, priority: ConversionPriority, jobId: string, atMs = Date.now()): Promise<void> {
  await redis.zadd(finishedKey(redisPrefix, outcome), atMs, member(priority, jobId));
}

/** Forgets the finish times of `jobId` (any outcome, any priority): its job is being queued again. */
export async function forgetFinish(redis: Pick<Redis, 'zrem'>, redisPrefix: string, jobId: string): Promise<void> {
  const members = Object.values(ConversionPriority).map((priority) => member(priority, jobId));
  await Promise.all((['succeeded', 'failed'] as const).map((outcome) => redis.zrem(finishedKey(redisPrefix, outcome), ...members)));
}

export interface SweepOptions {
  redis: Redis;
  redisPrefix: string;
  keepCompletedSeconds: number;
  keepFailedSeconds: number;
  deadLetters: DeadLetters;
  /** The present, epoch ms; default `Date.now()`. */
  nowMs?: number;
  /** Records handled per Redis round trip; default 500. */
  batchSize?: number;
  logger?: Pick<Logger, 'info'>;
}

export interface SweepResult {
  /** Succeeded jobs' records removed. */
  completed: number;
  /** Failed jobs' records removed. */
  failed: number;
  deadLetters: number;
}

/** One retention sweep (see the module comment). */
export async function sweepQueueRecords(options: SweepOptions): Promise<SweepResult> {
  const { redis, redisPrefix } = options;
  const now = options.nowMs ?? Date.now();
  const batch = options.batchSize ?? 500;
  const result: SweepResult = { completed: 0, failed: 0, deadLetters: 0 };
  const plans: [FinishOutcome, number][] = [
    ['succeeded', now - options.keepCompletedSeconds * 1000],
    ['failed', now - options.keepFailedSeconds * 1000],
  ];
  for (const [outcome, cutoff] of plans) {
    const key = finishedKey(redisPrefix, outcome);
    for (;;) {
      const members = await redis.zrangebyscore(key, '-inf', `(${cutoff}`, 'LIMIT', 0, batch);
      if (members.length === 0) break;
      for (const entry of members) {
        const colon = entry.indexOf(':');
        const priority = entry.slice(0, colon) as ConversionPriority;
        const jobId = entry.slice(colon + 1);
        const name = QUEUE_NAMES[priority];
        if (name) {
          const removed = Number(await redis.eval(REMOVE_FINISHED_SCRIPT, 2, beeKey(redisPrefix, name, outcome), beeKey(redisPrefix, name, 'jobs'), jobId));
          if (removed === 1) {
            if (outcome === 'succeeded') result.completed += 1;
            else result.failed += 1;
          }
        }
        if (outcome === 'failed') {
          // Only an entry as old as the record: a conversion that failed again since has a newer one.
          const letter = await options.deadLetters.get(jobId);
          if (letter && Date.parse(letter.failedAt) < cutoff && (await options.deadLetters.remove(jobId))) result.deadLetters += 1;
        }
        await redis.zrem(key, entry);
      }
      if (members.length < batch) break;
    }
  }
  // Dead letters whose finish record went missing (e.g. written by an older version) age out too.
  result.deadLetters += await options.deadLetters.removeOlderThan(now - options.keepFailedSeconds * 1000);
  if (result.completed + result.failed + result.deadLetters > 0) options.logger?.info('Queue retention sweep', { ...result });
  return result;
}
