/**
 * The error hierarchy. Every failure the product reports carries a stable machine `code` (one of
 * {@link ErrorCode}), a `retryable` flag and, where useful, a more specific `reason` (for validation,
 * the {@link ValidationIssue} codes such as `FILE_TOO_LARGE`).
 *
 * The audio core owns these: its stages throw them, and the shell (platform, modules, worker, CLI)
 * imports them from here, never the other way round. How infrastructure failures (PostgreSQL, Redis,
 * the file system) map onto these codes lives beside the worker that retries them
 * (src/worker/infrastructure-errors.ts); the API's own errors (not found, forbidden...) are in
 * src/platform/api-errors.ts.
 */

export type ErrorCode =
  'VALIDATION_ERROR' | 'AUDIO_PROCESSING_ERROR' | 'AI_SERVICE_ERROR' | 'TIMEOUT_ERROR' | 'STORAGE_ERROR' | 'ABORTED' | 'UNKNOWN_ERROR';

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  /** A finer-grained stable code, e.g. `CORRUPT_FILE`; defaults to `code`. */
  readonly reason: string;

  constructor(code: ErrorCode, message: string, options: { retryable?: boolean; reason?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.reason = options.reason ?? code;
  }
}

/** The input is unacceptable; retrying the same input gives the same answer. */
export class ValidationError extends AppError {
  /** Every blocking issue found, the first of which gave `reason` and the message. */
  readonly issues: { code: string; message: string; value?: number | string | null; limit?: number | string | null }[];

  constructor(issues: { code: string; message: string; value?: number | string | null; limit?: number | string | null }[]) {
    const first = issues[0] ?? { code: 'VALIDATION_ERROR', message: 'Invalid input.' };
    super('VALIDATION_ERROR', first.message, { reason: first.code });
    this.issues = issues;
  }
}

/** The audio was accepted but processing it failed (decoder crash, numeric failure). */
export class AudioProcessingError extends AppError {
  constructor(message: string, options: { reason?: string; retryable?: boolean; cause?: unknown } = {}) {
    super('AUDIO_PROCESSING_ERROR', message, options);
  }
}

/** The work was stopped through its AbortSignal. */
export class AbortedError extends AppError {
  constructor(message = 'The operation was aborted.') {
    super('ABORTED', message);
  }
}

/** Throws {@link AbortedError} when the signal is aborted; call between and inside long stages. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError();
}
