/** `quota`: thin over {@link QuotaService}. */
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../graphql-context.js';
import { QuotaService } from './quota.service.js';
import { Quota, presentQuota } from './quota.types.js';

@Resolver()
export class QuotaResolver {
  @Query(() => Quota, { description: 'Your conversions today and this month against your limits, with the reset times.' })
  async quota(@Ctx() ctx: GraphQLContext): Promise<Quota> {
    const user = requireUser(ctx);
    return presentQuota(await new QuotaService(ctx.em, ctx.services.config).view(user.id));
  }
}
