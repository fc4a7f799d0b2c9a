/**
 * The first cleaning of untrusted text (prompts, user lyrics, remote model replies), on its own so
 * that request validation can use it without loading the pronouncing dictionary (sanitize.ts goes
 * on to words). Nothing here throws: hostile input degrades to fewer characters, never to a crash.
 */

/** Longest text we look at, in UTF-16 code units; the rest is ignored. */
export const MAX_TEXT_LENGTH = 20_000;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/**
 * Makes text safe to tokenize: truncates to `maxLength`, strips markup tags and comments, decodes a
 * few HTML entities, removes control, zero-width and replacement characters and lone surrogates,
 * applies NFKC and unifies line breaks to `\n`.
 */
export function sanitizeText(raw: unknown, maxLength = MAX_TEXT_LENGTH): string {
  if (typeof raw !== 'string') return '';
  return (
    raw
      .slice(0, maxLength)
      .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '')
      .replace(/<!--[\s\S]*?-->/g, ' ')
      .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<\/?[a-zA-Z!][^<>]{0,500}>/g, ' ')
      .replace(/&(#39|[a-z]{2,6});/gi, (m, name: string) => ENTITIES[name.toLowerCase()] ?? ' ')
      .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
      // eslint-disable-next-line no-control-regex -- removing control characters is the point
      .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, ' ')
      .replace(/[\u200B-\u200F\u202A-\u202E\u2060-\u206F\uFEFF\uFFFD\uFFFC]/g, '')
      .normalize('NFKC')
  );
}
