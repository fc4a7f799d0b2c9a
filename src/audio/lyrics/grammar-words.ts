/**
 * The words of the grammar (grammar.ts): the items it is filled with, the source they come from,
 * agreement (`be`, finite verbs), determiners and noun phrases, and our tables of which prepositions,
 * subjects and objects suit which WordNet noun and verb classes.
 */
import { ENCLOSURES, LANDMARKS, OPENINGS, WAYS } from './song-words.js';
import { isVowelPhone, pronounce } from './pronouncing.js';

/** A stanza's time: verse 1 tells the past, the chorus and verse 2 speak now, the bridge looks ahead (`will`). */
export type Tense = 'present' | 'past' | 'future';

export interface NounItem {
  /** Identity for repetition and prompt bookkeeping (`n:rain`, `name:Lisbon`). */
  key: string;
  singular: string;
  /** Plural form, '' when none (names, mass nouns without one). */
  plural: string;
  cls: string;
  /** Proper name: no determiner, never pluralised. */
  name: boolean;
  /** Always sung in the plural (the prompt said `friends`, `broken promises`). */
  pluralOnly?: boolean;
  /** The prompt's own word: it may head a phrase whatever its class (`in the bookshop`). */
  prompt?: boolean;
}

export interface VerbItem {
  key: string;
  /** Verb class (`move`, `feel`, `say` … see the lexicon): which objects it takes. */
  cls: string;
  base: string;
  s3: string;
  past: string;
  ger: string;
  frames: number;
}

export interface AdjItem {
  key: string;
  word: string;
}

/** Where the words come from; `end` is true for the word that will end the line (it must meet the rhyme). */
export interface GrammarSource {
  random(): number;
  /** `handled`: the noun is the object of a verb that handles it (hold, carry): small things only. */
  noun(classes: ReadonlySet<string>, end: boolean, plural: boolean, handled?: boolean): NounItem | null;
  verb(frames: number, end: boolean, form: VerbForm): VerbItem | null;
  /** The noun the prompt gives this verb as its object (`ride` → `bicycle`), or null. */
  objectOf(verbKey: string, end: boolean): NounItem | null;
  /** `person`: the adjective describes a person (`we are lonely`), so only feeling words fit. */
  /** `noun`: the noun an attributive adjective stands before (the prompt's own pairs come first: `the quiet lake`). */
  adj(end: boolean, person?: boolean, attributive?: boolean, noun?: NounItem): AdjItem | null;
  /** A line-ending adverbial that suits the mood (`tonight`, `alone`), or null. */
  adverb(end: boolean): string | null;
  /** The noun the line being written must hold (the hook's subject), or null. */
  mustNoun(): NounItem | null;
  /** Whether a word's valence (AFINN-165) has the sign opposite to the song's mood (`love` in a sad song). */
  opposesMood(word: string): boolean;
  /** A weighted pick (mood, repetition) among the song's verbs of these base forms, or null when it uses none. */
  verbAmong(bases: readonly string[]): VerbItem | null;
  /** Whether a word may end the line (it meets the rhyme and is not an end word to avoid). */
  fitsEnd(form: string): boolean;
}

export type VerbForm = 'base' | 's3' | 'past' | 'ger';

/** A word of a generated line. */
export interface Token {
  text: string;
  /** Lexicon/prompt key for content words (nouns, verbs, adjectives, names), else undefined. */
  key?: string;
}

export interface StanzaVoice {
  tense: Tense;
  /** The stanza's main pronoun. */
  pronoun: 'I' | 'we' | 'you';
}

export interface Subject {
  tokens: Token[];
  /** 1st/2nd person or plural take the bare present (`I walk`, `they walk`); 3rd singular takes -s. */
  third: boolean;
  plural: boolean;
  person: boolean;
  pronoun?: 'I' | 'we' | 'you';
  /** The subject's noun when it is not a pronoun (an adjective after `be` must suit it: `the night is high`). */
  noun?: NounItem;
}

/** Nouns that take `a`/`an` in the singular; the others (rain, love, silence …) are treated as mass nouns. */
export const COUNT_CLASSES = new Set(['being', 'artifact', 'nature', 'plant', 'word', 'event', 'body', 'place', 'thing', 'act', 'time']);
/** Prepositions that read naturally before a noun of each class. */
export const PREPOSITIONS: Record<string, string[]> = {
  place: ['in', 'through', 'across', 'around'],
  artifact: ['by', 'near', 'beside'],
  nature: ['by', 'beyond', 'toward', 'beneath'],
  plant: ['among', 'beneath', 'by'],
  weather: ['in', 'through', 'into'],
  time: ['in', 'through', 'until'],
  being: ['with', 'for', 'without'],
  event: ['after', 'before', 'at'],
};
/**
 * Classes whose nouns are things one can be in, move through, stand by … (PP heads). Feelings, words,
 * body parts and most objects are not (`without my hello`, `in the tear`, `by your shoe`): of the
 * artifacts only rooms, openings, ways and landmarks head a phrase, with their own prepositions.
 */
export const PP_CLASSES = new Set(Object.keys(PREPOSITIONS));

/** Prepositions for a noun heading a phrase, by the word, then by its class; null when it heads none. */
export function prepositionsFor(noun: NounItem): string[] | null {
  const w = noun.singular;
  if (ENCLOSURES.has(w)) return ['in', 'in', 'inside'];
  if (OPENINGS.has(w)) return ['through', 'by'];
  if (WAYS.has(w)) return ['down', 'along', 'on', 'across'];
  if (LANDMARKS.has(w)) return ['by', 'near', 'beside'];
  // The prompt's own things (and its nouns of unknown class: `forest`, `traffic`) are places of the song.
  if (noun.name && noun.cls === 'artifact') return ['in', 'by', 'near'];
  // Of a prompt's thing one cannot tell whether one is in it (`in the bookshop`, not `in the bicycle`): by it, near it.
  if (noun.cls === 'artifact') return noun.prompt ? ['by', 'near'] : null;
  if (noun.prompt && noun.cls === 'thing') return ['in', 'by', 'near'];
  // A day or month by name: `on Sunday`, `until Monday`.
  if (noun.name && noun.cls === 'time') return ['on', 'until'];
  // The prompt's own events and acts are times a story happens at (`after the war`, `before the game`).
  if (noun.prompt && (noun.cls === 'act' || noun.cls === 'event')) return ['after', 'before', 'since'];
  return PREPOSITIONS[noun.cls] ?? null;
}
export const THING_OBJECT_CLASSES = new Set([
  'artifact',
  'nature',
  'plant',
  'word',
  'feeling',
  'state',
  'time',
  'place',
  'weather',
  'body',
  'matter',
  'food',
  'event',
  'quality',
  'mind',
  'act',
  'thing',
]);
/** What can do something in a song line besides a person: the weather, nature, time, places (`the rain falls`). */
export const SUBJECT_THING_CLASSES = new Set(['weather', 'nature', 'time', 'plant']);
export const BEINGS = new Set(['being']);
/** Where and when a scene happens: the nouns of a fronted phrase (`In the morning, …`, `By the river, …`). */
export const SCENE_CLASSES = new Set(['place', 'nature', 'weather', 'time', 'plant', 'artifact']);
export const SUBJECT_ANY_CLASSES = new Set([...SUBJECT_THING_CLASSES, 'being']);

/**
 * What a verb's object can be, by the verb's class (WordNet lexicographer file of its first sense):
 * one crosses a place, holds a thing, tells a word, remembers nearly anything. Our own table; the
 * frames in the lexicon only say whether there is an object at all.
 */
export const OBJECTS_BY_VERB_CLASS: Record<string, ReadonlySet<string>> = {
  sense: new Set(['nature', 'weather', 'place', 'artifact', 'plant', 'being', 'body', 'time', 'event', 'matter', 'word']),
  feel: new Set(['being', 'place', 'time', 'nature', 'weather', 'feeling', 'word', 'artifact', 'body', 'plant', 'food']),
  mind: new Set(['time', 'place', 'being', 'word', 'feeling', 'event', 'nature', 'weather', 'mind']),
  move: new Set(['place', 'nature', 'artifact']),
  touch: new Set(['artifact', 'body', 'plant', 'word', 'food', 'matter']),
  say: new Set(['word']),
  make: new Set(['artifact', 'word', 'food']),
  consume: new Set(['food', 'matter']),
  have: new Set(['artifact', 'body', 'feeling', 'word', 'time']),
  change: new Set(['artifact', 'place', 'time', 'feeling', 'word', 'nature', 'matter']),
  body: new Set(['body', 'matter']),
  social: new Set(['being', 'place', 'event']),
  fight: new Set(['being', 'event', 'feeling', 'word']),
};

export const NO_OBJECTS: ReadonlySet<string> = new Set();
/** Verbs that carry a line about a named thing (the hook's subject): remembering, missing, seeing, holding it. */
export const ABOUT_VERBS =
  'remember miss see find love know forget watch hold need lose leave keep follow reach win meet call hear mourn regret'.split(' ');

export function startsWithVowelSound(word: string): boolean {
  const phones = pronounce(word).phones;
  return phones.length > 0 && isVowelPhone(phones[0]);
}

export function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length) % items.length];
}

export function chance(p: number, random: () => number): boolean {
  return random() < p;
}

/** Present/past form of `be` for a subject. */
export function beFor(subject: { third: boolean; plural: boolean; pronoun?: string }, tense: Tense): string {
  if (tense === 'future') return 'will be';
  if (subject.pronoun === 'I') return tense === 'past' ? 'was' : 'am';
  const singular = subject.third && !subject.plural;
  if (tense === 'past') return singular ? 'was' : 'were';
  return singular ? 'is' : 'are';
}

/** Finite verb form agreeing with the subject in the tense. */
export function finite(verb: VerbItem, subject: { third: boolean; plural: boolean }, tense: Tense): string {
  if (tense === 'past') return verb.past;
  if (tense === 'future') return `will ${verb.base}`;
  return subject.third && !subject.plural ? verb.s3 : verb.base;
}

/** The verb form a finite verb takes before its rhyme is checked (`will` + the base form in the future). */
export function formFor(subject: { third: boolean; plural: boolean }, tense: Tense): VerbForm {
  if (tense === 'past') return 'past';
  return tense === 'present' && subject.third && !subject.plural ? 's3' : 'base';
}

/** Article or determiner for a noun phrase; '' for none. */
export function determiner(
  noun: NounItem,
  plural: boolean,
  random: () => number,
  opts: { definiteOnly?: boolean; indefinite?: boolean; possessive?: boolean },
): string {
  if (noun.name) return '';
  const count = COUNT_CLASSES.has(noun.cls);
  if (opts.indefinite) return plural ? pick(['', 'some'], random) : count ? 'a' : pick(['', 'some'], random);
  // `the` no likelier than each possessive: twice as likely, it put most objects and subjects on one frame (`Carry the …`).
  const options = ['the'];
  if (opts.possessive !== false && /being|body|feeling|word|artifact|mind/.test(noun.cls)) options.push('my', 'your', 'our');
  if (!opts.definiteOnly) {
    if (plural) options.push('', 'these', 'all the');
    else {
      if (count) options.push('a');
      if (random() < 0.3) options.push('this');
      if (noun.cls === 'time') options.push('every');
    }
  }
  return pick(options, random);
}

/** Tokens of a noun phrase, `a` turned into `an` before a vowel sound. */
export function phrase(det: string, adj: AdjItem | null, noun: NounItem, plural: boolean): Token[] {
  const out: Token[] = [];
  const head = plural && noun.plural ? noun.plural : noun.singular;
  const next = adj ? adj.word : head;
  if (det === 'a') out.push({ text: startsWithVowelSound(next.split(' ')[0]) ? 'an' : 'a' });
  else if (det) for (const w of det.split(' ')) out.push({ text: w });
  if (adj) out.push({ text: adj.word, key: adj.key });
  out.push({ text: head, key: noun.key });
  return out;
}
