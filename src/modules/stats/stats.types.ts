/** The GraphQL view of queue counts and service health. */
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import type { CircuitBreakerView } from './circuit-breaker.repository.js';

export enum HealthVerdictEnum {
  OK = 'OK',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
}

registerEnumType(HealthVerdictEnum, {
  name: 'HealthVerdict',
  description:
    'OK: database and Redis answer. DEGRADED: Redis is away (reads work; no new jobs or live progress). DOWN: the database is away.',
});

export enum CircuitBreakerStateEnum {
  CLOSED = 'CLOSED',
  OPEN = 'OPEN',
  HALF_OPEN = 'HALF_OPEN',
}

registerEnumType(CircuitBreakerStateEnum, {
  name: 'CircuitBreakerState',
  description:
    'CLOSED: calls go through. OPEN: calls fail fast without contacting the provider (BREAKER_FAILURE_THRESHOLD consecutive failures). HALF_OPEN: after BREAKER_HALF_OPEN_AFTER_MS, one trial call decides.',
});

@ObjectType({ description: 'A circuit breaker around a remote provider, in one worker process (each process has its own).' })
export class CircuitBreaker {
  @Field({ description: '`lyrics:llm` or `vocals:expert-music-ai`.' }) name!: string;
  @Field(() => CircuitBreakerStateEnum) state!: CircuitBreakerStateEnum;
  @Field({ description: '`<hostname>:<pid>` of the process that owns it.' }) process!: string;
  @Field(() => Int, { description: 'Consecutive failed attempts counted now.' }) consecutiveFailures!: number;
  @Field(() => Date, { nullable: true, description: 'Last state change; null if none since the process started.' }) changedAt!: Date | null;
  @Field(() => Date, { description: 'When the process last reported it (every 10 s; entries older than 60 s are dropped).' })
  updatedAt!: Date;
}

/** The GraphQL objects for breaker views. */
export function presentCircuitBreakers(views: CircuitBreakerView[]): CircuitBreaker[] {
  return views.map((view) => Object.assign(new CircuitBreaker(), { ...view, state: CircuitBreakerStateEnum[view.state] }));
}

@ObjectType({ description: 'Jobs in the conversion queues (Bee-Queue counts summed over the HIGH, NORMAL and LOW queues, all users).' })
export class QueueCounts {
  @Field(() => Int) waiting!: number;
  @Field(() => Int) active!: number;
  @Field(() => Int, { description: 'Jobs that succeeded (Bee-Queue keeps their ids).' }) completed!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Int, { description: 'Jobs waiting for a retry after backoff.' }) delayed!: number;
}

@ObjectType({ description: 'Whether one dependency answered a probe (2 s deadline).' })
export class DependencyHealth {
  @Field() reachable!: boolean;
  @Field(() => Float, { nullable: true, description: 'Round trip, ms; null when unreachable.' }) latencyMs!: number | null;
  @Field(() => String, { nullable: true, description: 'Short reason when unreachable.' }) error!: string | null;
}

@ObjectType({ description: 'Queue counts and service health, as seen by the API replica that answers.' })
export class Stats {
  @Field(() => QueueCounts, { nullable: true, description: 'Null when Redis did not answer.' })
  queue!: QueueCounts | null;

  @Field(() => DependencyHealth)
  database!: DependencyHealth;

  @Field(() => DependencyHealth)
  redis!: DependencyHealth;

  @Field(() => HealthVerdictEnum)
  verdict!: HealthVerdictEnum;

  @Field(() => Date)
  checkedAt!: Date;

  @Field(() => [CircuitBreaker], {
    description:
      'Circuit breakers around remote providers, one entry per breaker and worker process (published to Redis); empty when no provider is configured or Redis did not answer.',
  })
  circuitBreakers!: CircuitBreaker[];
}
