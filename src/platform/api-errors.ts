/**
 * The API's own refusals: bad arguments, no or the wrong credential, a missing (or someone else's)
 * object, an exhausted quota, a dependency that is down. They are not failures of the work itself, so
 * they are not AppErrors (the job error model of src/audio/errors.ts): a missing conversion is
 * `NOT_FOUND`, never a `VALIDATION_ERROR`.
 *
 * Each carries its stable GraphQL `code`, a `retryable` flag and `extensions`, exactly what a client
 * sees under `errors[].extensions`. Resolvers and services throw them; src/graphql/client-errors.ts is
 * the one place that turns them into answers (graphql-js also copies `extensions` onto the GraphQLError
 * it wraps a resolver's error in, so a schema executed without our server answers the same). Refusals a
 * mutation reports in its payload instead (`userErrors`) go through {@link userErrorOf}.
 */

export type ApiErrorCode = 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'QUOTA_EXCEEDED' | 'SERVICE_UNAVAILABLE';

export abstract class ApiError extends Error {
  abstract readonly code: ApiErrorCode;
  /** True when the same request may succeed later unchanged. */
  readonly retryable: boolean;
  /** What a client sees as `extensions`: `code`, and the fields a subclass adds. */
  readonly extensions: Readonly<Record<string, unknown>>;

  protected constructor(code: ApiErrorCode, message: string, extras: Record<string, unknown> = {}, retryable = false) {
    super(message);
    this.name = new.target.name;
    this.retryable = retryable;
    this.extensions = { code, ...extras, ...(retryable ? { retryable } : {}) };
  }
}

/** An argument the operation cannot take (`field` names it; `reason` gives a finer code). */
export class BadUserInputError extends ApiError {
  readonly code = 'BAD_USER_INPUT';
  constructor(message: string, details: { field?: string; reason?: string } = {}) {
    super('BAD_USER_INPUT', message, {
      ...(details.field !== undefined ? { field: details.field } : {}),
      ...(details.reason !== undefined ? { reason: details.reason } : {}),
    });
  }
}

/** The operation needs a caller and the request carried no valid credential. */
export class UnauthenticatedError extends ApiError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'A valid bearer token is required.') {
    super('UNAUTHENTICATED', message);
  }
}

/** The caller is known but their role may not do this. */
export class ForbiddenError extends ApiError {
  readonly code = 'FORBIDDEN';
  constructor(message = 'This operation is for administrators only.') {
    super('FORBIDDEN', message);
  }
}

/** No such object, or one that is not the caller's: the two are one answer, so ids leak nothing. */
export class NotFoundError extends ApiError {
  readonly code = 'NOT_FOUND';
  constructor(message: string) {
    super('NOT_FOUND', message);
  }
}

/** The caller's daily or monthly allowance is used up (the message says which, and when it resets). */
export class QuotaExceededError extends ApiError {
  readonly code = 'QUOTA_EXCEEDED';
  constructor(message: string) {
    super('QUOTA_EXCEEDED', message);
  }
}

/** A dependency (the queue, the database) cannot take the request now; the same request may succeed later. */
export class UnavailableError extends ApiError {
  readonly code = 'SERVICE_UNAVAILABLE';
  constructor(message: string) {
    super('SERVICE_UNAVAILABLE', message, {}, true);
  }

  /** The conversion queue (Redis) refused a job. */
  static queue(): UnavailableError {
    return new UnavailableError('The conversion queue is not available right now; please try again shortly.');
  }
}

/** One `userErrors` entry of a mutation payload. */
export interface UserErrorData {
  code: string;
  /** Input field name (`audio`, `prompt`…) or null. */
  field: string | null;
  message: string;
}

/** The refusal as a `userErrors` entry, for mutations that answer refusals in their payload. */
export function userErrorOf(error: ApiError, field: string | null = null): UserErrorData {
  return { code: error.code, field, message: error.message };
}
