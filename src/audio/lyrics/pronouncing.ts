/**
 * Pronunciations for the lyrics stages: syllables, lexical stress, rhymes and display hyphenation.
 *
 * Source: the CMU Pronouncing Dictionary (npm `cmu-pronouncing-dictionary`, ~135k words, ARPAbet with
 * stress digits 0 = unstressed, 1 = primary, 2 = secondary), written by scripts/build-pronouncing.ts as one
 * sorted string (cmu-dictionary.data.ts) that lookups binary-search in place: the package's own form, a
 * 4.7 MB object literal, cost each process ~60 MB of resident memory and ~0.5 s to parse.
 *
 * Words missing from the dictionary (names, invented words in user lyrics) get a rough letter-to-sound
 * guess so they can still be sung; those results carry `known: false`.
 */
import { CMU_DICTIONARY_DATA } from './cmu-dictionary.data.js';
import { guessPhones, normalizeWord, splitSpelling } from './spelling.js';

export { guessPhones, normalizeWord, splitSpelling } from './spelling.js';

/** Lexical stress of a syllable as the CMU dictionary writes it. */
export type Stress = 0 | 1 | 2;

/** One syllable of a word. */
export interface WordSyllable {
  /** Display spelling of the syllable (`sum`, `mer`), taken from the word as written. */
  text: string;
  /** ARPAbet phonemes without stress digits (`S`, `AH`, `M`). */
  phonemes: string[];
  stress: Stress;
}

export interface WordPronunciation {
  /** The word as written (display form). */
  word: string;
  /** Lower-case dictionary key that was found, or the normalized word when unknown. */
  key: string;
  /** True when the pronunciation comes from the dictionary, false for the letter-to-sound guess. */
  known: boolean;
  /** ARPAbet with stress digits, e.g. `['S', 'AH1', 'M', 'ER0']`. */
  phones: string[];
  syllables: WordSyllable[];
}

const VOWELS = new Set(['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'EH', 'ER', 'EY', 'IH', 'IY', 'OW', 'OY', 'UH', 'UW']);

/** Removes the stress digit of an ARPAbet symbol (`AH1` → `AH`). */
export function stripStress(phone: string): string {
  const last = phone.charCodeAt(phone.length - 1);
  return last >= 48 && last <= 57 ? phone.slice(0, -1) : phone;
}

/** True for ARPAbet vowels, with or without a stress digit. */
export function isVowelPhone(phone: string): boolean {
  return VOWELS.has(stripStress(phone));
}

/** Start of each line of {@link CMU_DICTIONARY_DATA}, built on the first lookup (135 000 entries, ~0.5 MB). */
let lineStarts: Int32Array | null = null;

function dictionaryLines(): Int32Array {
  if (lineStarts) return lineStarts;
  const data = CMU_DICTIONARY_DATA;
  let count = 1;
  for (let i = data.indexOf('\n'); i >= 0; i = data.indexOf('\n', i + 1)) count++;
  const starts = new Int32Array(count);
  for (let line = 1, i = data.indexOf('\n'); i >= 0; i = data.indexOf('\n', i + 1)) starts[line++] = i + 1;
  lineStarts = starts;
  return starts;
}

/**
 * The dictionary's entry for an exact key (`'bout`, `read(2)`), by binary search over its sorted lines
 * (`word PHONES`): a plain string search, so no key can reach an object's prototype.
 */
export function dictionaryEntry(key: string): string | undefined {
  const data = CMU_DICTIONARY_DATA;
  const starts = dictionaryLines();
  let low = 0;
  let high = starts.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const start = starts[middle];
    const space = data.indexOf(' ', start);
    const word = data.slice(start, space);
    if (word === key) {
      const end = middle + 1 < starts.length ? starts[middle + 1] - 1 : data.length;
      return data.slice(space + 1, end);
    }
    if (word < key) low = middle + 1;
    else high = middle - 1;
  }
  return undefined;
}

/**
 * Dictionary phones of a word (first pronunciation), or null when the word is not in the dictionary.
 * Tries the word as written, without apostrophes, and `singin'` → `singing`.
 */
export function lookupPhones(word: string): string[] | null {
  const key = normalizeWord(word);
  if (!key) return null;
  const candidates = [key];
  if (word.trim().endsWith("'") && key.endsWith('in')) candidates.push(`${key}g`);
  if (key.includes("'")) candidates.push(key.replace(/'/g, ''));
  for (const candidate of candidates) {
    const entry = dictionaryEntry(candidate);
    if (entry) return entry.split(' ');
  }
  return null;
}

/** True when the (normalized) word is in the CMU dictionary. */
export function isKnownWord(word: string): boolean {
  return lookupPhones(word) !== null;
}

/** Number of syllables = number of vowel phonemes. */
export function countSyllables(phones: readonly string[]): number {
  let n = 0;
  for (const p of phones) if (isVowelPhone(p)) n++;
  return n;
}

/** Stress digit of each vowel, in order (`beautiful` → [1, 0, 0]). */
export function stressPattern(phones: readonly string[]): Stress[] {
  const out: Stress[] = [];
  for (const p of phones) {
    if (!isVowelPhone(p)) continue;
    const d = p.charCodeAt(p.length - 1) - 48;
    out.push(d === 1 ? 1 : d === 2 ? 2 : 0);
  }
  return out;
}

/**
 * The rhyming part of a pronunciation: from the last primary-stressed vowel (else the last
 * secondary-stressed, else the last vowel) to the end, stress digits removed and joined by spaces.
 * Two words rhyme (perfect rhyme) when their rhyme parts are equal: `night` and `light` → `AY T`.
 */
export function rhymePart(phones: readonly string[]): string {
  let idx = -1;
  for (const level of ['1', '2']) {
    for (let i = phones.length - 1; i >= 0; i--) {
      if (isVowelPhone(phones[i]) && phones[i].endsWith(level)) {
        idx = i;
        break;
      }
    }
    if (idx >= 0) break;
  }
  if (idx < 0) {
    for (let i = phones.length - 1; i >= 0; i--) {
      if (isVowelPhone(phones[i])) {
        idx = i;
        break;
      }
    }
  }
  if (idx < 0) return phones.map(stripStress).join(' ');
  return phones.slice(idx).map(stripStress).join(' ');
}

/** Rhyme part of a written word (dictionary or letter-to-sound guess); empty for a word with no letters. */
export function rhymePartOfWord(word: string): string {
  const p = pronounce(word);
  return p.phones.length ? rhymePart(p.phones) : '';
}

/**
 * Consonant clusters English allows at the start of a syllable. Used for onset maximisation:
 * between two vowels, the next syllable takes the longest legal onset (Kahn 1976; Selkirk 1982).
 */
const LEGAL_ONSETS = new Set([
  ...['P', 'B', 'T', 'D', 'K', 'G', 'F', 'V', 'TH', 'DH', 'S', 'Z', 'SH', 'ZH', 'HH', 'CH', 'JH', 'M', 'N', 'L', 'R', 'W', 'Y'],
  ...['P R', 'B R', 'T R', 'D R', 'K R', 'G R', 'F R', 'TH R', 'SH R', 'P L', 'B L', 'K L', 'G L', 'F L', 'S L'],
  ...['S P', 'S T', 'S K', 'S M', 'S N', 'S W', 'S F', 'K W', 'G W', 'T W', 'D W', 'TH W'],
  ...['P Y', 'B Y', 'F Y', 'M Y', 'K Y', 'HH Y', 'V Y', 'G Y'],
  ...['S P R', 'S T R', 'S K R', 'S P L', 'S K W', 'S K Y', 'S P Y'],
]);

/**
 * Splits phones into syllables by onset maximisation. Consonants before the first vowel belong to the
 * first syllable, consonants after the last vowel to the last one.
 * @returns one entry per vowel: its phones (stress digits kept) and the vowel's stress.
 */
export function syllabifyPhones(phones: readonly string[]): { phones: string[]; stress: Stress }[] {
  const vowelIdx: number[] = [];
  phones.forEach((p, i) => {
    if (isVowelPhone(p)) vowelIdx.push(i);
  });
  if (vowelIdx.length === 0) return phones.length ? [{ phones: [...phones], stress: 0 }] : [];
  const starts: number[] = [0];
  for (let k = 1; k < vowelIdx.length; k++) {
    const lo = vowelIdx[k - 1] + 1;
    const hi = vowelIdx[k];
    let start = hi;
    for (let s = lo; s < hi; s++) {
      const onset = phones.slice(s, hi).map(stripStress).join(' ');
      if (LEGAL_ONSETS.has(onset)) {
        start = s;
        break;
      }
    }
    starts.push(start);
  }
  const stresses = stressPattern(phones);
  return starts.map((s, k) => ({
    phones: phones.slice(s, k + 1 < starts.length ? starts[k + 1] : phones.length),
    stress: stresses[k],
  }));
}

/* ------------------------------------------------------------------ whole-word pronunciation */

const cache = new Map<string, WordPronunciation>();
const CACHE_LIMIT = 50_000;

/**
 * Pronunciation of a written word: dictionary phones when known, a letter-to-sound guess otherwise,
 * split into syllables with display spelling. Memoized (bounded cache), so repeated words are cheap.
 */
export function pronounce(word: string): WordPronunciation {
  const hit = cache.get(word);
  if (hit) return hit;
  const found = lookupPhones(word);
  const phones = found ?? guessPhones(word);
  const sylPhones = syllabifyPhones(phones);
  const spelling = splitSpelling(word, Math.max(1, sylPhones.length));
  const syllables: WordSyllable[] = sylPhones.map((s, k) => ({
    text: spelling[k] ?? '-',
    phonemes: s.phones.map(stripStress),
    stress: s.stress,
  }));
  const result: WordPronunciation = { word, key: normalizeWord(word), known: found !== null, phones, syllables };
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(word, result);
  return result;
}
