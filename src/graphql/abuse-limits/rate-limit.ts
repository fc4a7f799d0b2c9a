/**
 * Rate: each authenticated user may start `RATE_LIMIT_PER_MINUTE` operations per fixed one-minute
 * window, counted in Redis by one Lua script (INCRBY + PEXPIRE, atomic; platform/rate-limiter.ts) so
 * every API replica shares the count; over HTTP it is checked before the document is parsed (in the
 * server's context function). Over the limit: HTTP 429 with `Retry-After`, error code `RATE_LIMITED`
 * and `extensions.retryAfterSeconds`. Operations without a credential are counted per client IP
 * against `ANONYMOUS_RATE_LIMIT_PER_MINUTE`. If Redis fails the limiter lets the request through
 * (availability first) and logs.
 */
import type { GraphQLError } from 'graphql';
import type { AuthUser } from '../../platform/auth.js';
import type { Logger } from '../../platform/logger.js';
import type { RateDecision, RateLimiter } from '../../platform/rate-limiter.js';
import { limitError } from './limit-error.js';

/** The RATE_LIMITED error (HTTP 429 with Retry-After). */
export function rateLimitedError(decision: RateDecision): GraphQLError {
  return limitError(
    `Too many requests: the limit is ${decision.limit} a minute. Retry in ${decision.retryAfterSeconds} s.`,
    'RATE_LIMITED',
    429,
    { retryAfterSeconds: decision.retryAfterSeconds, limit: decision.limit },
    new Map([['retry-after', String(decision.retryAfterSeconds)]]),
  );
}

/** Applies the rate limit to `user`, or for a caller without a credential the anonymous limit to `clientIp`; fails open if Redis fails. @throws RATE_LIMITED */
export async function enforceRateLimit(
  limiter: RateLimiter,
  user: AuthUser | null,
  logger: Logger,
  anonymous?: { limiter: RateLimiter; clientIp: string | null },
): Promise<void> {
  const target = user
    ? { limiter, key: user.id }
    : anonymous && anonymous.clientIp
      ? { limiter: anonymous.limiter, key: `anonymous:${anonymous.clientIp}` }
      : null;
  if (!target || target.limiter.limitPerMinute <= 0) return;
  let decision: RateDecision;
  try {
    decision = await target.limiter.hit(target.key);
  } catch (error) {
    logger.warn('Rate limiter unavailable; request let through', { error: (error as Error).message });
    return;
  }
  if (!decision.allowed) throw rateLimitedError(decision);
}
