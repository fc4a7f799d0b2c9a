/**
 * What the lyrics stages hand over: the same shape whether the words were written by the embedded
 * writer, given by the user or returned by a remote model and fitted to the notes.
 */
import type { SungNote } from '../types.js';

export type SectionKind = 'verse' | 'chorus' | 'bridge' | 'intro' | 'outro';

/** Rhyme schemes the writer uses, applied in blocks of four lines within a section (see `schemeLetters`). */
export type RhymeScheme = 'AABB' | 'ABAB' | 'AAAA';

export interface LyricLine {
  /** The line as sung, e.g. `Dancing in the silver rain`. */
  text: string;
  /** Index into the phrases the caller passed (several lines share it only when a lone phrase was split). */
  phraseIndex: number;
  /** Normalized last word of the line (what rhymes). */
  rhymeWord: string;
  /** Index of the line's first note in the notes array. */
  firstNote: number;
  /** Number of notes the line is sung on. */
  noteCount: number;
  /** Syllables in `text` (dictionary count, letter-to-sound guess for unknown words). */
  syllableCount: number;
}

export interface LyricSection {
  kind: SectionKind;
  lines: LyricLine[];
}

/** Each measure is 0..1, higher is better; `score` combines them (form × grammaticality × plausibility × topic × story, see checks.ts). */
export interface LyricsQuality {
  score: number;
  /** Mean over lines of min(syllables, notes) / max(syllables, notes). */
  syllableFit: number;
  /** Share of stressed syllables that start on a long or strong-beat note of their phrase. */
  stressAlignment: number;
  /** Share of the rhyme pairs the scheme asks for whose line-end words rhyme (same word counts half). */
  rhyme: number;
  /** Share of the prompt's content words that appear in the lyrics (1 when there are none). */
  promptCoverage: number;
  /** Share of later chorus lines that repeat the first chorus's text (1 when there is no second chorus). */
  chorusRepeats: number;
  /** Share of distinct lines outside chorus repeats. */
  variety: number;
  /** Mean grammaticality of the distinct lines by a part-of-speech tagger (see sense.ts). */
  grammaticality: number;
  /** Share of the words' valence (AFINN-165) that has the requested mood's sign; 1 without a mood. */
  moodAgreement: number;
  /**
   * Mean over distinct lines of 1 − 2 × (share of content words that are rare in speech or follow a
   * preposition their class cannot take), floored at 0 (see sense.ts).
   */
  plausibility: number;
  /**
   * Whether the verses move the story on: per later verse or bridge, 0.7 × its share of content words
   * new to the song's stanzas (prompt words aside) + 0.3 when it turns in time; 1 with one verse (see sense.ts).
   */
  story: number;
}

/** Every quality term at 0: what a song not yet scored (or with no lines) carries. */
export function emptyQuality(): LyricsQuality {
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

export interface LyricsWarning {
  /** Stable machine code, e.g. `LYRICS_TOO_LONG`. */
  code: string;
  message: string;
  /** Syllables in the text, when relevant. */
  syllables?: number;
  /** Notes available, when relevant. */
  notes?: number;
  /** Syllables sung on a note shared with a neighbour syllable. */
  merged?: number;
  /** Syllables that could not be sung at all. */
  dropped?: number;
}

export interface LyricsResult {
  sections: LyricSection[];
  /** One entry per input note, in order: a syllable or a continuation (melisma). */
  sungNotes: SungNote[];
  quality: LyricsQuality;
  warnings: LyricsWarning[];
  /** Rhyme scheme the lines were written to, null for user lyrics. */
  scheme: RhymeScheme | null;
  /** Where the words came from: the embedded writer, the user, or a remote provider (see provider-lyrics.ts). */
  source: 'writer' | 'user' | 'provider';
  /** Seed of the variant that was kept (writer only). */
  seed?: number;
}
