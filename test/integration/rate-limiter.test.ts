/**
 * The rate limiter's Redis script (src/platform/rate-limiter.ts): counted by EVALSHA, and by EVAL when
 * Redis does not know the script (first use, a restart, SCRIPT FLUSH), with the same count either way.
 */
import type { Redis } from 'ioredis';
import { RateLimiter } from '../../src/platform/rate-limiter.js';
import { createRedis } from '../../src/platform/redis.js';
import { Cleanup, createTestPrefix, REDIS_URL } from '../support/service-harness.js';

describe('RateLimiter', () => {
  const cleanup = new Cleanup();
  afterAll(() => cleanup.run());

  it('counts one window across EVALSHA and a NOSCRIPT answer, and refuses above the limit', async () => {
    const redis = createRedis(REDIS_URL);
    cleanup.add(() => redis.quit());
    const prefix = createTestPrefix(cleanup);
    let noscript = 1;
    let evalCalls = 0;
    // Real Redis, except that the first EVALSHA is answered as by a Redis that has never seen the script.
    const flaky: Pick<Redis, 'eval' | 'evalsha'> = {
      evalsha: ((...args: Parameters<Redis['evalsha']>) => {
        if (noscript-- > 0) return Promise.reject(new Error('NOSCRIPT No matching script. Please use EVAL.'));
        return redis.evalsha(...args);
      }) as Redis['evalsha'],
      eval: ((...args: Parameters<Redis['eval']>) => {
        evalCalls++;
        return redis.eval(...args);
      }) as Redis['eval'],
    };
    const limiter = new RateLimiter(flaky, prefix, 3);
    const decisions = [];
    for (let i = 0; i < 4; i++) decisions.push(await limiter.hit('ada'));
    expect(decisions.map((decision) => [decision.count, decision.allowed])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
    ]);
    expect(evalCalls).toBe(1);
    expect(decisions[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});
