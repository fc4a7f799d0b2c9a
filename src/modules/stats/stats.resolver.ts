/** `stats`: thin over {@link StatsService}. */
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireAdmin, type GraphQLContext } from '../../graphql/context.js';
import { StatsService } from './stats.service.js';
import { HealthVerdictEnum, Stats } from './stats.types.js';

@Resolver()
export class StatsResolver {
  @Query(() => Stats, { description: 'Queue counts (waiting, active, completed, failed, delayed) and whether the database and Redis answer. Service-wide figures: admins only (FORBIDDEN for other roles).' })
  async stats(@Ctx() ctx: GraphQLContext): Promise<Stats> {
    requireAdmin(ctx);
    const view = await new StatsService({ em: ctx.em, redis: ctx.services.redis, queue: ctx.services.queue }).view();
    return Object.assign(new Stats(), { ...view, verdict: HealthVerdictEnum[view.verdict] });
  }
}
