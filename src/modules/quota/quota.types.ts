/** The GraphQL view of a user's quota. */
import { Field, Int, ObjectType } from 'type-graphql';
import type { QuotaView } from './quota.service.js';

@ObjectType({ description: 'Use of one quota window (a day or a calendar month in the quota time zone).' })
export class QuotaWindow {
  @Field(() => Int, {
    description:
      'Conversions started in this window, minus those given back (failed for a server-side reason, or cancelled before processing).',
  })
  used!: number;

  @Field(() => Int)
  limit!: number;

  @Field(() => Int, { description: 'limit − used, never below 0.' })
  remaining!: number;

  @Field(() => Date, { description: 'Start of the window (local midnight or first of the month in `timeZone`), as an instant.' })
  windowStart!: Date;

  @Field(() => Date, { description: 'When the window ends and `used` starts again from 0.' })
  resetsAt!: Date;
}

@ObjectType({
  description:
    'Your conversion allowance per day and calendar month in `timeZone` (your own limits, else DAILY_QUOTA and MONTHLY_QUOTA). When either `remaining` is 0, convertMelody answers QUOTA_EXCEEDED until that window resets.',
})
export class Quota {
  @Field(() => QuotaWindow)
  daily!: QuotaWindow;

  @Field(() => QuotaWindow)
  monthly!: QuotaWindow;

  @Field({ description: 'Whether the limits are enforced (always true).' })
  enforced!: boolean;

  @Field({ description: 'IANA time zone whose midnights and first days of the month start the windows (QUOTA_TIME_ZONE).' })
  timeZone!: string;
}

/** The GraphQL object of a {@link QuotaView}. */
export function presentQuota(view: QuotaView): Quota {
  return Object.assign(new Quota(), { daily: view.daily, monthly: view.monthly, timeZone: view.timeZone, enforced: true });
}
