/** The GraphQL view of the caller's quota (read only until issue 5 enforces it). */
import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Use of one quota window (UTC).' })
export class QuotaWindow {
  @Field(() => Int, { description: 'Conversions created in this window, whatever their outcome.' })
  used!: number;

  @Field(() => Int)
  limit!: number;

  @Field(() => Int, { description: 'limit − used, never below 0.' })
  remaining!: number;

  @Field(() => Date, { description: 'Start of the window, UTC.' })
  windowStart!: Date;

  @Field(() => Date, { description: 'When the window ends and `used` starts again from 0, UTC.' })
  resetsAt!: Date;
}

@ObjectType({
  description:
    'Your conversion allowance per UTC day and UTC calendar month (DAILY_QUOTA, MONTHLY_QUOTA). Informational for now: limits are not enforced yet (enforcement comes with the quota issue), so `remaining` 0 does not block a conversion today.',
})
export class Quota {
  @Field(() => QuotaWindow)
  daily!: QuotaWindow;

  @Field(() => QuotaWindow)
  monthly!: QuotaWindow;

  @Field({ description: 'Whether the limits are enforced; false until the quota issue lands.' })
  enforced!: boolean;
}
