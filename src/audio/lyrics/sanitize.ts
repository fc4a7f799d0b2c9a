/**
 * Cleaning of untrusted text (prompts, user lyrics, remote model replies) before it reaches the
 * lyrics stages. Nothing here throws: hostile input (control characters, markup, lone surrogates,
 * U+FFFD replacement characters, 10 kB blobs) degrades to fewer words, never to a crash.
 */
import { countSyllables, lookupPhones, normalizeWord } from './pronouncing.js';
import { sanitizeText } from './sanitize-text.js';

export { MAX_TEXT_LENGTH, sanitizeText } from './sanitize-text.js';

/** A word as written in the text plus its dictionary key. */
export interface TextWord {
  /** Display form: letters, marks and inner apostrophes only (`don't`, `Café`). */
  text: string;
  /** Lower-case a–z key (see `normalizeWord`). */
  key: string;
}

const SMALL_NUMBERS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'eleven',
  'twelve',
  'thirteen',
  'fourteen',
  'fifteen',
  'sixteen',
  'seventeen',
  'eighteen',
  'nineteen',
];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

/** Spells 0–99 as words (`42` → `forty two`) so digits in lyrics can be sung; larger numbers are dropped. */
function numberWords(digits: string): string[] {
  const v = Number(digits);
  if (!Number.isInteger(v) || v < 0 || v > 99 || digits.length > 2) return [];
  if (v < 20) return [SMALL_NUMBERS[v]];
  return v % 10 === 0 ? [TENS[Math.floor(v / 10)]] : [TENS[Math.floor(v / 10)], SMALL_NUMBERS[v % 10]];
}

/**
 * Splits (sanitized) text into words: runs of letters, combining marks, digits and inner apostrophes;
 * hyphenated words become separate words, numbers up to 99 are spelled out, anything else is a separator.
 * Words longer than 40 characters are dropped (nobody sings them).
 */
export function tokenizeWords(text: string): TextWord[] {
  const out: TextWord[] = [];
  const matches = text.match(/[\p{L}\p{M}\p{N}]+(?:['\u2019][\p{L}\p{M}]+)*['\u2019]?/gu) ?? [];
  for (const m of matches) {
    if (/^\p{N}+$/u.test(m)) {
      for (const w of numberWords(m)) out.push({ text: w, key: w });
      continue;
    }
    const cleaned = m.replace(/\p{N}+/gu, '');
    if (!cleaned || Array.from(cleaned).length > 40) continue;
    const key = normalizeWord(cleaned);
    if (!key) continue;
    out.push({ text: cleaned.replace(/\u2019/g, "'"), key });
  }
  return out;
}

/** Function words and request boilerplate that never count as a prompt's content. */
const STOP_WORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just let me more most my myself no nor not now of off on once only or
other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who whom why will with would you
your yours yourself yourselves i'm it's don't can't won't isn't let's i'll you're we're they're that's there's what's
song songs lyric lyrics write written writing make makes making please want wants need needs like style genre mood sing singing
track tune music verse chorus bridge something thing things kind sort really much many way get got give us also one two three
ok okay yes yeah hey hi hello thanks thank`.split(/\s+/),
);

/** Runs of four or more identical characters (`aaaa`, `!!!!`). */
export const REPEATED_RUN = /(.)\1{3,}/su;

/**
 * Content words of a prompt, in order of first appearance, most frequent first among ties:
 * dictionary-known, not stop words, 3–14 letters, 1–4 syllables, no run of 4 identical letters.
 * @param max at most this many words (default 8).
 */
export function extractPromptWords(prompt: unknown, max = 8): string[] {
  const words = tokenizeWords(sanitizeText(prompt));
  const counts = new Map<string, { count: number; first: number }>();
  words.forEach((w, i) => {
    const key = w.key;
    if (key.length < 3 || key.length > 14 || STOP_WORDS.has(key) || REPEATED_RUN.test(key) || key.includes("'")) return;
    const entry = counts.get(key);
    if (entry) entry.count++;
    else counts.set(key, { count: 1, first: i });
  });
  return [...counts.entries()]
    .filter(([key]) => {
      const phones = lookupPhones(key);
      if (!phones) return false;
      const syl = countSyllables(phones);
      return syl >= 1 && syl <= 4;
    })
    .sort((x, y) => y[1].count - x[1].count || x[1].first - y[1].first)
    .slice(0, max)
    .map(([key]) => key);
}
