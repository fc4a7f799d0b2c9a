/**
 * Lyrics from a remote provider (an LLM): what it is asked, and how its reply is judged with the same
 * machinery as the embedded writer before anything is sung.
 *
 * The request ({@link buildLyricsRequest}) has one slot per phrase (after `normalizePhrases`): the
 * number of notes (syllables wanted), one stress letter per note (`S` where the note's strength from
 * `noteStrengths` is in the upper half of its phrase's range, as the quality score's stress measure
 * counts it, else `w`) and the phrase's length in seconds.
 *
 * The reply ({@link fitProviderLyrics}) is repaired, then aligned and checked. Repair rule, in order:
 * 1. Content lines are the sanitised lines that are neither blank nor a section label (`[Chorus]`);
 *    labels and blank lines are kept where they are, as `alignLyrics` understands them.
 * 2. Content line i is meant for phrase i. A line far too long for it, more than 1.5 × the phrase's
 *    notes and at least 2 syllables over, is trimmed at word boundaries to at most the phrase's notes
 *    (its first word is always kept). Lines slightly too long are left to the alignment, which sings
 *    neighbouring unstressed syllables on one note.
 * 3. Content lines beyond the number of phrases are dropped.
 * 4. Missing phrases (fewer lines than phrases) are filled by repeating the reply's lines from the
 *    first, in order, after a blank line (songs repeat; this is what `alignLyrics` would do for short
 *    user lyrics, but line by line, so line i still meets phrase i).
 * Every repair is reported in the warning `LYRICS_PROVIDER_REPAIRED`.
 *
 * The repaired text is aligned to the notes with `alignLyrics`, scored with `scoreLyrics` and
 * checked with `checkLyrics`. The reply is rejected (and the caller uses the embedded writer) when:
 * - `EMPTY`: no singable words;
 * - `TOO_LONG`: the alignment reports `LYRICS_TOO_LONG` with syllables that could not be sung at all;
 * - `SYLLABLE_FIT`: the quality score's syllable fit is below {@link MIN_PROVIDER_SYLLABLE_FIT};
 * - `GARBAGE`: more than {@link MAX_UNKNOWN_WORD_SHARE} of the words are in neither the dictionary
 *   nor the prompt;
 * - `REPEATED_CHARACTERS` or `TOO_SHORT`: the embedded writer's own sanity checks fail.
 * Other check findings (a line a syllable off, a few unknown words) are kept as `LYRICS_*` warnings,
 * as they are for the embedded writer.
 */
import type { MelodyAnalysis } from '../types.js';
import type { LyricsDraft, LyricsPhraseSlot, LyricsRequest } from '../providers.js';
import { alignLyrics } from './align.js';
import { checkLyrics, type LyricsIssue } from './checks.js';
import { countLineSyllables, normalizePhrases, noteStrengths, relativeStrengths, type NoteSpan } from './fit.js';
import type { LyricsResult } from './lyrics-result.js';
import { isKnownWord, normalizeWord } from './pronouncing.js';
import { sanitizeText, tokenizeWords } from './sanitize.js';

/** Lowest syllable fit (0..1, see `LyricsQuality.syllableFit`) of an accepted reply. */
export const MIN_PROVIDER_SYLLABLE_FIT = 0.5;
/** Highest share of words in neither the dictionary nor the prompt in an accepted reply. */
export const MAX_UNKNOWN_WORD_SHARE = 0.3;
/** A line is trimmed when its syllables exceed this many times its phrase's notes (and by 2 or more). */
const FAR_TOO_LONG = 1.5;

/** The request fields that come from the user (sanitised) rather than from the analysis. */
export interface LyricsRequestText {
  prompt: string;
  genre: string;
  mood: string;
  seed: number;
}

/** The note spans lyrics are fitted to: one per phrase, covering every note (see `normalizePhrases`). */
function spansOf(analysis: Pick<MelodyAnalysis, 'notes' | 'phrases'>): NoteSpan[] {
  return normalizePhrases(analysis.notes.length, analysis.phrases);
}

/**
 * What a lyrics provider is asked for this melody: one slot per phrase (syllables = notes, stress
 * letters, seconds), plus the sanitised prompt, genre, mood, seed, key and tempo.
 */
export function buildLyricsRequest(
  text: LyricsRequestText,
  analysis: Pick<MelodyAnalysis, 'notes' | 'phrases' | 'key' | 'tempo'>,
): LyricsRequest {
  const spans = spansOf(analysis);
  const strengths = noteStrengths(analysis.notes, spans, analysis.tempo);
  const phrases: LyricsPhraseSlot[] = spans.map((span) => {
    const relative = relativeStrengths(strengths, span.firstNote, span.noteCount);
    let stresses = '';
    for (let k = 0; k < span.noteCount; k++) stresses += relative[k] >= 0.5 ? 'S' : 'w';
    const first = analysis.notes[span.firstNote];
    const last = analysis.notes[span.firstNote + span.noteCount - 1];
    return { syllables: span.noteCount, stresses, seconds: Number(Math.max(0, last.end - first.start).toFixed(3)) };
  });
  return { prompt: text.prompt, genre: text.genre, mood: text.mood, seed: text.seed, phrases, key: analysis.key, tempo: analysis.tempo };
}

/** Why a reply was not used; `reason` is stable, `message` is for people. */
export interface ProviderLyricsRejection {
  accepted: false;
  reason: 'EMPTY' | 'TOO_LONG' | 'SYLLABLE_FIT' | 'GARBAGE' | 'REPEATED_CHARACTERS' | 'TOO_SHORT';
  message: string;
}

export interface ProviderLyricsAcceptance {
  accepted: true;
  /** The aligned lyrics, `source: 'provider'`; its warnings include the alignment's (e.g. `LYRICS_REPEATED`). */
  result: LyricsResult;
  /** What was repaired (empty when the reply was used as it came), for `LYRICS_PROVIDER_REPAIRED`. */
  repairs: string[];
  /** Non-blocking findings of `checkLyrics`, reported as `LYRICS_<code>` like the embedded writer's. */
  issues: LyricsIssue[];
}

export type ProviderLyricsVerdict = ProviderLyricsAcceptance | ProviderLyricsRejection;

export interface FitProviderOptions {
  /** The sanitised prompt: its words count as known. */
  prompt: string;
  /** Content words of the prompt (`extractPromptWords`), for the coverage score. */
  promptWords: readonly string[];
}

const LABEL = /^\s*[[(]?\s*(verse|chorus|refrain|hook|bridge|intro|outro|pre-?chorus|post-?chorus)\b[^\]\n)]*[\])]?\s*:?\s*$/i;

/** `line` cut after its last whole word that keeps it within `maxSyllables` (the first word always stays). */
function trimLine(line: string, maxSyllables: number): string {
  const words = line.trim().split(/\s+/);
  let kept = 1;
  while (kept < words.length && countLineSyllables(words.slice(0, kept + 1).join(' ')) <= maxSyllables) kept++;
  return words
    .slice(0, kept)
    .join(' ')
    .replace(/[,;:\u2014\u2013-]+$/u, '');
}

/** Steps 1–4 of the module comment: the reply's text made to one content line per phrase. */
function repairDraft(lines: readonly string[], spans: readonly NoteSpan[]): { text: string; repairs: string[] } {
  const repairs: string[] = [];
  const out: string[] = [];
  const content: string[] = [];
  let trimmed = 0;
  let dropped = 0;
  for (const raw of lines) {
    // A provider may put several lines in one array entry.
    for (const piece of sanitizeText(typeof raw === 'string' ? raw : '').split('\n')) {
      const line = piece.replace(/\s+/g, ' ').trim();
      if (!line || LABEL.test(line)) {
        out.push(line);
        continue;
      }
      if (tokenizeWords(line).length === 0) continue;
      if (content.length >= spans.length) {
        dropped++;
        continue;
      }
      const notes = spans[content.length].noteCount;
      const syllables = countLineSyllables(line);
      let kept = line;
      if (syllables > FAR_TOO_LONG * notes && syllables >= notes + 2) {
        kept = trimLine(line, notes);
        trimmed++;
      }
      content.push(kept);
      out.push(kept);
    }
  }
  if (trimmed) repairs.push(`${trimmed} line(s) far too long for their phrase were shortened`);
  if (dropped) repairs.push(`${dropped} line(s) beyond the ${spans.length} phrase(s) were dropped`);
  if (content.length > 0 && content.length < spans.length) {
    const missing = spans.length - content.length;
    out.push('');
    for (let k = 0; k < missing; k++) {
      const notes = spans[content.length + k].noteCount;
      const again = content[k % content.length];
      // A repeated line may land on a shorter phrase: the same trimming rule applies.
      const syllables = countLineSyllables(again);
      out.push(syllables > FAR_TOO_LONG * notes && syllables >= notes + 2 ? trimLine(again, notes) : again);
    }
    repairs.push(`${missing} phrase(s) without a line were filled by repeating the reply's lines`);
  }
  return { text: out.join('\n').trim(), repairs };
}

/** Share of the text's words that are in neither the CMU dictionary nor the prompt. */
function unknownWordShare(text: string, prompt: string, promptWords: readonly string[]): number {
  const allowed = new Set<string>(promptWords.map((w) => normalizeWord(w)));
  for (const w of tokenizeWords(sanitizeText(prompt))) allowed.add(w.key);
  const words = tokenizeWords(text);
  if (words.length === 0) return 1;
  return words.filter((w) => !allowed.has(w.key) && !isKnownWord(w.key)).length / words.length;
}

/**
 * Repairs, aligns and checks a provider's reply against the melody (rules in the module comment).
 * Pure and deterministic; never throws for any reply shape.
 */
export function fitProviderLyrics(
  draft: LyricsDraft,
  analysis: Pick<MelodyAnalysis, 'notes' | 'phrases' | 'tempo'>,
  options: FitProviderOptions,
): ProviderLyricsVerdict {
  const spans = spansOf(analysis);
  const lines = Array.isArray(draft?.lines) ? draft.lines : [];
  const { text, repairs } = repairDraft(lines, spans);
  if (tokenizeWords(text).length === 0) return { accepted: false, reason: 'EMPTY', message: 'The reply has no singable words.' };

  const unknown = unknownWordShare(text, options.prompt, options.promptWords);
  if (unknown > MAX_UNKNOWN_WORD_SHARE) {
    return {
      accepted: false,
      reason: 'GARBAGE',
      message: `${Math.round(unknown * 100)} % of the words are in neither the dictionary nor the prompt.`,
    };
  }

  const aligned = alignLyrics(text, analysis.notes, analysis.phrases, { tempo: analysis.tempo, promptWords: options.promptWords });
  const tooLong = aligned.warnings.find((w) => w.code === 'LYRICS_TOO_LONG');
  if (tooLong && (tooLong.dropped ?? 0) > 0) {
    return { accepted: false, reason: 'TOO_LONG', message: `Even after repair the lyrics cannot all be sung: ${tooLong.message}` };
  }
  if (aligned.quality.syllableFit < MIN_PROVIDER_SYLLABLE_FIT) {
    return {
      accepted: false,
      reason: 'SYLLABLE_FIT',
      message: `The lines fit the phrases' notes too poorly (syllable fit ${aligned.quality.syllableFit.toFixed(2)}, at least ${MIN_PROVIDER_SYLLABLE_FIT} is needed).`,
    };
  }
  const verdict = checkLyrics(aligned, { prompt: options.prompt, promptWords: options.promptWords, noteCount: analysis.notes.length });
  for (const code of ['REPEATED_CHARACTERS', 'TOO_SHORT'] as const) {
    const issue = verdict.issues.find((i) => i.code === code);
    if (issue) return { accepted: false, reason: code, message: issue.message };
  }
  const result: LyricsResult = { ...aligned, source: 'provider' };
  return { accepted: true, result, repairs, issues: verdict.issues };
}
