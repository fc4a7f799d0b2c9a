/**
 * What `convertMelody` (pipeline.ts, which re-exports these) takes and gives: the request, its
 * ports and options, progress events and the outputs.
 */
import type { MelodyAnalysis } from './types.js';
import type { ValidationLimits } from './validate/validate.js';
import type { CompressedDecoder } from './decode/decode.js';
import type { LyricsResult } from './lyrics/lyrics.js';
import type { SingingEngine } from './voice/voice.js';
import type { FliteProgram } from './voice/flite/flite-run.js';
import type { Providers } from './providers.js';
import type { MelodyFile } from './score/melody-file.js';
import type { ConversionReport } from './quality/report.js';
import type { ConversionStage } from './stages.js';

export interface ProgressEvent {
  stage: ConversionStage;
  /** 0..100, never decreasing within one run. */
  percent: number;
  message: string;
}

/** Compressed output formats the encoder port must support. */
export type CompressedFormat = 'mp3' | 'opus';

/** The port that turns a WAV file (any PCM layout) into a compressed file. */
export interface AudioEncoder {
  encode(wav: Uint8Array, format: CompressedFormat, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
}

export interface ConvertRequest {
  /** The uploaded recording, any supported format (detected from the bytes). */
  audio: Uint8Array;
  /** The upload's original name, used only for the extension-mismatch warning. */
  fileName?: string;
  /** What the song is about: 10–500 characters after trimming. */
  prompt: string;
  /** e.g. `pop`, `ballad`, `folk`, `hip-hop`; 1–40 characters. */
  genre: string;
  /** e.g. `happy`, `romantic`, `sad`; 1–40 characters. */
  mood: string;
  /** User lyrics (≤ 5,000 characters) to align to the notes instead of writing new ones. */
  lyrics?: string | null;
  /** A key of VOICES (`low`, `high`); default `high`. */
  voice?: string | null;
  /** Integer seed for the lyrics and the voice; default 1. */
  seed?: number | null;
  /**
   * Notes to sing instead of the transcription (the user's correction, read from a MIDI or MusicXML
   * file by score/melody-file.ts), times in seconds. The recording is still validated and analysed;
   * key and phrases are then recomputed from these notes, and the tempo is the file's own (estimated
   * from the notes when the file states none).
   */
  melody?: MelodyFile | null;
}

export interface ConvertPorts {
  decoder: CompressedDecoder;
  encoder: AudioEncoder;
  /** Milliseconds from any origin, for stage timings (e.g. `performance.now`). Default: no timings (all 0). */
  clock?: () => number;
  /**
   * Lets pending events (an abort) run between steps. Default: a turn of the event loop via
   * setImmediate (due timers and I/O callbacks run before it resolves).
   */
  yieldControl?: () => Promise<void>;
  /** Remote lyrics provider and vocal engine with their fallback rule (see the module comment). Default: embedded engines only. */
  providers?: Providers;
  /** The compiled Flite program (src/platform/flite-program.ts) the default `flite` singing engine runs. */
  flite?: FliteProgram;
}

export interface ConvertOptions {
  limits?: Partial<ValidationLimits>;
  /** Target integrated loudness of the vocals, LUFS; default -14. */
  targetLufs?: number;
  /** True-peak ceiling, dBTP; default -1. */
  maxTruePeakDbtp?: number;
  /** Compressed companion of the WAV; default `mp3`. */
  compressedFormat?: CompressedFormat;
  /**
   * The embedded singing engine: `flite` (default when `ports.flite` is given) or `formant` (default
   * without it). `flite` without the port is a VALIDATION_ERROR (`ENGINE_UNAVAILABLE`).
   */
  engine?: SingingEngine;
  vibrato?: boolean;
  portamento?: boolean;
  breath?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface ConversionOutputs {
  /** 44.1 kHz 16-bit mono WAV. */
  vocalsWav: Uint8Array;
  vocalsCompressed: { format: CompressedFormat; extension: string; mimeType: string; bytes: Uint8Array };
  /** Standard MIDI File with one lyric event per note. */
  midi: Uint8Array;
  /** MusicXML 4.0 with lyrics. */
  musicXml: string;
  report: ConversionReport;
  lyrics: LyricsResult;
  analysis: MelodyAnalysis;
}
