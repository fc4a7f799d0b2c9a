/** `deadLetters` and `requeueDeadLetter` (role ADMIN only): thin over {@link DeadLetterService}. */
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { requireAdmin, type GraphQLContext } from '../graphql-context.js';
import { BadUserInputError } from '../../platform/api-errors.js';
import { conversionGlobalId } from '../node/global-id.js';
import { presentConversion } from '../conversion/conversion.types.js';
import { DeadLetterService } from './dead-letter.service.js';
import { DeadLetter, DeadLetterConnection, RequeueDeadLetterPayload } from './dead-letter.types.js';

/** Largest page of `deadLetters`. */
export const MAX_DEAD_LETTER_PAGE = 100;

function service(ctx: GraphQLContext): DeadLetterService {
  const { services } = ctx;
  return new DeadLetterService({
    em: ctx.em,
    redis: services.redis,
    queue: services.queue,
    pubsub: services.pubsub,
    config: services.config,
    logger: ctx.logger,
  });
}

@Resolver()
export class DeadLetterResolver {
  @Query(() => DeadLetterConnection, {
    description: `Conversions whose job failed for good (not for bad input), newest failure first, \`first\` (1–${MAX_DEAD_LETTER_PAGE}, default 20) at a time after the cursor \`after\`. Admins only.`,
  })
  async deadLetters(
    @Arg('first', () => Int, { nullable: true }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<DeadLetterConnection> {
    requireAdmin(ctx);
    const size = first ?? 20;
    if (!Number.isInteger(size) || size < 1 || size > MAX_DEAD_LETTER_PAGE) {
      throw new BadUserInputError(`first must be a whole number from 1 to ${MAX_DEAD_LETTER_PAGE}.`, { field: 'first' });
    }
    const { page, rows } = await service(ctx).list(size, after);
    const edges = page.entries.map((entry, i) => {
      const row = rows.get(entry.conversionId);
      const node = Object.assign(new DeadLetter(), {
        conversionId: conversionGlobalId(entry.conversionId),
        conversion: row ? presentConversion(row, ctx.services.config) : null,
        priority: entry.priority,
        error: {
          code: entry.error.code,
          reason: entry.error.reason ?? null,
          message: entry.error.message,
          retryable: entry.error.retryable,
        },
        attempts: entry.attempts,
        failedAt: new Date(entry.failedAt),
      });
      return { cursor: page.cursors[i], node };
    });
    return {
      edges,
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: Boolean(after),
        startCursor: page.cursors[0] ?? null,
        endCursor: page.cursors.at(-1) ?? null,
      },
      totalCount: page.totalCount,
    };
  }

  @Mutation(() => RequeueDeadLetterPayload, {
    description:
      'Queues a dead-lettered conversion again: FAILED → PENDING (error cleared, retry and stall counts reset), a new job in its priority queue, the dead letter removed. Not charged to the quota again. userErrors: NOT_FOUND, NOT_FAILED (not FAILED now), NOT_DEAD_LETTER (failed on bad input, or already re-queued). Admins only.',
  })
  async requeueDeadLetter(
    @Arg('conversionId', () => ID) conversionId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RequeueDeadLetterPayload> {
    requireAdmin(ctx);
    const outcome = await service(ctx).requeue(conversionId);
    return Object.assign(new RequeueDeadLetterPayload(), {
      conversion: outcome.conversion ? presentConversion(outcome.conversion, ctx.services.config) : null,
      userErrors: outcome.ok ? [] : [{ code: outcome.code, field: 'conversionId', message: outcome.message }],
    });
  }
}
