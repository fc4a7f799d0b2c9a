/**
 * Fitting syllables to notes: the part shared by the embedded writer, user lyrics and (later) lyrics
 * from a remote model. Every note ends up with exactly one syllable or a continuation (melisma), a
 * phrase never starts with a continuation, and stressed syllables are steered onto strong notes.
 */
import type { NoteEvent, Phrase, SungNote, Syllabic, TempoEstimate } from '../types.js';
import { pronounce, type WordSyllable } from './pronouncing.js';
import { sanitizeText, tokenizeWords } from './sanitize.js';

/** A phrase after clean-up: a contiguous run of notes, tagged with the caller's phrase index. */
export interface NoteSpan {
  firstNote: number;
  noteCount: number;
  /** Index into the caller's phrases array (0 when the caller gave none). */
  phraseIndex: number;
}

/**
 * Turns the caller's phrases into contiguous spans that cover every note exactly once, in order.
 * Out-of-range and overlapping phrases are clipped, notes before the first phrase join it, notes in
 * gaps join the phrase before; without usable phrases all notes form one span.
 */
export function normalizePhrases(noteCount: number, phrases: readonly Phrase[]): NoteSpan[] {
  if (noteCount <= 0) return [];
  const sorted = phrases
    .map((p, i) => ({ first: Math.floor(Number(p?.firstNote)), count: Math.floor(Number(p?.noteCount)), index: i }))
    .filter((p) => Number.isFinite(p.first) && Number.isFinite(p.count) && p.count > 0 && p.first < noteCount && p.first + p.count > 0)
    .sort((x, y) => x.first - y.first || x.index - y.index);
  const spans: NoteSpan[] = [];
  let next = 0;
  for (const p of sorted) {
    const start = Math.max(p.first, next);
    const end = Math.min(p.first + p.count, noteCount);
    if (end <= start) continue;
    if (start > next) {
      if (spans.length) spans[spans.length - 1].noteCount += start - next;
      else {
        spans.push({ firstNote: 0, noteCount: end, phraseIndex: p.index });
        next = end;
        continue;
      }
    }
    spans.push({ firstNote: start, noteCount: end - start, phraseIndex: p.index });
    next = end;
  }
  if (spans.length === 0) return [{ firstNote: 0, noteCount, phraseIndex: 0 }];
  if (next < noteCount) spans[spans.length - 1].noteCount += noteCount - next;
  return spans;
}

/**
 * How suitable each note is for a stressed syllable, 0..1 per note.
 * Duration relative to the phrase's median (a note twice the median or longer scores 1) and, when a
 * tempo is known, metrical position in an assumed 4/4 bar anchored at the first note
 * (downbeat 1, beat 3 0.75, beats 2/4 0.5, off-beat eighth 0.25, other 0.1; Lerdahl & Jackendoff's
 * metrical grid, simplified). Weights: 0.55 duration + 0.45 metre with tempo, duration only without.
 */
export function noteStrengths(notes: readonly NoteEvent[], spans: readonly NoteSpan[], tempo?: TempoEstimate | null): Float64Array {
  const out = new Float64Array(notes.length);
  const bpm = tempo && Number.isFinite(tempo.bpm) && tempo.bpm >= 30 && tempo.bpm <= 300 ? tempo.bpm : 0;
  const period = bpm ? 60 / bpm : 0;
  const anchor = notes.length ? notes[0].start : 0;
  for (const span of spans) {
    const durs: number[] = [];
    for (let i = span.firstNote; i < span.firstNote + span.noteCount; i++) {
      const d = notes[i].end - notes[i].start;
      durs.push(Number.isFinite(d) ? Math.max(0.01, d) : 0.01);
    }
    const median = [...durs].sort((a, b) => a - b)[Math.floor(durs.length / 2)] || 0.01;
    for (let k = 0; k < durs.length; k++) {
      const i = span.firstNote + k;
      const dur = Math.min(1, durs[k] / (2 * median));
      if (!period) {
        out[i] = dur;
        continue;
      }
      const pos = (notes[i].start - anchor) / period;
      const beat = Math.round(pos);
      let metre = 0.1;
      if (!Number.isFinite(pos)) metre = 0.1;
      else if (Math.abs(pos - beat) < 0.12) metre = ((beat % 4) + 4) % 4 === 0 ? 1 : beat % 2 === 0 ? 0.75 : 0.5;
      else if (Math.abs(pos * 2 - Math.round(pos * 2)) < 0.24) metre = 0.25;
      out[i] = 0.55 * dur + 0.45 * metre;
    }
  }
  return out;
}

/** Monosyllables that are normally unstressed (articles, prepositions, conjunctions). */
const WEAK_WORDS = new Set('a an the of to and or but in on at by for with from as nor than'.split(' '));
/** Monosyllables whose stress depends on context (pronouns, auxiliaries): neither rewarded nor punished. */
const AMBIGUOUS_WORDS = new Set(
  `i you he she it we they me him her us them my your his its our their is am are was were be been do does did
  can could will would shall should may might must have has had this that these those so if when then there
  where what who how not no all just up out off down`.split(/\s+/),
);

/** A syllable in a line, with its place in its word. */
export interface LineSyllable extends WordSyllable {
  /** Index of the word in the line. */
  wordIndex: number;
  /** Position of the syllable in its word (0-based) and the word's syllable count. */
  syllableInWord: number;
  wordSyllables: number;
  /** Dictionary key of the word. */
  wordKey: string;
  /** 1 = should be stressed, 0 = should be weak, 0.5 = either (see WEAK_WORDS / AMBIGUOUS_WORDS). */
  weight: 0 | 0.5 | 1;
  /** False when the word's pronunciation was guessed (not in the dictionary). */
  known: boolean;
}

export interface SyllabifiedLine {
  /** Words in the line (sanitized display form and key). */
  words: { text: string; key: string; known: boolean }[];
  syllables: LineSyllable[];
}

/** Metrical weight of a syllable: lexical stress, with monosyllables judged by word class. */
function syllableWeight(key: string, syllableCount: number, stress: number): 0 | 0.5 | 1 {
  if (syllableCount === 1) return WEAK_WORDS.has(key) ? 0 : AMBIGUOUS_WORDS.has(key) ? 0.5 : 1;
  return stress === 1 ? 1 : stress === 2 ? 0.5 : 0;
}

const weightCache = new Map<string, number[]>();

/** Metrical weights (see `LineSyllable.weight`) of a word's syllables, memoized. */
export function wordWeights(word: string): number[] {
  let w = weightCache.get(word);
  if (!w) {
    const p = pronounce(word);
    w = p.syllables.map((s) => syllableWeight(p.key, p.syllables.length, s.stress));
    if (weightCache.size > 50_000) weightCache.clear();
    weightCache.set(word, w);
  }
  return w;
}

/** Sanitizes and splits a line of text into words and syllables (dictionary or letter-to-sound). */
export function syllabifyLine(text: string): SyllabifiedLine {
  const words = tokenizeWords(sanitizeText(text));
  const out: SyllabifiedLine = { words: [], syllables: [] };
  words.forEach((w) => {
    const p = pronounce(w.text);
    if (p.syllables.length === 0) return;
    const wordIndex = out.words.length;
    out.words.push({ text: w.text, key: w.key, known: p.known });
    p.syllables.forEach((s, k) => {
      out.syllables.push({
        ...s,
        wordIndex,
        syllableInWord: k,
        wordSyllables: p.syllables.length,
        wordKey: w.key,
        weight: syllableWeight(w.key, p.syllables.length, s.stress),
        known: p.known,
      });
    });
  });
  return out;
}

/** Number of sung syllables in a line of text. */
export function countLineSyllables(text: string): number {
  let n = 0;
  for (const w of tokenizeWords(sanitizeText(text))) n += pronounce(w.text).syllables.length;
  return n;
}

export interface FitOutcome {
  /** One SungNote per note of the span. */
  sung: SungNote[];
  /** Lower is better: stress mismatches plus the price of melismas or merges (comparable between candidates of one span). */
  cost: number;
  /** Notes sung as continuations. */
  melisma: number;
  /** Syllables that share a note with the syllable before them. */
  merged: number;
  /** Syllables left unsung (more than three per note). */
  dropped: number;
}

/** Most syllables one note may carry before the rest of the line is dropped. */
export const MAX_SYLLABLES_PER_NOTE = 3;

/** Strengths of one span's notes rescaled to 0..1 within the span (0.5 each when all are equal). */
export function relativeStrengths(strengths: Float64Array, first: number, count: number): Float64Array {
  const rel = new Float64Array(count);
  let lo = Infinity;
  let hi = -Infinity;
  for (let k = 0; k < count; k++) {
    const v = strengths[first + k] ?? 0;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  for (let k = 0; k < count; k++) {
    const v = ((strengths[first + k] ?? 0) - lo) / (hi - lo);
    rel[k] = hi - lo > 1e-6 && Number.isFinite(v) ? v : 0.5;
  }
  return rel;
}

/** Cost of starting a syllable of metrical weight `weight` on a note of relative strength `w`. */
function onsetCost(weight: number, w: number): number {
  if (weight === 1) return 1 - w;
  if (weight === 0) return 0.6 * w;
  return 0;
}

function syllabicOf(startsWord: boolean, endsWord: boolean): Syllabic {
  if (startsWord && endsWord) return 'single';
  if (startsWord) return 'begin';
  if (endsWord) return 'end';
  return 'middle';
}

function sungFrom(note: NoteEvent, group: LineSyllable[], phraseIndex: number): SungNote {
  const first = group[0];
  const last = group[group.length - 1];
  let text = '';
  group.forEach((s, k) => {
    if (k > 0 && s.wordIndex !== group[k - 1].wordIndex) text += ' ';
    text += s.text;
  });
  return {
    start: note.start,
    end: note.end,
    midi: note.midi,
    confidence: note.confidence,
    syllable: text,
    continuation: false,
    syllabic: syllabicOf(first.syllableInWord === 0, last.syllableInWord === last.wordSyllables - 1),
    phonemes: group.flatMap((s) => s.phonemes),
    stressed: group.some((s) => s.weight === 1),
    phraseIndex,
  };
}

function continuationOf(note: NoteEvent, held: SungNote): SungNote {
  return {
    start: note.start,
    end: note.end,
    midi: note.midi,
    confidence: note.confidence,
    syllable: '',
    continuation: true,
    // Continuations repeat the held syllable's position in its word so exporters can close hyphens/extenders.
    syllabic: held.syllabic,
    phonemes: [],
    stressed: false,
    phraseIndex: held.phraseIndex,
  };
}

/**
 * Melisma placement for `weights.length` ≤ `rel.length` syllables (metrical weights 0/0.5/1) on notes
 * of relative strength `rel` (0..1). Dynamic programming over (syllable, note): each syllable starts
 * on one note and holds the following ones until the next syllable; the last syllable holds to the end.
 * Costs: a stressed syllable on a weak note (1 − strength), a weak syllable on a strong note
 * (0.6 × strength), each held note 0.15 for the line's last syllable, 0.25 stressed, 0.4 ambiguous,
 * 0.6 weak, plus 0.2 × the held note's strength (a strong note without a new syllable).
 * @returns the total cost and the first note (0-based within the span) of each syllable.
 */
export function planMelisma(weights: readonly number[], rel: ArrayLike<number>): { cost: number; starts: Int32Array } {
  const s = weights.length;
  const n = rel.length;
  const starts = new Int32Array(s);
  if (s === n) {
    let cost = 0;
    for (let k = 0; k < s; k++) {
      starts[k] = k;
      cost += onsetCost(weights[k], rel[k]);
    }
    return { cost, starts };
  }
  // dp[k][j]: best cost with syllables 0..k-1 covering notes 0..j-1 (syllable k-1 ends at note j-1).
  const W = n + 1;
  const dp = new Float64Array((s + 1) * W).fill(Infinity);
  const from = new Int32Array((s + 1) * W).fill(-1);
  dp[0] = 0;
  for (let k = 0; k < s; k++) {
    const weight = weights[k];
    const lastOfLine = k === s - 1;
    const hold = lastOfLine ? 0.15 : weight === 1 ? 0.25 : weight === 0.5 ? 0.4 : 0.6;
    const maxEnd = n - (s - k - 1);
    for (let j = k; j < maxEnd; j++) {
      const base = dp[k * W + j];
      if (base === Infinity) continue;
      let cost = base + onsetCost(weight, rel[j]);
      const minEnd = lastOfLine ? n : j + 1;
      for (let end = j + 1; end <= maxEnd; end++) {
        if (end > j + 1) cost += hold + 0.2 * rel[end - 1];
        if (end < minEnd) continue;
        const idx = (k + 1) * W + end;
        if (cost < dp[idx]) {
          dp[idx] = cost;
          from[idx] = j;
        }
      }
    }
  }
  let end = n;
  for (let k = s; k >= 1; k--) {
    const j = from[k * W + end];
    starts[k - 1] = j;
    end = j;
  }
  return { cost: dp[s * W + n], starts };
}

/** Neutral vowel sung on a line that has no words, so no note is ever left without a syllable. */
const VOCALISE: LineSyllable = {
  text: 'ah',
  phonemes: ['AA'],
  stress: 1,
  wordIndex: 0,
  syllableInWord: 0,
  wordSyllables: 1,
  wordKey: 'ah',
  weight: 1,
  known: true,
};

/**
 * Places a line's syllables on the notes of one span.
 *
 * Fewer syllables than notes: each syllable takes one or more consecutive notes (melisma), chosen by
 * dynamic programming so stressed syllables start on strong notes and the held notes go preferably to
 * the line's last syllable, then to stressed syllables, least to weak function words.
 * More syllables than notes: consecutive syllables share a note (at most three), cheapest within a
 * word and between unstressed syllables; beyond three per note the trailing words are dropped.
 * An empty line is sung on `ah`.
 *
 * @param strengths per-note strengths over the whole notes array (see `noteStrengths`).
 */
export function fitSyllablesToNotes(
  syllablesIn: readonly LineSyllable[],
  notes: readonly NoteEvent[],
  span: NoteSpan,
  strengths: Float64Array,
): FitOutcome {
  const n = span.noteCount;
  const first = span.firstNote;
  if (n <= 0) return { sung: [], cost: 0, melisma: 0, merged: 0, dropped: 0 };
  let syllables = syllablesIn.length ? [...syllablesIn] : [VOCALISE];
  let dropped = 0;
  if (syllables.length > MAX_SYLLABLES_PER_NOTE * n) {
    // Drop whole trailing words until the rest fits.
    let keep = MAX_SYLLABLES_PER_NOTE * n;
    while (keep > 1 && syllables[keep - 1].syllableInWord !== syllables[keep - 1].wordSyllables - 1) keep--;
    dropped = syllables.length - keep;
    syllables = syllables.slice(0, keep);
  }
  const s = syllables.length;
  const rel = relativeStrengths(strengths, first, n);
  const sung: SungNote[] = [];
  if (s <= n) {
    const plan = planMelisma(
      syllables.map((x) => x.weight),
      rel,
    );
    for (let k = 0; k < s; k++) {
      const stop = k + 1 < s ? plan.starts[k + 1] : n;
      const head = sungFrom(notes[first + plan.starts[k]], [syllables[k]], span.phraseIndex);
      sung.push(head);
      for (let j = plan.starts[k] + 1; j < stop; j++) sung.push(continuationOf(notes[first + j], head));
    }
    return { sung, cost: plan.cost, melisma: n - s, merged: 0, dropped };
  }
  // s > n: dp[j][k]: notes 0..j-1 carry syllables 0..k-1.
  const W = s + 1;
  const dp = new Float64Array((n + 1) * W).fill(Infinity);
  const take = new Int8Array((n + 1) * W);
  dp[0] = 0;
  const joint = (a: LineSyllable, b: LineSyllable): number =>
    1 - (a.wordIndex === b.wordIndex ? 0.3 : 0) - (a.weight < 1 && b.weight < 1 ? 0.3 : 0) + (b.weight === 1 ? 0.5 : 0);
  for (let j = 0; j < n; j++) {
    for (let k = j; k < s; k++) {
      const base = dp[j * W + k];
      if (base === Infinity) continue;
      let mergeCost = 0;
      let weight = 0;
      for (let m = 1; m <= MAX_SYLLABLES_PER_NOTE && k + m <= s; m++) {
        const syl = syllables[k + m - 1];
        if (m > 1) mergeCost += joint(syllables[k + m - 2], syl) + (m > 2 ? 1 : 0);
        weight = Math.max(weight, syl.weight);
        const cost = base + mergeCost + onsetCost(weight, rel[j]);
        const idx = (j + 1) * W + k + m;
        if (cost < dp[idx]) {
          dp[idx] = cost;
          take[idx] = m;
        }
      }
    }
  }
  const sizes: number[] = [];
  let k = s;
  for (let j = n; j >= 1; j--) {
    const m = take[j * W + k];
    sizes.push(m);
    k -= m;
  }
  sizes.reverse();
  let at = 0;
  sizes.forEach((m, j) => {
    sung.push(sungFrom(notes[first + j], syllables.slice(at, at + m), span.phraseIndex));
    at += m;
  });
  return { sung, cost: dp[n * W + s], melisma: 0, merged: s - n, dropped };
}
