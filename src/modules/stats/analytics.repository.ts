/**
 * The SQL behind the admin analytics. Every figure is an aggregate computed by PostgreSQL over a
 * `created_at` range (or one user's rows), answered from the indexes of
 * migrations/Migration20261210000000_analytics_indexes.ts; no conversion row is loaded into memory.
 *
 * Definitions (shared by the GraphQL docs):
 * - A conversion belongs to a window when `start <= created_at < end`.
 * - Success rate = COMPLETED / (COMPLETED + FAILED); PENDING, PROCESSING and CANCELLED do not count;
 *   null when nothing finished.
 * - Processing time: `processing_ms` of COMPLETED conversions; percentiles are continuous
 *   (`percentile_cont`, linear interpolation between neighbouring values).
 * - Hours and days are UTC.
 * - Ratings: feedback given (`feedback.created_at`) in the window.
 */
import type { EntityManager } from '@mikro-orm/postgresql';

export interface WindowSummaryRow {
  total: number;
  completed: number;
  failed: number;
  cancelled: number;
  inFlight: number;
  /** ms; null when no completed conversion had a processing time. */
  p50: number | null;
  p95: number | null;
  p99: number | null;
  min: number | null;
  max: number | null;
  average: number | null;
}

export interface CountRow {
  key: string;
  count: number;
}

export interface HourRow {
  hour: number;
  count: number;
}

export interface DailyRow {
  /** UTC date `YYYY-MM-DD`. */
  day: string;
  total: number;
  completed: number;
  failed: number;
}

export interface RatingRow {
  count: number;
  average: number | null;
  /** Counts of ratings 1..5, index 0 = rating 1. */
  distribution: number[];
}

export interface QuotaUsageRow {
  usersToday: number;
  unitsToday: number;
  /** Mean of used / limit over users with a counter in the current day; null when none. */
  averageDailyUtilisation: number | null;
  usersAtDailyLimit: number;
  usersThisMonth: number;
  unitsThisMonth: number;
  averageMonthlyUtilisation: number | null;
  usersAtMonthlyLimit: number;
}

export interface UserFiguresRow {
  total: number;
  completed: number;
  failed: number;
  favouriteGenre: string | null;
  favouriteMood: string | null;
  averageRating: number | null;
  ratings: number;
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));
const int = (value: unknown): number => Number(value ?? 0);

export class AnalyticsRepository {
  constructor(private readonly em: EntityManager) {}

  async summary(start: Date, end: Date): Promise<WindowSummaryRow> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select count(*) as total,
              count(*) filter (where "status" = 'COMPLETED') as completed,
              count(*) filter (where "status" = 'FAILED') as failed,
              count(*) filter (where "status" = 'CANCELLED') as cancelled,
              count(*) filter (where "status" in ('PENDING', 'PROCESSING')) as in_flight,
              percentile_cont(array[0.5, 0.95, 0.99]) within group (order by "processing_ms")
                filter (where "status" = 'COMPLETED') as pct,
              min("processing_ms") filter (where "status" = 'COMPLETED') as min,
              max("processing_ms") filter (where "status" = 'COMPLETED') as max,
              avg("processing_ms") filter (where "status" = 'COMPLETED') as average
       from "conversions" where "created_at" >= ? and "created_at" < ?`,
      [start.toISOString(), end.toISOString()],
    );
    const row = rows[0];
    const pct = (row.pct as (number | string | null)[] | null) ?? [null, null, null];
    return {
      total: int(row.total),
      completed: int(row.completed),
      failed: int(row.failed),
      cancelled: int(row.cancelled),
      inFlight: int(row.in_flight),
      p50: num(pct[0]),
      p95: num(pct[1]),
      p99: num(pct[2]),
      min: num(row.min),
      max: num(row.max),
      average: num(row.average),
    };
  }

  /** The busiest UTC hours of day (0–23) in the window, most conversions first, then earliest hour. */
  async peakHours(start: Date, end: Date, limit: number): Promise<HourRow[]> {
    const rows = await this.em.execute<{ hour: unknown; count: unknown }[]>(
      `select extract(hour from "created_at" at time zone 'UTC')::int as hour, count(*) as count
       from "conversions" where "created_at" >= ? and "created_at" < ?
       group by 1 order by 2 desc, 1 asc limit ?`,
      [start.toISOString(), end.toISOString(), limit],
    );
    return rows.map((r) => ({ hour: int(r.hour), count: int(r.count) }));
  }

  /**
   * Peak hours, top genres and top moods in ONE pass over the window (`GROUPING SETS`), ordered and
   * cut as {@link peakHours} and {@link top} do; what `analytics` uses (a third of the work on large windows).
   */
  async breakdowns(
    start: Date,
    end: Date,
    hoursLimit: number,
    topLimit: number,
  ): Promise<{ peakHours: HourRow[]; topGenres: CountRow[]; topMoods: CountRow[] }> {
    const rows = await this.em.execute<{ hour: unknown; genre: string | null; mood: string | null; g: unknown; count: unknown }[]>(
      `select hour, genre, mood, grouping(hour, genre, mood) as g, count(*) as count
       from (select extract(hour from "created_at" at time zone 'UTC')::int as hour, "genre" as genre, "mood" as mood
             from "conversions" where "created_at" >= ? and "created_at" < ?) c
       group by grouping sets ((hour), (genre), (mood))`,
      [start.toISOString(), end.toISOString()],
    );
    const byCount =
      <T extends { count: number }>(tie: (a: T, b: T) => number) =>
      (a: T, b: T) =>
        b.count - a.count || tie(a, b);
    // grouping() bits: hour 4, genre 2, mood 1; a 0 bit marks the column grouped by.
    const peakHours = rows
      .filter((r) => int(r.g) === 3)
      .map((r) => ({ hour: int(r.hour), count: int(r.count) }))
      .sort(byCount((a, b) => a.hour - b.hour))
      .slice(0, hoursLimit);
    const pick = (bits: number, key: (r: (typeof rows)[number]) => string | null) =>
      rows
        .filter((r) => int(r.g) === bits)
        .map((r) => ({ key: key(r) ?? '', count: int(r.count) }))
        .sort(byCount((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)))
        .slice(0, topLimit);
    return { peakHours, topGenres: pick(5, (r) => r.genre), topMoods: pick(6, (r) => r.mood) };
  }

  /** Most frequent values of `genre` or `mood` in the window, most first, then by name. */
  async top(column: 'genre' | 'mood', start: Date, end: Date, limit: number): Promise<CountRow[]> {
    const rows = await this.em.execute<{ key: string; count: unknown }[]>(
      `select "${column}" as key, count(*) as count
       from "conversions" where "created_at" >= ? and "created_at" < ?
       group by 1 order by 2 desc, 1 asc limit ?`,
      [start.toISOString(), end.toISOString(), limit],
    );
    return rows.map((r) => ({ key: r.key, count: int(r.count) }));
  }

  /** FAILED conversions of the window by `error.code` (UNKNOWN_ERROR when missing), most first. */
  async errorsByCode(start: Date, end: Date): Promise<CountRow[]> {
    const rows = await this.em.execute<{ key: string | null; count: unknown }[]>(
      `select "error"->>'code' as key, count(*) as count
       from "conversions" where "status" = 'FAILED' and "created_at" >= ? and "created_at" < ?
       group by 1 order by 2 desc, 1 asc`,
      [start.toISOString(), end.toISOString()],
    );
    const merged = new Map<string, number>();
    for (const r of rows) merged.set(r.key ?? 'UNKNOWN_ERROR', (merged.get(r.key ?? 'UNKNOWN_ERROR') ?? 0) + int(r.count));
    return [...merged].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
  }

  /** Counts per UTC day from `start` (a UTC midnight) to `end`; days without conversions are absent. */
  async daily(start: Date, end: Date): Promise<DailyRow[]> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select to_char(date_trunc('day', "created_at" at time zone 'UTC'), 'YYYY-MM-DD') as day,
              count(*) as total,
              count(*) filter (where "status" = 'COMPLETED') as completed,
              count(*) filter (where "status" = 'FAILED') as failed
       from "conversions" where "created_at" >= ? and "created_at" < ?
       group by date_trunc('day', "created_at" at time zone 'UTC') order by 1`,
      [start.toISOString(), end.toISOString()],
    );
    return rows.map((r) => ({ day: String(r.day), total: int(r.total), completed: int(r.completed), failed: int(r.failed) }));
  }

  /** Ratings given in the window: count, average and the count of each rating 1–5. */
  async ratings(start: Date, end: Date): Promise<RatingRow> {
    const rows = await this.em.execute<{ rating: unknown; count: unknown }[]>(
      `select "rating" as rating, count(*) as count
       from "feedback" where "created_at" >= ? and "created_at" < ? group by 1`,
      [start.toISOString(), end.toISOString()],
    );
    const distribution = [0, 0, 0, 0, 0];
    for (const r of rows) distribution[int(r.rating) - 1] = int(r.count);
    const count = distribution.reduce((a, b) => a + b, 0);
    const sum = distribution.reduce((a, n, i) => a + n * (i + 1), 0);
    return { count, average: count === 0 ? null : sum / count, distribution };
  }

  /**
   * Quota use in the current day and month of `timeZone` (not the analytics window): users with a
   * counter in the period, units used, mean of used / limit (the user's own limit, else the default)
   * and users at their limit.
   */
  async quotaUsage(now: Date, timeZone: string, dailyDefault: number, monthlyDefault: number): Promise<QuotaUsageRow> {
    const at = now.toISOString();
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `with p as (select (?::timestamptz at time zone ?)::date as day,
                         date_trunc('month', ?::timestamptz at time zone ?)::date as month),
            c as (select q."day_used", q."month_used", q."day_start" = p.day as today, q."month_start" = p.month as this_month,
                         coalesce(u."daily_quota", ?) as day_limit, coalesce(u."monthly_quota", ?) as month_limit
                  from "quota_counters" q cross join p left join "users" u on u."id" = q."user_id")
       select count(*) filter (where today and "day_used" > 0) as users_today,
              coalesce(sum("day_used") filter (where today), 0) as units_today,
              avg(least("day_used"::float8 / nullif(day_limit, 0), 1)) filter (where today and "day_used" > 0) as day_util,
              count(*) filter (where today and "day_used" >= day_limit) as at_day_limit,
              count(*) filter (where this_month and "month_used" > 0) as users_month,
              coalesce(sum("month_used") filter (where this_month), 0) as units_month,
              avg(least("month_used"::float8 / nullif(month_limit, 0), 1)) filter (where this_month and "month_used" > 0) as month_util,
              count(*) filter (where this_month and "month_used" >= month_limit) as at_month_limit
       from c`,
      [at, timeZone, at, timeZone, dailyDefault, monthlyDefault],
    );
    const r = rows[0];
    return {
      usersToday: int(r.users_today),
      unitsToday: int(r.units_today),
      averageDailyUtilisation: num(r.day_util),
      usersAtDailyLimit: int(r.at_day_limit),
      usersThisMonth: int(r.users_month),
      unitsThisMonth: int(r.units_month),
      averageMonthlyUtilisation: num(r.month_util),
      usersAtMonthlyLimit: int(r.at_month_limit),
    };
  }

  /** One user's figures over their conversions created in [start, end) (all time when start is null). */
  async userFigures(userId: string, start: Date | null, end: Date): Promise<UserFiguresRow> {
    const from = (start ?? new Date(0)).toISOString();
    const params = [userId, from, end.toISOString()];
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `with c as (select "id", "status", "genre", "mood" from "conversions"
                  where "user_id" = ? and "created_at" >= ? and "created_at" < ?)
       select (select count(*) from c) as total,
              (select count(*) from c where "status" = 'COMPLETED') as completed,
              (select count(*) from c where "status" = 'FAILED') as failed,
              (select "genre" from c group by 1 order by count(*) desc, 1 asc limit 1) as genre,
              (select "mood" from c group by 1 order by count(*) desc, 1 asc limit 1) as mood,
              (select avg(f."rating") from c join "feedback" f on f."conversion_id" = c."id") as rating,
              (select count(*) from c join "feedback" f on f."conversion_id" = c."id") as ratings`,
      params,
    );
    const r = rows[0];
    return {
      total: int(r.total),
      completed: int(r.completed),
      failed: int(r.failed),
      favouriteGenre: (r.genre as string | null) ?? null,
      favouriteMood: (r.mood as string | null) ?? null,
      averageRating: num(r.rating),
      ratings: int(r.ratings),
    };
  }

  /** Last-hour figures for the health verdict: finished counts and mean processing time (ms). */
  async healthFigures(start: Date, end: Date): Promise<{ completed: number; failed: number; averageMs: number | null }> {
    const rows = await this.em.execute<Record<string, unknown>[]>(
      `select count(*) filter (where "status" = 'COMPLETED') as completed,
              count(*) filter (where "status" = 'FAILED') as failed,
              avg("processing_ms") filter (where "status" = 'COMPLETED') as average
       from "conversions" where "created_at" >= ? and "created_at" < ?`,
      [start.toISOString(), end.toISOString()],
    );
    return { completed: int(rows[0].completed), failed: int(rows[0].failed), averageMs: num(rows[0].average) };
  }
}
