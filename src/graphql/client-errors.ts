/**
 * What a GraphQL client sees of an error: the one place that translates our errors into answers, for
 * Apollo (`formatError`) and graphql-ws (`onNext`) alike.
 *
 * - {@link ApiError}s (src/platform/api-errors.ts: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
 *   NOT_FOUND, QUOTA_EXCEEDED, SERVICE_UNAVAILABLE) are shown with their message and `extensions`.
 * - AppErrors (the job error model, src/audio/errors.ts) keep their stable code, reason and
 *   retryable flag.
 * - Other GraphQLErrors with a client code (parse and validation failures, the abuse limits) pass as
 *   they are; in production anything else becomes a bare INTERNAL_SERVER_ERROR.
 * No answer in production carries a stack trace, and none of ours ever does.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { AppError } from '../audio/errors.js';
import { ApiError } from '../platform/api-errors.js';
import { ABUSE_ERROR_CODES } from './abuse-limits/limit-error.js';
import type { GraphQLContext } from '../modules/graphql-context.js';

/** Codes of errors that are the client's doing and safe to show as they are. */
const CLIENT_ERROR_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'SERVICE_UNAVAILABLE',
  ...ABUSE_ERROR_CODES,
]);

/** True for errors we raised on purpose (one of our ApiErrors or AppErrors, or a client error code). */
function isExpected(formatted: GraphQLFormattedError, original: unknown): boolean {
  if (original instanceof AppError || original instanceof ApiError) return true;
  const code = formatted.extensions?.code;
  return typeof code === 'string' && CLIENT_ERROR_CODES.has(code);
}

/** The message, locations and path of `formatted` with our own `extensions`. */
function answer(message: string, formatted: GraphQLFormattedError, extensions: Record<string, unknown>): GraphQLFormattedError {
  return {
    message,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions,
  };
}

/**
 * What clients see of an error. ApiErrors and AppErrors keep their stable code (and, for AppErrors,
 * reason and retryable flag). In production unexpected errors become a bare INTERNAL_SERVER_ERROR and
 * no error carries a stack trace.
 */
export function formatClientError(formatted: GraphQLFormattedError, error: unknown, production: boolean): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof ApiError) return answer(original.message, formatted, { ...original.extensions });
  if (original instanceof AppError)
    return answer(original.message, formatted, { code: original.code, reason: original.reason, retryable: original.retryable });
  if (!production) return formatted;
  if (isExpected(formatted, original)) {
    const { stacktrace: _stacktrace, exception: _exception, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return { message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

/** A formatted error without `extensions.http` (the HTTP status a GraphQLError asks for: internal to HTTP answers). */
export function withoutHttp(formatted: GraphQLFormattedError): GraphQLFormattedError {
  if (!formatted.extensions || !('http' in formatted.extensions)) return formatted;
  const { http: _http, ...extensions } = formatted.extensions;
  return { ...formatted, extensions };
}

/** Logs unexpected errors with the operation's request id (clients see only the masked form). */
export function errorLoggingPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (isExpected(error, original)) continue;
            contextValue.logger.error('Unexpected error in a GraphQL operation', {
              error: (original as Error)?.message ?? String(original),
              stack: (original as Error)?.stack,
              path: error.path,
            });
          }
        },
      };
    },
  };
}
