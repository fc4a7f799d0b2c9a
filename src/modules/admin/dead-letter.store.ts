/**
 * The dead-letter list: conversions whose job failed for good (no retries left, or a non-retryable
 * error) for a reason other than VALIDATION_ERROR (bad input is the user's to fix, not an operator's).
 * Admins list them (`deadLetters`) and re-queue them (`requeueDeadLetter`).
 *
 * Redis keys: `<REDIS_PREFIX>:deadletters:index`, a sorted set of conversion ids scored by `failedAt`
 * (ms), and `<REDIS_PREFIX>:deadletters:entries`, a hash conversion id → the entry's JSON. One entry
 * per conversion: a conversion that fails again replaces its entry. Entries older than
 * JOB_KEEP_FAILED_SECONDS are removed by the retention sweep (queue-retention.ts).
 */
import type { Redis } from 'ioredis';
import type { ConversionPriority } from '../conversion/conversion.entity.js';
import { redisKey } from '../../platform/redis.js';

export interface DeadLetterError {
  code: string;
  reason?: string;
  message: string;
  retryable: boolean;
}

export interface DeadLetter {
  conversionId: string;
  priority: ConversionPriority;
  error: DeadLetterError;
  /** Runs that failed (Bee-Queue's count of recorded failures; at least 1). */
  attempts: number;
  /** ISO time of the final failure. */
  failedAt: string;
}

export interface DeadLetterPage {
  entries: DeadLetter[];
  /** Opaque cursor of each entry, same order as `entries`. */
  cursors: string[];
  hasNextPage: boolean;
  totalCount: number;
}

function encodeCursor(score: number, id: string): string {
  return Buffer.from(`${score}:${id}`, 'utf8').toString('base64url');
}

/** The (score, id) a cursor points at; null for anything that is not one of ours. */
export function decodeDeadLetterCursor(cursor: string): { score: number; id: string } | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) return null;
  const score = Number(text.slice(0, colon));
  const id = text.slice(colon + 1);
  return Number.isFinite(score) && id.length > 0 ? { score, id } : null;
}

/** The dead-letter list under one Redis prefix. */
export class DeadLetters {
  private readonly indexKey: string;
  private readonly entriesKey: string;

  constructor(
    private readonly redis: Redis,
    redisPrefix: string,
  ) {
    this.indexKey = redisKey(redisPrefix, 'deadletters', 'index');
    this.entriesKey = redisKey(redisPrefix, 'deadletters', 'entries');
  }

  /** Adds (or replaces) the entry of `entry.conversionId`. */
  async record(entry: DeadLetter): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.indexKey, Date.parse(entry.failedAt), entry.conversionId)
      .hset(this.entriesKey, entry.conversionId, JSON.stringify(entry))
      .exec();
  }

  async get(conversionId: string): Promise<DeadLetter | null> {
    const json = await this.redis.hget(this.entriesKey, conversionId);
    return json ? (JSON.parse(json) as DeadLetter) : null;
  }

  /** Removes the entry; true when there was one. */
  async remove(conversionId: string): Promise<boolean> {
    const results = await this.redis.multi().zrem(this.indexKey, conversionId).hdel(this.entriesKey, conversionId).exec();
    return Number(results?.[0]?.[1] ?? 0) > 0 || Number(results?.[1]?.[1] ?? 0) > 0;
  }

  async count(): Promise<number> {
    return this.redis.zcard(this.indexKey);
  }

  /**
   * A page of entries, newest failure first: `first` of them after the entry `after` points at
   * (a cursor of an earlier page; an unknown cursor starts from the newest).
   */
  async list(first: number, after?: string | null): Promise<DeadLetterPage> {
    const from = after ? decodeDeadLetterCursor(after) : null;
    let rows: [string, number][];
    if (from) {
      // Entries failing in the same millisecond are ordered by id (descending), as ZREVRANGE does.
      const ties = await this.redis.zcount(this.indexKey, from.score, from.score);
      const raw = await this.redis.zrevrangebyscore(this.indexKey, from.score, '-inf', 'WITHSCORES', 'LIMIT', 0, first + 1 + ties);
      rows = pairs(raw).filter(([id, score]) => score < from.score || id < from.id);
    } else {
      rows = pairs(await this.redis.zrevrange(this.indexKey, 0, first, 'WITHSCORES'));
    }
    const page = rows.slice(0, first);
    const jsons = page.length > 0 ? await this.redis.hmget(this.entriesKey, ...page.map(([id]) => id)) : [];
    const entries: DeadLetter[] = [];
    const cursors: string[] = [];
    page.forEach(([id, score], i) => {
      const json = jsons[i];
      if (!json) return; // removed between the two reads
      entries.push(JSON.parse(json) as DeadLetter);
      cursors.push(encodeCursor(score, id));
    });
    return { entries, cursors, hasNextPage: rows.length > first, totalCount: await this.count() };
  }

  /** Removes the entries that failed before `cutoffMs` (epoch ms); returns how many. */
  async removeOlderThan(cutoffMs: number): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.indexKey, '-inf', `(${cutoffMs}`);
    if (ids.length === 0) return 0;
    await this.redis
      .multi()
      .zrem(this.indexKey, ...ids)
      .hdel(this.entriesKey, ...ids)
      .exec();
    return ids.length;
  }
}

function pairs(raw: string[]): [string, number][] {
  const out: [string, number][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i], Number(raw[i + 1])]);
  return out;
}
