/**
 * The embedded lyrics writer: deterministic for a given seed, no network.
 *
 * 1. The prompt is analysed (prompt.ts: compromise's tagger): its subject, content words with their
 *    inflections, and names kept as written. Their WordNet relatives (lexicon.ts) join the vocabulary.
 * 2. Word pools are weighted: prompt words and relatives first, then the mood (AFINN-165 valence of the
 *    mood's sign, the mood's images and their relatives; words of the opposite valence nearly never),
 *    the genre's diction (noun classes) and how common a word is (SemCor counts).
 * 3. Phrases become lines (tiny phrases joined to a neighbour, very long ones split) and sections
 *    (verse / chorus / verse / bridge / chorus, `planSections`); rhyme groups follow the genre's scheme.
 *    Each stanza has one tense and voice: verse 1 tells what happened (past), the chorus and verse 2
 *    speak now (verse 2 opens on `now`), the bridge looks ahead (`will`).
 * 4. Each line is a search over sentences of the grammar (grammar.ts) whose syllable count fits the
 *    phrase (one syllable per note, melisma only when nothing fits exactly), its last word meeting the
 *    rhyme; candidates are scored by the melisma plan's stress cost on the notes, prompt words, mood,
 *    repetition and genre preferences. The chorus's first line is the hook and holds the subject; later
 *    choruses repeat the first.
 * 5. The result is checked (`checkLyrics`); on failure the next seed-derived variant is tried.
 *
 * The work is sliced (sliced.ts): `writeLyricsSliced` yields after each line.
 */
import { createRandom } from '../random.js';
import { runSliced, type Sliced } from '../sliced.js';
import type { NoteEvent, Phrase, SungNote, TempoEstimate } from '../types.js';
import { checkLyrics, lineFits, rhymeSchemeForGenre, schemeGroups, scoreLyrics } from './checks.js';
import {
  fitSyllablesToNotes,
  normalizePhrases,
  noteStrengths,
  planMelisma,
  relativeStrengths,
  syllabifyLine,
  wordWeights,
  type NoteSpan,
} from './fit.js';
import {
  LineGrammar,
  renderTokens,
  startsWithVowelSound,
  type AdjItem,
  type GrammarSource,
  type NounItem,
  type StanzaVoice,
  type Token,
  type VerbForm,
  type VerbItem,
} from './grammar.js';
import { BIG_THINGS, OPENINGS, PERSON_ADJS, SONG_ADJS, SONG_NOUNS, SONG_VERBS, WAYS } from './song-words.js';
import { lexicon, valence, type LexWord } from './lexicon.js';
import type { LyricLine, LyricSection, LyricsResult, LyricsWarning, RhymeScheme, SectionKind } from './lyrics-result.js';
import { genreProfile, moodProfile, type GenreProfile, type MoodProfile } from './moods.js';
import { analyzePrompt, type PromptAnalysis, type PromptTerm } from './prompt.js';
import { pronounce, rhymePart, stripStress } from './pronouncing.js';
import { sanitizeText } from './sanitize.js';
import { moodCarried, RARE_ZIPF, valences } from './sense.js';

export type { LyricsResult } from './lyrics-result.js';

export interface WriteLyricsRequest {
  /** What the song is about, 10–500 characters expected; anything is tolerated (sanitized). */
  prompt: string;
  /** e.g. `pop`, `folk`, `hip-hop`; picks the rhyme scheme, diction and form preferences. */
  genre: string;
  /** e.g. `happy`, `sad`, `angry`, `romantic`; picks the valence and images of the words. */
  mood: string;
  notes: NoteEvent[];
  phrases: Phrase[];
  tempo?: TempoEstimate | null;
  /** Any integer; the same seed and request give the same lyrics. */
  seed: number;
}

/** Variants tried when the output fails its own checks or does not carry the mood. */
const MAX_VARIANTS = 4;
/** Songs of at most this many lines are written SMALL_SONG_VARIANTS times and the best is kept. */
const SMALL_SONG_LINES = 8;
const SMALL_SONG_VARIANTS = 3;
/** Grammar derivations tried per line (per pass). */
const ATTEMPTS_PER_LINE = 60;
/** A line's search stops once this many derivations fit its notes exactly (one syllable per note). */
const ENOUGH_CANDIDATES = 10;
/** Phrases shorter than this many notes are sung together with a neighbour (no one-word lines). */
const MIN_LINE_NOTES = 4;
/** A short melody's phrases are split into lines of at least this many notes (below that a line says too little). */
const MIN_SPLIT_NOTES = 6;
/** Phrases longer than this are sung as two lines. */
const MAX_LINE_NOTES = 18;
/** Phrases from this many notes up may hold two clauses. */
const LONG_LINE_NOTES = 11;
/** Nouns, verbs and adjectives kept in the weighted pools (after prompt, mood and genre weighting). */
const POOL_SIZE = { n: 320, v: 150, a: 70 } as const;

/* ------------------------------------------------------------------ vocabulary */

interface PoolWord<T> {
  item: T;
  weight: number;
  /** Rhyme part per surface form used at a line's end. */
  rhymes: Map<string, string>;
}

interface Pools {
  nouns: PoolWord<NounItem>[];
  verbs: PoolWord<VerbItem>[];
  adjs: PoolWord<AdjItem>[];
  adverbs: string[];
  /** Keys of the prompt's words, and of their relatives. */
  promptKeys: Set<string>;
  relativeKeys: Set<string>;
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
  /** Verb key → noun the prompt gives it as object. */
  objects: Map<string, NounItem>;
  /** Adjectives that can stand before a noun. */
  attributiveAdjs: PoolWord<AdjItem>[];
}

const rhymeCache = new Map<string, string>();
function rhymeOf(form: string): string {
  const last = form.split(' ').pop() ?? form;
  let r = rhymeCache.get(last);
  if (r === undefined) {
    r = rhymePart(pronounce(last).phones);
    rhymeCache.set(last, r);
  }
  return r;
}

const syllableCache = new Map<string, number>();
function syllablesOf(word: string): number {
  let n = syllableCache.get(word);
  if (n === undefined) {
    n = 0;
    for (const w of word.split(' ')) n += pronounce(w).syllables.length;
    syllableCache.set(word, n);
  }
  return n;
}

function nounItem(w: LexWord): NounItem {
  return { key: `n:${w.word}`, singular: w.word, plural: w.forms[0] && w.forms[0] !== w.word ? w.forms[0] : '', cls: w.cls, name: false };
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
/** Noun classes that make good line ends (images one can see or feel); others end lines less often. */
const IMAGE_CLASSES = new Set(['nature', 'weather', 'time', 'place', 'body', 'feeling', 'plant', 'being']);

/**
 * Adjectives WordNet lists that read as adverbs or prepositions in a line (`a down night`).
 */
const NOT_ADJECTIVES = new Set(
  `down up out off over inside outside about above after away back well much many more most such same other own only just even very else due
  like near far next few less least`.split(/\s+/),
);
/** Adjectives that only follow a verb (`I am alone`, never `the alone word`). */
const PREDICATIVE_ONLY = new Set('alone alive afraid asleep awake aware ablaze adrift afloat aglow alike aloof ashamed'.split(' '));
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
function poolsFor(prompt: string, analysis: PromptAnalysis, mood: MoodProfile, genre: GenreProfile): Pools {
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

  const nouns = top('n', POOL_SIZE.n, nounItem).map(({ item, weight }) => ({ item, weight, rhymes: new Map<string, string>() }));
  const verbs = top('v', POOL_SIZE.v, verbItem).map(({ item, weight }) => ({ item, weight, rhymes: new Map<string, string>() }));
  const adjs = top('a', POOL_SIZE.a, (w): AdjItem => ({ key: `a:${w.word}`, word: w.word })).map(({ item, weight }) => ({
    item,
    weight,
    rhymes: new Map<string, string>(),
  }));
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
    subjectKey,
    families: counts,
    personAdjs,
    thingAdjs,
    attributiveThingAdjs: attributiveAdjs.filter((a) => !PERSON_ONLY_ADJS.has(a.item.word)),
    described,
    objects,
    attributiveAdjs,
  };
}

/* ------------------------------------------------------------------ word source */

/**
 * Whether a noun can be the object of a verb that handles it (hold, carry, lift, swing): not a building,
 * an opening, a way or a landmark (`carry your house`), and not a prompt's own thing of unknown size.
 */
function handleable(noun: NounItem): boolean {
  if (noun.cls !== 'artifact') return true;
  const w = noun.singular;
  if (BIG_THINGS.has(w) || OPENINGS.has(w) || WAYS.has(w)) return false;
  return !noun.prompt || SONG_NOUNS.has(w);
}

/** Rhyme constraint on a line's last word: a rhyme part, or a family at least this large. */
type RhymeNeed = { rhyme: string } | { family: number } | null;

/** Feeds the grammar: weighted picks from the pools, the end word meeting the rhyme, repetition discouraged. */
class WordSource implements GrammarSource {
  private needValue: RhymeNeed = null;
  private avoidValue: ReadonlySet<string> = new Set();
  /** Lists already filtered for the current line end (cleared when the rhyme or the avoided ends change). */
  private readonly endLists = new Map<unknown, unknown>();

  get need(): RhymeNeed {
    return this.needValue;
  }
  set need(value: RhymeNeed) {
    this.needValue = value;
    this.endLists.clear();
  }
  get avoidEnds(): ReadonlySet<string> {
    return this.avoidValue;
  }
  set avoidEnds(value: ReadonlySet<string>) {
    this.avoidValue = value;
    this.endLists.clear();
  }

  /** `list` filtered by `ok` once per line end, then the filtered list is reused. */
  private endList<T>(list: readonly PoolWord<T>[], tag: string, ok: (p: PoolWord<T>) => boolean): PoolWord<T>[] {
    let byTag = this.endLists.get(list) as Map<string, PoolWord<T>[]> | undefined;
    if (!byTag) {
      byTag = new Map();
      this.endLists.set(list, byTag);
    }
    let out = byTag.get(tag);
    if (!out) {
      // Images make better line ends than abstractions: their weight is raised at the end of a line.
      out = list.filter(ok).map((p) => {
        const cls = (p.item as { cls?: string }).cls;
        return cls && IMAGE_CLASSES.has(cls) ? { ...p, weight: 2 * p.weight } : p;
      });
      byTag.set(tag, out);
    }
    return out;
  }
  /** Force this key into the line (the hook's subject): the pools offer it first. */
  get must(): string | null {
    return this.mustValue;
  }
  set must(value: string | null) {
    if (value !== this.mustValue) this.mustAt.clear();
    this.mustValue = value;
  }
  private mustValue: string | null = null;
  /** Where the must-hold key sits in each list offered so far (-1: not there). */
  private readonly mustAt = new Map<readonly PoolWord<unknown>[], number>();
  private readonly classCache = new Map<ReadonlySet<string>, PoolWord<NounItem>[]>();
  private readonly handledCache = new Map<ReadonlySet<string>, PoolWord<NounItem>[]>();

  constructor(
    readonly random: () => number,
    private readonly pools: Pools,
    private readonly used: Map<string, number>,
  ) {}

  private fits(form: string, rhyme: string | undefined): boolean {
    if (this.avoidEnds.has(form)) return false;
    const need = this.need;
    if (!need) return true;
    const r = rhyme ?? rhymeOf(form);
    return 'rhyme' in need ? r === need.rhyme : (this.pools.families.get(r) ?? 0) >= need.family && (this.usedRhymes.get(r) ?? 0) < 6;
  }
  /** Line ends per rhyme sound so far: a sound used four times is not picked for a new pair (not `snow`/`glow` all song long). */
  readonly usedRhymes = new Map<string, number>();

  private readonly cumulative = new Map<readonly PoolWord<unknown>[], Float64Array>();

  /**
   * A weighted pick. Without a filter, a binary search on the list's cumulative weights, a word used
   * before kept with probability 1 / (1 + 3 × uses); with one (line ends), a pass over the list.
   */
  private choose<T extends { key: string }>(list: readonly PoolWord<T>[], ok: ((p: PoolWord<T>) => boolean) | null): T | null {
    if (this.must && this.random() < 0.8) {
      let at = this.mustAt.get(list);
      if (at === undefined) {
        at = list.findIndex((p) => p.item.key === this.must);
        this.mustAt.set(list, at);
      }
      const forced = at >= 0 ? list[at] : undefined;
      if (forced && (!ok || ok(forced))) return forced.item;
    }
    if (!ok) {
      let cum = this.cumulative.get(list);
      if (!cum) {
        cum = new Float64Array(list.length);
        let total = 0;
        for (let i = 0; i < list.length; i++) cum[i] = total += list[i].weight;
        this.cumulative.set(list, cum);
      }
      if (!list.length || !(cum[list.length - 1] > 0)) return null;
      for (let attempt = 0; attempt < 6; attempt++) {
        const r = this.random() * cum[list.length - 1];
        let lo = 0;
        let hi = list.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cum[mid] > r) hi = mid;
          else lo = mid + 1;
        }
        const used = this.used.get(list[lo].item.key) ?? 0;
        if (used === 0 || this.random() < 1 / (1 + 3 * used)) return list[lo].item;
      }
      return null;
    }
    let total = 0;
    const weights = new Float64Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (!ok(p)) continue;
      const w = p.weight / (1 + 3 * (this.used.get(p.item.key) ?? 0));
      weights[i] = w;
      total += w;
    }
    if (!(total > 0)) return null;
    let r = this.random() * total;
    for (let i = 0; i < list.length; i++) {
      r -= weights[i];
      if (r < 0 && weights[i] > 0) return list[i].item;
    }
    for (let i = list.length - 1; i >= 0; i--) if (weights[i] > 0) return list[i].item;
    return null;
  }

  private readonly verbCache = new Map<number, PoolWord<VerbItem>[]>();

  noun(classes: ReadonlySet<string>, end: boolean, plural: boolean, handled = false): NounItem | null {
    const cache = handled ? this.handledCache : this.classCache;
    let list = cache.get(classes);
    if (!list) {
      // The prompt's nouns and names only where their class fits (not `read the house`, not `show Monday`);
      // a verb that handles its object (hold, carry, lift) takes small things, not houses, roads or a
      // prompt's thing of unknown size (`lift my factory`).
      list = this.pools.nouns.filter((n) => classes.has(n.item.cls) && (!handled || handleable(n.item)));
      cache.set(classes, list);
    }
    // The word a line must hold (the hook's subject) goes where a phrase head or a subject goes, whatever its class.
    if (this.must && !end && !handled && this.random() < 0.3 && classes.has('place')) {
      const forced = this.mustNoun();
      if (forced) return forced;
    }
    if (!end) return this.choose(list, null);
    const ends = this.endList(list, plural ? 'plural' : 'singular', (p) => {
      const form = (plural || p.item.pluralOnly) && p.item.plural && !p.item.name ? p.item.plural : p.item.singular;
      return this.fits(form, p.rhymes.get(form));
    });
    return this.choose(ends, null);
  }

  verb(frames: number, end: boolean, form: VerbForm): VerbItem | null {
    let list = this.verbCache.get(frames);
    if (!list) {
      list = this.pools.verbs.filter((p) => (p.item.frames & frames) !== 0);
      this.verbCache.set(frames, list);
    }
    if (!end) return this.choose(list, null);
    const ends = this.endList(list, form, (p) => {
      const f = p.item[form];
      return this.fits(f, p.rhymes.get(f));
    });
    return this.choose(ends, null);
  }

  adj(end: boolean, person = false, attributive = false, noun?: NounItem): AdjItem | null {
    const own = attributive && noun ? this.pools.described.get(noun.key) : undefined;
    if (own && !end && this.random() < 0.6) return own;
    const list = attributive
      ? noun && noun.cls !== 'being'
        ? this.pools.attributiveThingAdjs
        : this.pools.attributiveAdjs
      : person && this.pools.personAdjs.length
        ? this.pools.personAdjs
        : this.pools.thingAdjs.length
          ? this.pools.thingAdjs
          : this.pools.adjs;
    if (!end) return this.choose(list, null);
    return this.choose(
      this.endList(list, 'adj', (p) => this.fits(p.item.word, p.rhymes.get(p.item.word))),
      null,
    );
  }

  /**
   * An attributive adjective of `syllables` syllables whose metrical weights pass `ok` (where its
   * stress would land), not already in `line`; a weighted pick, null when none fits.
   */
  fillAdjective(syllables: number, ok: (weights: readonly number[]) => boolean, line: readonly Token[], nounKey?: string): AdjItem | null {
    // A thing takes no person's adjective (`this proud playground`).
    const thing = !!nounKey && this.pools.nouns.find((n) => n.item.key === nounKey)?.item.cls !== 'being';
    const sizeKey = thing ? -syllables : syllables;
    let sized = this.adjsBySize.get(sizeKey);
    if (!sized) {
      const from = thing ? this.pools.attributiveThingAdjs : this.pools.attributiveAdjs;
      sized = from.filter((p) => wordWeights(p.item.word).length === syllables);
      this.adjsBySize.set(sizeKey, sized);
    }
    return this.choose(sized, (p) => ok(wordWeights(p.item.word)) && !line.some((t) => t.key === p.item.key));
  }
  private readonly adjsBySize = new Map<number, PoolWord<AdjItem>[]>();

  mustNoun(): NounItem | null {
    if (!this.must) return null;
    if (this.mustCache?.key !== this.must)
      this.mustCache = { key: this.must, noun: this.pools.nouns.find((n) => n.item.key === this.must)?.item ?? null };
    return this.mustCache.noun;
  }
  private mustCache: { key: string; noun: NounItem | null } | null = null;

  verbAmong(bases: readonly string[]): VerbItem | null {
    const key = bases.join(' ');
    let list = this.verbLists.get(key);
    if (!list) {
      const wanted = new Set(bases);
      list = this.pools.verbs.filter((p) => wanted.has(p.item.base));
      this.verbLists.set(key, list);
    }
    return this.choose(list, null);
  }
  private readonly verbLists = new Map<string, PoolWord<VerbItem>[]>();

  fitsEnd(form: string): boolean {
    return this.fits(form, undefined);
  }

  objectOf(verbKey: string, end: boolean): NounItem | null {
    const noun = this.pools.objects.get(verbKey);
    if (!noun) return null;
    if (end && !this.fits(noun.singular, undefined)) return null;
    return noun;
  }

  adverb(end: boolean): string | null {
    const options = this.pools.adverbs.filter((a) => !end || this.fits(a, undefined));
    return options.length ? options[Math.floor(this.random() * options.length)] : null;
  }
}

/* ------------------------------------------------------------------ sections */

interface PlannedSection {
  kind: SectionKind;
  count: number;
}

/**
 * Groups `lines` lines into sections: blocks of 4 lines from 12 lines up, of 2 from 4, else of 1.
 * Block kinds: 1 verse; 2 verse chorus; 3 chorus verse chorus; 4 verse chorus verse chorus;
 * 5 verse chorus verse bridge chorus; 6+ alternating verse/chorus, then bridge and a last chorus.
 * Leftover lines form an outro.
 */
export function planSections(lines: number): PlannedSection[] {
  if (lines <= 0) return [];
  const block = lines >= 12 ? 4 : lines >= 4 ? 2 : 1;
  const blocks = Math.floor(lines / block);
  let kinds: SectionKind[];
  if (blocks === 1) kinds = ['verse'];
  else if (blocks === 2) kinds = ['verse', 'chorus'];
  else if (blocks === 3) kinds = ['chorus', 'verse', 'chorus'];
  else if (blocks === 4) kinds = ['verse', 'chorus', 'verse', 'chorus'];
  else if (blocks === 5) kinds = ['verse', 'chorus', 'verse', 'bridge', 'chorus'];
  else {
    kinds = [];
    for (let i = 0; i < blocks - 2; i++) kinds.push(i % 2 === 0 ? 'verse' : 'chorus');
    kinds.push('bridge', 'chorus');
  }
  const plan: PlannedSection[] = kinds.map((kind) => ({ kind, count: block }));
  const rest = lines - blocks * block;
  if (rest > 0) plan.push({ kind: 'outro', count: rest });
  return plan;
}

/** Index of the note after the widest gap in `first+2 .. first+count-2`, near the middle on ties. */
function widestGap(notes: readonly NoteEvent[], first: number, count: number): number {
  let cut = first + Math.floor(count / 2);
  let widest = -Infinity;
  const edge = count >= 2 * MIN_SPLIT_NOTES ? MIN_SPLIT_NOTES : count >= 2 * MIN_LINE_NOTES ? MIN_LINE_NOTES : 2;
  for (let i = first + edge; i <= first + count - edge; i++) {
    const gap = notes[i].start - notes[i - 1].end;
    const centred = -Math.abs(i - (first + count / 2)) * 1e-3;
    const score = (Number.isFinite(gap) ? gap : 0) + centred;
    if (score > widest) {
      widest = score;
      cut = i;
    }
  }
  return cut;
}

/**
 * Lines over the phrases: a lone phrase of 4+ notes is split in two at its widest gap, phrases longer
 * than MAX_LINE_NOTES likewise, and phrases shorter than MIN_LINE_NOTES join the shorter neighbour
 * (a one-note phrase could only carry a one-word line).
 */
/** A span cut in two at its widest gap. */
function halve(notes: readonly NoteEvent[], s: NoteSpan): NoteSpan[] {
  const cut = widestGap(notes, s.firstNote, s.noteCount);
  return [
    { firstNote: s.firstNote, noteCount: cut - s.firstNote, phraseIndex: s.phraseIndex },
    { firstNote: cut, noteCount: s.firstNote + s.noteCount - cut, phraseIndex: s.phraseIndex },
  ];
}

function lineSpans(notes: readonly NoteEvent[], phrases: readonly Phrase[]): NoteSpan[] {
  let spans = normalizePhrases(notes.length, phrases).map((s) => ({ ...s }));
  for (let i = 0; i < spans.length && spans.length > 1;) {
    if (spans[i].noteCount >= MIN_LINE_NOTES) {
      i++;
      continue;
    }
    const left = i > 0 ? spans[i - 1] : null;
    const right = i + 1 < spans.length ? spans[i + 1] : null;
    const into = !right || (left && left.noteCount <= right.noteCount) ? i - 1 : i + 1;
    const a = Math.min(i, into);
    spans[a] = { firstNote: spans[a].firstNote, noteCount: spans[a].noteCount + spans[a + 1].noteCount, phraseIndex: spans[a].phraseIndex };
    spans.splice(a + 1, 1);
    i = Math.max(0, a);
  }
  if (spans.length === 1 && spans[0].noteCount >= 4) spans = halve(notes, spans[0]);
  // A short melody still gets a verse and a chorus: split its longest phrases until there are four lines.
  while (spans.length < 4) {
    let longest = 0;
    for (let i = 1; i < spans.length; i++) if (spans[i].noteCount > spans[longest].noteCount) longest = i;
    if (spans[longest].noteCount < 2 * MIN_SPLIT_NOTES) break;
    spans.splice(longest, 1, ...halve(notes, spans[longest]));
  }
  const out: NoteSpan[] = [];
  const place = (s: NoteSpan): void => {
    if (s.noteCount <= MAX_LINE_NOTES) out.push(s);
    else for (const part of halve(notes, s)) place(part);
  };
  for (const s of spans) place(s);
  return out;
}

/* ------------------------------------------------------------------ line search */

/** First word of a line, lower case. */
function words0(text: string): string {
  return (text.toLowerCase().match(/[a-z']+/) ?? [''])[0];
}

/** Words a line may be led in with when it is one syllable short of its notes. */
const LEAD_INS = ['and', 'so', 'oh'];

const LONG_VOWELS = new Set(['AA', 'AO', 'OW', 'UW', 'IY', 'EY', 'AY', 'AW', 'OY', 'ER']);

interface Candidate {
  text: string;
  /** Last word (what rhymes). */
  endWord: string;
  syllables: number;
  score: number;
  /** Content keys used. */
  keys: string[];
  /** Sum of the line's AFINN valence (negations flipped). */
  valence: number;
  /** Stressed syllables on weak notes (over the line's span and its echoes). */
  misses: number;
}

interface WriterContext {
  random: () => number;
  pools: Pools;
  source: WordSource;
  mood: MoodProfile;
  genre: GenreProfile;
  strengths: Float64Array;
  used: Map<string, number>;
  /** Prompt keys not used yet. */
  pending: Set<string>;
  /** Sum of the AFINN valence of the lines written so far. */
  valenceSum: number;
  /** First notes of the melody's phrases: a line sung over two phrases must start the second on a syllable. */
  phraseStarts: ReadonlySet<number>;
}

/** Another span a line will be sung on (a later chorus), with its notes' relative strengths. */
interface Echo {
  span: NoteSpan;
  rel: Float64Array;
}

/**
 * How a line's syllables (metrical weights) sit on a span: the melisma plan's cost and the quality
 * score's stress measure (stressed syllables starting on the stronger half of the notes); null when a
 * syllable would be held across the start of a phrase joined into the span.
 */
function stressFit(
  ctx: WriterContext,
  weights: readonly number[],
  span: NoteSpan,
  rel: Float64Array,
): { cost: number; stressed: number; aligned: number } | null {
  const plan = planMelisma(weights, rel);
  // Over two phrases joined into one line, no syllable may be held across the second phrase's start.
  if (weights.length < span.noteCount) {
    const onsets = new Set(plan.starts);
    for (let i = span.firstNote + 1; i < span.firstNote + span.noteCount; i++)
      if (ctx.phraseStarts.has(i) && !onsets.has(i - span.firstNote)) return null;
  }
  let stressed = 0;
  let aligned = 0;
  for (let k = 0; k < weights.length; k++) {
    if (weights[k] !== 1) continue;
    stressed++;
    if (rel[plan.starts[k]] >= 0.5) aligned++;
  }
  return { cost: plan.cost, stressed, aligned };
}

function scoreCandidate(
  ctx: WriterContext,
  tokens: readonly Token[],
  weights: readonly number[],
  span: NoteSpan,
  rel: Float64Array,
  needRhyme: string | null,
  echoes: readonly Echo[] = [],
): Candidate | null {
  const words = tokens.filter((t) => t.text !== ',');
  const syllables = weights.length;
  const fit = stressFit(ctx, weights, span, rel);
  if (!fit) return null;
  let { cost, stressed, aligned } = fit;
  let held = span.noteCount - syllables;
  // A chorus line is sung again on the later choruses' spans: it must sit on those notes too.
  for (const e of echoes) {
    if (syllables > e.span.noteCount) continue;
    const again = stressFit(ctx, weights, e.span, e.rel);
    if (!again) return null;
    cost += again.cost;
    held += e.span.noteCount - syllables;
    stressed += again.stressed;
    aligned += again.aligned;
  }
  let score = -2 * cost + 2 * aligned - MISS_PENALTY * (stressed - aligned) - HOLD_PENALTY * ctx.genre.holdPenalty * held;
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const t of words) {
    if (!t.key) continue;
    keys.push(t.key);
    if (seen.has(t.key)) return null;
    seen.add(t.key);
    if (ctx.pending.has(t.key)) score += 5;
    else if (ctx.pools.promptKeys.has(t.key)) score += 0.8;
    else if (ctx.pools.relativeKeys.has(t.key)) score += 0.6;
    score -= 1.2 * (ctx.used.get(t.key) ?? 0);
  }
  const text = renderTokens(tokens);
  let lineValence = 0;
  for (const raw of valences(text)) lineValence += raw;
  if (ctx.mood.polarity !== 0) {
    // Words of the mood's sign (negation flips, as the mood measure does) are welcome, more so while
    // the song so far does not carry the mood; words of the other sign cost more than they earn.
    for (const raw of valences(text)) {
      const v = Math.max(-3, Math.min(3, raw * ctx.mood.polarity));
      score += (v > 0 ? 0.8 : 2.5) * v + (ctx.valenceSum * ctx.mood.polarity <= 0 ? 2.5 * v : 0);
    }
  } else {
    // A mood without a sign (nostalgic) is bittersweet: strong words either way (`win`, `hate`) cost.
    for (const raw of valences(text)) score -= 2 * Math.max(0, Math.abs(raw) - 2);
  }
  const last = words[words.length - 1].text.split(' ').pop() as string;
  const endRhyme = rhymeOf(last);
  if (needRhyme !== null && endRhyme !== needRhyme) score -= 4;
  if (ctx.genre.openVowelBonus) {
    const phones = pronounce(last).phones;
    const vowel = [...phones].reverse().find((p) => /\d$/.test(p));
    if (vowel && LONG_VOWELS.has(stripStress(vowel))) score += ctx.genre.openVowelBonus;
  }
  if (ctx.genre.internalRhymeBonus) {
    const inner = words.slice(0, -1).filter((t) => t.key && rhymeOf(t.text) === endRhyme && t.text !== last);
    if (inner.length) score += ctx.genre.internalRhymeBonus;
  }
  score += 0.8 * ctx.random();
  return { text, endWord: last.toLowerCase(), syllables, score, keys, valence: lineValence, misses: stressed - aligned };
}

/**
 * Best line for a span of `span.noteCount` notes with at most `cap` syllables: grammar derivations
 * whose syllables fit (exactly, or fewer down to half the notes, which are then held), scored.
 * The search stops after ENOUGH_CANDIDATES exact fits once the best line puts every stressed syllable
 * on a strong note; otherwise it goes on (up to twice the attempts) looking for one that does.
 * `echoes`: the later choruses' spans the line will be sung on too.
 */
function searchLine(
  ctx: WriterContext,
  grammar: LineGrammar,
  span: NoteSpan,
  cap: number,
  need: RhymeNeed,
  opener: string | null,
  must: string | null,
  moodNeeded = false,
  echoes: readonly Echo[] = [],
): Candidate | null {
  const carries = (c: Candidate | null): c is Candidate => !!c && (!moodNeeded || (ctx.valenceSum + c.valence) * ctx.mood.polarity > 0);
  const n = Math.min(span.noteCount, cap);
  const lo = Math.max(1, Math.ceil(span.noteCount / 2));
  const rel = relativeStrengths(ctx.strengths, span.firstNote, span.noteCount);
  const long = n >= LONG_LINE_NOTES;
  const rhymeNeeded = need && 'rhyme' in need ? need.rhyme : null;
  let best: Candidate | null = null;
  const consider = (c: Candidate | null): void => {
    if (carries(c) && (!best || c.score > best.score)) best = c;
  };
  const passes: RhymeNeed[] = need ? [need, null] : [null];
  for (const pass of passes) {
    // No other word of the pools has this rhyme (the one that set it is already sung): go straight to the next pass.
    if (pass && 'rhyme' in pass && (ctx.pools.families.get(pass.rhyme) ?? 0) < 2) continue;
    ctx.source.need = pass;
    ctx.source.must = must;
    let found = 0;
    const attempts = must ? 3 * ATTEMPTS_PER_LINE : pass ? 3 * ATTEMPTS_PER_LINE : ATTEMPTS_PER_LINE;
    for (let a = 0; a < 2 * attempts; a++) {
      if (found >= ENOUGH_CANDIDATES || a >= attempts) {
        const settled = best as Candidate | null;
        if (!settled || settled.misses === 0 || a >= (must ? 2 * attempts : attempts + (attempts >> 1))) break;
      }
      const tokens = grammar.line(long && ctx.random() < 0.8, opener);
      if (!tokens) continue;
      let syllables = 0;
      for (const t of tokens) if (t.text !== ',') syllables += syllablesOf(t.text);
      // Up to two syllables over: retune may take out an adjective.
      if (syllables > n + 2 || syllables < lo) continue;
      if (must && !tokens.some((t) => t.key === must)) continue;
      // In the rhyming pass the line must end on the rhyme (a pronoun object or adverb may not meet it).
      if (pass && 'rhyme' in pass && rhymeOf(tokens[tokens.length - 1].text) !== pass.rhyme) continue;
      let exact = false;
      for (const { tokens: variant, weights } of retune(ctx, tokens, n, lo, rel, !opener)) {
        if (weights.length === n) exact = true;
        const c = scoreCandidate(ctx, variant, weights, span, rel, rhymeNeeded, echoes);
        if (c && LEAD_INS.includes(variant[0].text) && tokens[0].text !== variant[0].text) {
          // Lead-ins wear quickly (`So … / So … / So …`): the same one costs most.
          c.score -=
            3 * ((ctx.used.get('lead:and') ?? 0) + (ctx.used.get('lead:so') ?? 0) + (ctx.used.get('lead:oh') ?? 0)) +
            5 * (ctx.used.get(`lead:${variant[0].text}`) ?? 0);
        }
        consider(c);
      }
      if (exact) found++;
    }
    if (best) break;
  }
  ctx.source.need = null;
  ctx.source.must = null;
  return best;
}

/**
 * A hook on notes too few for a clause about the subject (`bicycle` on four notes): a fragment naming
 * it (`Oh, my bicycle`), so the chorus still says what the song is about.
 */
function hookFragment(
  ctx: WriterContext,
  grammar: LineGrammar,
  span: NoteSpan,
  cap: number,
  need: RhymeNeed,
  subject: string | null,
  echoes: readonly Echo[],
  moodNeeded: boolean,
): Candidate | null {
  if (!subject) return null;
  grammar.fragments = true;
  try {
    return (
      (moodNeeded ? searchLine(ctx, grammar, span, cap, need, null, subject, true, echoes) : null) ??
      searchLine(ctx, grammar, span, cap, need, null, subject, false, echoes) ??
      searchLine(ctx, grammar, span, cap, null, null, subject, false, echoes)
    );
  } finally {
    grammar.fragments = false;
  }
}

const NOUN_DETERMINERS = new Set(['the', 'my', 'your', 'our', 'this', 'these', 'all', 'a', 'an', 'some', 'every']);

/** Metrical weights of a line's syllables (see `wordWeights`). */
function lineWeights(tokens: readonly Token[]): number[] {
  const out: number[] = [];
  for (const t of tokens) if (t.text !== ',') for (const w of t.text.split(' ')) out.push(...wordWeights(w));
  return out;
}

/** Stressed syllables that would start on weak notes (relative strength < 0.5) of a span of `rel.length` notes. */
function stressMisses(weights: readonly number[], rel: Float64Array): number {
  const starts = weights.length === rel.length ? null : planMelisma(weights, rel).starts;
  let misses = 0;
  for (let k = 0; k < weights.length; k++) if (weights[k] === 1 && rel[starts ? starts[k] : k] < 0.5) misses++;
  return misses;
}

/** `a`/`an` set again by the next word's first sound after words were put in or taken out. */
function fixArticles(tokens: Token[]): Token[] {
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i].text === 'a' || tokens[i].text === 'an')
      tokens[i] = { text: startsWithVowelSound(tokens[i + 1].text.split(' ')[0]) ? 'an' : 'a' };
  }
  return tokens;
}

/** Score lost per stressed syllable on a weak note (the quality score's stress measure), and per held note × the genre's hold penalty. */
const MISS_PENALTY = 8;
const HOLD_PENALTY = 2;
/** Variants of a line kept for scoring, best by stress and held notes first. */
const RETUNED_KEPT = 2;

/**
 * A derived line set again so its stressed syllables meet the span's strong notes: as derived, or
 * without one of its adjectives before a noun, then filled back towards `n` syllables with an adjective
 * before a noun whose stress lands on a strong note (`the road` → `the empty road` / `the alone…` never:
 * only attributive adjectives) and/or a lead-in word as singers add (`and`, `so`, `oh`: `oh` is stressed,
 * `and` is not, so they sit differently). Grammar is untouched: adjectives before nouns are optional.
 * Returns up to RETUNED_KEPT variants with `lo`..`n` syllables, fewest stressed syllables on weak notes
 * first (a syllable held over notes is judged by the melisma plan).
 */
function retune(
  ctx: WriterContext,
  tokens: readonly Token[],
  n: number,
  lo: number,
  rel: Float64Array,
  leadIn: boolean,
): { tokens: Token[]; weights: number[] }[] {
  const bases: Token[][] = [[...tokens]];
  for (let i = 1; i + 1 < tokens.length; i++) {
    if (
      tokens[i].key?.startsWith('a:') &&
      tokens[i + 1].key &&
      !tokens[i + 1].key?.startsWith('a:') &&
      NOUN_DETERMINERS.has(tokens[i - 1].text)
    ) {
      bases.push(fixArticles([...tokens.slice(0, i), ...tokens.slice(i + 1)]));
    }
  }
  const out: { tokens: Token[]; misses: number; weights: number[] }[] = [];
  const add = (t: Token[], w = lineWeights(t)): void => {
    if (w.length > n || w.length < lo) return;
    out.push({ tokens: t, misses: stressMisses(w, rel), weights: w });
  };
  const leads = leadIn && !LEAD_INS.includes(tokens[0].text) ? LEAD_INS : [];
  for (const base of bases) {
    const baseWeights = lineWeights(base);
    const have = baseWeights.length;
    if (have > n) continue;
    add(base, baseWeights);
    const deficit = n - have;
    if (deficit === 0 || deficit > 3) continue;
    const withLead = (t: Token[], lead: string): Token[] =>
      lead === 'oh' ? [{ text: 'oh' }, { text: ',' }, ...t] : [{ text: lead }, ...t];
    if (deficit === 1) for (const lead of leads) add(withLead(base, lead));
    // An adjective of `size` syllables at each free noun, chosen for where its stressed syllable lands.
    for (const size of [deficit, deficit - 1]) {
      if (size < 1 || size > 2 || (size === deficit - 1 && !leads.length)) continue;
      const shift = size === deficit ? 0 : 1;
      let offset = shift;
      for (let i = 0; i < base.length; i++) {
        const t = base[i];
        if (i >= 1 && t.key?.startsWith('n:') && NOUN_DETERMINERS.has(base[i - 1].text)) {
          const at = offset;
          const adj = ctx.source.fillAdjective(
            size,
            (weights) => weights.every((w, k) => w !== 1 || (rel[at + k] ?? 0) >= 0.5),
            base,
            t.key,
          );
          if (adj) {
            const grown = fixArticles([...base.slice(0, i), { text: adj.word, key: adj.key }, ...base.slice(i)]);
            if (shift) for (const lead of leads) add(withLead(grown, lead));
            else add(grown);
          }
        }
        if (t.text !== ',') offset += syllablesOf(t.text);
      }
    }
  }
  // Least cost of stressed syllables on weak notes and held notes first (the line score's terms), then as derived.
  const cost = (v: { misses: number; weights: number[] }): number =>
    MISS_PENALTY * v.misses + HOLD_PENALTY * ctx.genre.holdPenalty * (rel.length - v.weights.length);
  out.sort((x, y) => cost(x) - cost(y));
  return out.slice(0, RETUNED_KEPT);
}

/* ------------------------------------------------------------------ one variant */

interface WrittenLine {
  span: NoteSpan;
  text: string;
  rhymeWord: string;
  syllables: number;
  sung: SungNote[];
}

/** The voice of each section: verse 1 in the past, the bridge in the future, the rest in the present, pronouns from the seed. */
function voices(plan: readonly PlannedSection[], random: () => number): StanzaVoice[] {
  const pronouns = ['I', 'we', 'you'] as const;
  const main = pronouns[Math.floor(random() * 2)];
  let verses = 0;
  return plan.map((s) => {
    if (s.kind === 'verse') {
      verses++;
      const past = verses === 1 && plan.filter((p) => p.kind === 'verse').length > 1;
      return { tense: past ? 'past' : 'present', pronoun: verses === 1 ? main : pronouns[Math.floor(random() * 3)] };
    }
    if (s.kind === 'chorus') return { tense: 'present', pronoun: main === 'I' ? 'we' : main };
    // The bridge turns the story towards what will come (`We will walk …`, `There will be …`).
    return { tense: s.kind === 'bridge' ? 'future' : 'present', pronoun: pronouns[Math.floor(random() * 3)] };
  });
}

function* writeVariant(
  request: WriteLyricsRequest,
  spans: NoteSpan[],
  strengths: Float64Array,
  analysis: PromptAnalysis,
  pools: Pools,
  scheme: RhymeScheme,
  seed: number,
): Sliced<LyricsResult> {
  const mood = moodProfile(request.mood);
  const genre = genreProfile(request.genre);
  const random = createRandom(seed);
  const used = new Map<string, number>();
  const songEnds = new Set<string>();
  const phraseStarts = new Set(request.phrases.map((p) => p.firstNote));
  const ctx: WriterContext = {
    random,
    pools,
    source: new WordSource(random, pools, used),
    mood,
    genre,
    strengths,
    used,
    pending: new Set(pools.promptKeys),
    valenceSum: 0,
    phraseStarts,
  };
  const plan = planSections(spans.length);
  const stanzaVoices = voices(plan, random);
  const sectionSpans: NoteSpan[][] = [];
  let at = 0;
  for (const s of plan) {
    sectionSpans.push(spans.slice(at, at + s.count));
    at += s.count;
  }
  const written: (WrittenLine | undefined)[][] = plan.map((s) => new Array<WrittenLine | undefined>(s.count));
  const firstChorus = plan.findIndex((s) => s.kind === 'chorus');
  const hookSection = firstChorus >= 0 ? firstChorus : 0;
  const order = plan.map((_, i) => i);
  if (firstChorus > 0) order.sort((x, y) => (x === firstChorus ? -1 : y === firstChorus ? 1 : x - y));
  const verseIndexes = plan.map((s, i) => (s.kind === 'verse' ? i : -1)).filter((i) => i >= 0);

  const chorusCap: number[] = [];
  if (firstChorus >= 0) {
    const instances = plan.map((s, i) => (s.kind === 'chorus' ? sectionSpans[i] : null)).filter((x): x is NoteSpan[] => x !== null);
    for (let li = 0; li < plan[firstChorus].count; li++) {
      const counts = instances.map((spansOf) => spansOf[li]?.noteCount ?? 0).filter((c) => c > 0);
      const shortest = Math.min(...counts);
      const own = sectionSpans[firstChorus][li].noteCount;
      chorusCap.push(counts.every((c) => lineFits(shortest, c)) && lineFits(shortest, own) ? shortest : own);
    }
  }
  for (const si of order) {
    const section = plan[si];
    const grammar = new LineGrammar(ctx.source, stanzaVoices[si]);
    const groups = schemeGroups(scheme, section.count);
    const groupSize = new Map<number, number>();
    for (const g of groups) groupSize.set(g, (groupSize.get(g) ?? 0) + 1);
    const groupRhyme = new Map<number, string>();
    const groupEnds = new Map<number, Set<string>>();
    const repeatChorus = section.kind === 'chorus' && firstChorus >= 0 && si !== firstChorus;
    for (let li = 0; li < section.count; li++) {
      const span = sectionSpans[si][li];
      const g = groups[li];
      const ends = groupEnds.get(g) ?? new Set<string>();
      groupEnds.set(g, ends);
      const model = repeatChorus ? written[firstChorus][li] : undefined;
      if (model && lineFits(model.syllables, span.noteCount)) {
        const fit = fitSyllablesToNotes(syllabifyLine(model.text).syllables, request.notes, span, strengths);
        written[si][li] = { span, text: model.text, rhymeWord: model.rhymeWord, syllables: model.syllables, sung: fit.sung };
        groupRhyme.set(g, rhymeOf(model.rhymeWord));
        ends.add(model.rhymeWord);
        continue;
      }
      let rhyme = groupRhyme.get(g);
      if (rhyme === undefined && model) rhyme = rhymeOf(model.rhymeWord);
      const need: RhymeNeed =
        rhyme !== undefined ? { rhyme } : (groupSize.get(g) ?? 1) > 1 ? { family: Math.min(8, (groupSize.get(g) ?? 1) + 5) } : null;
      const cap = si === firstChorus ? chorusCap[li] : span.noteCount;
      const isHook = si === hookSection && li === 0;
      const opener = si === verseIndexes[1] && li === 0 ? 'now' : null;
      // No end word twice in a song outside the chorus repeats.
      ctx.source.avoidEnds = section.kind === 'chorus' || ends.size >= 2 ? ends : new Set([...ends, ...songEnds]);
      // The hook holds the subject; other lines take a prompt word not yet sung, half of the time.
      // (Not on a line that must rhyme with a given word: the forced word would rarely end the line.)
      const pendingKey = ctx.pending.size && !(need && 'rhyme' in need) && random() < 0.6 ? [...ctx.pending].sort()[0] : null;
      // A song must carry its mood: while its words do not, a line has to bring words of the mood's sign.
      const moodNeeded = mood.polarity !== 0 && ctx.valenceSum * mood.polarity <= 0;
      // The first chorus's lines are sung again on the later choruses' notes.
      const echoes: Echo[] =
        si === firstChorus
          ? plan.flatMap((p, i) => {
              const other = p.kind === 'chorus' && i !== si ? sectionSpans[i][li] : undefined;
              return other ? [{ span: other, rel: relativeStrengths(strengths, other.firstNote, other.noteCount) }] : [];
            })
          : [];
      // The hook holds the subject (and, like any line while the song does not carry its mood yet, brings
      // words of the mood when it can: a sad song about love must not open on `We find the love`).
      const mustKey = isHook ? pools.subjectKey : pendingKey;
      const candidate =
        (moodNeeded ? searchLine(ctx, grammar, span, cap, need, opener, mustKey, true, echoes) : null) ??
        searchLine(ctx, grammar, span, cap, need, opener, mustKey, false, echoes) ??
        (isHook ? hookFragment(ctx, grammar, span, cap, need, pools.subjectKey, echoes, moodNeeded) : null) ??
        searchLine(ctx, grammar, span, cap, need, null, null) ??
        searchLine(ctx, grammar, { ...span, noteCount: span.noteCount * 2 }, cap, null, null, null);
      const text = candidate?.text ?? 'Oh, oh, oh';
      for (const v of valences(text)) ctx.valenceSum += v;
      const endWord = candidate?.endWord ?? 'oh';
      const leadIn = candidate && LEAD_INS.includes(words0(candidate.text)) ? `lead:${words0(candidate.text)}` : null;
      if (leadIn) used.set(leadIn, (used.get(leadIn) ?? 0) + 1);
      for (const key of candidate?.keys ?? []) {
        ctx.pending.delete(key);
        used.set(key, (used.get(key) ?? 0) + 1);
      }
      if (!groupRhyme.has(g)) groupRhyme.set(g, rhyme ?? rhymeOf(endWord));
      ends.add(endWord);
      songEnds.add(endWord);
      ctx.source.usedRhymes.set(rhymeOf(endWord), (ctx.source.usedRhymes.get(rhymeOf(endWord)) ?? 0) + 1);
      const syl = syllabifyLine(text);
      const fit = fitSyllablesToNotes(syl.syllables, request.notes, span, strengths);
      written[si][li] = { span, text, rhymeWord: endWord, syllables: syl.syllables.length, sung: fit.sung };
      yield;
    }
  }

  const sections: LyricSection[] = [];
  const sungNotes: SungNote[] = [];
  plan.forEach((s, si) => {
    const lines: LyricLine[] = [];
    for (const w of written[si]) {
      if (!w) continue;
      lines.push({
        text: w.text,
        phraseIndex: w.span.phraseIndex,
        rhymeWord: w.rhymeWord,
        firstNote: w.span.firstNote,
        noteCount: w.span.noteCount,
        syllableCount: w.syllables,
      });
      sungNotes.push(...w.sung);
    }
    sections.push({ kind: s.kind, lines });
  });
  const draft: LyricsResult = { sections, sungNotes, quality: emptyQuality(), warnings: [], scheme, source: 'writer', seed };
  draft.quality = scoreLyrics(draft, { promptWords: promptWordsOf(analysis), tempo: request.tempo, scheme, mood: request.mood });
  return draft;
}

function emptyQuality(): LyricsResult['quality'] {
  return {
    score: 0,
    syllableFit: 0,
    stressAlignment: 0,
    rhyme: 0,
    promptCoverage: 0,
    chorusRepeats: 0,
    variety: 0,
    grammaticality: 0,
    moodAgreement: 0,
    plausibility: 0,
    story: 0,
  };
}

/** The prompt words coverage is measured on: lemmas of nouns, verbs, adjectives and names. */
function promptWordsOf(analysis: PromptAnalysis): string[] {
  return analysis.terms.map((t) => t.lemma.toLowerCase());
}

/**
 * Writes lyrics for a melody, yielding after each line (see sliced.ts). Deterministic: the same
 * request and seed give the same lyrics. Every note gets exactly one syllable or a continuation; see
 * the module comment for the method. When a variant fails `checkLyrics`, up to 3 more seed-derived
 * variants are tried; if all fail, the best-scoring one is returned with a `LYRICS_CHECKS_FAILED`
 * warning. Never throws on odd input: no notes give an empty result with a `NO_NOTES` warning.
 */
export function* writeLyricsSliced(request: WriteLyricsRequest): Sliced<LyricsResult> {
  const notes = Array.isArray(request.notes) ? request.notes : [];
  const scheme = rhymeSchemeForGenre(typeof request.genre === 'string' ? request.genre : '');
  if (notes.length === 0) {
    const warnings: LyricsWarning[] = [{ code: 'NO_NOTES', message: 'The melody has no notes to write lyrics for.', notes: 0 }];
    return { sections: [], sungNotes: [], quality: emptyQuality(), warnings, scheme, source: 'writer', seed: request.seed };
  }
  const safe: WriteLyricsRequest = {
    ...request,
    prompt: sanitizeText(request.prompt),
    genre: sanitizeText(request.genre).slice(0, 100),
    mood: sanitizeText(request.mood).slice(0, 100),
    notes,
    phrases: Array.isArray(request.phrases) ? request.phrases : [],
  };
  const spans = lineSpans(notes, safe.phrases);
  const strengths = noteStrengths(notes, spans, safe.tempo);
  const analysis = analyzePrompt(safe.prompt);
  const pools = poolsFor(safe.prompt, analysis, moodProfile(safe.mood), genreProfile(safe.genre));
  yield;
  const baseSeed = Number.isFinite(request.seed) ? Math.trunc(request.seed) >>> 0 : 0;
  // A song of few lines is cheap to write: several variants are written and the best kept (short songs
  // have no later lines to make up for a line off the beat or out of the mood).
  const wanted = spans.length <= SMALL_SONG_LINES ? SMALL_SONG_VARIANTS : 1;
  let best: { result: LyricsResult; issues: string[]; carried: boolean; hooked: boolean } | null = null;
  let passed = 0;
  for (let v = 0; v < MAX_VARIANTS; v++) {
    const seed = (baseSeed + Math.imul(v, 0x9e3779b9)) >>> 0;
    const result = yield* writeVariant(safe, spans, strengths, analysis, pools, scheme, seed);
    const check = checkLyrics(result, { prompt: safe.prompt, noteCount: notes.length });
    const carried = moodCarried(
      result.sections.flatMap((s) => s.lines.map((l) => l.text)),
      safe.mood,
    );
    if (check.ok) passed++;
    // Ranked by: passes the checks, then its hook names the subject, then carries the mood, then the quality score.
    const rank = (x: { issues: string[]; carried: boolean; hooked: boolean; result: LyricsResult }) => [
      x.issues.length ? 0 : 1,
      x.hooked ? 1 : 0,
      x.carried ? 1 : 0,
      x.result.quality.score,
    ];
    const hooked = hookNames(result, analysis);
    const candidate = { result, issues: check.issues.map((i) => i.code), carried, hooked };
    if (!best || compareRanks(rank(candidate), rank(best)) > 0) best = candidate;
    if (!best.issues.length && best.carried && best.hooked && passed >= wanted) break;
  }
  const chosen = (best as { result: LyricsResult; issues: string[] }).result;
  if ((best as { issues: string[] }).issues.length) {
    chosen.warnings.push({
      code: 'LYRICS_CHECKS_FAILED',
      message: `No variant passed the lyric checks (${(best as { issues: string[] }).issues.join(', ')}); the best one is returned.`,
    });
  }
  return chosen;
}

/** Whether the song's hook (the first chorus's first line, else the first line) holds the prompt's subject. */
function hookNames(result: LyricsResult, analysis: PromptAnalysis): boolean {
  const subject = analysis.subject;
  if (!subject) return true;
  const section = result.sections.find((s) => s.kind === 'chorus') ?? result.sections[0];
  const hook = section?.lines[0]?.text.toLowerCase() ?? '';
  const forms = [subject.lemma, ...subject.forms].filter(Boolean).map((f) => f.toLowerCase());
  return (hook.match(/[a-z' ]+/g) ?? []).some((chunk) => forms.some((f) => ` ${chunk} `.includes(` ${f} `)));
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** {@link writeLyricsSliced} run straight through. */
export function writeLyrics(request: WriteLyricsRequest): LyricsResult {
  return runSliced(writeLyricsSliced(request));
}
