/**
 * The write side of conversions: `convertMelody`. Thin: authenticate, call the service, shape the
 * payload. Read-side queries and the other mutations live in their own resolvers.
 */
import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GraphQLContext } from '../graphql-context.js';
import { requireUser } from '../graphql-context.js';
import { ConvertMelodyInput } from './conversion.input.js';
import { ConversionObject, ConvertMelodyPayload, presentConversion, toWarning } from './conversion.types.js';
import { ConversionService } from './conversion.service.js';
import { presentQuota } from '../quota/quota.types.js';

/** One service per Services object (it holds the decoder and the decode limiter). */
const servicesCache = new WeakMap<object, ConversionService>();

/** Uses `service` for requests served with `services` (tests inject a clock this way). */
export function useConversionService(services: object, service: ConversionService): void {
  servicesCache.set(services, service);
}

function conversionService(ctx: GraphQLContext): ConversionService {
  let service = servicesCache.get(ctx.services);
  if (!service) {
    service = new ConversionService(ctx.services);
    servicesCache.set(ctx.services, service);
  }
  return service;
}

@Resolver(() => ConversionObject)
export class ConversionResolver {
  @Mutation(() => ConvertMelodyPayload, {
    description:
      'Uploads a melody (GraphQL multipart request; send the `Apollo-Require-Preflight: true` header) and queues its conversion. Problems with the input come back as `userErrors`, never as errors, and leave nothing behind.',
  })
  async convertMelody(
    @Arg('input', () => ConvertMelodyInput) input: ConvertMelodyInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ConvertMelodyPayload> {
    const user = requireUser(ctx);
    const service = conversionService(ctx);
    const outcome = await service.convertMelody(ctx.em, user, input, ctx.logger);
    const quota = presentQuota(!outcome.ok && outcome.quota ? outcome.quota : await service.quota(ctx.em).view(user.id));
    if (!outcome.ok) return { conversion: null, warnings: [], estimatedSeconds: null, userErrors: outcome.userErrors, quota };
    return {
      conversion: presentConversion(outcome.conversion, ctx.services.config),
      warnings: outcome.warnings.map(toWarning),
      estimatedSeconds: outcome.estimatedSeconds,
      userErrors: [],
      quota,
    };
  }
}
