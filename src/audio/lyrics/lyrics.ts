/**
 * The lyrics stage: embedded writer, user-lyrics alignment, lyric checks and quality score.
 * Import from here (or from the files named below) — see writer.ts, align.ts, checks.ts, fit.ts,
 * provider-lyrics.ts (replies of a remote lyrics provider).
 */
export { writeLyrics, writeLyricsSliced, planSections, type WriteLyricsRequest } from './writer.js';
export { alignLyrics, type AlignOptions } from './align.js';
export {
  checkLyrics,
  scoreLyrics,
  lineFits,
  rhymeSchemeForGenre,
  schemeGroups,
  type CheckOptions,
  type LyricsIssue,
  type ScoreOptions,
} from './checks.js';
export {
  fitSyllablesToNotes,
  normalizePhrases,
  noteStrengths,
  syllabifyLine,
  countLineSyllables,
  type NoteSpan,
  type LineSyllable,
} from './fit.js';
export {
  buildLyricsRequest,
  fitProviderLyrics,
  MIN_PROVIDER_SYLLABLE_FIT,
  MAX_UNKNOWN_WORD_SHARE,
  type ProviderLyricsVerdict,
} from './provider-lyrics.js';
export { extractPromptWords, sanitizeText } from './sanitize.js';
export type { LyricsResult, LyricLine, LyricSection, LyricsQuality, LyricsWarning, RhymeScheme, SectionKind } from './lyrics-result.js';
