/** submitFeedback and the `Conversion.feedback` field: thin over {@link FeedbackService}. */
import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import { requireUser, type GraphQLContext } from '../graphql-context.js';
import { ConversionObject } from '../conversion/conversion.types.js';
import { FeedbackService } from './feedback.service.js';
import { feedbackLoaderFor } from './feedback.loader.js';
import { FeedbackObject, SubmitFeedbackPayload, presentFeedback } from './feedback.types.js';
import { SubmitFeedbackInput } from './feedback.input.js';

@Resolver(() => ConversionObject)
export class FeedbackResolver {
  @Mutation(() => SubmitFeedbackPayload, {
    description:
      "Rates one of your COMPLETED conversions (1–5, optional comment ≤ 2,000 characters, optional favourite). Submitting again updates the rating. userErrors: NOT_FOUND (also for other users' ids), NOT_COMPLETED, INVALID_RATING, COMMENT_TOO_LONG.",
  })
  async submitFeedback(
    @Arg('input', () => SubmitFeedbackInput) input: SubmitFeedbackInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<SubmitFeedbackPayload> {
    const user = requireUser(ctx);
    const outcome = await new FeedbackService(ctx.em).submit(user.id, input);
    return Object.assign(
      new SubmitFeedbackPayload(),
      outcome.ok
        ? { feedback: presentFeedback(outcome.feedback), userErrors: [] }
        : { feedback: null, userErrors: outcome.problems.map((p) => ({ code: p.code, field: p.field, message: p.message })) },
    );
  }

  @FieldResolver(() => FeedbackObject, { nullable: true, description: 'Your rating of this conversion, if you gave one.' })
  async feedback(@Root() conversion: ConversionObject, @Ctx() ctx: GraphQLContext): Promise<FeedbackObject | null> {
    // A ConversionObject only reaches a client through its owner's queries; check again all the same.
    if (!ctx.user || ctx.user.id !== conversion.userId) return null;
    // Batched with the other rows of the same list (feedback.loader.ts).
    const row = await feedbackLoaderFor(ctx, ctx.em).load(conversion.uuid);
    return row ? presentFeedback(row) : null;
  }
}
