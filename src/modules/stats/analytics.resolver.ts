/** `analytics(window)`, `userStats(userId, window)` and the `serviceStatsUpdated` subscription: admins only; thin over the services. */
import { Arg, Ctx, ID, Query, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { requireAdmin, type GraphQLContext } from '../graphql-context.js';
import type { StatsView } from './stats.service.js';
import { AnalyticsService, type HealthReport } from './analytics.service.js';
import { Analytics, AnalyticsWindow, HealthIssueCode, ServiceHealth, ServiceStatsUpdate, UserStats } from './analytics.types.js';
import { HealthVerdictEnum, Stats, presentCircuitBreakers } from './stats.types.js';
import { statsTickerFor, type StatsSnapshot } from './stats-ticker.js';

function presentHealth(health: HealthReport): ServiceHealth {
  return Object.assign(new ServiceHealth(), {
    ...health,
    verdict: HealthVerdictEnum[health.verdict],
    issues: health.issues.map((issue) => ({ ...issue, code: HealthIssueCode[issue.code] })),
  });
}

function presentStats(view: StatsView): Stats {
  return Object.assign(new Stats(), {
    ...view,
    verdict: HealthVerdictEnum[view.verdict],
    circuitBreakers: presentCircuitBreakers(view.circuitBreakers),
  });
}

function service(ctx: GraphQLContext): AnalyticsService {
  const { services } = ctx;
  return new AnalyticsService({ em: ctx.em, redis: services.redis, queue: services.queue, config: services.config });
}

function subscribe({ context }: SubscribeResolverData<unknown, object, GraphQLContext>): AsyncIterable<StatsSnapshot> {
  requireAdmin(context);
  return statsTickerFor(context.services).subscribe();
}

@Resolver()
export class AnalyticsResolver {
  @Query(() => Analytics, {
    description:
      'Service-wide figures over a window (conversions created in it): totals and success rate, processing-time percentiles, peak UTC hours, top genres and moods, errors by code, ratings; plus quota use today and this month, the last 30 days, queue counts and the health verdict. Admins only (FORBIDDEN otherwise).',
  })
  async analytics(
    @Arg('window', () => AnalyticsWindow, { defaultValue: AnalyticsWindow.LAST_DAY }) window: AnalyticsWindow,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Analytics> {
    requireAdmin(ctx);
    const view = await service(ctx).analytics(window);
    const { successRate, p50, p95, p99, min, max, average, total, completed, failed, cancelled, inFlight } = view.summary;
    return Object.assign(new Analytics(), {
      window,
      from: view.from,
      to: view.to,
      conversions: { total, completed, failed, cancelled, inFlight, successRate },
      processingTimeMs: { p50, p95, p99, min, max, average },
      peakHours: view.peakHours,
      topGenres: view.topGenres.map((r) => ({ value: r.key, count: r.count })),
      topMoods: view.topMoods.map((r) => ({ value: r.key, count: r.count })),
      errorsByCode: view.errors.map((r) => ({ value: r.key, count: r.count })),
      ratings: view.ratings,
      quota: view.quota,
      daily: view.daily,
      queue: view.stats.queue,
      stats: presentStats(view.stats),
      health: presentHealth(view.health),
      circuitBreakers: presentCircuitBreakers(view.circuitBreakers),
    });
  }

  @Query(() => UserStats, {
    description:
      "One user's figures: favourite genre and mood, success rate, average rating; over all their conversions, or those created in `window`. Admins only. An unknown user answers zeros and nulls.",
  })
  async userStats(
    @Arg('userId', () => ID) userId: string,
    @Arg('window', () => AnalyticsWindow, { nullable: true }) window: AnalyticsWindow | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<UserStats> {
    requireAdmin(ctx);
    return Object.assign(new UserStats(), await service(ctx).userStats(userId, window ?? null));
  }

  @Subscription(() => ServiceStatsUpdate, {
    subscribe,
    description:
      'Live dashboard: queue counts and health, at most once per STATS_PUSH_INTERVAL_MS (1 s). Computed once per interval per API process and shared by every subscriber; the first event arrives within one interval. Admins only.',
  })
  serviceStatsUpdated(@Root() snapshot: StatsSnapshot): ServiceStatsUpdate {
    return Object.assign(new ServiceStatsUpdate(), {
      tick: snapshot.tick,
      computedAt: snapshot.computedAt,
      queue: snapshot.queue,
      health: presentHealth(snapshot.health),
      circuitBreakers: presentCircuitBreakers(snapshot.circuitBreakers),
    });
  }
}
