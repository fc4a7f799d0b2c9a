/** One event of the `conversionProgress` subscription. */
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { StageName } from '../../audio/stages.js';
import { ConversionError, ConversionObject, ConversionStatus } from '../conversion/conversion.types.js';

@ObjectType({
  description:
    'A step of one conversion: the first event is its current state (for late joiners), then every stage change and progress step, then one final event (COMPLETED, FAILED or CANCELLED) after which the subscription completes.',
})
export class ConversionProgressEvent {
  @Field(() => ID, { description: "The conversion's global id (same as `Conversion.id`)." })
  conversionId!: string;

  @Field(() => ConversionStatus)
  status!: ConversionStatus;

  @Field(() => StageName, { nullable: true })
  stage!: StageName | null;

  @Field(() => Int, { description: 'Percent done, 0..100.' })
  progress!: number;

  @Field()
  message!: string;

  @Field(() => Date, { description: 'When the event happened (for the first event: when the row last changed).' })
  at!: Date;

  @Field({ description: 'True for the last event; the subscription completes after it.' })
  final!: boolean;

  @Field(() => ConversionError, { nullable: true })
  error!: ConversionError | null;

  /** Resolved by a field resolver (read afresh on delivery). */
  @Field(() => ConversionObject, { nullable: true, description: 'The conversion as stored when this event is delivered.' })
  conversion!: ConversionObject | null;

  /** The row's UUID and owner (not exposed; for the `conversion` field resolver). */
  uuid!: string;
  userId!: string;
}
