/**
 * Readiness checks of a process's dependencies: PostgreSQL (a `select 1`), Redis (`PING`) and the
 * migrations (none pending). Each check has its own time limit so a dead dependency answers "down"
 * within {@link HEALTH_CHECK_TIMEOUT_MS} instead of hanging the probe (ioredis queues commands while
 * it reconnects; a PostgreSQL pool waits for a connection).
 */
import type { Redis } from 'ioredis';
import type { Orm } from './database.js';
import { migrationsApplied } from './database.js';

/** Time limit of one check, ms. Probes typically time out after 1 s (Kubernetes' default). */
export const HEALTH_CHECK_TIMEOUT_MS = 800;

export interface DependencyStatus {
  ok: boolean;
  /** Time the check took, ms. */
  latencyMs: number;
  /** Why it is not ok (a short message, never a connection string). */
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  checks: { postgres: DependencyStatus; redis: DependencyStatus; migrations: DependencyStatus };
  uptimeSeconds: number;
}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<DependencyStatus> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const latencyMs = Math.round(performance.now() - started);
    if (result === false) return { ok: false, latencyMs, error: 'pending migrations' };
    return { ok: true, latencyMs };
  } catch (error) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: (error as Error).message.split('\n')[0].replace(/\w+:\/\/\S+/g, '<url>'),
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Checks PostgreSQL, Redis and the migrations at once. `status` is `ok` only when all three are. */
export async function checkHealth(
  deps: { orm: Orm; redis: Pick<Redis, 'ping'> },
  timeoutMs = HEALTH_CHECK_TIMEOUT_MS,
): Promise<HealthReport> {
  const [postgres, redis, migrations] = await Promise.all([
    timed(() => deps.orm.em.getConnection().execute('select 1'), timeoutMs),
    timed(() => deps.redis.ping(), timeoutMs),
    timed(() => migrationsApplied(deps.orm), timeoutMs),
  ]);
  const ok = postgres.ok && redis.ok && migrations.ok;
  return { status: ok ? 'ok' : 'unavailable', checks: { postgres, redis, migrations }, uptimeSeconds: Math.round(process.uptime()) };
}
