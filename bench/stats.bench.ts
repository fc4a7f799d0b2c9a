/**
 * `npm run bench:stats`: the admin analytics queries on 1,000,000 conversions (and their feedback and
 * quota counters), in a throwaway database `mv_bench_stats_<random>` on the local PostgreSQL
 * (`BENCH_POSTGRES_URL`, default postgres://postgres@127.0.0.1:5432/postgres), dropped at the end.
 *
 * Rows come from single `INSERT … SELECT generate_series` statements: conversions spread evenly over
 * the last 60 days, 1,000 users, 8 genres, 6 moods, 80 % COMPLETED, 12 %
 * FAILED (4 error codes), 5 % CANCELLED, 3 % PENDING, processing times 2–120 s; a rating on every
 * third completed conversion. Then `VACUUM ANALYZE` (as autovacuum would) and each query runs 5 times:
 * the median and the slowest are printed per query and window, plus the plan's top node.
 * `--rows N` changes the count; `--json` prints the raw figures.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { EntityManager } from '@mikro-orm/postgresql';
import { knex } from '@mikro-orm/knex';
import { initOrm } from '../src/platform/database.js';
import { ENTITIES } from '../src/modules/entities.js';
import { AnalyticsRepository } from '../src/modules/stats/analytics.repository.js';
import { dailyStart, WINDOW_MS, type AnalyticsWindowName } from '../src/modules/stats/analytics.service.js';

const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const argRows = process.argv.indexOf('--rows');
const ROWS = argRows > 0 ? Number(process.argv[argRows + 1]) : 1_000_000;
const JSON_OUT = process.argv.includes('--json');
const RUNS = 5;
const USERS = 1000;

async function time(run: () => Promise<unknown>): Promise<{ medianMs: number; maxMs: number }> {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const start = performance.now();
    await run();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { medianMs: Math.round(samples[Math.floor(RUNS / 2)] * 10) / 10, maxMs: Math.round(samples[RUNS - 1] * 10) / 10 };
}

async function main(): Promise<void> {
  const name = `mv_bench_stats_${randomBytes(6).toString('hex')}`;
  const url = ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  const orm = await initOrm(url, ENTITIES);
  const em = orm.em.fork() as EntityManager;
  const conn = em.getConnection();
  const results: Record<string, { medianMs: number; maxMs: number; plan?: string }> = {};
  try {
    const seedStart = performance.now();
    await conn.execute(`insert into "users" ("id") select 'user-' || g from generate_series(1, ${USERS}) g`);
    await conn.execute(
      `insert into "conversions" ("id", "user_id", "status", "prompt", "genre", "mood", "voice", "input_key", "input", "error", "processing_ms", "created_at", "completed_at")
       select gen_random_uuid(), 'user-' || (1 + g % ${USERS}),
              s.status, 'a song about the sea', (array['pop','rock','jazz','folk','classical','hiphop','electronic','country'])[1 + g % 8],
              (array['happy','sad','calm','energetic','romantic','dark'])[1 + (g / 8) % 6], 'high', 'conversions/' || g || '/input', '{}',
              case when s.status = 'FAILED' then jsonb_build_object('code', (array['AUDIO_PROCESSING_ERROR','TIMEOUT_ERROR','AI_SERVICE_ERROR','STORAGE_ERROR'])[1 + g % 4], 'message', 'x', 'retryable', false) end,
              case when s.status = 'COMPLETED' then 2000 + (g::bigint * 7919) % 118000 end,
              now() - (g::float8 / ${ROWS}) * interval '60 days',
              case when s.status in ('COMPLETED', 'FAILED', 'CANCELLED') then now() - (g::float8 / ${ROWS}) * interval '60 days' + interval '1 minute' end
       from generate_series(1, ${ROWS}) g
       cross join lateral (select case when g % 100 < 80 then 'COMPLETED' when g % 100 < 92 then 'FAILED' when g % 100 < 97 then 'CANCELLED' else 'PENDING' end as status) s`,
    );
    await conn.execute(
      `insert into "feedback" ("id", "conversion_id", "rating", "created_at")
       select gen_random_uuid(), c."id", 1 + abs(hashtext(c."id"::text)) % 5, c."created_at" + interval '10 minutes'
       from "conversions" c where c."status" = 'COMPLETED' and abs(hashtext(c."id"::text)) % 3 = 0`,
    );
    await conn.execute(
      `insert into "quota_counters" ("user_id", "day_start", "day_used", "month_start", "month_used")
       select 'user-' || g, (now() at time zone 'UTC')::date, g % 11, date_trunc('month', now() at time zone 'UTC')::date, g % 101 from generate_series(1, ${USERS}) g`,
    );
    await conn.execute('vacuum analyze "conversions"');
    await conn.execute('vacuum analyze "feedback"');
    await conn.execute('vacuum analyze "quota_counters"');
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const counts = await conn.execute<{ c: string; f: string }[]>(
      'select (select count(*) from conversions) as c, (select count(*) from feedback) as f',
    );

    const repo = new AnalyticsRepository(em);
    const now = new Date();
    const windows: AnalyticsWindowName[] = ['LAST_HOUR', 'LAST_DAY', 'LAST_7_DAYS', 'LAST_30_DAYS'];
    for (const window of windows) {
      const from = new Date(now.getTime() - WINDOW_MS[window]);
      results[`summary ${window}`] = await time(() => repo.summary(from, now));
      results[`peakHours ${window}`] = await time(() => repo.peakHours(from, now, 3));
      results[`topGenres ${window}`] = await time(() => repo.top('genre', from, now, 5));
      results[`topMoods ${window}`] = await time(() => repo.top('mood', from, now, 5));
      results[`breakdowns (hours+genres+moods) ${window}`] = await time(() => repo.breakdowns(from, now, 3, 5));
      results[`errorsByCode ${window}`] = await time(() => repo.errorsByCode(from, now));
      results[`ratings ${window}`] = await time(() => repo.ratings(from, now));
    }
    results['daily (30 days)'] = await time(() => repo.daily(dailyStart(now), now));
    results['quotaUsage'] = await time(() => repo.quotaUsage(now, 'UTC', 10, 100));
    results['healthFigures (last hour)'] = await time(() => repo.healthFigures(new Date(now.getTime() - WINDOW_MS.LAST_HOUR), now));
    results['userFigures (all time, ~1000 rows)'] = await time(() => repo.userFigures('user-7', null, now));

    // The access path PostgreSQL picks for the window aggregates (top plan node).
    const explain = async (sql: string, params: unknown[]) => {
      const rows = await conn.execute<{ 'QUERY PLAN': string }[]>(`explain ${sql}`, params);
      return rows
        .map((r) => r['QUERY PLAN'])
        .filter((line) => /Scan/.test(line))
        .map((line) => line.trim().replace(/\s+\(cost.*$/, ''))
        .join(' | ');
    };
    const from30 = new Date(now.getTime() - WINDOW_MS.LAST_30_DAYS).toISOString();
    results['summary LAST_30_DAYS'].plan = await explain(
      'select count(*), avg("processing_ms") from "conversions" where "created_at" >= ? and "created_at" < ?',
      [from30, now.toISOString()],
    );
    results['errorsByCode LAST_30_DAYS'].plan = await explain(
      `select "error"->>'code', count(*) from "conversions" where "status" = 'FAILED' and "created_at" >= ? and "created_at" < ? group by 1`,
      [from30, now.toISOString()],
    );
    results['ratings LAST_30_DAYS'].plan = await explain(
      'select "rating", count(*) from "feedback" where "created_at" >= ? and "created_at" < ? group by 1',
      [from30, now.toISOString()],
    );

    if (JSON_OUT) {
      console.log(JSON.stringify({ rows: Number(counts[0].c), feedback: Number(counts[0].f), seedSeconds, results }, null, 2));
    } else {
      console.log(
        `conversions: ${counts[0].c}, feedback: ${counts[0].f}, users: ${USERS}; seeding + VACUUM ANALYZE ${seedSeconds.toFixed(1)} s`,
      );
      console.log(`query (median / max of ${RUNS} runs, ms)`);
      for (const [label, r] of Object.entries(results)) {
        console.log(
          `  ${label.padEnd(44)} ${String(r.medianMs).padStart(9)} ${String(r.maxMs).padStart(9)}${r.plan ? `   [${r.plan}]` : ''}`,
        );
      }
    }
  } finally {
    await orm.close(true);
    const admin = knex({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });
    try {
      await admin.raw(`drop database if exists "${name}" with (force)`);
    } finally {
      await admin.destroy();
    }
  }
}

await main();
