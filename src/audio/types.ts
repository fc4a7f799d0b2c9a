/**
 * Plain data exchanged between the stages of the audio pipeline.
 * Times are in seconds, frequencies in Hz, levels in dBFS / LUFS unless a name says otherwise.
 */

/** Container/stream formats we accept, detected from the bytes (never from the file name). */
export type AudioFormat = 'wav' | 'mp3' | 'm4a' | 'aac' | 'ogg' | 'flac' | 'webm';

export const AUDIO_FORMATS: readonly AudioFormat[] = ['wav', 'mp3', 'm4a', 'aac', 'ogg', 'flac', 'webm'];

/** PCM audio as the decoder hands it over: one Float32Array per channel, samples in [-1, 1]. */
export interface DecodedAudio {
  format: AudioFormat;
  /** Codec inside the container, e.g. `pcm_s16le`, `mp3`, `aac`, `vorbis`, `opus`, `flac`. */
  codec: string;
  sampleRate: number;
  /** One array per channel, all the same length. */
  channels: Float32Array[];
  /** Overall bitrate in bits per second (file size × 8 / duration for compressed formats), null when unknown. */
  bitrate: number | null;
  /** Bits per sample of PCM/FLAC sources, null for lossy codecs. */
  bitsPerSample: number | null;
  /** True when the file ended before the length its header declares; `channels` holds what was there. */
  truncated?: boolean;
  /** True when decoding stopped at the caller's time cap: the recording is longer than `channels` holds. */
  capped?: boolean;
}

/** Mono samples plus their rate: what the analysis stages take. */
export interface MonoAudio {
  sampleRate: number;
  samples: Float32Array;
}

/** One problem found by validation: a stable machine code, a human message and the measured value. */
export interface ValidationIssue {
  code: string;
  message: string;
  /** The measured value that triggered the issue (bytes, seconds, Hz, dBFS…), when there is one. */
  value?: number | string | null;
  /** The configured limit it was compared against. */
  limit?: number | string | null;
}

export interface ValidationReport {
  /** True when there are no errors (warnings do not block). */
  ok: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
}

/** Fundamental-frequency contour on a fixed hop grid. */
export interface PitchTrack {
  /** Hop between frames in seconds (0.01 by default). */
  hopSeconds: number;
  /** Frame centre times in seconds. */
  times: Float64Array;
  /** f0 in Hz, 0 where the frame is unvoiced. */
  hz: Float32Array;
  /** Probability (0..1) that the frame is voiced. */
  voicedProbability: Float32Array;
}

/** A note: `midi` is the note's centre pitch as a float MIDI number (69 = A4 = 440 Hz). */
export interface NoteEvent {
  start: number;
  end: number;
  midi: number;
  /** 0..1 */
  confidence: number;
}

export type PitchClassName = 'C' | 'C#' | 'D' | 'D#' | 'E' | 'F' | 'F#' | 'G' | 'G#' | 'A' | 'A#' | 'B';

export interface KeyEstimate {
  tonic: PitchClassName;
  /** 0 = C … 11 = B */
  tonicPitchClass: number;
  mode: 'major' | 'minor';
  /** 0..1 */
  confidence: number;
  /** Human label, e.g. `A minor`. */
  label: string;
}

export interface TempoEstimate {
  bpm: number;
  /** 0..1 */
  confidence: number;
}

/** A group of consecutive notes separated from its neighbours by a rest or a long note. */
export interface Phrase {
  start: number;
  end: number;
  /** Index into the notes array of the first note of the phrase. */
  firstNote: number;
  /** Number of notes in the phrase. */
  noteCount: number;
}

export interface LoudnessReport {
  /** Integrated loudness per ITU-R BS.1770-4 (LUFS); -Infinity for silence, reported as null in JSON. */
  integratedLufs: number;
  /** Highest absolute sample value in dBFS. */
  samplePeakDbfs: number;
  /** True peak (4× oversampled) in dBTP. */
  truePeakDbtp: number;
  /** RMS level over the whole signal in dBFS (a full-scale sine reads -3.01). */
  meanDbfs: number;
  /** Share (0..1) of samples at or above the clipping threshold. */
  clippedRatio: number;
}

export interface MelodyAnalysis {
  durationSeconds: number;
  pitch: PitchTrack;
  notes: NoteEvent[];
  key: KeyEstimate | null;
  tempo: TempoEstimate | null;
  phrases: Phrase[];
  loudness: LoudnessReport;
}

/** Where a note's syllable sits in its word (MusicXML `<syllabic>` semantics). */
export type Syllabic = 'single' | 'begin' | 'middle' | 'end';

/**
 * A note with the lyric it carries: exactly one syllable, or a continuation (melisma) of the
 * previous note's syllable.
 */
export interface SungNote extends NoteEvent {
  /** Display text of the syllable (`sum`, `mer`); empty for a continuation. */
  syllable: string;
  /** True when this note holds the previous note's syllable (melisma). */
  continuation: boolean;
  syllabic: Syllabic;
  /** Phonemes of the syllable in ARPAbet without stress digits (`S`, `AH`, `M`); empty for a continuation. */
  phonemes: string[];
  /** True when the syllable carries lexical stress. */
  stressed: boolean;
  /** Index of the phrase (lyric line) the note belongs to. */
  phraseIndex: number;
}

/** What the singer sings and the score exporters write. */
export interface Score {
  notes: SungNote[];
  tempo: TempoEstimate | null;
  key: KeyEstimate | null;
  title?: string;
}
