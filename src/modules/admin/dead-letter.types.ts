/** GraphQL types of the dead-letter list (admins only). */
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ConversionObject, ConversionPriority, UserError } from '../conversion/conversion.types.js';
import { PageInfo } from '../conversion/conversion-connection.types.js';

@ObjectType({ description: 'Why a dead-lettered job failed (the error model).' })
export class DeadLetterError {
  @Field({
    description:
      'AUDIO_PROCESSING_ERROR, AI_SERVICE_ERROR, TIMEOUT_ERROR, STORAGE_ERROR or UNKNOWN_ERROR (VALIDATION_ERROR never dead-letters).',
  })
  code!: string;

  @Field(() => String, { nullable: true, description: 'A finer-grained code when there is one, e.g. JOB_TIMEOUT.' })
  reason!: string | null;

  @Field()
  message!: string;

  @Field({ description: 'Whether the error was retryable (a retryable one dead-letters once its retries are spent).' })
  retryable!: boolean;
}

@ObjectType({
  description:
    'A conversion whose job failed for good, kept for JOB_KEEP_FAILED_SECONDS (30 days) so an admin can look at it and re-queue it.',
})
export class DeadLetter {
  @Field(() => ID, { description: "The conversion's global id (pass it to requeueDeadLetter)." })
  conversionId!: string;

  @Field(() => ConversionObject, { nullable: true, description: 'The conversion as it is now; null when it has been deleted.' })
  conversion!: ConversionObject | null;

  @Field(() => ConversionPriority)
  priority!: ConversionPriority;

  @Field(() => DeadLetterError)
  error!: DeadLetterError;

  @Field(() => Int, { description: 'Runs that failed.' })
  attempts!: number;

  @Field(() => Date)
  failedAt!: Date;
}

@ObjectType({ description: 'One dead letter and the cursor just past it.' })
export class DeadLetterEdge {
  @Field({ description: 'Opaque; pass as `after` to continue after this entry.' })
  cursor!: string;

  @Field(() => DeadLetter)
  node!: DeadLetter;
}

@ObjectType({ description: 'A page of dead letters, newest failure first.' })
export class DeadLetterConnection {
  @Field(() => [DeadLetterEdge])
  edges!: DeadLetterEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => Int, { description: 'Dead letters in the list now.' })
  totalCount!: number;
}

@ObjectType({
  description: 'The answer to requeueDeadLetter: the conversion, queued again, or userErrors: NOT_FOUND, NOT_FAILED, NOT_DEAD_LETTER.',
})
export class RequeueDeadLetterPayload {
  @Field(() => ConversionObject, { nullable: true, description: 'The conversion after the call; null for NOT_FOUND.' })
  conversion!: ConversionObject | null;

  @Field(() => [UserError])
  userErrors!: UserError[];
}
