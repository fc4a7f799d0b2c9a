/**
 * The `userErrors` a ValidationError about the request or its files becomes: one per issue, each
 * naming the input field it is about.
 */
import { ValidationError } from '../../audio/errors.js';
import { INVALID_TEXT_ENCODING } from '../../audio/validate/request-text.js';
import type { UserErrorData } from '../../platform/api-errors.js';

/** Which input field each validation code is about. */
const FIELD_OF_CODE: Record<string, string> = {
  PROMPT_TOO_SHORT: 'prompt',
  PROMPT_TOO_LONG: 'prompt',
  INVALID_GENRE: 'genre',
  INVALID_MOOD: 'mood',
  LYRICS_TOO_LONG: 'lyrics',
  UNKNOWN_VOICE: 'voice',
  INVALID_SEED: 'seed',
  INVALID_IDEMPOTENCY_KEY: 'idempotencyKey',
};

export function userErrorsFrom(error: ValidationError, fallbackField: string | null): UserErrorData[] {
  // INVALID_TEXT_ENCODING names its field in `value` (one code for every text field).
  const fieldOf = (issue: ValidationError['issues'][number]) =>
    issue.code === INVALID_TEXT_ENCODING ? String(issue.value) : (FIELD_OF_CODE[issue.code] ?? fallbackField);
  return error.issues.map((issue) => ({ code: issue.code, field: fieldOf(issue), message: issue.message }));
}
