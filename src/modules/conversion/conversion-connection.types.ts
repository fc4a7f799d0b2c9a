/** The Relay cursor connection of a user's conversions (`history`). */
import { Field, Int, ObjectType } from 'type-graphql';
import { ConversionObject } from './conversion.types.js';

@ObjectType({ description: 'Relay page information.' })
export class PageInfo {
  @Field({ description: 'True when more (older) conversions follow `endCursor`.' })
  hasNextPage!: boolean;

  @Field({ description: 'True when newer conversions precede `startCursor` (only ever true when `after` was given).' })
  hasPreviousPage!: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first edge; null on an empty page.' })
  startCursor!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last edge: pass it as `after` for the next page. Null on an empty page.',
  })
  endCursor!: string | null;
}

@ObjectType({ description: 'One conversion in a history page and the cursor that points just past it.' })
export class ConversionEdge {
  @Field({ description: 'Opaque; pass as `after` to continue after this conversion.' })
  cursor!: string;

  @Field(() => ConversionObject)
  node!: ConversionObject;
}

@ObjectType({ description: "A page of the caller's conversions, newest first." })
export class ConversionConnection {
  @Field(() => [ConversionEdge])
  edges!: ConversionEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  /** Resolved by a field resolver (counted only when asked for). */
  @Field(() => Int, { description: 'How many conversions match the filter across all pages.' })
  totalCount!: number;

  /** The lazy count behind `totalCount` (not exposed). */
  countTotal!: () => Promise<number>;
}
