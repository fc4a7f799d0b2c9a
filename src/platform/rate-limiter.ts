/**
 * The per-user rate limit (`RATE_LIMIT_PER_MINUTE`): a fixed one-minute window counted in Redis by one
 * Lua script (INCRBY + PEXPIRE, atomic), so every API replica shares the count. GraphQL operations
 * count 1 each (graphql/abuse-limits/rate-limit.ts); costlier events (an upload refused after decoding) count more.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { redisKey } from './redis.js';

/** Length of one rate window, ms. */
export const RATE_WINDOW_MS = 60_000;

const RATE_SCRIPT = `
local n = redis.call('INCRBY', KEYS[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;
/** The script's SHA-1: every hit sends it (EVALSHA) instead of the script's text (EVAL), which Redis hashes on every call. */
const RATE_SCRIPT_SHA = createHash('sha1').update(RATE_SCRIPT).digest('hex');

export interface RateDecision {
  allowed: boolean;
  /** Units counted in the current window, these included. */
  count: number;
  limit: number;
  /** Whole seconds until the window resets (at least 1). */
  retryAfterSeconds: number;
}

/** Per-user fixed-window rate limiter shared by every replica through Redis. */
export class RateLimiter {
  constructor(
    private readonly redis: Pick<Redis, 'eval' | 'evalsha'>,
    private readonly prefix: string,
    readonly limitPerMinute: number,
  ) {}

  /** Counts `units` (default 1: one operation) for `userId` and says whether the window is still within the limit. */
  async hit(userId: string, units = 1): Promise<RateDecision> {
    const window = Math.floor(Date.now() / RATE_WINDOW_MS);
    const key = redisKey(this.prefix, 'ratelimit', userId, String(window));
    const args = [key, String(RATE_WINDOW_MS), String(Math.max(1, Math.floor(units)))];
    let answer: unknown;
    try {
      answer = await this.redis.evalsha(RATE_SCRIPT_SHA, 1, ...args);
    } catch (error) {
      // A Redis that has not seen the script yet (or restarted, or ran SCRIPT FLUSH): EVAL runs and caches it.
      if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
      answer = await this.redis.eval(RATE_SCRIPT, 1, ...args);
    }
    const [count, ttl] = answer as [number, number];
    return {
      allowed: count <= this.limitPerMinute,
      count,
      limit: this.limitPerMinute,
      retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)),
    };
  }
}
