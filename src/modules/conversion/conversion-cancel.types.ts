/** The answer to cancelConversion. */
import { Field, ObjectType } from 'type-graphql';
import { ConversionObject, UserError } from './conversion.types.js';

@ObjectType({
  description:
    'The cancelled conversion, or userErrors: NOT_FOUND (no such conversion of yours) or NOT_CANCELLABLE (already COMPLETED, FAILED or CANCELLED; `conversion` then shows its state).',
})
export class CancelConversionPayload {
  @Field(() => ConversionObject, { nullable: true, description: 'The conversion after the call; null for NOT_FOUND.' })
  conversion!: ConversionObject | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
