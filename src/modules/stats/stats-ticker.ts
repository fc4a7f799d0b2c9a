/**
 * The shared ticker behind `serviceStatsUpdated`: one per process (per {@link Services}), started by
 * the first subscriber and stopped when the last one leaves. Each tick computes the queue and health
 * figures ONCE and hands the same snapshot to every subscriber, so N dashboards cost one computation
 * per interval, not N. A subscriber keeps only the newest undelivered snapshot (a slow client skips
 * ticks instead of buffering them), so nobody receives more than one event per interval. A tick
 * that starts while the previous computation still runs is skipped.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Services } from '../../platform/services.js';
import { AnalyticsService, type CircuitBreakerView, type HealthReport } from './analytics.service.js';
import type { QueueCounts } from './stats.service.js';

export interface StatsSnapshot {
  /** 1, 2, … per ticker start: the same number reaches every subscriber of that tick. */
  tick: number;
  computedAt: Date;
  queue: QueueCounts | null;
  health: HealthReport;
  circuitBreakers: CircuitBreakerView[];
}

type Listener = (snapshot: StatsSnapshot) => void;

export class StatsTicker {
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private ticks = 0;
  /** Snapshots computed since this process started (all ticker runs): the figure tests and ops read. */
  computations = 0;

  constructor(
    private readonly compute: () => Promise<Omit<StatsSnapshot, 'tick'>>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  get subscriberCount(): number {
    return this.listeners.size;
  }

  get active(): boolean {
    return this.timer !== null;
  }

  /** An async iterator of snapshots; `return()` unsubscribes (and stops the ticker if it was the last). */
  subscribe(): AsyncIterableIterator<StatsSnapshot> {
    let pending: StatsSnapshot | null = null;
    let waiter: ((result: IteratorResult<StatsSnapshot>) => void) | null = null;
    let done = false;
    const listener: Listener = (snapshot) => {
      if (waiter) {
        const resolve = waiter;
        waiter = null;
        resolve({ value: snapshot, done: false });
      } else {
        pending = snapshot;
      }
    };
    const finish = (): IteratorResult<StatsSnapshot> => {
      if (!done) {
        done = true;
        this.remove(listener);
        if (waiter) waiter({ value: undefined, done: true });
        waiter = null;
        pending = null;
      }
      return { value: undefined, done: true };
    };
    this.add(listener);
    const iterator: AsyncIterableIterator<StatsSnapshot> = {
      next: () => {
        if (done) return Promise.resolve({ value: undefined, done: true });
        if (pending) {
          const value = pending;
          pending = null;
          return Promise.resolve({ value, done: false });
        }
        return new Promise((resolve) => {
          waiter = resolve;
        });
      },
      return: () => Promise.resolve(finish()),
      throw: (error?: unknown) => {
        finish();
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private add(listener: Listener): void {
    this.listeners.add(listener);
    if (this.timer === null) {
      this.ticks = 0;
      this.timer = setInterval(() => void this.tick(), this.intervalMs);
      this.timer.unref();
      void this.tick();
    }
  }

  private remove(listener: Listener): void {
    this.listeners.delete(listener);
    if (this.listeners.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async tick(): Promise<void> {
    if (this.running || this.timer === null) return;
    this.running = true;
    try {
      this.computations += 1;
      const figures = await this.compute();
      if (this.timer === null) return;
      this.ticks += 1;
      const snapshot: StatsSnapshot = { tick: this.ticks, ...figures };
      for (const listener of [...this.listeners]) listener(snapshot);
    } catch (error) {
      this.onError(error);
    } finally {
      this.running = false;
    }
  }
}

const TICKERS = new WeakMap<object, StatsTicker>();

/** This process's ticker for `services` (made on first use). */
export function statsTickerFor(services: Services): StatsTicker {
  let ticker = TICKERS.get(services);
  if (!ticker) {
    ticker = new StatsTicker(
      async () => {
        const service = new AnalyticsService({
          em: services.orm.em.fork() as EntityManager,
          redis: services.redis,
          queue: services.queue,
          config: services.config,
        });
        const { stats, health } = await service.health();
        return { computedAt: new Date(), queue: stats.queue, health, circuitBreakers: stats.circuitBreakers };
      },
      services.config.statsPushIntervalMs,
      (error) => services.logger.warn('serviceStatsUpdated tick failed', { error: error instanceof Error ? error.message : String(error) }),
    );
    TICKERS.set(services, ticker);
  }
  return ticker;
}
