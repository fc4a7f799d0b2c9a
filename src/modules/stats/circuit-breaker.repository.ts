/**
 * The circuit breakers of every process, as they published themselves to Redis
 * (src/platform/providers/breaker-publisher.ts): one hash, one field per breaker and process.
 * Entries not refreshed for {@link BREAKER_STALE_MS} belong to processes that died without cleaning
 * up: they are left out and removed.
 */
import type { Redis } from 'ioredis';
import { BREAKER_STALE_MS, breakersKey, type PublishedBreaker } from '../../platform/providers/breaker-publisher.js';
import type { BreakerState } from '../../platform/providers/provider-host.js';

/** One breaker of one process, for `stats`. */
export interface CircuitBreakerView {
  /** `lyrics:llm`, `vocals:expert-music-ai`. */
  name: string;
  state: BreakerState;
  /** `<hostname>:<pid>` of the process that owns it. */
  process: string;
  consecutiveFailures: number;
  /** Last state change, or null if it never changed since the process started. */
  changedAt: Date | null;
  /** Last time the process published it. */
  updatedAt: Date;
}

const STATES: ReadonlySet<string> = new Set(['CLOSED', 'OPEN', 'HALF_OPEN']);

function parseEntry(value: string): CircuitBreakerView | null {
  try {
    const entry = JSON.parse(value) as Partial<PublishedBreaker>;
    const updatedAt = new Date(entry.updatedAt ?? '');
    if (
      typeof entry.name !== 'string' ||
      typeof entry.process !== 'string' ||
      !STATES.has(entry.state ?? '') ||
      Number.isNaN(updatedAt.getTime())
    )
      return null;
    const changedAt = entry.changedAt ? new Date(entry.changedAt) : null;
    return {
      name: entry.name,
      state: entry.state as BreakerState,
      process: entry.process,
      consecutiveFailures: Number.isInteger(entry.consecutiveFailures) ? (entry.consecutiveFailures as number) : 0,
      changedAt: changedAt && !Number.isNaN(changedAt.getTime()) ? changedAt : null,
      updatedAt,
    };
  } catch {
    return null;
  }
}

export class CircuitBreakerRepository {
  constructor(
    private readonly redis: Pick<Redis, 'hgetall' | 'hdel'>,
    private readonly prefix: string,
    private readonly staleMs = BREAKER_STALE_MS,
  ) {}

  /** Every live breaker entry, by name then process; stale or unreadable entries are dropped (and removed). */
  async list(now = new Date()): Promise<CircuitBreakerView[]> {
    const key = breakersKey(this.prefix);
    const entries = await this.redis.hgetall(key);
    const live: CircuitBreakerView[] = [];
    const dead: string[] = [];
    for (const [field, value] of Object.entries(entries)) {
      const view = parseEntry(value);
      if (view && now.getTime() - view.updatedAt.getTime() <= this.staleMs) live.push(view);
      else dead.push(field);
    }
    if (dead.length > 0) await this.redis.hdel(key, ...dead).catch(() => undefined);
    return live.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.process < b.process ? -1 : a.process > b.process ? 1 : 0));
  }
}
