/**
 * The two engines a conversion can hand to a provider instead of the embedded ones: the lyrics
 * writer and the singing voice. These are ports: the pipeline stays pure and calls them through these
 * interfaces; the service plugs in remote implementations (src/platform/providers/, contracts in
 * docs/providers.md) wrapped in breakers, retries and timeouts. With no provider given, or when a
 * provider fails with a remote error (AI_SERVICE_ERROR or TIMEOUT_ERROR), the pipeline uses the
 * embedded engine and says so in the report's warnings.
 */
import type { KeyEstimate, TempoEstimate } from './types.js';

/** One melodic phrase a lyric line must fit. */
export interface LyricsPhraseSlot {
  /** Notes in the phrase: the syllables a line should have (a few more or fewer can be repaired). */
  syllables: number;
  /** One letter per note: `S` strong (long or on a beat), `w` weak. Stressed syllables belong on `S`. */
  stresses: string;
  /** Length of the phrase, s. */
  seconds: number;
}

/** What a lyrics provider is asked for: one line per phrase, in order. */
export interface LyricsRequest {
  /** The user's prompt, sanitised (10–500 characters). */
  prompt: string;
  genre: string;
  mood: string;
  /** The request's seed, for providers that can be made deterministic. */
  seed: number;
  phrases: LyricsPhraseSlot[];
  key: KeyEstimate | null;
  tempo: TempoEstimate | null;
}

/** A provider's answer: the lines it wrote, which the pipeline checks and aligns to the notes itself. */
export interface LyricsDraft {
  /** One line per phrase, ideally; section labels (`[Chorus]`) and blank lines are allowed. */
  lines: string[];
  /** Who wrote them, e.g. `llm:gpt-4o-mini`; shown in the report. */
  source: string;
}

export interface ProviderCallOptions {
  /** Aborts the call (job cancelled, job timeout, worker shutdown). */
  signal?: AbortSignal;
}

export interface LyricsProvider {
  /** Short stable id, e.g. `llm`; names the breaker and the warnings. */
  readonly name: string;
  /**
   * Writes lyric lines for the phrases.
   * @throws AppError AI_SERVICE_ERROR (reason e.g. CIRCUIT_OPEN, RETRIES_EXHAUSTED, BAD_RESPONSE) or
   *   TIMEOUT_ERROR when the provider cannot answer; AbortedError when `signal` aborted.
   */
  writeLyrics(request: LyricsRequest, options?: ProviderCallOptions): Promise<LyricsDraft>;
}

/** One sung note of the score as a remote engine receives it. */
export interface VocalNote {
  /** MIDI note number to sing (already transposed into the voice's range), may be fractional. */
  midi: number;
  /** Start and length, s. */
  start: number;
  duration: number;
  /** The syllable sung on this note; empty when the note holds the previous syllable (melisma). */
  syllable: string;
  /** ARPAbet phonemes of the syllable (no stress digits); empty for a held note. */
  phonemes: string[];
  continuation: boolean;
  stressed: boolean;
  /** Index of the lyric line (phrase). */
  phrase: number;
}

/** What a vocal engine is asked to sing. */
export interface VocalRequest {
  /** The user's original recording, as uploaded (any supported format), for engines that follow its expression. */
  melody: Uint8Array;
  /** The upload's file name (display only), or null. */
  fileName: string | null;
  notes: VocalNote[];
  /** Full lyrics text, lines separated by newlines. */
  lyrics: string;
  /** Voice id of the request (`low`, `high`). */
  voice: string;
  seed: number;
  prompt: string;
  genre: string;
  mood: string;
  tempoBpm: number | null;
  key: string | null;
  /** The rate the pipeline wants back, Hz (44100); engines may answer at another rate. */
  sampleRate: number;
}

/** A vocal engine's answer: a WAV file (any PCM layout and rate) of the sung vocals. */
export interface VocalTake {
  wav: Uint8Array;
  /** Who sang it, e.g. `expert-music-ai`; shown in the report. */
  source: string;
}

export interface VocalEngine {
  readonly name: string;
  /**
   * Sings the notes. @throws as {@link LyricsProvider.writeLyrics}.
   */
  sing(request: VocalRequest, options?: ProviderCallOptions): Promise<VocalTake>;
}

/** The providers one conversion may use; either may be absent (embedded engine only). */
export interface Providers {
  lyrics?: LyricsProvider | null;
  vocals?: VocalEngine | null;
  /** When false, a failing provider fails the conversion instead of falling back. Default true. */
  fallback?: boolean;
}
