/**
 * The shape of an HTTP request, checked after the body parsers and before Apollo parses anything:
 *
 * - Batching: a JSON (or multipart `operations`) array is refused with 400 `BATCHING_NOT_SUPPORTED`.
 * - Document size: a query string longer than `GRAPHQL_MAX_QUERY_BYTES` (UTF-8 bytes) is refused
 *   with 413 `QUERY_TOO_LARGE`.
 * - Nesting: see document-nesting.ts (400 `QUERY_TOO_DEEP`).
 */
import type { NextFunction, Request, Response } from 'express';
import type { Config } from '../../platform/config.js';
import { nestingError } from './document-nesting.js';

function refuse(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

/**
 * Express middleware after the body parsers: refuses batched operations (400), query strings over
 * `maxQueryBytes` (413) and documents nested deeper than MAX_DOCUMENT_NESTING (400
 * QUERY_TOO_DEEP), for POST bodies (JSON and multipart `operations`) and GET `?query=`.
 */
export function requestShapeGuard(config: Pick<Config, 'maxQueryBytes'>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const body: unknown = req.body;
    if (Array.isArray(body)) {
      refuse(
        res,
        400,
        'BATCHING_NOT_SUPPORTED',
        'Batched operations (a JSON array of operations) are not supported; send one operation per request.',
      );
      return;
    }
    const fromBody = body && typeof body === 'object' ? (body as { query?: unknown }).query : undefined;
    const query = typeof fromBody === 'string' ? fromBody : typeof req.query?.query === 'string' ? req.query.query : undefined;
    if (query !== undefined && Buffer.byteLength(query, 'utf8') > config.maxQueryBytes) {
      refuse(
        res,
        413,
        'QUERY_TOO_LARGE',
        `The GraphQL document is ${Buffer.byteLength(query, 'utf8')} bytes; the limit is ${config.maxQueryBytes}.`,
      );
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
