/**
 * What every abuse limit has in common: its error codes (all the client's doing, shown as they are in
 * production), the GraphQLError it refuses with (an HTTP status for Apollo, stripped from graphql-ws
 * answers), and the part of the config the limits read.
 */
import { GraphQLError } from 'graphql';
import type { Config } from '../../platform/config.js';

/** Error codes raised by the abuse limits; all are the client's doing and shown as they are in production. */
export const ABUSE_ERROR_CODES = [
  'QUERY_TOO_LARGE',
  'BATCHING_NOT_SUPPORTED',
  'QUERY_TOO_DEEP',
  'QUERY_TOO_COMPLEX',
  'RATE_LIMITED',
  'SUBSCRIPTION_LIMIT',
] as const;

export type AbuseLimitsConfig = Pick<
  Config,
  | 'maxQueryDepth'
  | 'maxQueryComplexity'
  | 'maxQueryBytes'
  | 'rateLimitPerMinute'
  | 'maxSubscriptionsPerUser'
  | 'introspection'
  | 'redisPrefix'
>;

/** A refusal: `code` and `extensions`, and the HTTP `status` (with `headers`) Apollo answers it with. */
export function limitError(
  message: string,
  code: (typeof ABUSE_ERROR_CODES)[number],
  status: number,
  extensions: Record<string, unknown> = {},
  headers?: Map<string, string>,
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions, http: { status, ...(headers ? { headers } : {}) } } });
}
