/**
 * Admin analytics on a real PostgreSQL database, Redis and Bee-Queue of this file's own: every figure
 * against hand-computed values on seeded rows with known creation times, statuses, processing times,
 * genres, moods, error codes and ratings; window boundaries (start inclusive, end exclusive);
 * per-user figures; alert thresholds → verdict and issues; admin-only access; and the dashboard
 * subscription: at most one event per second per subscriber, one computation per tick for all of them.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { execute, parse, subscribe, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { EntityManager } from '@mikro-orm/postgresql';
import { createContext } from '../../src/modules/graphql-context.js';
import { buildAppSchema } from '../../src/graphql/schema.js';
import { AnalyticsService, assessHealth } from '../../src/modules/stats/analytics.service.js';
import { statsTickerFor } from '../../src/modules/stats/stats-ticker.js';
import { Role } from '../../src/modules/user/user.entity.js';
import { createReadSideEnv, type ReadSideEnv } from '../support/read-side-harness.js';
import { Cleanup } from '../support/service-harness.js';

const cleanup = new Cleanup();
let env: ReadSideEnv;
let schema: GraphQLSchema;

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
// A fixed "now": 12:30 UTC yesterday, so every seeded hour and day is known and in the past.
const today = new Date();
const NOW = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - 1, 12, 30));
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const dateOf = (d: Date) => d.toISOString().slice(0, 10);

interface Row {
  n: number;
  user: string;
  offset: number;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
  ms?: number;
  genre: string;
  mood: string;
  code?: string | null;
  rating?: { value: number; offset: number };
}

const U1 = `u1-${randomUUID()}`;
const U2 = `u2-${randomUUID()}`;
const U3 = `u3-${randomUUID()}`;

// prettier-ignore
const ROWS: Row[] = [
  { n: 1, user: U1, offset: -10 * MIN, status: 'COMPLETED', ms: 1000, genre: 'pop', mood: 'happy', rating: { value: 5, offset: -9 * MIN } },
  { n: 2, user: U1, offset: -20 * MIN, status: 'COMPLETED', ms: 2000, genre: 'pop', mood: 'happy', rating: { value: 4, offset: -15 * MIN } },
  { n: 3, user: U2, offset: -30 * MIN, status: 'COMPLETED', ms: 3000, genre: 'rock', mood: 'sad', rating: { value: 2, offset: -2 * HOUR } },
  { n: 4, user: U2, offset: -40 * MIN, status: 'FAILED', genre: 'rock', mood: 'calm', code: 'AUDIO_PROCESSING_ERROR' },
  { n: 5, user: U3, offset: -60 * MIN, status: 'COMPLETED', ms: 4000, genre: 'jazz', mood: 'happy' }, // exactly at the hour's start: inside
  { n: 6, user: U3, offset: -50 * MIN, status: 'CANCELLED', genre: 'jazz', mood: 'sad' },
  { n: 7, user: U1, offset: -5 * MIN, status: 'PENDING', genre: 'pop', mood: 'calm' },
  { n: 8, user: U3, offset: -60 * MIN - 1, status: 'FAILED', genre: 'pop', mood: 'sad', code: 'TIMEOUT_ERROR' }, // 1 ms before: outside the hour
  { n: 10, user: U2, offset: -3 * HOUR, status: 'FAILED', genre: 'rock', mood: 'happy', code: null },
  { n: 11, user: U2, offset: -5 * HOUR, status: 'COMPLETED', ms: 10000, genre: 'rock', mood: 'happy' },
  { n: 12, user: U1, offset: -3 * DAY, status: 'COMPLETED', ms: 5000, genre: 'pop', mood: 'happy', rating: { value: 5, offset: -3 * DAY + HOUR } },
  { n: 13, user: U3, offset: -6 * DAY, status: 'FAILED', genre: 'classical', mood: 'calm', code: 'AUDIO_PROCESSING_ERROR' },
  { n: 14, user: U1, offset: -20 * DAY, status: 'COMPLETED', ms: 6000, genre: 'pop', mood: 'sad', rating: { value: 3, offset: -20 * DAY + HOUR } },
  { n: 15, user: U1, offset: -40 * DAY, status: 'COMPLETED', ms: 7000, genre: 'metal', mood: 'angry' },
];

async function seed(em: EntityManager): Promise<void> {
  const conn = em.getConnection();
  await conn.execute('insert into "users" ("id", "daily_quota") values (?, null), (?, 20), (?, null)', [U1, U2, U3]);
  for (const row of ROWS) {
    const id = randomUUID();
    const error =
      row.status === 'FAILED'
        ? JSON.stringify(row.code ? { code: row.code, message: 'failed', retryable: false } : { message: 'no code' })
        : null;
    await conn.execute(
      `insert into "conversions" ("id", "user_id", "status", "prompt", "genre", "mood", "voice", "input_key", "input", "error", "processing_ms", "created_at")
       values (?, ?, ?, 'a song about the sea at night', ?, ?, 'high', ?, '{}', ?::jsonb, ?, ?)`,
      [id, row.user, row.status, row.genre, row.mood, `conversions/${id}/input`, error, row.ms ?? null, at(row.offset).toISOString()],
    );
    if (row.rating) {
      await conn.execute('insert into "feedback" ("id", "conversion_id", "rating", "created_at") values (?, ?, ?, ?)', [
        randomUUID(),
        id,
        row.rating.value,
        at(row.rating.offset).toISOString(),
      ]);
    }
  }
  const day = dateOf(NOW);
  const month = `${day.slice(0, 7)}-01`;
  await conn.execute(
    `insert into "quota_counters" ("user_id", "day_start", "day_used", "month_start", "month_used") values
     (?, ?, 10, ?, 20), (?, ?, 5, ?, 5), (?, ?, 7, ?, 30)`,
    [U1, day, month, U2, day, month, U3, dateOf(at(-DAY)), month],
  );
}

function analyticsService(overrides: Partial<ReadSideEnv['config']> = {}): AnalyticsService {
  const { services } = env;
  return new AnalyticsService({
    em: services.orm.em.fork() as EntityManager,
    redis: services.redis,
    queue: services.queue,
    config: { ...services.config, ...overrides },
  });
}

function contextAs(role: Role | null) {
  return createContext(env.services, { requestId: randomUUID(), user: role ? { id: `caller-${role}`, role } : null });
}

async function runAs<T = Record<string, unknown>>(
  role: Role | null,
  source: string,
  variableValues: Record<string, unknown> = {},
): Promise<ExecutionResult<T>> {
  return (await execute({ schema, document: parse(source), variableValues, contextValue: contextAs(role) })) as ExecutionResult<T>;
}

beforeAll(async () => {
  env = await createReadSideEnv(cleanup, { DAILY_QUOTA: '10', MONTHLY_QUOTA: '100', QUOTA_TIME_ZONE: 'UTC' });
  schema = await buildAppSchema();
  await seed(env.services.orm.em.fork() as EntityManager);
}, 60_000);

afterAll(async () => {
  await cleanup.run();
});

describe('analytics over a window', () => {
  test('the last hour counts rows from exactly one hour before now (inclusive) and gives hand-computed figures', async () => {
    const view = await analyticsService().analytics('LAST_HOUR', NOW);
    expect(view.from).toEqual(at(-HOUR));
    // Rows 1–7 (row 5 sits exactly on the start; row 8, 1 ms earlier, is out).
    expect(view.summary).toMatchObject({ total: 7, completed: 4, failed: 1, cancelled: 1, inFlight: 1, successRate: 0.8 });
    // Processing times 1000, 2000, 3000, 4000 ms: linear interpolation at (n−1)·p.
    expect(view.summary.p50).toBeCloseTo(2500, 6);
    expect(view.summary.p95).toBeCloseTo(3850, 6);
    expect(view.summary.p99).toBeCloseTo(3970, 6);
    expect(view.summary).toMatchObject({ min: 1000, max: 4000 });
    expect(view.summary.average).toBeCloseTo(2500, 6);
    expect(view.peakHours).toEqual([
      { hour: 12, count: 4 },
      { hour: 11, count: 3 },
    ]);
    expect(view.topGenres).toEqual([
      { key: 'pop', count: 3 },
      { key: 'jazz', count: 2 },
      { key: 'rock', count: 2 },
    ]);
    expect(view.topMoods).toEqual([
      { key: 'happy', count: 3 },
      { key: 'calm', count: 2 },
      { key: 'sad', count: 2 },
    ]);
    expect(view.errors).toEqual([{ key: 'AUDIO_PROCESSING_ERROR', count: 1 }]);
    expect(view.ratings.count).toBe(2);
    expect(view.ratings.average).toBeCloseTo(4.5, 9);
    expect(view.ratings.distribution).toEqual([0, 0, 0, 1, 1]);
    expect(view.circuitBreakers).toEqual([]);
  });

  test('the end of a window is exclusive: a row created exactly at now is not counted', async () => {
    // Window [NOW−70 min, NOW−10 min): rows 2, 3, 4, 5, 6 and 8; row 1 (at the end) and row 7 are out.
    const view = await analyticsService().analytics('LAST_HOUR', at(-10 * MIN));
    expect(view.summary.total).toBe(6);
    expect(view.summary).toMatchObject({ completed: 3, failed: 2, cancelled: 1, inFlight: 0 });
  });

  test('the last day adds rows 8, 10 and 11, with error codes (a missing code counts as UNKNOWN_ERROR) and ratings', async () => {
    const view = await analyticsService().analytics('LAST_DAY', NOW);
    expect(view.summary).toMatchObject({
      total: 10,
      completed: 5,
      failed: 3,
      cancelled: 1,
      inFlight: 1,
      successRate: 0.625,
      min: 1000,
      max: 10000,
    });
    // 1000, 2000, 3000, 4000, 10000 ms.
    expect(view.summary.p50).toBeCloseTo(3000, 6);
    expect(view.summary.p95).toBeCloseTo(8800, 6);
    expect(view.summary.p99).toBeCloseTo(9760, 6);
    expect(view.summary.average).toBeCloseTo(4000, 6);
    expect(view.errors).toEqual([
      { key: 'AUDIO_PROCESSING_ERROR', count: 1 },
      { key: 'TIMEOUT_ERROR', count: 1 },
      { key: 'UNKNOWN_ERROR', count: 1 },
    ]);
    expect(view.ratings.distribution).toEqual([0, 1, 0, 1, 1]);
    expect(view.ratings.average).toBeCloseTo(11 / 3, 9);
  });

  test('7 and 30 days take in the older rows; a 40-day-old row is never counted', async () => {
    const week = await analyticsService().analytics('LAST_7_DAYS', NOW);
    expect(week.summary).toMatchObject({ total: 12, completed: 6, failed: 4, successRate: 0.6 });
    const month = await analyticsService().analytics('LAST_30_DAYS', NOW);
    expect(month.summary).toMatchObject({ total: 13, completed: 7, failed: 4, max: 10000 });
    expect(month.summary.successRate).toBeCloseTo(7 / 11, 9);
    expect(month.topGenres).toEqual([
      { key: 'pop', count: 6 },
      { key: 'rock', count: 4 },
      { key: 'jazz', count: 2 },
      { key: 'classical', count: 1 },
    ]);
    expect(month.ratings).toMatchObject({ count: 5, distribution: [0, 1, 1, 1, 2] });
  });

  test('the daily series covers the last 30 UTC days, today last, zeros on empty days', async () => {
    const { daily } = await analyticsService().analytics('LAST_HOUR', NOW);
    expect(daily).toHaveLength(30);
    expect(daily[29]).toEqual({ day: dateOf(NOW), total: 10, completed: 5, failed: 3, successRate: 0.625 });
    expect(daily[0].day).toBe(dateOf(at(-29 * DAY)));
    expect(daily[26]).toEqual({ day: dateOf(at(-3 * DAY)), total: 1, completed: 1, failed: 0, successRate: 1 });
    expect(daily[23]).toEqual({ day: dateOf(at(-6 * DAY)), total: 1, completed: 0, failed: 1, successRate: 0 });
    expect(daily[9]).toEqual({ day: dateOf(at(-20 * DAY)), total: 1, completed: 1, failed: 0, successRate: 1 });
    expect(daily[28]).toEqual({ day: dateOf(at(-DAY)), total: 0, completed: 0, failed: 0, successRate: null });
    expect(daily.reduce((sum, d) => sum + d.total, 0)).toBe(13);
  });

  test("quota utilisation reads the current day and month: own limits count, yesterday's counter does not", async () => {
    const { quota } = await analyticsService().analytics('LAST_DAY', NOW);
    // Today: U1 10/10 (default), U2 5/20 (own limit); U3's counter is from yesterday.
    expect(quota).toMatchObject({
      usersToday: 2,
      unitsToday: 15,
      usersAtDailyLimit: 1,
      usersThisMonth: 3,
      unitsThisMonth: 55,
      usersAtMonthlyLimit: 0,
    });
    expect(quota.averageDailyUtilisation).toBeCloseTo((1 + 0.25) / 2, 9);
    expect(quota.averageMonthlyUtilisation).toBeCloseTo((0.2 + 0.05 + 0.3) / 3, 9);
  });
});

describe('per-user figures', () => {
  test.each([
    [
      U1,
      { total: 6, completed: 5, failed: 0, successRate: 1, favouriteGenre: 'pop', favouriteMood: 'happy', ratings: 4, averageRating: 4.25 },
    ],
    [
      U2,
      { total: 4, completed: 2, failed: 2, successRate: 0.5, favouriteGenre: 'rock', favouriteMood: 'happy', ratings: 1, averageRating: 2 },
    ],
    [U3, { total: 4, completed: 1, failed: 2, favouriteGenre: 'jazz', favouriteMood: 'sad', ratings: 0, averageRating: null }],
  ])('user %s over all time', async (user, expected) => {
    const view = await analyticsService().userStats(user, null, NOW);
    expect(view).toMatchObject({ userId: user, ...expected });
    if (user === U3) expect(view.successRate).toBeCloseTo(1 / 3, 9);
  });

  test("a window limits a user's figures; an unknown user answers zeros and nulls", async () => {
    expect(await analyticsService().userStats(U1, 'LAST_HOUR', NOW)).toMatchObject({
      total: 3,
      completed: 2,
      failed: 0,
      successRate: 1,
      ratings: 2,
      averageRating: 4.5,
    });
    expect(await analyticsService().userStats('nobody', null, NOW)).toMatchObject({
      total: 0,
      successRate: null,
      favouriteGenre: null,
      favouriteMood: null,
      averageRating: null,
      ratings: 0,
    });
  });
});

describe('health verdict', () => {
  test("the last hour's error rate of exactly 20 % does not alert; a lower threshold does", async () => {
    const calm = await analyticsService().health(NOW);
    expect(calm.health.errorRateLastHour).toBeCloseTo(0.2, 9);
    expect(calm.health.averageLatencySecondsLastHour).toBeCloseTo(2.5, 9);
    expect(calm.health.issues).toEqual([]);
    expect(calm.health.verdict).toBe('OK');
    const alarmed = await analyticsService({ alertErrorRate: 0.19, alertLatencySeconds: 2 }).health(NOW);
    expect(alarmed.health.verdict).toBe('DEGRADED');
    expect(alarmed.health.issues.map((i) => i.code)).toEqual(['ERROR_RATE_HIGH', 'LATENCY_HIGH']);
    expect(alarmed.health.issues[1]).toMatchObject({ value: 2.5, threshold: 2 });
  });

  test('backlog counts waiting + delayed jobs against the threshold; a database that is down wins', () => {
    const up = { reachable: true, latencyMs: 1, error: null };
    const thresholds = { alertErrorRate: 0.2, alertBacklogJobs: 50, alertLatencySeconds: 180 };
    const queue = (waiting: number, delayed: number) => ({ waiting, delayed, active: 9, completed: 0, failed: 0 });
    const none = { completed: 0, failed: 0, averageMs: null };
    expect(assessHealth({ database: up, redis: up, queue: queue(40, 10), verdict: 'OK' }, none, thresholds)).toMatchObject({
      verdict: 'OK',
      issues: [],
      backlog: 50,
      errorRateLastHour: null,
    });
    expect(assessHealth({ database: up, redis: up, queue: queue(40, 11), verdict: 'OK' }, none, thresholds)).toMatchObject({
      verdict: 'DEGRADED',
      issues: [{ code: 'BACKLOG_HIGH', value: 51, threshold: 50 }],
    });
    const down = { reachable: false, latencyMs: null, error: 'unreachable' };
    const report = assessHealth({ database: down, redis: up, queue: queue(40, 11), verdict: 'DOWN' }, none, thresholds);
    expect(report.verdict).toBe('DOWN');
    expect(report.issues.map((i) => i.code)).toEqual(['DATABASE_DOWN', 'BACKLOG_HIGH']);
  });
});

describe('GraphQL access', () => {
  const ANALYTICS = `query A($w: AnalyticsWindow) { analytics(window: $w) { window conversions { total completed failed successRate } topGenres { value count }
    ratings { distribution } daily { day total } queue { waiting } stats { verdict } health { verdict issues { code } } circuitBreakers { name state } } }`;
  const USER_STATS = `query U($id: ID!) { userStats(userId: $id) { total successRate favouriteGenre favouriteMood averageRating } }`;

  test('admins get analytics and user figures through the schema (30 days from the real now include rows 1–14)', async () => {
    const result = await runAs<{
      analytics: { conversions: { total: number }; daily: unknown[]; circuitBreakers: unknown[]; window: string };
    }>(Role.ADMIN, ANALYTICS, { w: 'LAST_30_DAYS' });
    expect(result.errors).toBeUndefined();
    expect(result.data!.analytics.window).toBe('LAST_30_DAYS');
    expect(result.data!.analytics.conversions.total).toBe(13);
    expect(result.data!.analytics.daily).toHaveLength(30);
    expect(result.data!.analytics.circuitBreakers).toEqual([]);
    const user = await runAs(Role.ADMIN, USER_STATS, { id: U2 });
    expect(user.data).toEqual({
      userStats: { total: 4, successRate: 0.5, favouriteGenre: 'rock', favouriteMood: 'happy', averageRating: 2 },
    });
  });

  test('other roles get FORBIDDEN and nobody gets UNAUTHENTICATED, for the queries and the subscription', async () => {
    for (const [role, code] of [
      [Role.USER, 'FORBIDDEN'],
      [Role.PARTNER, 'FORBIDDEN'],
      [null, 'UNAUTHENTICATED'],
    ] as const) {
      expect((await runAs(role, ANALYTICS)).errors?.[0].extensions?.code).toBe(code);
      expect((await runAs(role, USER_STATS, { id: U1 })).errors?.[0].extensions?.code).toBe(code);
      const sub = (await subscribe({
        schema,
        document: parse('subscription { serviceStatsUpdated { tick } }'),
        contextValue: contextAs(role),
      })) as ExecutionResult;
      expect(sub.errors?.[0].extensions?.code).toBe(code);
    }
  });
});

describe('serviceStatsUpdated', () => {
  const SUBSCRIPTION =
    'subscription { serviceStatsUpdated { tick computedAt queue { waiting delayed } health { verdict backlog issues { code } } circuitBreakers { name } } }';

  test('two dashboards each get at most one event per second, and each tick is computed once for both', async () => {
    const ticker = statsTickerFor(env.services);
    expect(ticker.active).toBe(false);
    const before = ticker.computations;
    const open = async () =>
      (await subscribe({ schema, document: parse(SUBSCRIPTION), contextValue: contextAs(Role.ADMIN) })) as AsyncGenerator<
        ExecutionResult<{ serviceStatsUpdated: { tick: number; health: { verdict: string } } }>
      >;
    const a = await open();
    const b = await open();
    expect(ticker.subscriberCount).toBe(2);
    const started = Date.now();
    const RUN_MS = 3500;
    const collect = async (it: typeof a) => {
      const seen: { tick: number; at: number }[] = [];
      for (;;) {
        const next = await Promise.race([it.next(), new Promise<null>((r) => setTimeout(() => r(null), RUN_MS - (Date.now() - started)))]);
        if (next === null || next.done) break;
        expect(next.value.errors).toBeUndefined();
        expect(next.value.data!.serviceStatsUpdated.health.verdict).toBe('OK');
        seen.push({ tick: next.value.data!.serviceStatsUpdated.tick, at: Date.now() });
        if (Date.now() - started >= RUN_MS) break;
      }
      return seen;
    };
    const [seenA, seenB] = await Promise.all([collect(a), collect(b)]);
    const elapsed = Date.now() - started;
    const computed = ticker.computations - before;
    await a.return(undefined);
    await b.return(undefined);

    const maxEvents = Math.floor(elapsed / 1000) + 1;
    for (const seen of [seenA, seenB]) {
      expect(seen.length).toBeGreaterThanOrEqual(3);
      expect(seen.length).toBeLessThanOrEqual(maxEvents);
      for (let i = 1; i < seen.length; i += 1) {
        expect(seen[i].tick).toBeGreaterThan(seen[i - 1].tick);
        expect(seen[i].at - seen[i - 1].at).toBeGreaterThan(800); // timer jitter only
      }
    }
    // Both got the same ticks, and there was one computation per tick (plus at most one in flight).
    expect(seenA.map((s) => s.tick)).toEqual(seenB.map((s) => s.tick));
    expect(computed).toBeGreaterThanOrEqual(seenA.length);
    expect(computed).toBeLessThanOrEqual(seenA.length + 1);

    // The last subscriber gone, the ticker stops: no more computations.
    expect(ticker.subscriberCount).toBe(0);
    expect(ticker.active).toBe(false);
    const after = ticker.computations;
    // An observation window longer than one interval (1 s), not a wait for something: no condition
    // can show that nothing happens. A ticker still running would have computed in it.
    await new Promise((r) => setTimeout(r, 1300));
    expect(ticker.computations).toBe(after);
  }, 20_000);
});
