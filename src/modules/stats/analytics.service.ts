/**
 * Admin analytics over a time window, per-user figures and the health verdict with its issues.
 * Figures come from {@link AnalyticsRepository} (SQL aggregates); queue counts and dependency health
 * from {@link StatsService}. `now` is a parameter so windows are exact and testable.
 */
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../../platform/config.js';
import {
  AnalyticsRepository,
  type CountRow,
  type DailyRow,
  type HourRow,
  type QuotaUsageRow,
  type RatingRow,
  type UserFiguresRow,
  type WindowSummaryRow,
} from './analytics.repository.js';
import { StatsService, type CircuitBreakerView, type HealthVerdict, type StatsDeps, type StatsView } from './stats.service.js';

export type AnalyticsWindowName = 'LAST_HOUR' | 'LAST_DAY' | 'LAST_7_DAYS' | 'LAST_30_DAYS';

/** Length of each window, ms. A window ends at `now` (exclusive) and starts this long before (inclusive). */
export const WINDOW_MS: Record<AnalyticsWindowName, number> = {
  LAST_HOUR: 3_600_000,
  LAST_DAY: 86_400_000,
  LAST_7_DAYS: 7 * 86_400_000,
  LAST_30_DAYS: 30 * 86_400_000,
};

/** Days in the daily series (today in UTC and the 29 days before). */
export const DAILY_DAYS = 30;
export const TOP_LIMIT = 5;
export const PEAK_HOURS_LIMIT = 3;

export type HealthIssueCode = 'DATABASE_DOWN' | 'REDIS_DOWN' | 'ERROR_RATE_HIGH' | 'BACKLOG_HIGH' | 'LATENCY_HIGH';

export interface HealthIssue {
  code: HealthIssueCode;
  message: string;
  /** The measured figure (fraction, jobs or seconds); null for a dependency that is down. */
  value: number | null;
  threshold: number | null;
}

export interface HealthReport {
  /** DOWN: database away. DEGRADED: Redis away or any threshold crossed. OK otherwise. */
  verdict: HealthVerdict;
  issues: HealthIssue[];
  /** failed / (completed + failed) of conversions created in the last hour; null when none finished. */
  errorRateLastHour: number | null;
  /** Mean processing time of the last hour's completed conversions, s; null when none. */
  averageLatencySecondsLastHour: number | null;
  /** Waiting + delayed jobs; null when the queue did not answer. */
  backlog: number | null;
}

export type { CircuitBreakerView } from './stats.service.js';

export interface DailyPoint extends DailyRow {
  successRate: number | null;
}

export interface AnalyticsView {
  window: AnalyticsWindowName;
  from: Date;
  to: Date;
  summary: WindowSummaryRow & { successRate: number | null };
  peakHours: HourRow[];
  topGenres: CountRow[];
  topMoods: CountRow[];
  errors: CountRow[];
  ratings: RatingRow;
  quota: QuotaUsageRow;
  daily: DailyPoint[];
  stats: StatsView;
  health: HealthReport;
  circuitBreakers: CircuitBreakerView[];
}

export interface UserStatsView extends UserFiguresRow {
  userId: string;
  successRate: number | null;
}

export type AnalyticsConfig = Pick<
  Config,
  'alertErrorRate' | 'alertBacklogJobs' | 'alertLatencySeconds' | 'dailyQuota' | 'monthlyQuota' | 'quotaTimeZone'
> &
  Partial<Pick<Config, 'redisPrefix'>>;

export function successRate(completed: number, failed: number): number | null {
  return completed + failed === 0 ? null : completed / (completed + failed);
}

/** The verdict and issues from dependency health, queue counts and the last hour's figures. */
export function assessHealth(
  stats: Pick<StatsView, 'database' | 'redis' | 'queue' | 'verdict'>,
  lastHour: { completed: number; failed: number; averageMs: number | null },
  config: Pick<Config, 'alertErrorRate' | 'alertBacklogJobs' | 'alertLatencySeconds'>,
): HealthReport {
  const issues: HealthIssue[] = [];
  if (!stats.database.reachable)
    issues.push({ code: 'DATABASE_DOWN', message: 'PostgreSQL does not answer.', value: null, threshold: null });
  if (!stats.redis.reachable || !stats.queue)
    issues.push({ code: 'REDIS_DOWN', message: 'Redis or the queue does not answer.', value: null, threshold: null });
  const errorRate = lastHour.completed + lastHour.failed === 0 ? null : lastHour.failed / (lastHour.completed + lastHour.failed);
  if (errorRate !== null && errorRate > config.alertErrorRate) {
    issues.push({
      code: 'ERROR_RATE_HIGH',
      message: `${(errorRate * 100).toFixed(1)} % of the last hour's conversions failed (threshold ${(config.alertErrorRate * 100).toFixed(1)} %).`,
      value: errorRate,
      threshold: config.alertErrorRate,
    });
  }
  const backlog = stats.queue ? stats.queue.waiting + stats.queue.delayed : null;
  if (backlog !== null && backlog > config.alertBacklogJobs) {
    issues.push({
      code: 'BACKLOG_HIGH',
      message: `${backlog} jobs wait in the queue (threshold ${config.alertBacklogJobs}).`,
      value: backlog,
      threshold: config.alertBacklogJobs,
    });
  }
  const latency = lastHour.averageMs === null ? null : lastHour.averageMs / 1000;
  if (latency !== null && latency > config.alertLatencySeconds) {
    issues.push({
      code: 'LATENCY_HIGH',
      message: `Conversions took ${latency.toFixed(1)} s on average in the last hour (threshold ${config.alertLatencySeconds} s).`,
      value: latency,
      threshold: config.alertLatencySeconds,
    });
  }
  const verdict: HealthVerdict = stats.verdict === 'DOWN' ? 'DOWN' : issues.length > 0 ? 'DEGRADED' : stats.verdict;
  return { verdict, issues, errorRateLastHour: errorRate, averageLatencySecondsLastHour: latency, backlog };
}

/** UTC midnight of `now`'s day minus `days - 1` days. */
export function dailyStart(now: Date, days = DAILY_DAYS): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (days - 1)));
}

export class AnalyticsService {
  private readonly repository: AnalyticsRepository;

  constructor(private readonly deps: StatsDeps & { em: EntityManager; config: AnalyticsConfig }) {
    this.repository = new AnalyticsRepository(deps.em);
  }

  /** Health now: dependency probes, queue counts and the last hour's figures against the thresholds. */
  async health(now = new Date()): Promise<{ stats: StatsView; health: HealthReport }> {
    const [stats, lastHour] = await Promise.all([
      new StatsService({ ...this.deps, redisPrefix: this.deps.config.redisPrefix }).view(),
      this.repository
        .healthFigures(new Date(now.getTime() - WINDOW_MS.LAST_HOUR), now)
        .catch(() => ({ completed: 0, failed: 0, averageMs: null })),
    ]);
    return { stats, health: assessHealth(stats, lastHour, this.deps.config) };
  }

  async analytics(window: AnalyticsWindowName, now = new Date()): Promise<AnalyticsView> {
    const from = new Date(now.getTime() - WINDOW_MS[window]);
    const r = this.repository;
    const cfg = this.deps.config;
    // One query after another: they share this request's connection-pool fork.
    const summary = await r.summary(from, now);
    const { peakHours, topGenres, topMoods } = await r.breakdowns(from, now, PEAK_HOURS_LIMIT, TOP_LIMIT);
    const errors = await r.errorsByCode(from, now);
    const ratings = await r.ratings(from, now);
    const quota = await r.quotaUsage(now, cfg.quotaTimeZone, cfg.dailyQuota, cfg.monthlyQuota);
    const start = dailyStart(now);
    const rows = new Map((await r.daily(start, now)).map((row) => [row.day, row]));
    const daily: DailyPoint[] = [];
    for (let i = 0; i < DAILY_DAYS; i += 1) {
      const day = new Date(start.getTime() + i * 86_400_000).toISOString().slice(0, 10);
      const row = rows.get(day) ?? { day, total: 0, completed: 0, failed: 0 };
      daily.push({ ...row, successRate: successRate(row.completed, row.failed) });
    }
    const { stats, health } = await this.health(now);
    return {
      window,
      from,
      to: now,
      summary: { ...summary, successRate: successRate(summary.completed, summary.failed) },
      peakHours,
      topGenres,
      topMoods,
      errors,
      ratings,
      quota,
      daily,
      stats,
      health,
      circuitBreakers: stats.circuitBreakers,
    };
  }

  async userStats(userId: string, window: AnalyticsWindowName | null, now = new Date()): Promise<UserStatsView> {
    const from = window ? new Date(now.getTime() - WINDOW_MS[window]) : null;
    const figures = await this.repository.userFigures(userId, from, now);
    return { userId, ...figures, successRate: successRate(figures.completed, figures.failed) };
  }
}
