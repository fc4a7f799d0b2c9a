/**
 * One line's search: grammar derivations (grammar.ts) whose syllables fit the line's notes, set again
 * so their stressed syllables meet strong notes (`retune`), scored on the notes, the prompt, the mood,
 * repetition and the genre (`scoreCandidate`); the best is kept.
 */
import { planMelisma, relativeStrengths, wordWeights, type NoteSpan } from './fit.js';
import { LineGrammar, renderTokens, startsWithVowelSound, type Token } from './grammar.js';
import type { GenreProfile, MoodProfile } from './moods.js';
import { pronounce, stripStress } from './pronouncing.js';
import { valencesOfWords, wordsOf } from './sense.js';
import { repeatsRoot, rootsOf } from './selection.js';
import type { WordSource, RhymeNeed } from './word-source.js';
import { endSceneTaste, rhymeOf, syllablesOf, type Pools } from './word-pools.js';

/** Grammar derivations tried per line (per pass). */
const ATTEMPTS_PER_LINE = 60;
/** A line's search stops once this many derivations fit its notes exactly (one syllable per note). */
const ENOUGH_CANDIDATES = 10;
/** Phrases from this many notes up may hold two clauses. */
const LONG_LINE_NOTES = 11;
/** Punctuation tokens of a derived line (`,` and a question's `?`): no syllables, no word. */
function isMark(text: string): boolean {
  return text === ',' || text === '?';
}

/** The last word of a derived line (what rhymes), past any punctuation. */
function lastWord(tokens: readonly Token[]): string {
  for (let i = tokens.length - 1; i >= 0; i--) if (!isMark(tokens[i].text)) return tokens[i].text.split(' ').pop() as string;
  return '';
}

/** First word of a line, lower case. */
export function words0(text: string): string {
  return (text.toLowerCase().match(/[a-z']+/) ?? [''])[0];
}

/** Words a line may be led in with when it is one syllable short of its notes. */
export const LEAD_INS = ['and', 'so', 'oh'];
/** The only lead-in a fragment takes (`Oh, my garden`, not `So my garden`). */
const FRAGMENT_LEAD_INS = ['oh'];

const LONG_VOWELS = new Set(['AA', 'AO', 'OW', 'UW', 'IY', 'EY', 'AY', 'AW', 'OY', 'ER']);

export interface Candidate {
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
  /** The line's shape: its closed-class words kept, every other word `_` (`in the _ i am _`; see `lineShape`). */
  shape: string;
  /** The line's tokens (a hook sung again is set again from them on other notes: `refitLine`). */
  tokens: readonly Token[];
}

export interface WriterContext {
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
  /** Score lost per stressed syllable on a weak note (MISS_PENALTY, or SHORT_SONG_MISS_PENALTY in a short song). */
  missPenalty: number;
  /** Shapes of the lines written so far in this song (chorus repeats not counted): a shape sung again costs. */
  shapes: Map<string, number>;
  /** This variant's taste in line shapes (from its seed, see `shapeTaste`): different seeds prefer different shapes. */
  shapeSalt: number;
  /** Roots of the previous line's words (the prompt's aside) in this stanza: an echo of one costs ECHO_PENALTY. */
  previousRoots: Set<string>;
  /**
   * Per root of a word that is not the prompt's: how many of the song's distinct lines hold it so far (chorus
   * repeats not counted). A root in two lines already costs FILLER_ROOT_PENALTY in a third (lyrics round 12).
   */
  rootLines: Map<string, number>;
  /** Roots of the prompt's own words (`lost` → lose): they may recur, the song is about them. */
  promptRoots: ReadonlySet<string>;
  /**
   * Keys of which a line must hold one, or null (any line): verse 2's `Still, …` line holds a word of the
   * prompt (or a relative) or one of the mood's images (lyrics round 13).
   */
  holdOne?: ReadonlySet<string> | null;
  /** Only lines that meet the rhyme need are kept (no pass without it): the hook sung twice (lyrics round 17). */
  rhymeOnly?: boolean;
  /**
   * Who and what the previous line of the verse sang of (`lineTies`), or null (a first line, a chorus): a line
   * that goes on with one of them earns CONTINUITY_BONUS (lyrics round 17).
   */
  follows?: LineTies | null;
  /**
   * Score lost by a line that only presents a thing (`There is a stone in the nights`, `isPresentational`): 0 in a
   * long song, PRESENTATIONAL_PENALTY in a short one, whose two or three lines must say something (lyrics round 18).
   */
  presentational?: number;
}

/**
 * Score lost, in a song of a few lines, by a `there is …` line: one stress miss there (SHORT_SONG_MISS_PENALTY), so a
 * clause with a verb and the prompt's words is sung before one that only says a thing is somewhere; a `there is` line
 * that holds two prompt words not sung yet (5 each) still wins (`So there is a sailor by the sea`). 6 left 6 of the
 * bench's 285 short-song lines on `there is`, 10 left 2, at the same stress alignment (lyrics round 18).
 */
export const PRESENTATIONAL_PENALTY = 10;

const THERE_BE = new Set(['is', 'are', 'was', 'were', 'will be']);

/**
 * Whether a line only presents a thing: `there` and a form of `be` (`There is a stream with the cat`, `So there
 * was a girl by the lake`, `By the lake, there were days`), wherever it stands after a lead-in or a fronted phrase.
 */
export function isPresentational(tokens: readonly Token[]): boolean {
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i].text.toLowerCase() === 'there' && THERE_BE.has(tokens[i + 1].text.toLowerCase())) return true;
  }
  return false;
}

/**
 * Who and what a line sings of: the persons it names (`I`/`me`/`my` as one, `we`/`us`/`our`, `you`/`your`;
 * an imperative's `you` is not counted, only its object) and the roots of its nouns and names.
 */
export interface LineTies {
  persons: ReadonlySet<string>;
  roots: ReadonlySet<string>;
}

/** The person a pronoun or possessive names (`me` → `I`), or undefined for any other word. */
const PERSON_OF: Readonly<Record<string, string>> = { i: 'I', me: 'I', my: 'I', we: 'we', us: 'we', our: 'we', you: 'you', your: 'you' };

/** The persons and noun roots of a line's tokens (see `LineTies`). */
export function lineTies(tokens: readonly Token[]): LineTies {
  const persons = new Set<string>();
  const roots = new Set<string>();
  for (const t of tokens) {
    if (t.key) {
      if (t.key.startsWith('n:') || t.key.startsWith('name:')) for (const r of rootsOf(t.key)) roots.add(r);
      continue;
    }
    for (const w of t.text.toLowerCase().split(' ')) {
      const person = PERSON_OF[w];
      if (person) persons.add(person);
    }
  }
  return { persons, roots };
}

/**
 * Whether a line goes on with the line before: it names one of its persons or holds one of its nouns (by root;
 * with `among`, only a root among those counts).
 */
export function continues(before: LineTies, after: LineTies, among?: ReadonlySet<string>): boolean {
  for (const p of after.persons) if (before.persons.has(p)) return true;
  for (const r of after.roots) if (before.roots.has(r) && (!among || among.has(r))) return true;
  return false;
}

/**
 * Score a verse line earns for going on with the line before (`continues`): `In the city, we were cold / We
 * could not find the lake`, not `So the summer is sweet / There is a father in the nights` (lyrics round 17).
 * About half a stress miss: a line that sits better on the notes still wins.
 */
const CONTINUITY_BONUS = 8;

/**
 * Score lost when a line repeats a (non-prompt) root of the line before it (`Through the night, … / In the
 * night, …`), and per earlier use past the second of a word that is not the prompt's (`snow` ending four
 * lines of a song about a war): lyrics round 10. Round 10 wrote the echo penalty as 3 in its notes but
 * committed 0; round 12 sets it, and counts a filler by its root in distinct lines (`sky` and `skies`,
 * `fall` and `fallen` are one image), which is what a listener hears repeat: a root in two lines already
 * costs FILLER_ROOT_PENALTY in a third (about one stress miss), so a third line takes another image when
 * one fits the notes and the rhyme.
 */
const ECHO_PENALTY = 4;
const FILLER_PENALTY = 2;
const FILLER_ROOT_PENALTY = 7;
/**
 * Weight of the end word's scene taste (word-pools.ts `endSceneTaste`: prompt 3 … filler −1.5) in a line's
 * score: rhyme words from the prompt and its scene over rhyme fillers (`by the rose`), a preference, not a
 * rule, so a line whose rhyme only a filler meets is still written.
 */
const END_SCENE_WEIGHT = 1;

/**
 * Closed-class words: pronouns, determiners, prepositions, auxiliaries, conjunctions and lead-ins. A line's
 * shape keeps them and writes every other word as `_`: `In the desert, I am warm` and `In the night, we
 * are free` are two fillings of one template frame.
 */
const CLOSED_CLASS = new Set(
  `a an the my your our his her their its this that these those some every all no and but or so because when while if
  then than as of in on at by for with without from to into through across around under over beneath beyond toward
  among until after before near beside inside down along since i you we he she it they me us him them am is are was
  were be been will would can cannot could must not now there here let oh do does did where`.split(/\s+/),
);

/** A line's shape (see CLOSED_CLASS), from its tokens (multi-word tokens such as `will not` split). */
export function lineShape(tokens: readonly Token[]): string {
  let out = '';
  for (const t of tokens) {
    if (isMark(t.text)) continue;
    const part = tokenShape(t.text);
    out = out ? `${out} ${part}` : part;
  }
  return out;
}

/** A token's part of a line's shape (`will not` → `will not`, `river` → `_`), remembered per token text. */
function tokenShape(text: string): string {
  let shape = tokenShapes.get(text);
  if (shape === undefined) {
    shape = text
      .toLowerCase()
      .split(' ')
      .map((w) => (CLOSED_CLASS.has(w) ? w : '_'))
      .join(' ');
    if (tokenShapes.size > 50_000) tokenShapes.clear();
    tokenShapes.set(text, shape);
  }
  return shape;
}
const tokenShapes = new Map<string, string>();

/**
 * Score a variant gives a line for its shape, in [0, 1): a hash of the shape mixed with the variant's salt.
 * Among lines that sit equally well on the notes, each seed then leans to shapes of its own, so songs of
 * different seeds (and the two seeds of one request, whose best-ranked lines otherwise converge) do not
 * all fall on the few shapes whose function words land on weak notes (docs/decisions.md, lyrics round 9).
 */
export function shapeTaste(shape: string, salt: number): number {
  // FNV-1a over the shape, then one xorshift-multiply round with the salt.
  let h = 0x811c9dc5 ^ salt;
  for (let i = 0; i < shape.length; i++) h = Math.imul(h ^ shape.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}
/** Weight of a variant's taste for a shape (`shapeTaste`) in a line's score: about a fifth of one stress miss. */
export const SHAPE_TASTE_WEIGHT = 3;
/** Score lost per earlier line of the song on the same shape (outside chorus repeats). */
export const SHAPE_REPEAT_PENALTY = 3;

/** Another span a line will be sung on (a later chorus), with its notes' relative strengths. */
export interface Echo {
  span: NoteSpan;
  rel: Float64Array;
}

/**
 * `relativeStrengths` of a span, one array per request's strengths and span: the melisma plans remembered
 * per array (`plans`) are then shared by a line's passes, its searches and the song's variants.
 */
export function spanStrengths(strengths: Float64Array, first: number, count: number): Float64Array {
  let bySpan = spanRels.get(strengths);
  if (!bySpan) {
    bySpan = new Map();
    spanRels.set(strengths, bySpan);
  }
  const key = first * 65536 + count;
  let rel = bySpan.get(key);
  if (!rel) {
    rel = relativeStrengths(strengths, first, count);
    bySpan.set(key, rel);
  }
  return rel;
}
const spanRels = new WeakMap<Float64Array, Map<number, Float64Array>>();

/** Melisma plans already made per span (its relative strengths), by the syllables' weights (`weightsKey`). */
const plans = new WeakMap<Float64Array, Map<number | string, ReturnType<typeof planMelisma>>>();

/**
 * A pattern of syllable weights (each 0, 0.5 or 1) as a number: base-3 digits after a leading 1, exact up to
 * 32 syllables; longer or other patterns as their text.
 */
function weightsKey(weights: readonly number[]): number | string {
  if (weights.length > 32) return weights.join(',');
  let key = 1;
  for (const w of weights) {
    if (w === 0) key *= 3;
    else if (w === 0.5) key = key * 3 + 1;
    else if (w === 1) key = key * 3 + 2;
    else return weights.join(',');
  }
  return key;
}

/**
 * `planMelisma`, remembered per span and pattern of syllable weights: a line's candidates share few
 * patterns (a search scores hundreds of lines on one span), and the plan depends on nothing else.
 */
function melismaPlan(weights: readonly number[], rel: Float64Array): ReturnType<typeof planMelisma> {
  // A variant's weights are planned by `retune` (its misses) and again by `scoreCandidate` on the same span.
  const known = plansByWeights.get(weights);
  if (known && known.rel === rel) return known.plan;
  const plan = planOf(weights, rel);
  plansByWeights.set(weights, { rel, plan });
  return plan;
}
/** The plan of each weights array (one per variant of a derived line), with the span it was made for. */
const plansByWeights = new WeakMap<readonly number[], { rel: Float64Array; plan: ReturnType<typeof planMelisma> }>();

function planOf(weights: readonly number[], rel: Float64Array): ReturnType<typeof planMelisma> {
  // One syllable a note is planned in one pass; only held notes need the dynamic programme.
  if (weights.length === rel.length) return planMelisma(weights, rel);
  let byWeights = plans.get(rel);
  if (!byWeights) {
    byWeights = new Map();
    plans.set(rel, byWeights);
  }
  const key = weightsKey(weights);
  let plan = byWeights.get(key);
  if (!plan) {
    plan = planMelisma(weights, rel);
    byWeights.set(key, plan);
  }
  return plan;
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
  const plan = melismaPlan(weights, rel);
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
  const words = tokens.filter((t) => !isMark(t.text));
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
  let score = -2 * cost + 2 * aligned - ctx.missPenalty * (stressed - aligned) - HOLD_PENALTY * ctx.genre.holdPenalty * held;
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
    const uses = ctx.used.get(t.key) ?? 0;
    score -= 1.2 * uses;
    if (!ctx.pools.promptKeys.has(t.key)) {
      if (uses >= 2) score -= FILLER_PENALTY * (uses - 1);
      // (The word's roots that are not the prompt's: one in the line before costs an echo, one in two lines a filler.)
      let echo = false;
      let filler = false;
      for (const r of rootsOf(t.key)) {
        if (ctx.promptRoots.has(r)) continue;
        if (ctx.previousRoots.has(r)) echo = true;
        if ((ctx.rootLines.get(r) ?? 0) >= 2) filler = true;
      }
      if (echo) score -= ECHO_PENALTY;
      if (filler) score -= FILLER_ROOT_PENALTY;
    }
  }
  // One root twice says one thing twice (`I will lose my lost smell`: selection.ts).
  if (repeatsRoot(keys)) return null;
  // A noun of the line before counts when it is the prompt's: another one is an echo (ECHO_PENALTY), not a story.
  if (ctx.follows && continues(ctx.follows, lineTies(tokens), ctx.promptRoots)) score += CONTINUITY_BONUS;
  if (ctx.presentational && isPresentational(tokens)) score -= ctx.presentational;
  const text = renderTokens(tokens);
  const lineValences = tokenValences(tokens);
  let lineValence = 0;
  for (const raw of lineValences) lineValence += raw;
  if (ctx.mood.polarity !== 0) {
    // Words of the mood's sign (negation flips, as the mood measure does) are welcome, more so while
    // the song so far does not carry the mood; words of the other sign cost more than they earn.
    for (const raw of lineValences) {
      const v = Math.max(-3, Math.min(3, raw * ctx.mood.polarity));
      score += (v > 0 ? 0.8 : 2.5) * v + (ctx.valenceSum * ctx.mood.polarity <= 0 ? 2.5 * v : 0);
    }
  } else {
    // A mood without a sign (nostalgic) is bittersweet: strong words either way (`win`, `hate`) cost.
    for (const raw of lineValences) score -= 2 * Math.max(0, Math.abs(raw) - 2);
  }
  const last = words[words.length - 1].text.split(' ').pop() as string;
  const endRhyme = rhymeOf(last);
  // The line's end word (the rhyme) from the song's scene, not a filler of the rhyme (lyrics round 11); a
  // scene word that misses the rhyme earns nothing, so a rhyme is never given up for it.
  if (needRhyme !== null && endRhyme !== needRhyme) score -= 4;
  else score += END_SCENE_WEIGHT * endSceneTaste(ctx.pools, words[words.length - 1].key);
  if (ctx.genre.openVowelBonus && endsOnLongVowel(last)) score += ctx.genre.openVowelBonus;
  if (ctx.genre.internalRhymeBonus) {
    const inner = words.slice(0, -1).filter((t) => t.key && rhymeOf(t.text) === endRhyme && t.text !== last);
    if (inner.length) score += ctx.genre.internalRhymeBonus;
  }
  const shape = lineShape(tokens);
  score += SHAPE_TASTE_WEIGHT * shapeTaste(shape, ctx.shapeSalt) - SHAPE_REPEAT_PENALTY * (ctx.shapes.get(shape) ?? 0);
  score += 0.8 * ctx.random();
  return { text, endWord: last.toLowerCase(), syllables, score, keys, valence: lineValence, misses: stressed - aligned, shape, tokens };
}

/** Whether a word's last vowel is long (LONG_VOWELS: the genre's open-vowel bonus), remembered per word. */
function endsOnLongVowel(word: string): boolean {
  let long = longEnds.get(word);
  if (long === undefined) {
    const phones = pronounce(word).phones;
    const vowel = [...phones].reverse().find((p) => /\d$/.test(p));
    long = !!vowel && LONG_VOWELS.has(stripStress(vowel));
    if (longEnds.size > 50_000) longEnds.clear();
    longEnds.set(word, long);
  }
  return long;
}
const longEnds = new Map<string, boolean>();

/**
 * `valences` of a line's rendered text (sense.ts) from its tokens: the same words in the same order (no word
 * spans two tokens: they are joined by spaces or marks), each token's words found once per token text.
 */
function tokenValences(tokens: readonly Token[]): number[] {
  if (tokens.length === 1) return valencesOfWords(tokenWords(tokens[0].text));
  const words: string[] = [];
  for (const t of tokens) for (const w of tokenWords(t.text)) words.push(w);
  return valencesOfWords(words);
}
function tokenWords(text: string): readonly string[] {
  let words = wordsByToken.get(text);
  if (!words) {
    words = wordsOf(text);
    if (wordsByToken.size > 50_000) wordsByToken.clear();
    wordsByToken.set(text, words);
  }
  return words;
}
const wordsByToken = new Map<string, readonly string[]>();

/**
 * Best line for a span of `span.noteCount` notes with at most `cap` syllables: grammar derivations
 * whose syllables fit (exactly, or fewer down to half the notes, which are then held), scored.
 * The search stops after ENOUGH_CANDIDATES exact fits once the best line puts every stressed syllable
 * on a strong note; otherwise it goes on (up to twice the attempts) looking for one that does.
 * `echoes`: the later choruses' spans the line will be sung on too.
 */
export function searchLine(
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
  const holdOne = ctx.holdOne;
  const carries = (c: Candidate | null): c is Candidate =>
    !!c && (!moodNeeded || (ctx.valenceSum + c.valence) * ctx.mood.polarity > 0) && (!holdOne || c.keys.some((k) => holdOne.has(k)));
  const n = Math.min(span.noteCount, cap);
  const lo = Math.max(1, Math.ceil(span.noteCount / 2));
  const rel = spanStrengths(ctx.strengths, span.firstNote, span.noteCount);
  const long = n >= LONG_LINE_NOTES;
  const rhymeNeeded = need && 'rhyme' in need ? need.rhyme : null;
  let best: Candidate | null = null;
  const consider = (c: Candidate | null): void => {
    if (carries(c) && (!best || c.score > best.score)) best = c;
  };
  if (ctx.rhymeOnly && !need) return null;
  const passes: RhymeNeed[] = need ? (ctx.rhymeOnly ? [need] : [need, null]) : [null];
  for (const pass of passes) {
    // No other word of the pools has this rhyme (the one that set it is already sung): go straight to the next pass.
    if (pass && 'rhyme' in pass && (ctx.pools.families.get(pass.rhyme) ?? 0) < 2) continue;
    ctx.source.need = pass;
    ctx.source.must = must;
    // No word of the pools can end this line on the rhyme: every derivation would fail at its last slot.
    if (!grammar.fragments && !ctx.source.canEnd()) continue;
    let found = 0;
    const attempts = must ? 3 * ATTEMPTS_PER_LINE : pass ? ('rhyme' in pass ? 4 : 3) * ATTEMPTS_PER_LINE : ATTEMPTS_PER_LINE;
    for (let a = 0; a < 2 * attempts; a++) {
      if (found >= ENOUGH_CANDIDATES || a >= attempts) {
        const settled = best as Candidate | null;
        if (!settled || settled.misses === 0 || a >= (must ? 2 * attempts : attempts + (attempts >> 1))) break;
      }
      const tokens = grammar.line(long && ctx.random() < 0.8, opener);
      if (!tokens) continue;
      let syllables = 0;
      for (const t of tokens) if (!isMark(t.text)) syllables += syllablesOf(t.text);
      // Up to two syllables over: retune may take out an adjective.
      if (syllables > n + 2 || syllables < lo) continue;
      if (must && !tokens.some((t) => t.key === must)) continue;
      // In the rhyming pass the line must end on the rhyme (a pronoun object or adverb may not meet it).
      if (pass && 'rhyme' in pass && rhymeOf(lastWord(tokens)) !== pass.rhyme) continue;
      let exact = false;
      for (const { tokens: variant, weights } of retune(ctx, tokens, n, lo, rel, !opener, grammar.fragments)) {
        // Retune may add an adjective: not the opener again (`Still, I bring all the still friends`).
        if (opener && variant.some((t, i) => i > 0 && t.text === opener)) continue;
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

/** Score lost per word a line sung again loses or gains when it is set again on other notes (`refitLine`). */
const REFIT_CHANGE_COST = 2;

/**
 * A line sung again on other notes (the hook at the chorus's end, lyrics round 17), set to them as the line search
 * sets its own lines: as it is when its syllables fit the span (one a note, or fewer, the others held), else by
 * `retune` (an adjective out or in, a lead-in), also without its lead-in (`So`, `And`, `Oh,`); each way scored on
 * the notes like any line, less REFIT_CHANGE_COST per word put in or taken out, so it keeps its words where the notes
 * allow. Its last word stays. Null when no way fits the span.
 */
export function refitLine(ctx: WriterContext, tokens: readonly Token[], span: NoteSpan): Candidate | null {
  const n = span.noteCount;
  const lo = Math.max(1, Math.ceil(n / 2));
  const rel = spanStrengths(ctx.strengths, span.firstNote, n);
  const bases: Token[][] = [[...tokens]];
  if (LEAD_INS.includes(tokens[0]?.text ?? '') && tokens.length > 2)
    bases.push(tokens[0].text === 'oh' && tokens[1]?.text === ',' ? tokens.slice(2) : tokens.slice(1));
  const fragment = !tokens.some((t) => t.key?.startsWith('v:')) && !tokens.some((t) => BE_FORMS.has(t.text));
  const end = lastWord(tokens).toLowerCase();
  const words = (t: readonly Token[]): number => t.filter((x) => !isMark(x.text)).length;
  let best: Candidate | null = null;
  for (const base of bases) {
    for (const { tokens: variant, weights } of retune(ctx, base, n, lo, rel, true, fragment)) {
      if (lastWord(variant).toLowerCase() !== end) continue;
      const c = scoreCandidate(ctx, variant, weights, span, rel, null);
      if (!c) continue;
      c.score -= REFIT_CHANGE_COST * (words(tokens) - words(base) + Math.abs(words(variant) - words(base)));
      if (!best || c.score > best.score) best = c;
    }
  }
  return best;
}
const BE_FORMS = new Set(['am', 'is', 'are', 'was', 'were', 'be']);

/**
 * A hook on notes too few for a clause about the subject (`bicycle` on four notes): a fragment naming
 * it (`Oh, my bicycle`), so the chorus still says what the song is about.
 */
export function hookFragment(
  ctx: WriterContext,
  grammar: LineGrammar,
  span: NoteSpan,
  cap: number,
  need: RhymeNeed,
  subject: string | null,
  echoes: readonly Echo[],
  moodNeeded: boolean,
  moodOnly = false,
): Candidate | null {
  if (!subject) return null;
  grammar.fragments = true;
  const window = grammar.fragmentWindow;
  try {
    if (moodOnly) return moodNeeded ? searchLine(ctx, grammar, span, cap, need, null, subject, true, echoes) : null;
    const search = (): Candidate | null =>
      (moodNeeded ? searchLine(ctx, grammar, span, cap, need, null, subject, true, echoes) : null) ??
      searchLine(ctx, grammar, span, cap, need, null, subject, false, echoes) ??
      searchLine(ctx, grammar, span, cap, null, null, subject, false, echoes);
    // The song's window of shapes first (grammar.ts `fragmentLean`), then every shape: the hook must name the subject.
    const found = search();
    if (found) return found;
    grammar.fragmentWindow = 1;
    return search();
  } finally {
    grammar.fragments = false;
    grammar.fragmentWindow = window;
  }
}

const NOUN_DETERMINERS = new Set(['the', 'my', 'your', 'our', 'this', 'these', 'all', 'a', 'an', 'some', 'every']);

/** Metrical weights of a line's syllables (see `wordWeights`). */
function lineWeights(tokens: readonly Token[]): number[] {
  const out: number[] = [];
  for (const t of tokens) {
    if (isMark(t.text)) continue;
    for (const w of tokenWeights(t.text)) out.push(w);
  }
  return out;
}

/** Weights of a token's words (`the`, `let us`), by its text: a search weighs the same few hundred tokens thousands of times. */
function tokenWeights(text: string): readonly number[] {
  let w = tokenWeightCache.get(text);
  if (!w) {
    w = text.includes(' ') ? text.split(' ').flatMap((x) => wordWeights(x)) : wordWeights(text);
    if (tokenWeightCache.size > 50_000) tokenWeightCache.clear();
    tokenWeightCache.set(text, w);
  }
  return w;
}
const tokenWeightCache = new Map<string, readonly number[]>();

/** Stressed syllables that would start on weak notes (relative strength < 0.5) of a span of `rel.length` notes. */
function stressMisses(weights: readonly number[], rel: Float64Array): number {
  const starts = weights.length === rel.length ? null : melismaPlan(weights, rel).starts;
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
export const MISS_PENALTY = 8;
/**
 * The miss penalty in a song of a few lines, whose variants are ranked by mood carried before score
 * (writer.ts): there a stress on a weak note is a larger share of the song, and the ranking keeps the
 * mood that a larger penalty would otherwise outweigh in a long song's single variant (10 failed the
 * angry-mood test on the 20-phrase melody).
 */
export const SHORT_SONG_MISS_PENALTY = 10;
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
  fragment = false,
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
  // A fragment has no clause for `and` or `so` to join (`So my garden`): only `oh` leads one in.
  // Nor `so` before a line that has one (`So I am so alone`).
  const leads = (leadIn && !LEAD_INS.includes(tokens[0].text) ? (fragment ? FRAGMENT_LEAD_INS : LEAD_INS) : []).filter(
    (lead) => !tokens.some((t) => t.text === lead),
  );
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
        if (!isMark(t.text)) offset += syllablesOf(t.text);
      }
    }
  }
  // Least cost of stressed syllables on weak notes and held notes first (the line score's terms), then as derived.
  const cost = (v: { misses: number; weights: number[] }): number =>
    ctx.missPenalty * v.misses + HOLD_PENALTY * ctx.genre.holdPenalty * (rel.length - v.weights.length);
  out.sort((x, y) => cost(x) - cost(y));
  return out.slice(0, RETUNED_KEPT);
}
