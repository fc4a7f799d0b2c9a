/**
 * The shared state the API's `/metrics` reports when scraped (metrics.ts `setSharedStateSource`):
 * database size, Redis memory, ratings, the day's top genres and moods, quota use and the input bytes
 * held. One SQL statement and one `INFO memory` per read; metrics.ts reuses a read for 10 s, and only
 * API processes read it (workers would report the same figures).
 *
 * Cost: the statement sums `input.sizeBytes` over every conversion row and counts the last 24 h's
 * rows twice (genre, mood): a few ms for ~10^5 rows here; an index on `created_at` serves the window.
 */
import type { Redis } from 'ioredis';
import type { Orm } from './database.js';
import { TOP_LABELS, type SharedState } from './metrics.js';

interface Row {
  db: unknown;
  day: unknown;
  month: unknown;
  input_bytes: unknown;
  ratings: Record<string, unknown> | null;
  genres: Record<string, unknown> | null;
  moods: Record<string, unknown> | null;
}

const numbers = (values: Record<string, unknown> | null): Record<string, number> =>
  Object.fromEntries(Object.entries(values ?? {}).map(([key, value]) => [key, Number(value)]));

/** Reads the shared state; `timeZone` is QUOTA_TIME_ZONE (whose day and month the quota counters use). */
export async function readSharedState(orm: Orm, redis: Pick<Redis, 'info'>, timeZone: string): Promise<SharedState> {
  const top = (column: 'genre' | 'mood') =>
    `(select json_object_agg(v, n) from (select "${column}" as v, count(*) as n from "conversions"
       where "created_at" > now() - interval '24 hours' group by 1 order by 2 desc, 1 limit ${TOP_LABELS}) t)`;
  const [row] = await orm.em
    .fork()
    .getConnection()
    .execute<Row[]>(
      `select pg_database_size(current_database()) as db,
            (select coalesce(sum("day_used"), 0) from "quota_counters"
              where "day_start" = (now() at time zone ?)::date) as day,
            (select coalesce(sum("month_used"), 0) from "quota_counters"
              where "month_start" = date_trunc('month', now() at time zone ?)::date) as month,
            (select coalesce(sum(("input"->>'sizeBytes')::bigint), 0) from "conversions") as input_bytes,
            (select json_object_agg(rating, n) from (select "rating" as rating, count(*) as n from "feedback" group by 1) r) as ratings,
            ${top('genre')} as genres,
            ${top('mood')} as moods`,
      [timeZone, timeZone],
    );
  const info = await redis.info('memory');
  const usedMemory = /^used_memory:(\d+)/m.exec(info)?.[1];
  return {
    databaseBytes: Number(row.db),
    redisUsedMemoryBytes: Number(usedMemory ?? 0),
    ratings: numbers(row.ratings),
    genres: numbers(row.genres),
    moods: numbers(row.moods),
    quotaUsedToday: Number(row.day),
    quotaUsedThisMonth: Number(row.month),
    storedInputBytes: Number(row.input_bytes),
  };
}
