/**
 * Cleaning of user-supplied text (lyrics, titles) before it goes into a score file. Lyrics come
 * from people and language models, so they may hold anything.
 */

/**
 * Characters no score text may carry: C0 and C1 controls and DEL (meaningless in a lyric, and
 * C0 controls other than tab/LF/CR are not XML 1.0 characters at all, XML 1.0 §2.2), the
 * non-characters U+FFFE/U+FFFF, and unpaired UTF-16 surrogates (not encodable in UTF-8).
 */
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * One line of clean text: tabs and line breaks become spaces, forbidden characters are removed,
 * runs of spaces collapse to one, and the ends are trimmed. XML escaping is the writer's job.
 */
export function cleanScoreText(text: string): string {
  return text
    .replace(/[\t\n\r]/g, ' ')
    .replace(FORBIDDEN, '')
    .replace(/ {2,}/g, ' ')
    .trim();
}
