/** Input of submitFeedback. Ranges are checked by the service and reported as userErrors, not GraphQL errors. */
import { Field, ID, InputType, Int } from 'type-graphql';

@InputType({ description: 'A rating of one of your completed conversions. Submitting again updates it.' })
export class SubmitFeedbackInput {
  @Field(() => ID, { description: "The conversion's id (`Conversion.id`)." })
  conversionId!: string;

  @Field(() => Int, { description: '1 to 5 (INVALID_RATING otherwise).' })
  rating!: number;

  @Field(() => String, {
    nullable: true,
    description: 'At most 2,000 characters (COMMENT_TOO_LONG otherwise). Omitted: keeps the stored comment; null or blank: clears it.',
  })
  comment?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Mark as a favourite. Omitted: keeps the stored flag (false at first).' })
  favorite?: boolean | null;
}
