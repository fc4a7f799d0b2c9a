/** The GraphQL view of feedback and the answer to submitFeedback. */
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { UserError } from '../conversion/conversion.types.js';
import type { Feedback } from './feedback.entity.js';

@ObjectType('Feedback', { description: "The caller's rating of one of their completed conversions." })
export class FeedbackObject {
  @Field(() => ID)
  id!: string;

  @Field(() => Int, { description: '1 (worst) to 5 (best).' })
  rating!: number;

  @Field(() => String, { nullable: true, description: 'Up to 2,000 characters.' })
  comment!: string | null;

  @Field()
  favorite!: boolean;

  @Field(() => Date)
  createdAt!: Date;

  @Field(() => Date)
  updatedAt!: Date;
}

@ObjectType({ description: 'The stored feedback, or userErrors: NOT_FOUND, NOT_COMPLETED, INVALID_RATING, COMMENT_TOO_LONG.' })
export class SubmitFeedbackPayload {
  @Field(() => FeedbackObject, { nullable: true, description: 'Null when there are userErrors.' })
  feedback!: FeedbackObject | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}

export function presentFeedback(row: Feedback): FeedbackObject {
  return Object.assign(new FeedbackObject(), {
    id: row.id,
    rating: row.rating,
    comment: row.comment,
    favorite: row.favorite,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  });
}
