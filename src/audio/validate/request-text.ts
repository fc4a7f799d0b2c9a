/**
 * Encoding checks on the request's text fields. HTTP layers decode request bodies leniently: bytes
 * that are not UTF-8 arrive as U+FFFD REPLACEMENT CHARACTER (WHATWG Encoding, "replacement" error
 * mode), and JSON `\uD800` escapes can smuggle in lone UTF-16 surrogates, which have no UTF-8 form.
 * Either means the client sent broken text; silently dropping it would sing words the user never
 * wrote, so the request is refused with a stable code naming the field.
 */
import type { ValidationIssue } from '../types.js';

/** Issue code of a text field that holds bytes that were not UTF-8 (or a lone surrogate). */
export const INVALID_TEXT_ENCODING = 'INVALID_TEXT_ENCODING';

/** U+FFFD, or a surrogate half without its partner. */
const BROKEN_TEXT = /\uFFFD|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * One `INVALID_TEXT_ENCODING` issue per field of `fields` whose string value holds U+FFFD or a lone
 * surrogate; the issue's `value` is the field's name. Non-string values are ignored (other checks
 * answer them).
 */
export function textEncodingIssues(fields: Record<string, unknown>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string' || !BROKEN_TEXT.test(value)) continue;
    issues.push({
      code: INVALID_TEXT_ENCODING,
      message: `The ${field} contains bytes that are not valid UTF-8 text (shown as \u{FFFD}); send it encoded as UTF-8.`,
      value: field,
    });
  }
  return issues;
}
