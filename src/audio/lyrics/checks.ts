/**
 * Lyric checks and the lyrics-quality score, shared by the embedded writer, user lyrics and replies
 * from a remote model (which must pass the same checks, syllable fit included, or be repaired).
 */
import type { SungNote, TempoEstimate } from '../types.js';
import { countLineSyllables, noteStrengths, type NoteSpan } from './fit.js';
import type { LyricLine, LyricsQuality, LyricsResult, LyricSection, RhymeScheme } from './lyrics-result.js';
import { isKnownWord, normalizeWord, rhymePartOfWord } from './pronouncing.js';
import { REPEATED_RUN, sanitizeText, tokenizeWords } from './sanitize.js';
import { grammaticality, moodAgreement, plausibility, storyProgression } from './sense.js';

export interface LyricsIssue {
  code: 'REPEATED_CHARACTERS' | 'TOO_SHORT' | 'SINGLE_LINE' | 'UNKNOWN_WORDS' | 'SYLLABLE_MISMATCH';
  message: string;
}

export interface CheckOptions {
  /** Words allowed although not in the dictionary (the prompt's words; raw or normalized). */
  promptWords?: readonly string[];
  /** The prompt itself: all of its words are allowed too. */
  prompt?: string;
  /** Expected number of sung notes (the melody's note count); defaults to the lines' total. */
  noteCount?: number;
}

/** Minimum characters of lyric text (whitespace collapsed). */
export const MIN_LYRICS_CHARACTERS = 10;

function allLines(result: Pick<LyricsResult, 'sections'>): LyricLine[] {
  return result.sections.flatMap((s) => s.lines);
}

/**
 * Whether a line's syllables fit its notes: no more syllables than notes (one syllable per note at
 * most, no syllables squeezed together) and at least half as many (no more than half the notes held).
 */
export function lineFits(syllables: number, notes: number): boolean {
  return notes > 0 && syllables <= notes && syllables >= Math.ceil(notes / 2);
}

/**
 * Rejects lyrics that must not be shown or sung:
 * - `REPEATED_CHARACTERS` a run of 4+ identical characters in a line;
 * - `TOO_SHORT` fewer than 10 characters of text;
 * - `SINGLE_LINE` fewer than two non-empty lines;
 * - `UNKNOWN_WORDS` words in neither the CMU dictionary nor the prompt;
 * - `SYLLABLE_MISMATCH` the sung notes do not cover every note with one syllable or a continuation,
 *   a phrase starts with a continuation, or a line's syllables do not fit its notes (see `lineFits`).
 */
export function checkLyrics(
  result: Pick<LyricsResult, 'sections' | 'sungNotes'>,
  options: CheckOptions = {},
): { ok: boolean; issues: LyricsIssue[] } {
  const issues: LyricsIssue[] = [];
  const lines = allLines(result).filter((l) => sanitizeText(l.text).trim().length > 0);
  const texts = lines.map((l) => sanitizeText(l.text));
  const repeated = texts.find((t) => REPEATED_RUN.test(t));
  if (repeated !== undefined)
    issues.push({ code: 'REPEATED_CHARACTERS', message: `A line repeats one character four or more times: "${repeated.slice(0, 60)}".` });
  const chars = texts.join(' ').replace(/\s+/g, ' ').trim().length;
  if (chars < MIN_LYRICS_CHARACTERS)
    issues.push({ code: 'TOO_SHORT', message: `The lyrics have ${chars} characters; at least ${MIN_LYRICS_CHARACTERS} are needed.` });
  if (lines.length < 2) issues.push({ code: 'SINGLE_LINE', message: `The lyrics have ${lines.length} line(s); at least 2 are needed.` });

  const allowed = new Set<string>();
  for (const w of options.promptWords ?? []) allowed.add(normalizeWord(w));
  for (const w of tokenizeWords(sanitizeText(options.prompt ?? ''))) allowed.add(w.key);
  const unknown = new Set<string>();
  for (const t of texts) for (const w of tokenizeWords(t)) if (!allowed.has(w.key) && !isKnownWord(w.key)) unknown.add(w.key);
  if (unknown.size)
    issues.push({ code: 'UNKNOWN_WORDS', message: `Words not in the dictionary or the prompt: ${[...unknown].slice(0, 10).join(', ')}.` });

  const mismatches = syllableMismatches(result, options.noteCount);
  if (mismatches.length) issues.push({ code: 'SYLLABLE_MISMATCH', message: mismatches.slice(0, 5).join(' ') });
  return { ok: issues.length === 0, issues };
}

function syllableMismatches(result: Pick<LyricsResult, 'sections' | 'sungNotes'>, noteCount?: number): string[] {
  const out: string[] = [];
  const sung = result.sungNotes;
  const lines = allLines(result);
  const expected = noteCount ?? lines.reduce((a, l) => a + Math.max(0, l.noteCount), 0);
  if (sung.length !== expected) out.push(`There are ${sung.length} sung notes for ${expected} notes.`);
  if (sung.length && sung[0].continuation) out.push('The first note is a continuation.');
  sung.forEach((n, i) => {
    if (!n.continuation && (!n.syllable.trim() || n.phonemes.length === 0)) out.push(`Note ${i} has no syllable.`);
  });
  lines.forEach((line, k) => {
    const slice = sung.slice(line.firstNote, line.firstNote + line.noteCount);
    if (line.noteCount <= 0 || slice.length !== line.noteCount) {
      out.push(`Line ${k + 1} has no notes.`);
      return;
    }
    if (slice[0].continuation) out.push(`Line ${k + 1} starts with a continuation.`);
    const syllables = countLineSyllables(line.text);
    const onsets = slice.filter((n) => !n.continuation).length;
    if (!lineFits(syllables, line.noteCount)) out.push(`Line ${k + 1} has ${syllables} syllables for ${line.noteCount} notes.`);
    else if (onsets !== syllables) out.push(`Line ${k + 1} sings ${onsets} syllables but its text has ${syllables}.`);
  });
  return out;
}

/* ------------------------------------------------------------------ rhyme schemes */

/**
 * Which lines of a section must rhyme together: a group id per line.
 * AAAA: every line. AABB: consecutive pairs, an odd last line joins the pair before.
 * ABAB: alternate lines within blocks of four; a leftover pair rhymes together, a leftover single line
 * joins the line before, a leftover three rhyme together.
 */
export function schemeGroups(scheme: RhymeScheme, count: number): number[] {
  const out: number[] = [];
  if (scheme === 'AAAA') return new Array<number>(count).fill(0);
  if (scheme === 'AABB') {
    for (let i = 0; i < count; i++) out.push(Math.floor(i / 2));
    if (count > 1 && count % 2 === 1) out[count - 1] = out[count - 2];
    return out;
  }
  const full = Math.floor(count / 4);
  for (let i = 0; i < full * 4; i++) out.push(Math.floor(i / 4) * 2 + (i % 2));
  const rest = count - full * 4;
  if (rest === 1 && count > 1) out.push(out[count - 2]);
  else for (let i = 0; i < rest; i++) out.push(full * 2);
  return out;
}

/** The rhyme scheme used for a genre: AAAA for rap/hip-hop, ABAB for ballad/folk/jazz/soul, AABB otherwise. */
export function rhymeSchemeForGenre(genre: string): RhymeScheme {
  const g = sanitizeText(genre).toLowerCase();
  if (/rap|hip|trap|grime|drill/.test(g)) return 'AAAA';
  if (/ballad|folk|jazz|soul|r&b|rnb|classical|musical|lullaby|gospel/.test(g)) return 'ABAB';
  return 'AABB';
}

function rhymeScore(sections: readonly LyricSection[], scheme: RhymeScheme): number {
  let pairs = 0;
  let got = 0;
  for (const section of sections) {
    const groups = schemeGroups(scheme, section.lines.length);
    const lastOf = new Map<number, LyricLine>();
    section.lines.forEach((line, i) => {
      const prev = lastOf.get(groups[i]);
      lastOf.set(groups[i], line);
      if (!prev) return;
      pairs++;
      const a = normalizeWord(prev.rhymeWord);
      const b = normalizeWord(line.rhymeWord);
      if (!a || !b) return;
      if (a === b) got += 0.5;
      else if (rhymePartOfWord(a) === rhymePartOfWord(b)) got += 1;
    });
  }
  return pairs ? got / pairs : 1;
}

/* ------------------------------------------------------------------ quality */

export interface ScoreOptions {
  /** The prompt's content words (see `extractPromptWords`). */
  promptWords?: readonly string[];
  tempo?: TempoEstimate | null;
  /** Scheme to judge rhymes by; when absent the result's scheme, else the best of all schemes. */
  scheme?: RhymeScheme | null;
  /** The requested mood; without one (user lyrics) mood agreement is 1. */
  mood?: string;
}

/**
 * `score` = form × grammaticality × (0.5 + 0.5 × plausibility) × (0.5 + 0.25 × mood agreement + 0.25 × prompt coverage)
 * × (0.8 + 0.2 × story).
 * Form: how the words sit on the melody and as a song (weights sum to 1). Then whether they mean
 * something, as a factor: perfectly fitted, rhymed noun salad must not pass as good lyrics, and
 * neither prompt words nor mood words can make up for lines that are not English.
 */
export const FORM_WEIGHTS = { syllableFit: 0.3, stressAlignment: 0.25, rhyme: 0.2, chorusRepeats: 0.1, variety: 0.15 } as const;
/** Share of the score that rides on plausibility (rare words, prepositions before nouns they cannot take; see sense.ts). */
export const PLAUSIBILITY_WEIGHT = 0.5;
/** Share of the score that rides on the verses moving the story on (see `storyProgression` in sense.ts). */
export const STORY_WEIGHT = 0.2;
/** Weights inside the topical factor (they sum to 1 with the 0.5 floor). */
export const TOPIC_WEIGHTS = { moodAgreement: 0.25, promptCoverage: 0.25 } as const;

function stressAlignment(sung: readonly SungNote[], lines: readonly LyricLine[], tempo?: TempoEstimate | null): number {
  const spans: NoteSpan[] = lines
    .filter((l) => l.noteCount > 0 && l.firstNote >= 0 && l.firstNote + l.noteCount <= sung.length)
    .map((l) => ({ firstNote: l.firstNote, noteCount: l.noteCount, phraseIndex: l.phraseIndex }));
  const strengths = noteStrengths(sung, spans, tempo);
  let stressed = 0;
  let hits = 0;
  for (const span of spans) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = span.firstNote; i < span.firstNote + span.noteCount; i++) {
      lo = Math.min(lo, strengths[i]);
      hi = Math.max(hi, strengths[i]);
    }
    for (let i = span.firstNote; i < span.firstNote + span.noteCount; i++) {
      if (sung[i].continuation || !sung[i].stressed) continue;
      stressed++;
      const rel = hi - lo > 1e-6 ? (strengths[i] - lo) / (hi - lo) : 1;
      if (rel >= 0.5) hits++;
    }
  }
  return stressed ? hits / stressed : 1;
}

function lineKey(text: string): string {
  return tokenizeWords(sanitizeText(text))
    .map((w) => w.key)
    .join(' ');
}

/**
 * The lyrics-quality measures and their weighted score, all in 0..1 (see `LyricsQuality`).
 * Pure function of the result, so any source of lyrics can be scored the same way.
 */
export function scoreLyrics(result: Pick<LyricsResult, 'sections' | 'sungNotes' | 'scheme'>, options: ScoreOptions = {}): LyricsQuality {
  const lines = allLines(result);
  const fits = lines.map((l) => {
    const s = countLineSyllables(l.text);
    return l.noteCount > 0 && s > 0 ? Math.min(s, l.noteCount) / Math.max(s, l.noteCount) : 0;
  });
  const syllableFit = fits.length ? fits.reduce((a, b) => a + b, 0) / fits.length : 0;

  const scheme = options.scheme !== undefined ? options.scheme : result.scheme;
  const rhyme = scheme
    ? rhymeScore(result.sections, scheme)
    : Math.max(...(['AABB', 'ABAB', 'AAAA'] as const).map((s) => rhymeScore(result.sections, s)));

  const lyricWords = new Set<string>();
  for (const l of lines) for (const w of tokenizeWords(sanitizeText(l.text))) lyricWords.add(w.key);
  const prompt = [...new Set((options.promptWords ?? []).map(normalizeWord).filter(Boolean))];
  const covered = prompt.filter((w) => lyricWords.has(w) || lyricWords.has(`${w}s`) || (w.endsWith('s') && lyricWords.has(w.slice(0, -1))));
  const promptCoverage = prompt.length ? covered.length / prompt.length : 1;

  const choruses = result.sections.filter((s) => s.kind === 'chorus');
  let chorusRepeats = 1;
  if (choruses.length >= 2) {
    const first = choruses[0].lines.map((l) => lineKey(l.text));
    let total = 0;
    let same = 0;
    for (const c of choruses.slice(1)) {
      c.lines.forEach((l, j) => {
        total++;
        if (first[j] !== undefined && first[j] === lineKey(l.text)) same++;
      });
    }
    chorusRepeats = total ? same / total : 1;
  }

  const firstChorus = choruses[0];
  // A chorus singing its hook (its first line) again is its form, not a line said twice (lyrics round 17).
  const considered = result.sections
    .filter((s) => s.kind !== 'chorus' || s === firstChorus)
    .flatMap((s) =>
      s.lines.filter((l, i) => s.kind !== 'chorus' || i === 0 || lineKey(l.text) !== lineKey(s.lines[0].text)).map((l) => lineKey(l.text)),
    );
  const variety = considered.length ? new Set(considered).size / considered.length : 1;

  const stress = stressAlignment(result.sungNotes, lines, options.tempo);
  const texts = lines.map((l) => sanitizeText(l.text));
  const grammar = grammaticality(texts);
  const sense = plausibility(texts, options.promptWords ?? []);
  const mood = options.mood ? moodAgreement(texts, options.mood) : 1;
  const f = FORM_WEIGHTS;
  const t = TOPIC_WEIGHTS;
  const form =
    f.syllableFit * syllableFit + f.stressAlignment * stress + f.rhyme * rhyme + f.chorusRepeats * chorusRepeats + f.variety * variety;
  const topic = 0.5 + t.moodAgreement * mood + t.promptCoverage * promptCoverage;
  const story = storyProgression(
    result.sections.map((s) => ({ kind: s.kind, lines: s.lines.map((l) => sanitizeText(l.text)) })),
    options.promptWords ?? [],
  );
  const score =
    form * grammar * (1 - PLAUSIBILITY_WEIGHT + PLAUSIBILITY_WEIGHT * sense) * topic * (1 - STORY_WEIGHT + STORY_WEIGHT * story);
  const clamp = (x: number) => Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0));
  return {
    score: clamp(score),
    syllableFit: clamp(syllableFit),
    stressAlignment: clamp(stress),
    rhyme: clamp(rhyme),
    promptCoverage: clamp(promptCoverage),
    chorusRepeats: clamp(chorusRepeats),
    variety: clamp(variety),
    grammaticality: clamp(grammar),
    moodAgreement: clamp(mood),
    plausibility: clamp(sense),
    story: clamp(story),
  };
}
