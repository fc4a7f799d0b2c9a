/** cancelConversion: thin over {@link ConversionCancelService}. */
import { Arg, Ctx, ID, Mutation, Resolver } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../graphql-context.js';
import { presentConversion } from './conversion.types.js';
import { CancelConversionPayload } from './conversion-cancel.types.js';
import { ConversionCancelService } from './conversion-cancel.service.js';

@Resolver()
export class ConversionCancelResolver {
  @Mutation(() => CancelConversionPayload, {
    description:
      "Cancels one of your PENDING or PROCESSING conversions: the job is dequeued or its worker aborts it, its files are deleted, it becomes CANCELLED and subscribers get a final event. userErrors: NOT_FOUND (also for other users' ids), NOT_CANCELLABLE (already finished).",
  })
  async cancelConversion(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<CancelConversionPayload> {
    const user = requireUser(ctx);
    const { services } = ctx;
    const outcome = await new ConversionCancelService({
      em: ctx.em,
      queue: services.queue,
      storage: services.storage,
      pubsub: services.pubsub,
      redisPrefix: services.config.redisPrefix,
      logger: ctx.logger,
    }).cancel(user.id, id);
    const conversion = outcome.conversion ? presentConversion(outcome.conversion, services.config) : null;
    return Object.assign(new CancelConversionPayload(), {
      conversion,
      userErrors: outcome.ok ? [] : [{ code: outcome.code, field: 'id', message: outcome.message }],
    });
  }
}
