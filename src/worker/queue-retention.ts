/**
 * Retention of finished jobs' queue records. Workers keep Bee-Queue's records of succeeded and failed
 * jobs (`removeOnSuccess/Failure: false`: the counts in `stats`, and a finished job's id stays taken),
 * but Bee-Queue records no finish times, so the worker records them itself (conversion-job.ts): one sorted set per outcome,
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
import type { ConversionPriority } from '../modules/conversion/conversion.entity.js';
import { finishedKey, type FinishOutcome } from '../modules/conversion/conversion-job.js';
import type { Logger } from '../platform/logger.js';
import { removeFinishedJob } from './bee-queue.adapter.js';
import { QUEUE_NAMES } from './conversion-queues.js';
import type { DeadLetters } from '../modules/admin/dead-letter.store.js';

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
          if (await removeFinishedJob(redis, redisPrefix, name, outcome, jobId)) {
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
