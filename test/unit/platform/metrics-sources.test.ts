/**
 * The gauges /metrics reads when scraped (metrics.ts): the shared state (database size, Redis memory,
 * ratings, top genres and moods, quota, input bytes) is read once per SHARED_STATE_TTL_MS however many
 * gauges and scrapes ask, a value that left the top list is no longer reported, a failed read keeps the
 * last figures; readiness is 1 only when every check passes, and each dependency has its own series.
 */
import { createMetrics, SHARED_STATE_TTL_MS, type SharedState } from '../../../src/platform/metrics.js';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text.js';

function state(overrides: Partial<SharedState> = {}): SharedState {
  return {
    databaseBytes: 8_000_000,
    redisUsedMemoryBytes: 1_500_000,
    ratings: { '4': 2, '5': 1 },
    genres: { pop: 3, folk: 1 },
    moods: { happy: 4 },
    quotaUsedToday: 4,
    quotaUsedThisMonth: 9,
    storedInputBytes: 930_000,
    ...overrides,
  };
}

/** One scrape, as a lookup `value(name, labels)`. */
async function scrape(metrics: ReturnType<typeof createMetrics>) {
  const families = parsePrometheusText(await metrics.registry.metrics());
  return { value: (name: string, labels: Record<string, string> = {}) => sampleValue(families, name, labels) };
}

describe('gauges read when scraped', () => {
  it('read the shared state once for every gauge and scrape within the TTL, and report its figures', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let reads = 0;
    metrics.setSharedStateSource(async () => {
      reads += 1;
      return state();
    });
    const first = await scrape(metrics);
    await scrape(metrics);
    expect(reads).toBe(1);
    expect(SHARED_STATE_TTL_MS).toBeGreaterThan(1000);
    expect(first.value('melody_database_size_bytes')).toBe(8_000_000);
    expect(first.value('melody_redis_used_memory_bytes')).toBe(1_500_000);
    expect(first.value('melody_feedback_ratings', { rating: '4' })).toBe(2);
    expect(first.value('melody_conversions_by_genre', { genre: 'pop' })).toBe(3);
    expect(first.value('melody_conversions_by_mood', { mood: 'happy' })).toBe(4);
    expect(first.value('melody_quota_used', { period: 'day' })).toBe(4);
    expect(first.value('melody_quota_used', { period: 'month' })).toBe(9);
    expect(first.value('melody_storage_input_bytes')).toBe(930_000);
  });

  it('drop a genre that left the top list, and keep the last figures when a read fails', async () => {
    const metrics = createMetrics({ processMetrics: false });
    metrics.setSharedStateSource(async () => state());
    await scrape(metrics);
    metrics.setSharedStateSource(async () => state({ genres: { rock: 5 } })); // a new source forgets the cached read
    const second = await scrape(metrics);
    expect(second.value('melody_conversions_by_genre', { genre: 'rock' })).toBe(5);
    expect(second.value('melody_conversions_by_genre', { genre: 'pop' })).toBeUndefined();
    metrics.setSharedStateSource(async () => {
      throw new Error('database down');
    });
    const third = await scrape(metrics);
    expect(third.value('melody_conversions_by_genre', { genre: 'rock' })).toBe(5);
    expect(third.value('melody_database_size_bytes')).toBe(8_000_000);
  });

  it('report readiness 1 only when every check passes, with one series per dependency', async () => {
    const metrics = createMetrics({ processMetrics: false });
    let redisOk = true;
    metrics.setReadinessSource(async () => ({ checks: { postgres: { ok: true }, redis: { ok: redisOk }, migrations: { ok: true } } }));
    const up = await scrape(metrics);
    expect(up.value('melody_ready')).toBe(1);
    expect(up.value('melody_dependency_up', { dependency: 'redis' })).toBe(1);
    redisOk = false;
    await new Promise((resolve) => setTimeout(resolve, 1100)); // one check serves a scrape's gauges for 1 s
    const down = await scrape(metrics);
    expect(down.value('melody_ready')).toBe(0);
    expect(down.value('melody_dependency_up', { dependency: 'redis' })).toBe(0);
    expect(down.value('melody_dependency_up', { dependency: 'postgres' })).toBe(1);
  });
});
