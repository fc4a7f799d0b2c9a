/** `stats`: thin over {@link StatsService}. */
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../../graphql/context.js';
import { StatsService } from './stats.service.js';
import { HealthVerdictEnum, Stats } from './stats.types.js';

@Resolver()
export class StatsResolver {
  @Query(() => Stats, { description: 'Queue counts (waiting, active, completed, failed, delayed) and whether the database and Redis answer. Any signed-in caller may read it (roles come later).' })
  async stats(@Ctx() ctx: GraphQLContext): Promise<Stats> {
    requireUser(ctx);
    const view = await new StatsService({ em: ctx.em, redis: ctx.services.redis, queue: ctx.services.queue }).view();
    return Object.assign(new Stats(), { ...view, verdict: HealthVerdictEnum[view.verdict] });
  }
}
