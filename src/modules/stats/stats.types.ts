/** The GraphQL view of queue counts and service health. */
import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum HealthVerdictEnum {
  OK = 'OK',
  DEGRADED = 'DEGRADED',
  DOWN = 'DOWN',
}

registerEnumType(HealthVerdictEnum, {
  name: 'HealthVerdict',
  description: 'OK: database and Redis answer. DEGRADED: Redis is away (reads work; no new jobs or live progress). DOWN: the database is away.',
});

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
}
