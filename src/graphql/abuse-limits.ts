/**
 * Abuse limits of the GraphQL endpoint (HTTP and graphql-ws), all configured in `config.ts`:
 *
 * - Document size: a query string longer than `GRAPHQL_MAX_QUERY_BYTES` (UTF-8 bytes) is refused
 *   with 413 `QUERY_TOO_LARGE` before it is parsed.
 * - Nesting: a document whose brackets (`{`, `(`, `[`) nest deeper than {@link MAX_DOCUMENT_NESTING}
 *   is refused with 400 `QUERY_TOO_DEEP` before it is parsed: graphql-js parses recursively, and a
 *   16 kB document of 2,000 nested selection sets overflows its stack.
 * - Batching: a JSON (or multipart `operations`) array is refused with 400 `BATCHING_NOT_SUPPORTED`.
 * - Variables that cannot be coerced to their declared types are 400 `BAD_USER_INPUT` (the complexity
 *   check coerces them before Apollo would, and must answer the same way).
 * - Depth: an operation nested deeper than `GRAPHQL_MAX_DEPTH` fields is refused (400
 *   `QUERY_TOO_DEEP`) before execution. Depth counts fields along the deepest path (fragments
 *   expanded); introspection subtrees (`__schema`, `__type`) are not counted, introspection is
 *   switched on and off by itself (`GRAPHQL_INTROSPECTION`).
 * - Complexity: graphql-query-complexity with one estimator (`costEstimator`): every field costs 1,
 *   plus {@link DATABASE_QUERY_COST} per database query its resolver runs, plus its children once per
 *   row (a connection page: `first`, or the default page when `first` is null). Introspection costs
 *   like any other field (`__schema` also the size of the schema); only `__typename` is free.
 *   Above `GRAPHQL_MAX_COMPLEXITY` the operation is refused (400 `QUERY_TOO_COMPLEX`); accepted HTTP
 *   operations carry `extensions.cost = { complexity, maxComplexity, depth, maxDepth }`.
 * - Rate: each authenticated user may start `RATE_LIMIT_PER_MINUTE` operations per fixed
 *   one-minute window, counted in Redis by one Lua script (INCRBY + PEXPIRE, atomic;
 *   platform/rate-limiter.ts) so every API replica shares the count; over HTTP it is checked before
 *   the document is parsed. Over the limit: HTTP 429 with `Retry-After`, error code `RATE_LIMITED`
 *   and `extensions.retryAfterSeconds`. Operations without a credential are counted per client IP
 *   against `ANONYMOUS_RATE_LIMIT_PER_MINUTE`. If Redis fails the limiter lets the request through
 *   (availability first) and logs.
 * - Subscriptions: at most `MAX_SUBSCRIPTIONS_PER_USER` open at once per user across replicas:
 *   each open subscription holds a lease (a member of a Redis sorted set scored by its expiry,
 *   renewed every LEASE/3 while open, removed on completion), so a crashed replica's leases
 *   lapse within {@link SUBSCRIPTION_LEASE_MS}. Over the limit: error `SUBSCRIPTION_LIMIT`.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
// The CommonJS build: its ESM build imports `graphql/index.mjs`, a second copy of graphql next to the
// CommonJS one our schema is made with ("Cannot use GraphQLObjectType from another module or realm").
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity/cjs';
import type { Redis } from 'ioredis';
import type { Config } from '../platform/config.js';
import type { Logger } from '../platform/logger.js';
import { redisKey } from '../platform/redis.js';
import type { AuthUser } from '../platform/auth.js';
import { RateLimiter, type RateDecision } from '../platform/rate-limiter.js';

export { RateLimiter, type RateDecision };

/** Error codes raised here; all are the client's doing and shown as they are in production. */
export const ABUSE_ERROR_CODES = ['QUERY_TOO_LARGE', 'BATCHING_NOT_SUPPORTED', 'QUERY_TOO_DEEP', 'QUERY_TOO_COMPLEX', 'RATE_LIMITED', 'SUBSCRIPTION_LIMIT'] as const;

export type AbuseLimitsConfig = Pick<Config, 'maxQueryDepth' | 'maxQueryComplexity' | 'maxQueryBytes' | 'rateLimitPerMinute' | 'maxSubscriptionsPerUser' | 'introspection' | 'redisPrefix'>;

/** The measured cost of an operation. */
export interface OperationCost {
  complexity: number;
  maxComplexity: number;
  depth: number;
  maxDepth: number;
}

/**
 * Deepest bracket nesting a document may have before it is parsed. Far above anything a real
 * operation needs (the schema's deepest field path is 6 fields, the standard introspection query
 * nests 13 levels) and far below what overflows graphql-js's recursive parser (a few thousand levels, less on a
 * busy stack).
 */
export const MAX_DOCUMENT_NESTING = 64;

/**
 * Deepest nesting of `{`, `(` and `[` in a GraphQL document, by a linear scan that skips comments,
 * strings and block strings (GraphQL spec, October 2021, §2.1.7 and §2.9.4). Unbalanced brackets are
 * counted as they come: the parser reports them.
 */
export function documentNesting(query: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < query.length && query[i] !== '\n' && query[i] !== '\r') i++;
    } else if (c === 0x22 /* " */) {
      if (query.startsWith('"""', i)) {
        const end = query.indexOf('"""', i + 3);
        // In a block string only \""" escapes the delimiter.
        let close = end;
        while (close > 0 && query[close - 1] === '\\') close = query.indexOf('"""', close + 3);
        i = close < 0 ? query.length : close + 2;
      } else {
        for (i++; i < query.length && query[i] !== '"' && query[i] !== '\n'; i++) if (query[i] === '\\') i++;
      }
    } else if (c === 0x7b || c === 0x28 || c === 0x5b) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x29 || c === 0x5d) {
      depth = Math.max(0, depth - 1);
    }
  }
  return deepest;
}

/** The QUERY_TOO_DEEP error for a document nested deeper than {@link MAX_DOCUMENT_NESTING}, or null. */
export function nestingError(query: string): GraphQLError | null {
  const nesting = documentNesting(query);
  if (nesting <= MAX_DOCUMENT_NESTING) return null;
  return limitError(`The document nests ${nesting} levels of brackets; the limit is ${MAX_DOCUMENT_NESTING}.`, 'QUERY_TOO_DEEP', 400, { nesting, maxNesting: MAX_DOCUMENT_NESTING });
}

/** Lifetime of a subscription's lease in Redis; renewed every third of it while the subscription is open. */
export const SUBSCRIPTION_LEASE_MS = 30_000;

/** Depth of the deepest field path of `document`'s operation (fragments expanded, introspection not counted). */
export function operationDepth(document: DocumentNode, operationName?: string | null): number {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  const depthOf = (selectionSet: SelectionSetNode, visiting: Set<string>): number => {
    let deepest = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value.startsWith('__')) continue;
        deepest = Math.max(deepest, 1 + (selection.selectionSet ? depthOf(selection.selectionSet, visiting) : 0));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        deepest = Math.max(deepest, depthOf(selection.selectionSet, visiting));
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment cycle is a validation error (NoFragmentCycles); here it just stops the walk.
        if (!fragment || visiting.has(name)) continue;
        visiting.add(name);
        deepest = Math.max(deepest, depthOf(fragment.selectionSet, visiting));
        visiting.delete(name);
      }
    }
    return deepest;
  };
  return depthOf(operation.selectionSet, new Set());
}

/** Cost of one database query, in complexity units (so GRAPHQL_MAX_COMPLEXITY 5000 allows at most 100 queries per operation). */
export const DATABASE_QUERY_COST = 50;

/**
 * Database queries one resolution of a field runs, by `Parent.field`, beyond the rule that every
 * root field of Query, Mutation and Subscription runs one (`__typename` runs none).
 */
const DATABASE_QUERIES: Readonly<Record<string, number>> = {
  'ConversionConnection.totalCount': 1,
  'Conversion.feedback': 1,
  'ConversionProgress.conversion': 1,
};

/** Page size a connection field returns: its numeric `first`, else (absent or null) the argument's default, else 20. */
function pageSize(field: GraphQLField<unknown, unknown>, first: unknown): number {
  if (typeof first === 'number' && Number.isFinite(first)) return Math.max(0, Math.ceil(first));
  const fallback = field.args.find((arg) => arg.name === 'first')?.defaultValue;
  return typeof fallback === 'number' ? fallback : 20;
}

/**
 * The cost estimator of {@link checkOperationCost}: a field costs 1, plus {@link DATABASE_QUERY_COST}
 * per database query it runs, plus its children's cost once per row it returns. Rows: `first` for a
 * connection page (`first: null` is the default page, not 1; `first: 0` still counts one row, as
 * `totalCount` and `pageInfo` are answered for an empty page too), else 1. Introspection is costed
 * like any other field, and `__schema` also costs the size of the schema it can dump (one unit per
 * type, field and enum value: a few hundred here), so aliased schema dumps add up; only `__typename`
 * is free.
 */
function costEstimator(schema: GraphQLSchema): ComplexityEstimator {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(Boolean));
  let schemaSize = 0;
  for (const type of Object.values(schema.getTypeMap())) {
    schemaSize += 1;
    if ('getFields' in type) schemaSize += Object.keys(type.getFields()).length;
    if ('getValues' in type) schemaSize += type.getValues().length;
  }
  return ({ type, field, args, childComplexity }) => {
    if (field.name === '__typename') return 0;
    if (field.name === '__schema') return 1 + schemaSize + childComplexity;
    const queries = DATABASE_QUERIES[`${type.name}.${field.name}`] ?? (roots.has(type as never) && !field.name.startsWith('__') ? 1 : 0);
    const rows = field.args.some((arg) => arg.name === 'first') ? Math.max(1, pageSize(field, args.first)) : 1;
    return 1 + DATABASE_QUERY_COST * queries + rows * childComplexity;
  };
}

const estimators = new WeakMap<GraphQLSchema, ComplexityEstimator>();
function estimatorFor(schema: GraphQLSchema): ComplexityEstimator {
  let estimator = estimators.get(schema);
  if (!estimator) estimators.set(schema, (estimator = costEstimator(schema)));
  return estimator;
}

function limitError(message: string, code: (typeof ABUSE_ERROR_CODES)[number], status: number, extensions: Record<string, unknown> = {}, headers?: Map<string, string>): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status, ...(headers ? { headers } : {}) } } });
}

/**
 * Measures `document` and throws when it is too deep or too complex.
 * @throws GraphQLError QUERY_TOO_DEEP / QUERY_TOO_COMPLEX (HTTP 400) with the measured figure in extensions.
 */
export function checkOperationCost(schema: GraphQLSchema, config: AbuseLimitsConfig, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string | null): OperationCost {
  const depth = operationDepth(document, operationName);
  if (depth > config.maxQueryDepth) {
    throw limitError(`The operation is ${depth} fields deep; the limit is ${config.maxQueryDepth}.`, 'QUERY_TOO_DEEP', 400, { depth, maxDepth: config.maxQueryDepth });
  }
  let complexity: number;
  try {
    complexity = getComplexity({ schema, query: document, variables: variables ?? {}, operationName: operationName ?? undefined, estimators: [estimatorFor(schema)] });
  } catch (error) {
    // getComplexity coerces the variables (getVariableValues) and throws the coercion error: the
    // client's mistake, answered as Apollo answers it at execution, not as a 500.
    if (error instanceof GraphQLError) throw new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
    throw error;
  }
  if (complexity > config.maxQueryComplexity) {
    throw limitError(`The operation's complexity is ${complexity}; the limit is ${config.maxQueryComplexity}.`, 'QUERY_TOO_COMPLEX', 400, {
      complexity,
      maxComplexity: config.maxQueryComplexity,
    });
  }
  return { complexity, maxComplexity: config.maxQueryComplexity, depth, maxDepth: config.maxQueryDepth };
}

/** `error` without graphql-js's field suggestions ("Did you mean …?"), which name parts of the schema. */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = error.message.replace(/ Did you mean .+\?$/, '');
  return message === error.message ? error : new GraphQLError(message, { nodes: error.nodes, source: error.source, positions: error.positions, path: error.path, originalError: error.originalError, extensions: error.extensions });
}

/** The RATE_LIMITED error (HTTP 429 with Retry-After). */
export function rateLimitedError(decision: RateDecision): GraphQLError {
  return limitError(
    `Too many requests: the limit is ${decision.limit} a minute. Retry in ${decision.retryAfterSeconds} s.`,
    'RATE_LIMITED',
    429,
    { retryAfterSeconds: decision.retryAfterSeconds, limit: decision.limit },
    new Map([['retry-after', String(decision.retryAfterSeconds)]]),
  );
}

/** Applies the rate limit to `user`, or for a caller without a credential the anonymous limit to `clientIp`; fails open if Redis fails. @throws RATE_LIMITED */
export async function enforceRateLimit(limiter: RateLimiter, user: AuthUser | null, logger: Logger, anonymous?: { limiter: RateLimiter; clientIp: string | null }): Promise<void> {
  const target = user ? { limiter, key: user.id } : anonymous && anonymous.clientIp ? { limiter: anonymous.limiter, key: `anonymous:${anonymous.clientIp}` } : null;
  if (!target || target.limiter.limitPerMinute <= 0) return;
  let decision: RateDecision;
  try {
    decision = await target.limiter.hit(target.key);
  } catch (error) {
    logger.warn('Rate limiter unavailable; request let through', { error: (error as Error).message });
    return;
  }
  if (!decision.allowed) throw rateLimitedError(decision);
}

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
          if (limiter) await enforceRateLimit(limiter, contextValue.user, contextValue.logger, anonymousLimiter ? { limiter: anonymousLimiter, clientIp: contextValue.clientIp ?? null } : undefined);
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

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/**
 * Express middleware after the body parsers: refuses batched operations (400), query strings over
 * `maxQueryBytes` (413) and documents nested deeper than {@link MAX_DOCUMENT_NESTING} (400
 * QUERY_TOO_DEEP), for POST bodies (JSON and multipart `operations`) and GET `?query=`.
 */
export function requestShapeGuard(config: Pick<Config, 'maxQueryBytes'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const body: unknown = req.body;
    if (Array.isArray(body)) {
      refuse(res, 400, 'BATCHING_NOT_SUPPORTED', 'Batched operations (a JSON array of operations) are not supported; send one operation per request.');
      return;
    }
    const fromBody = body && typeof body === 'object' ? (body as { query?: unknown }).query : undefined;
    const query = typeof fromBody === 'string' ? fromBody : typeof req.query?.query === 'string' ? req.query.query : undefined;
    if (query !== undefined && Buffer.byteLength(query, 'utf8') > config.maxQueryBytes) {
      refuse(res, 413, 'QUERY_TOO_LARGE', `The GraphQL document is ${Buffer.byteLength(query, 'utf8')} bytes; the limit is ${config.maxQueryBytes}.`);
      return;
    }
    const tooDeep = query === undefined ? null : nestingError(query);
    if (tooDeep) {
      refuse(res, 400, 'QUERY_TOO_DEEP', tooDeep.message);
      return;
    }
    next();
  };
}

const LEASE_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`;

interface Lease {
  key: string;
  member: string;
}

/**
 * Limits open subscriptions per user across replicas (Redis sorted set of leases, see the file
 * comment), plus the size, depth, complexity, introspection and rate checks for graphql-ws operations.
 * Wire {@link onSubscribe} and {@link onComplete} into graphql-ws and call {@link close} on shutdown.
 */
export class WsLimits {
  private readonly leases = new Map<object, Map<string, Lease>>();
  private readonly renewTimer: NodeJS.Timeout;
  private readonly rules;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly config: AbuseLimitsConfig,
    private readonly redis: Redis,
    private readonly limiter: RateLimiter,
    private readonly logger: Logger,
  ) {
    this.rules = config.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
    this.renewTimer = setInterval(() => void this.renew(), SUBSCRIPTION_LEASE_MS / 3);
    this.renewTimer.unref();
  }

  /** Open subscriptions this process holds leases for. */
  get open(): number {
    let count = 0;
    for (const map of this.leases.values()) count += map.size;
    return count;
  }

  /** graphql-ws `onSubscribe`: checks, then execution args (graphql-ws fills in the context), or the errors. */
  async onSubscribe(ctx: object, id: string, payload: { query: string; variables?: Record<string, unknown> | null; operationName?: string | null }, user: AuthUser | null): Promise<ExecutionArgs | GraphQLError[]> {
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
        const lease: Lease = { key: redisKey(this.config.redisPrefix, 'subscriptions', user.id), member: `${randomUUID()}` };
        const now = Date.now();
        const granted = (await this.redis.eval(
          LEASE_SCRIPT,
          1,
          lease.key,
          String(now),
          String(now + SUBSCRIPTION_LEASE_MS),
          String(this.config.maxSubscriptionsPerUser),
          lease.member,
          String(SUBSCRIPTION_LEASE_MS * 2),
        )) as number;
        if (!granted) {
          return [limitError(`You already have ${this.config.maxSubscriptionsPerUser} open subscriptions, the limit; complete one first.`, 'SUBSCRIPTION_LIMIT', 429, { limit: this.config.maxSubscriptionsPerUser })];
        }
        const map = this.leases.get(ctx) ?? new Map<string, Lease>();
        this.leases.set(ctx, map);
        map.set(id, lease);
      }
      return { schema: this.schema, document, operationName: payload.operationName ?? undefined, variableValues: payload.variables ?? undefined } as ExecutionArgs;
    } catch (error) {
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
  }

  /** graphql-ws `onComplete` (also called for every operation of a socket that closed): frees the lease. */
  async onComplete(ctx: object, id: string): Promise<void> {
    const map = this.leases.get(ctx);
    const lease = map?.get(id);
    if (!map || !lease) return;
    map.delete(id);
    if (map.size === 0) this.leases.delete(ctx);
    try {
      await this.redis.zrem(lease.key, lease.member);
    } catch (error) {
      this.logger.warn('Could not release a subscription lease (it lapses by itself)', { error: (error as Error).message });
    }
  }

  /** Pushes the expiry of every lease this process holds. */
  private async renew(): Promise<void> {
    if (this.leases.size === 0) return;
    const expiry = Date.now() + SUBSCRIPTION_LEASE_MS;
    const pipeline = this.redis.pipeline();
    for (const map of this.leases.values()) {
      for (const lease of map.values()) {
        pipeline.zadd(lease.key, 'XX', expiry, lease.member);
        pipeline.pexpire(lease.key, SUBSCRIPTION_LEASE_MS * 2);
      }
    }
    try {
      await pipeline.exec();
    } catch (error) {
      this.logger.warn('Could not renew subscription leases', { error: (error as Error).message });
    }
  }

  /** Stops renewing and releases every lease still held. */
  async close(): Promise<void> {
    clearInterval(this.renewTimer);
    const held = [...this.leases.entries()].flatMap(([ctx, map]) => [...map.keys()].map((id) => [ctx, id] as const));
    await Promise.all(held.map(([ctx, id]) => this.onComplete(ctx, id)));
  }
}
