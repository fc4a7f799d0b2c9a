/**
 * Depth and complexity of an operation, measured once it is parsed and validated, before execution
 * (over HTTP by the Apollo plugin, over graphql-ws by ws-limits.ts):
 *
 * - Depth: an operation nested deeper than `GRAPHQL_MAX_DEPTH` fields is refused (400
 *   `QUERY_TOO_DEEP`). Depth counts fields along the deepest path (fragments expanded); introspection
 *   subtrees (`__schema`, `__type`) are not counted, introspection is switched on and off by itself
 *   (`GRAPHQL_INTROSPECTION`).
 * - Complexity: graphql-query-complexity with one estimator (`costEstimator`): every field costs 1,
 *   plus {@link DATABASE_QUERY_COST} per database query its resolver runs, plus its children once per
 *   row (a connection page: `first`, or the default page when `first` is null). Introspection costs
 *   like any other field (`__schema` also the size of the schema); only `__typename` is free.
 *   Above `GRAPHQL_MAX_COMPLEXITY` the operation is refused (400 `QUERY_TOO_COMPLEX`); accepted HTTP
 *   operations carry `extensions.cost = { complexity, maxComplexity, depth, maxDepth }`.
 * - Variables that cannot be coerced to their declared types are 400 `BAD_USER_INPUT` (the complexity
 *   check coerces them before Apollo would, and must answer the same way).
 */
import {
  GraphQLError,
  Kind,
  getOperationAST,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
// The CommonJS build: its ESM build imports `graphql/index.mjs`, a second copy of graphql next to the
// CommonJS one our schema is made with ("Cannot use GraphQLObjectType from another module or realm").
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity/cjs';
import { limitError, type AbuseLimitsConfig } from './limit-error.js';

/** The measured cost of an operation. */
export interface OperationCost {
  complexity: number;
  maxComplexity: number;
  depth: number;
  maxDepth: number;
}

/** Depth of the deepest field path of `document`'s operation (fragments expanded, introspection not counted). */
export function operationDepth(document: DocumentNode, operationName?: string | null): number {
  const operation = getOperationAST(document, operationName ?? undefined);
  if (!operation) return 0;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
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

/** Most measurements kept per document (one per operation name and variables seen; cleared when full). */
const MEASURES_PER_DOCUMENT = 64;

/**
 * Depth and complexity already measured, by schema, document and (operation name, variables). Apollo
 * hands every request of the same query text the same parsed `DocumentNode` (its document cache), so
 * the second and later requests of a document skip both walks; both figures are pure functions of
 * the schema, the document, the operation name and the variables, so the cached figure is the one a
 * new walk would give. Only successful measurements are kept: a refused operation is measured again.
 */
const measured = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<string, { depth: number; complexity: number }>>>();

function cachedMeasure(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
): { figures: { depth: number; complexity: number } | null; store: (figures: { depth: number; complexity: number }) => void } {
  let byDocument = measured.get(schema);
  if (!byDocument) measured.set(schema, (byDocument = new WeakMap()));
  let byRequest = byDocument.get(document);
  if (!byRequest) byDocument.set(document, (byRequest = new Map()));
  let key: string;
  try {
    key = `${operationName ?? ''}\u0000${variables === undefined ? '' : JSON.stringify(variables)}`;
  } catch {
    // Variables JSON cannot describe (a cycle, a BigInt): measured every time.
    return { figures: null, store: () => undefined };
  }
  const cache = byRequest;
  return {
    figures: cache.get(key) ?? null,
    store: (figures) => {
      if (cache.size >= MEASURES_PER_DOCUMENT) cache.clear();
      cache.set(key, figures);
    },
  };
}

/**
 * Measures `document` and throws when it is too deep or too complex. The figures of a document
 * already measured with the same operation name and variables come from a cache (see {@link measured}).
 * @throws GraphQLError QUERY_TOO_DEEP / QUERY_TOO_COMPLEX (HTTP 400) with the measured figure in extensions.
 */
export function checkOperationCost(
  schema: GraphQLSchema,
  config: AbuseLimitsConfig,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName?: string | null,
): OperationCost {
  const cached = cachedMeasure(schema, document, variables, operationName);
  if (cached.figures) return withinLimits(config, cached.figures.depth, cached.figures.complexity);
  const depth = operationDepth(document, operationName);
  if (depth > config.maxQueryDepth) {
    throw limitError(`The operation is ${depth} fields deep; the limit is ${config.maxQueryDepth}.`, 'QUERY_TOO_DEEP', 400, {
      depth,
      maxDepth: config.maxQueryDepth,
    });
  }
  let complexity: number;
  try {
    complexity = getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [estimatorFor(schema)],
    });
  } catch (error) {
    // getComplexity coerces the variables (getVariableValues) and throws the coercion error: the
    // client's mistake, answered as Apollo answers it at execution, not as a 500.
    if (error instanceof GraphQLError)
      throw new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
    throw error;
  }
  const cost = withinLimits(config, depth, complexity);
  cached.store({ depth, complexity });
  return cost;
}

/** The cost of an operation already known to be `depth` deep; @throws QUERY_TOO_DEEP / QUERY_TOO_COMPLEX over the limits. */
function withinLimits(config: AbuseLimitsConfig, depth: number, complexity: number): OperationCost {
  if (depth > config.maxQueryDepth) {
    throw limitError(`The operation is ${depth} fields deep; the limit is ${config.maxQueryDepth}.`, 'QUERY_TOO_DEEP', 400, {
      depth,
      maxDepth: config.maxQueryDepth,
    });
  }
  if (complexity > config.maxQueryComplexity) {
    throw limitError(`The operation's complexity is ${complexity}; the limit is ${config.maxQueryComplexity}.`, 'QUERY_TOO_COMPLEX', 400, {
      complexity,
      maxComplexity: config.maxQueryComplexity,
    });
  }
  return { complexity, maxComplexity: config.maxQueryComplexity, depth, maxDepth: config.maxQueryDepth };
}
