/** The abuse limits Apollo applies over HTTP once an operation is resolved: rate (optional), depth, complexity. */
import type { ApolloServerPlugin } from '@apollo/server';
import type { AuthUser } from '../../platform/auth.js';
import type { Logger } from '../../platform/logger.js';
import type { RateLimiter } from '../../platform/rate-limiter.js';
import type { GraphQLSchema } from 'graphql';
import type { AbuseLimitsConfig } from './limit-error.js';
import { checkOperationCost, type OperationCost } from './operation-cost.js';
import { enforceRateLimit } from './rate-limit.js';

/**
 * Apollo plugin: the rate limit (when `limiter` is given; the HTTP server applies it earlier, in its
 * context function, before parsing), then depth and complexity, once the operation is resolved
 * (before execution); adds `extensions.cost` to accepted single results.
 */
export function abuseLimitsPlugin<C extends { user: AuthUser | null; logger: Logger; clientIp?: string | null }>(
  schema: GraphQLSchema,
  config: AbuseLimitsConfig,
  limiter: RateLimiter | null,
  anonymousLimiter?: RateLimiter,
): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      let cost: OperationCost | null = null;
      return {
        async didResolveOperation({ document, request, operationName, contextValue }) {
          if (limiter)
            await enforceRateLimit(
              limiter,
              contextValue.user,
              contextValue.logger,
              anonymousLimiter ? { limiter: anonymousLimiter, clientIp: contextValue.clientIp ?? null } : undefined,
            );
          cost = checkOperationCost(schema, config, document, request.variables, operationName);
        },
        async willSendResponse({ response }) {
          if (cost && response.body.kind === 'single') {
            response.body.singleResult.extensions = { ...response.body.singleResult.extensions, cost: { ...cost } };
          }
        },
      };
    },
  };
}
