/**
 * The cost model of abuse-limits/operation-cost.ts (issue 10, holes 5 and 10): cost follows database work (each
 * aliased list or `totalCount` costs its queries), `first: null` is the default page, and
 * introspection is not free; the documented operations and the standard introspection query still
 * fit the default limit.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLError, getIntrospectionQuery, parse, type GraphQLSchema } from 'graphql';
import { DATABASE_QUERY_COST, checkOperationCost } from '../../../src/graphql/abuse-limits/operation-cost.js';
import { buildAppSchema } from '../../../src/graphql/schema.js';
import { loadConfig } from '../../../src/platform/config.js';

let schema: GraphQLSchema;
const defaults = loadConfig({ NODE_ENV: 'test' });
const unlimited = { ...defaults, maxQueryComplexity: 1e9, maxQueryDepth: 1000 };
const cost = (query: string, variables: Record<string, unknown> = {}) =>
  checkOperationCost(schema, unlimited, parse(query), variables).complexity;

beforeAll(async () => {
  schema = await buildAppSchema();
});

describe('operation cost', () => {
  it('charges every aliased history its page query and its totalCount query, even with first: 0', () => {
    const one = cost('{ history(first: 0) { totalCount } }');
    expect(one).toBeGreaterThanOrEqual(2 * DATABASE_QUERY_COST);
    const aliases = `{ ${Array.from({ length: 330 }, (_, index) => `a${index}: history(first: 0) { totalCount }`).join(' ')} }`;
    expect(cost(aliases)).toBe(330 * one);
    expect(() => checkOperationCost(schema, defaults, parse(aliases), {})).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) }) as GraphQLError,
    );
  });

  it('costs first: null (and no first) as the default page of 20, not as one row', () => {
    const page = (first: string) => cost(`{ history${first} { edges { node { id } } } }`);
    expect(page('(first: null)')).toBe(page('(first: 20)'));
    expect(page('')).toBe(page('(first: 20)'));
    expect(page('(first: null)')).toBeGreaterThan(page('(first: 1)'));
    expect(cost('query($n: Int) { history(first: $n) { edges { node { id } } } }', { n: null })).toBe(page('(first: 20)'));
  });

  it('charges a database query per row for a per-row resolver (feedback)', () => {
    // Per row: feedback (1 + its query) + rating (1), against id (1).
    expect(
      cost('{ history(first: 10) { edges { node { feedback { rating } } } } }') - cost('{ history(first: 10) { edges { node { id } } } }'),
    ).toBe(10 * (DATABASE_QUERY_COST + 1));
  });

  it('does not exempt introspection: aliased schema dumps are refused, one standard introspection query fits', () => {
    const standard = cost(getIntrospectionQuery());
    expect(standard).toBeGreaterThan(100);
    expect(standard).toBeLessThan(defaults.maxQueryComplexity);
    const aliased = `{ ${Array.from({ length: 60 }, (_, index) => `s${index}: __schema { types { name fields { name } } }`).join(' ')} }`;
    expect(() => checkOperationCost(schema, defaults, parse(aliased), {})).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) }) as GraphQLError,
    );
    expect(cost('{ __typename }')).toBe(0);
  });

  it('lets every documented operation (schema/operations) through the default limit', () => {
    const dir = join(process.cwd(), 'schema', 'operations');
    const fragments = readFileSync(join(dir, 'fragments.graphql'), 'utf8');
    const variables = { id: 'x', first: 20, userId: 'u', conversionId: 'x', rating: 5 };
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.graphql') && name !== 'fragments.graphql')) {
      const document = parse(`${readFileSync(join(dir, file), 'utf8')}\n${fragments}`);
      for (const definition of document.definitions) {
        // convertMelody needs an Upload variable, which only a multipart request carries; it is small.
        if (definition.kind !== 'OperationDefinition' || definition.name!.value === 'ConvertMelody') continue;
        const { complexity } = checkOperationCost(schema, unlimited, document, variables, definition.name!.value);
        expect([definition.name!.value, complexity <= defaults.maxQueryComplexity]).toEqual([definition.name!.value, true]);
      }
    }
  });

  it('measures a parsed document again for other variables, and applies the limits of the call to a figure it measured before', () => {
    const document = parse('query($n: Int) { history(first: $n) { edges { node { id } } } }');
    const small = checkOperationCost(schema, unlimited, document, { n: 1 });
    const large = checkOperationCost(schema, unlimited, document, { n: 100 });
    expect(large.complexity).toBeGreaterThan(small.complexity);
    expect(checkOperationCost(schema, unlimited, document, { n: 1 })).toEqual(small);
    expect(() => checkOperationCost(schema, { ...unlimited, maxQueryComplexity: small.complexity - 1 }, document, { n: 1 })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_COMPLEX' }) }) as GraphQLError,
    );
    expect(() => checkOperationCost(schema, { ...unlimited, maxQueryDepth: small.depth - 1 }, document, { n: 1 })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'QUERY_TOO_DEEP' }) }) as GraphQLError,
    );
    expect(() => checkOperationCost(schema, unlimited, document, { n: 'many' })).toThrow(
      expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }) as GraphQLError,
    );
  });
});
