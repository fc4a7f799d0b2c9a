/**
 * The guards that run before graphql-js sees a document: bracket nesting measured by a linear scan
 * (so a 2,000-level document never reaches the recursive parser), and variables that cannot be
 * coerced answered as the client's error (BAD_USER_INPUT, 400) by the complexity check.
 */
import { GraphQLError, getIntrospectionQuery, parse } from 'graphql';
import { MAX_DOCUMENT_NESTING, documentNesting, nestingError } from '../../../src/graphql/abuse-limits/document-nesting.js';
import { checkOperationCost } from '../../../src/graphql/abuse-limits/operation-cost.js';
import { buildAppSchema } from '../../../src/graphql/schema.js';
import { loadConfig } from '../../../src/platform/config.js';

describe('documentNesting', () => {
  it('counts selection sets, argument lists and list values', () => {
    expect(documentNesting('{ a }')).toBe(1);
    expect(documentNesting('{ a(x: [[1]]) { b } }')).toBe(4);
    expect(documentNesting('query { history(first: 2) { edges { node { id } } } }')).toBe(4);
  });

  it('ignores brackets inside comments, strings and block strings (escaped quotes included)', () => {
    const query = '{ a(s: "{{{ \\" [[[", t: """ {{{ \\""" ((( """) # {{{{{{\n { b } }';
    expect(documentNesting(query)).toBe(2);
  });

  it('measures the standard introspection query well under the limit', () => {
    const nesting = documentNesting(getIntrospectionQuery());
    expect(nesting).toBeGreaterThan(5);
    expect(nesting).toBeLessThanOrEqual(MAX_DOCUMENT_NESTING / 2);
  });

  it('refuses 2,000 nested selection sets with QUERY_TOO_DEEP (400) without parsing them', () => {
    const query = `{ ${'a { '.repeat(2000)}b${' }'.repeat(2000)} }`;
    const error = nestingError(query);
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error!.extensions).toMatchObject({
      code: 'QUERY_TOO_DEEP',
      nesting: 2001,
      maxNesting: MAX_DOCUMENT_NESTING,
      http: { status: 400 },
    });
    expect(nestingError('{ a { b } }')).toBeNull();
  });

  it('runs in linear time on unterminated strings and comments', () => {
    expect(documentNesting(`{ a(s: "${'{'.repeat(10_000)}`)).toBe(2);
    expect(documentNesting(`{ a(s: """${'{'.repeat(10_000)}`)).toBe(2);
    expect(documentNesting(`{ # ${'{'.repeat(10_000)}`)).toBe(1);
  });
});

describe('checkOperationCost with variables that cannot be coerced', () => {
  it('throws BAD_USER_INPUT with HTTP 400, not an internal error', async () => {
    const schema = await buildAppSchema();
    const config = loadConfig({});
    const document = parse('query($n: Int) { history(first: $n) { edges { node { id } } } }');
    let thrown: unknown;
    try {
      checkOperationCost(schema, config, document, { n: [[['deep']]] });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GraphQLError);
    expect((thrown as GraphQLError).message).toMatch(/Variable "\$n" got invalid value/);
    expect((thrown as GraphQLError).extensions).toMatchObject({ code: 'BAD_USER_INPUT', http: { status: 400 } });
  });
});
