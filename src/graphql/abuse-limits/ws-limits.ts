/**
 * The abuse limits of a graphql-ws operation, applied in its `onSubscribe` hook: size and nesting
 * (before parsing), parse and validate, rate, depth and complexity, and the per-user subscription
 * lease. Wire {@link WsLimits.onSubscribe} and {@link WsLimits.onComplete} into graphql-ws and call
 * {@link WsLimits.close} on shutdown.
 *
 * This is the only place our code parses and validates a document (over HTTP Apollo does). It does
 * so instead of graphql-ws because graphql-ws offers no hook between its validation and execution for
 * the depth, complexity and lease checks, and because a document its own `parse` rejects throws out of
 * its message handler and closes the socket with 4500 Internal Server Error; answering the ExecutionArgs
 * from `onSubscribe` makes graphql-ws skip its own parse and validate, so each document is parsed once.
 */
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLSchema,
} from 'graphql';
import type { Redis } from 'ioredis';
import type { AuthUser } from '../../platform/auth.js';
import type { Logger } from '../../platform/logger.js';
import type { RateLimiter } from '../../platform/rate-limiter.js';
import { nestingError } from './document-nesting.js';
import { limitError, type AbuseLimitsConfig } from './limit-error.js';
import { checkOperationCost } from './operation-cost.js';
import { enforceRateLimit } from './rate-limit.js';
import { SubscriptionLeases } from './subscription-leases.js';

/** `error` without graphql-js's field suggestions ("Did you mean …?"), which name parts of the schema. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/ Did you mean .+\?$/, '');
  return message === error.message
    ? error
    : new GraphQLError(message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: error.originalError,
        extensions: error.extensions,
      });
}

export class WsLimits {
  private readonly leases: SubscriptionLeases;
  private readonly rules;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly config: AbuseLimitsConfig,
    redis: Redis,
    private readonly limiter: RateLimiter,
    private readonly logger: Logger,
  ) {
    this.rules = config.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
    this.leases = new SubscriptionLeases(redis, config.redisPrefix, logger);
  }

  /** Open subscriptions this process holds leases for. */
  get open(): number {
    return this.leases.open;
  }

  /** graphql-ws `onSubscribe`: checks, then execution args (graphql-ws fills in the context), or the errors. */
  async onSubscribe(
    ctx: object,
    id: string,
    payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null },
    user: AuthUser | null,
  ): Promise<ExecutionArgs | GraphQLError[]> {
    try {
      if (Buffer.byteLength(payload.query ?? '', 'utf8') > this.config.maxQueryBytes) {
        return [limitError(`The GraphQL document is longer than ${this.config.maxQueryBytes} bytes.`, 'QUERY_TOO_LARGE', 413)];
      }
      const tooDeep = nestingError(payload.query ?? '');
      if (tooDeep) return [tooDeep];
      let document: DocumentNode;
      try {
        document = parse(payload.query);
      } catch (error) {
        return [error instanceof GraphQLError ? error : new GraphQLError(String(error), { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
      }
      const errors = validate(this.schema, document, this.rules);
      // As Apollo's hideSchemaDetailsFromClientErrors over HTTP: no "Did you mean …?" without introspection.
      if (errors.length) return this.config.introspection ? [...errors] : errors.map((error) => withoutSuggestions(error));
      await enforceRateLimit(this.limiter, user, this.logger);
      checkOperationCost(this.schema, this.config, document, payload.variables ?? undefined, payload.operationName);
      const operation = getOperationAST(document, payload.operationName ?? undefined);
      if (operation?.operation === 'subscription' && user && this.config.maxSubscriptionsPerUser > 0) {
        if (!(await this.leases.acquire(ctx, id, user.id, this.config.maxSubscriptionsPerUser))) {
          return [
            limitError(
              `You already have ${this.config.maxSubscriptionsPerUser} open subscriptions, the limit; complete one first.`,
              'SUBSCRIPTION_LIMIT',
              429,
              { limit: this.config.maxSubscriptionsPerUser },
            ),
          ];
        }
      }
      return {
        schema: this.schema,
        document,
        operationName: payload.operationName ?? undefined,
        variableValues: payload.variables ?? undefined,
      } as ExecutionArgs;
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
  }

  /** graphql-ws `onComplete` (also called for every operation of a socket that closed): frees the lease. */
  async onComplete(ctx: object, id: string): Promise<void> {
    await this.leases.release(ctx, id);
  }

  /** Stops renewing and releases every lease still held. */
  async close(): Promise<void> {
    await this.leases.close();
  }
}
