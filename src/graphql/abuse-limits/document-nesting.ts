/**
 * Nesting: a document whose brackets (`{`, `(`, `[`) nest deeper than {@link MAX_DOCUMENT_NESTING} is
 * refused with 400 `QUERY_TOO_DEEP` before it is parsed: graphql-js parses recursively, and a 16 kB
 * document of 2,000 nested selection sets overflows its stack. Used over HTTP (request-shape.ts) and
 * graphql-ws (ws-limits.ts).
 */
import type { GraphQLError } from 'graphql';
import { limitError } from './limit-error.js';

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
  return limitError(`The document nests ${nesting} levels of brackets; the limit is ${MAX_DOCUMENT_NESTING}.`, 'QUERY_TOO_DEEP', 400, {
    nesting,
    maxNesting: MAX_DOCUMENT_NESTING,
  });
}
