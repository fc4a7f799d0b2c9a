/** `stats`: thin over {@link StatsService}. */
import { Ctx, Query, Resolver } from 'type-graphql';
import { requireAdmin, type GraphQLContext } from '../graphql-context.js';
import { StatsService } from './stats.service.js';
import { HealthVerdictEnum, Stats, presentCircuitBreakers } from './stats.types.js';

@Resolver()
export class StatsResolver {
  @Query(() => Stats, {
    description:
      'Queue counts (waiting, active, completed, failed, delayed), whether the database and Redis answer, and the circuit breakers of every worker process. Service-wide figures: admins only (FORBIDDEN for other roles).',
  })
  async stats(@Ctx() ctx: GraphQLContext): Promise<Stats> {
    requireAdmin(ctx);
    const { services } = ctx;
    const view = await new StatsService({
      em: ctx.em,
      redis: services.redis,
      queue: services.queue,
      redisPrefix: services.config.redisPrefix,
    }).view();
    return Object.assign(new Stats(), {
      ...view,
      verdict: HealthVerdictEnum[view.verdict],
      circuitBreakers: presentCircuitBreakers(view.circuitBreakers),
    });
  }
}
