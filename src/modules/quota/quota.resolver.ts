/** `quota`: thin over {@link QuotaService}. */
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../../graphql/context.js';
import { QuotaService } from './quota.service.js';
import { Quota } from './quota.types.js';

@Resolver()
export class QuotaResolver {
  @Query(() => Quota, { description: 'Your conversions today and this month (UTC) against the limits. Read only: limits are not enforced yet.' })
  async quota(@Ctx() ctx: GraphQLContext): Promise<Quota> {
    const user = requireUser(ctx);
    const view = await new QuotaService(ctx.em, ctx.services.config).view(user.id);
    return Object.assign(new Quota(), { ...view, enforced: false });
  }
}
