/** The GraphQL view of the admin analytics, per-user figures and the live dashboard snapshot. */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { CircuitBreaker, HealthVerdictEnum, QueueCounts, Stats } from './stats.types.js';

export { CircuitBreaker, CircuitBreakerStateEnum } from './stats.types.js';

export enum AnalyticsWindow {
  LAST_HOUR = 'LAST_HOUR',
  LAST_DAY = 'LAST_DAY',
  LAST_7_DAYS = 'LAST_7_DAYS',
  LAST_30_DAYS = 'LAST_30_DAYS',
}

registerEnumType(AnalyticsWindow, {
  name: 'AnalyticsWindow',
  description:
    'A window ending now (exclusive) and starting 1 hour, 24 hours, 7 days or 30 days before (inclusive); conversions belong to it by their creation time.',
});

export enum HealthIssueCode {
  DATABASE_DOWN = 'DATABASE_DOWN',
  REDIS_DOWN = 'REDIS_DOWN',
  ERROR_RATE_HIGH = 'ERROR_RATE_HIGH',
  BACKLOG_HIGH = 'BACKLOG_HIGH',
  LATENCY_HIGH = 'LATENCY_HIGH',
}

registerEnumType(HealthIssueCode, {
  name: 'HealthIssueCode',
  description:
    "ERROR_RATE_HIGH: failed / (completed + failed) of the last hour > ALERT_ERROR_RATE (0.2). BACKLOG_HIGH: waiting + delayed jobs > ALERT_BACKLOG_JOBS (50). LATENCY_HIGH: mean processing time of the last hour's completed conversions > ALERT_LATENCY_SECONDS (180).",
});

@ObjectType({ description: 'Processing time of COMPLETED conversions, ms (continuous percentiles); null when there were none.' })
export class ProcessingTimeStats {
  @Field(() => Float, { nullable: true }) p50!: number | null;
  @Field(() => Float, { nullable: true }) p95!: number | null;
  @Field(() => Float, { nullable: true }) p99!: number | null;
  @Field(() => Float, { nullable: true }) min!: number | null;
  @Field(() => Float, { nullable: true }) max!: number | null;
  @Field(() => Float, { nullable: true }) average!: number | null;
}

@ObjectType({ description: 'Conversions created in the window, by status.' })
export class ConversionTotals {
  @Field(() => Int) total!: number;
  @Field(() => Int) completed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int) cancelled!: number;
  @Field(() => Int, { description: 'PENDING or PROCESSING.' }) inFlight!: number;
  @Field(() => Float, { nullable: true, description: 'completed / (completed + failed), 0–1; null when none finished.' }) successRate!:
    number | null;
}

@ObjectType({ description: "Conversions created in one UTC hour of day (summed over the window's days)." })
export class HourCount {
  @Field(() => Int, { description: '0–23, UTC.' }) hour!: number;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'How often one value occurs.' })
export class ValueCount {
  @Field() value!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'Ratings given (feedback created) in the window.' })
export class RatingStats {
  @Field(() => Int) count!: number;
  @Field(() => Float, { nullable: true }) average!: number | null;
  @Field(() => [Int], { description: 'Counts of ratings 1, 2, 3, 4 and 5 (always five entries).' }) distribution!: number[];
}

@ObjectType({ description: 'Quota use in the current day and month of QUOTA_TIME_ZONE (not the analytics window).' })
export class QuotaUtilisation {
  @Field(() => Int, { description: 'Users who used at least one unit today.' }) usersToday!: number;
  @Field(() => Int) unitsToday!: number;
  @Field(() => Float, { nullable: true, description: 'Mean of used / limit (0–1) over usersToday.' }) averageDailyUtilisation!:
    number | null;
  @Field(() => Int) usersAtDailyLimit!: number;
  @Field(() => Int) usersThisMonth!: number;
  @Field(() => Int) unitsThisMonth!: number;
  @Field(() => Float, { nullable: true, description: 'Mean of used / limit (0–1) over usersThisMonth.' }) averageMonthlyUtilisation!:
    number | null;
  @Field(() => Int) usersAtMonthlyLimit!: number;
}

@ObjectType({ description: 'Conversions created on one UTC day.' })
export class DailyCount {
  @Field({ description: 'YYYY-MM-DD (UTC).' }) day!: string;
  @Field(() => Int) total!: number;
  @Field(() => Int) completed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Float, { nullable: true }) successRate!: number | null;
}

@ObjectType({ description: 'One threshold crossed or dependency down.' })
export class HealthIssue {
  @Field(() => HealthIssueCode) code!: HealthIssueCode;
  @Field() message!: string;
  @Field(() => Float, { nullable: true, description: 'Measured figure (fraction, jobs or seconds).' }) value!: number | null;
  @Field(() => Float, { nullable: true }) threshold!: number | null;
}

@ObjectType({ description: 'Health verdict with its reasons. DOWN: database away; DEGRADED: Redis away or any alert threshold crossed.' })
export class ServiceHealth {
  @Field(() => HealthVerdictEnum) verdict!: HealthVerdictEnum;
  @Field(() => [HealthIssue]) issues!: HealthIssue[];
  @Field(() => Float, { nullable: true }) errorRateLastHour!: number | null;
  @Field(() => Float, { nullable: true }) averageLatencySecondsLastHour!: number | null;
  @Field(() => Int, { nullable: true, description: 'Waiting + delayed jobs; null when the queue did not answer.' }) backlog!: number | null;
}

@ObjectType({ description: 'Service-wide analytics over a window, with queue counts and health now.' })
export class Analytics {
  @Field(() => AnalyticsWindow) window!: AnalyticsWindow;
  @Field(() => Date) from!: Date;
  @Field(() => Date) to!: Date;
  @Field(() => ConversionTotals) conversions!: ConversionTotals;
  @Field(() => ProcessingTimeStats) processingTimeMs!: ProcessingTimeStats;
  @Field(() => [HourCount], { description: 'The 3 busiest UTC hours, most conversions first.' }) peakHours!: HourCount[];
  @Field(() => [ValueCount], { description: 'The 5 most requested genres.' }) topGenres!: ValueCount[];
  @Field(() => [ValueCount], { description: 'The 5 most requested moods.' }) topMoods!: ValueCount[];
  @Field(() => [ValueCount], { description: 'FAILED conversions by error code, most first.' }) errorsByCode!: ValueCount[];
  @Field(() => RatingStats) ratings!: RatingStats;
  @Field(() => QuotaUtilisation) quota!: QuotaUtilisation;
  @Field(() => [DailyCount], { description: 'The last 30 UTC days (today last), whatever the window.' }) daily!: DailyCount[];
  @Field(() => QueueCounts, { nullable: true }) queue!: QueueCounts | null;
  @Field(() => Stats, { description: 'Dependency probes as in `stats`.' }) stats!: Stats;
  @Field(() => ServiceHealth) health!: ServiceHealth;
  @Field(() => [CircuitBreaker], { description: 'Circuit breakers of every live process, as in `stats`.' })
  circuitBreakers!: CircuitBreaker[];
}

@ObjectType({ description: "One user's figures over their conversions (all time, or the window)." })
export class UserStats {
  @Field(() => ID) userId!: string;
  @Field(() => Int) total!: number;
  @Field(() => Int) completed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Float, { nullable: true }) successRate!: number | null;
  @Field(() => String, { nullable: true, description: 'Most requested; ties go to the alphabetically first.' }) favouriteGenre!:
    string | null;
  @Field(() => String, { nullable: true }) favouriteMood!: string | null;
  @Field(() => Float, { nullable: true }) averageRating!: number | null;
  @Field(() => Int) ratings!: number;
}

@ObjectType({ description: 'Queue and health figures pushed to dashboards, computed once per interval per API process.' })
export class ServiceStatsUpdate {
  @Field(() => Int, { description: "Tick number since this process's ticker started; every subscriber of a tick sees the same number." })
  tick!: number;
  @Field(() => Date) computedAt!: Date;
  @Field(() => QueueCounts, { nullable: true }) queue!: QueueCounts | null;
  @Field(() => ServiceHealth) health!: ServiceHealth;
  @Field(() => [CircuitBreaker], { description: 'Circuit breakers of every live process, as in `stats`.' })
  circuitBreakers!: CircuitBreaker[];
}
