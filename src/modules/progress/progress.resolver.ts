/**
 * The `conversionProgress` subscription: thin over {@link openProgressStream}. The context comes from
 * the graphql-ws connection (its user from `connectionParams`); the `conversion` field of each event
 * is read from the database when that event is delivered.
 */
import { Arg, Ctx, FieldResolver, ID, Resolver, Root, Subscription, type SubscribeResolverData } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../graphql-context.js';
import type { ProgressPayload } from '../../platform/pubsub.js';
import { ConversionQueryRepository } from '../conversion/conversion-query.repository.js';
import { ConversionObject, ConversionStatus, presentConversion } from '../conversion/conversion.types.js';
import { conversionGlobalId } from '../node/global-id.js';
import { openProgressStream } from './progress.service.js';
import { ConversionProgressEvent } from './progress.types.js';

async function subscribe({
  args,
  context,
}: SubscribeResolverData<unknown, { id: string }, GraphQLContext>): Promise<AsyncIterable<ProgressPayload>> {
  const user = requireUser(context);
  const { services } = context;
  // A missing or foreign id rejects with ProgressNotFoundError (NOT_FOUND).
  return openProgressStream(
    {
      pubsub: services.pubsub,
      redisPrefix: services.config.redisPrefix,
      loadOwned: (userId, uuid) => new ConversionQueryRepository(context.em.fork()).findOwned(userId, uuid),
    },
    user.id,
    args.id,
  );
}

@Resolver(() => ConversionProgressEvent)
export class ProgressResolver {
  @Subscription(() => ConversionProgressEvent, {
    subscribe,
    description:
      'Progress of one of your conversions: its current state first, then every stage change and progress step, then a final event (COMPLETED, FAILED or CANCELLED), then completes. An id that is not yours fails with NOT_FOUND, as a missing one does.',
  })
  conversionProgress(@Root() event: ProgressPayload, @Arg('id', () => ID) _id: string): ConversionProgressEvent {
    return Object.assign(new ConversionProgressEvent(), {
      conversionId: conversionGlobalId(event.conversionId),
      uuid: event.conversionId,
      userId: event.userId,
      status: event.status as ConversionStatus,
      stage: event.stage ?? null,
      progress: Math.round(event.progress),
      message: event.message,
      at: new Date(event.at),
      final: event.final,
      error: event.error ? { ...event.error } : null,
      conversion: null,
    });
  }

  @FieldResolver(() => ConversionObject, { nullable: true })
  async conversion(@Root() event: ConversionProgressEvent, @Ctx() ctx: GraphQLContext): Promise<ConversionObject | null> {
    if (!ctx.user || ctx.user.id !== event.userId) return null;
    // A fresh fork per event: the operation's fork would answer later events from its identity map.
    const row = await new ConversionQueryRepository(ctx.em.fork()).findOwned(ctx.user.id, event.uuid);
    return row ? presentConversion(row, ctx.services.config) : null;
  }
}
