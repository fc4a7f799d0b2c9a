/**
 * Turns uploaded bytes into PCM. The container is detected from the bytes ({@link detectFormat}); WAV is
 * read here, in pure code; every compressed format goes through an injected {@link CompressedDecoder}
 * (the platform's ffmpeg adapter in production), so this module stays free of I/O.
 */
import { AUDIO_FORMATS, type AudioFormat, type DecodedAudio, type MonoAudio, type ValidationIssue } from '../types.js';
import { AudioProcessingError, ValidationError, throwIfAborted } from '../errors.js';
import { mixdown } from '../dsp/mixdown.js';
import { describeNonAudio, detectFormat } from './sniff.js';
import { decodeWavSliced } from './wav.js';
import { driveSliced } from '../sliced.js';

/** Default decoding cap in seconds: the longest recording the product accepts (5 min). */
export const DEFAULT_MAX_DECODE_SECONDS = 300;

export interface CompressedDecodeOptions {
  /** The container as sniffed from the bytes; the decoder must not guess it again from anything else. */
  format: AudioFormat;
  /**
   * Decode at most about `maxSeconds + 1` seconds and set `capped` on the result when the input holds
   * more: a decompression bomb must not be able to fill memory.
   */
  maxSeconds: number;
  signal?: AbortSignal;
}

/**
 * The port for everything that is not plain WAV. Implementations reject with {@link ValidationError}
 * (issue codes `CORRUPT_FILE`, `TRUNCATED_FILE`…) when the input is bad, and with another `AppError`
 * when they themselves fail.
 */
export interface CompressedDecoder {
  decode(bytes: Uint8Array, options: CompressedDecodeOptions): Promise<DecodedAudio>;
}

export interface DecodeOptions {
  /** Needed for every format but WAV with PCM/float samples. */
  decoder?: CompressedDecoder;
  /** Decoding cap in seconds, see {@link CompressedDecodeOptions.maxSeconds}; default 300. */
  maxSeconds?: number;
  signal?: AbortSignal;
  /** Awaited between slices of reading a WAV file (see sliced.ts); may reject to stop. Default: none. */
  pause?: () => Promise<void>;
}

const FORMAT_LIST = AUDIO_FORMATS.map((f) => f.toUpperCase()).join(', ');

/** The issue for an empty upload. */
export function emptyFileIssue(): ValidationIssue {
  return { code: 'EMPTY_FILE', message: 'The file is empty (0 bytes).', value: 0 };
}

/** The issue for bytes that are not one of the audio formats we read; names the file type when it is a known one. */
export function unsupportedFormatIssue(bytes: Uint8Array): ValidationIssue {
  const what = describeNonAudio(bytes);
  const message = what
    ? `This file is ${what}, not audio. Please upload ${FORMAT_LIST}.`
    : `This file is not in a supported audio format. Please upload ${FORMAT_LIST}.`;
  return { code: 'UNSUPPORTED_FORMAT', message, value: what };
}

/**
 * Decodes any supported upload to PCM, keeping its native sample rate and channels.
 * @throws ValidationError `EMPTY_FILE`, `UNSUPPORTED_FORMAT`, `CORRUPT_FILE`, `TRUNCATED_FILE`,
 *   `TOO_MANY_CHANNELS` (absurd header claims) or whatever the compressed decoder reports.
 * @throws AudioProcessingError `NO_DECODER` when a compressed file arrives and no decoder was given.
 * @throws AbortedError when `signal` fires.
 */
export async function decodeAudio(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const maxSeconds = options.maxSeconds ?? DEFAULT_MAX_DECODE_SECONDS;
  throwIfAborted(options.signal);
  if (bytes.length === 0) throw new ValidationError([emptyFileIssue()]);
  const format = detectFormat(bytes);
  if (!format) throw new ValidationError([unsupportedFormatIssue(bytes)]);

  if (format === 'wav') {
    try {
      return await driveSliced(decodeWavSliced(bytes, { maxSeconds }), options.pause);
    } catch (error) {
      // ADPCM, µ-law, MP3-in-WAV…: not ours to read, but the general decoder may know them.
      if (!(error instanceof ValidationError && error.reason === 'UNSUPPORTED_CODEC' && options.decoder)) throw error;
    }
  }
  if (!options.decoder) {
    throw new AudioProcessingError(`No decoder is configured for ${format.toUpperCase()} files.`, { reason: 'NO_DECODER' });
  }
  const audio = await options.decoder.decode(bytes, { format, maxSeconds, signal: options.signal });
  throwIfAborted(options.signal);
  if (audio.channels.length === 0 || audio.channels[0].length === 0) {
    throw new ValidationError([
      { code: 'CORRUPT_FILE', message: `The ${format.toUpperCase()} file contains no decodable audio.`, value: 0 },
    ]);
  }
  return audio;
}

/** Averages the decoded channels into the mono signal the analysis stages take (see {@link mixdown}). */
export function toMonoAudio(audio: DecodedAudio): MonoAudio {
  return { sampleRate: audio.sampleRate, samples: mixdown(audio.channels) };
}

/** What a decoded recording is, without its samples: what a report or a stored row says of the file. */
export interface AudioFormatSummary {
  format: AudioFormat;
  /** Codec inside the container as ffmpeg names it (`mp3`, `aac`, `pcm_s16le`…). */
  codec: string;
  /** Hz. */
  sampleRate: number;
  /** Number of channels. */
  channels: number;
  /** bit/s, null when unknown. */
  bitrate: number | null;
}

/** The format fields of `audio` (its samples left out). */
export function formatSummary(audio: DecodedAudio): AudioFormatSummary {
  return {
    format: audio.format,
    codec: audio.codec,
    sampleRate: audio.sampleRate,
    channels: audio.channels.length,
    bitrate: audio.bitrate,
  };
}

/** Duration of decoded audio in seconds. */
export function durationSeconds(audio: DecodedAudio): number {
  return audio.channels.length ? audio.channels[0].length / audio.sampleRate : 0;
}
