/**
 * Queue counts and service health for `stats`: the Bee-Queue counts of the conversion queues, summed
 * over the three priorities (`checkHealth()` of {@link ConversionQueue}), whether PostgreSQL and Redis
 * answer, a verdict, and the circuit breakers every process published to Redis. Every probe has a
 * deadline, so `stats` answers (with the dependency marked down) instead of hanging when a dependency is away.
 */
import type { Redis } from 'ioredis';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { ConversionQueue } from '../../platform/services.js';
import { CircuitBreakerRepository, type CircuitBreakerView } from './circuit-breaker.repository.js';

export type { CircuitBreakerView } from './circuit-breaker.repository.js';

/** How long one probe may take before its dependency counts as down, ms. */
export const PROBE_TIMEOUT_MS = 2000;

export interface QueueCounts {
  waiting: number;
  active: number;
  /** Bee-Queue's `succeeded`. */
  completed: number;
  failed: number;
  /** Waiting for a retry (backoff) or a scheduled start. */
  delayed: number;
}

export interface DependencyHealth {
  reachable: boolean;
  /** Round trip of the probe, ms; null when it failed. */
  latencyMs: number | null;
  /** Why the probe failed (a short message, no internals); null when reachable. */
  error: string | null;
}

/** OK: everything answers. DEGRADED: Redis is away (reads work; no new jobs, no live progress). DOWN: the database is away. */
export type HealthVerdict = 'OK' | 'DEGRADED' | 'DOWN';

export interface StatsView {
  /** Null when Redis did not answer. */
  queue: QueueCounts | null;
  database: DependencyHealth;
  redis: DependencyHealth;
  verdict: HealthVerdict;
  checkedAt: Date;
  /** Breakers of every live process (empty when Redis did not answer or no provider is configured). */
  circuitBreakers: CircuitBreakerView[];
}

export interface StatsDeps {
  em: EntityManager;
  redis: Pick<Redis, 'ping' | 'hgetall' | 'hdel'>;
  queue: Pick<ConversionQueue, 'checkHealth'>;
  /** `REDIS_PREFIX`: where processes publish their breakers; without it the breaker list is empty. */
  redisPrefix?: string;
}

class ProbeTimeout extends Error {}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeTimeout(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

async function probe(work: () => Promise<unknown>, timeoutMs: number): Promise<DependencyHealth> {
  const started = performance.now();
  try {
    await withDeadline(work(), timeoutMs);
    return { reachable: true, latencyMs: Math.round((performance.now() - started) * 10) / 10, error: null };
  } catch (error) {
    return { reachable: false, latencyMs: null, error: error instanceof ProbeTimeout ? error.message : 'unreachable' };
  }
}

export class StatsService {
  constructor(
    private readonly deps: StatsDeps,
    private readonly timeoutMs = PROBE_TIMEOUT_MS,
  ) {}

  async view(): Promise<StatsView> {
    const { redisPrefix } = this.deps;
    const [database, redis, counts, circuitBreakers] = await Promise.all([
      probe(() => this.deps.em.execute('select 1'), this.timeoutMs),
      probe(() => this.deps.redis.ping(), this.timeoutMs),
      withDeadline(this.deps.queue.checkHealth(), this.timeoutMs).catch(() => null),
      redisPrefix === undefined
        ? []
        : withDeadline(new CircuitBreakerRepository(this.deps.redis, redisPrefix).list(), this.timeoutMs).catch(() => []),
    ]);
    const queue: QueueCounts | null = counts
      ? { waiting: counts.waiting, active: counts.active, completed: counts.succeeded, failed: counts.failed, delayed: counts.delayed }
      : null;
    const verdict: HealthVerdict = !database.reachable ? 'DOWN' : !redis.reachable || !queue ? 'DEGRADED' : 'OK';
    return { queue, database, redis, verdict, checkedAt: new Date(), circuitBreakers };
  }
}
