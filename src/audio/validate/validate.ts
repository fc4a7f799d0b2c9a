/**
 * Upload validation: what can be checked on the raw bytes ({@link validateBytes}) and what needs the
 * decoded audio ({@link validateAudio}). Errors block the conversion, warnings do not. Every issue has a
 * stable `code`, a human `message`, the measured `value` and the `limit` it was compared with.
 */
import { AUDIO_FORMATS, type AudioFormat, type DecodedAudio, type ValidationIssue, type ValidationReport } from '../types.js';
import { ValidationError } from '../errors.js';
import { measureLevelsSliced, type LevelStats } from '../loudness/levels.js';
import { driveSliced } from '../sliced.js';
import { decodeAudio, durationSeconds, emptyFileIssue, unsupportedFormatIssue, type CompressedDecoder } from '../decode/decode.js';
import { detectFormat } from '../decode/sniff.js';

export interface ValidationLimits {
  /** Largest upload in bytes. Default 50 MB (50 × 1024 × 1024). */
  maxFileBytes: number;
  /** Shortest recording in seconds. Default 1. */
  minDurationSeconds: number;
  /** Longest recording in seconds. Default 300 (5 min); decoding stops one second past it. */
  maxDurationSeconds: number;
  /**
   * Slack in seconds on `maxDurationSeconds` for the padding lossy encoders add (an MP3 of exactly
   * 300 s decodes to 300.017 s with ffmpeg 4.1). Default 0.1.
   */
  durationToleranceSeconds: number;
  /** Containers accepted (detected from the bytes). Default all six: wav, mp3, m4a, aac, ogg, flac. */
  allowedFormats: readonly AudioFormat[];
  /** Below this sample rate (Hz) the file is rejected: pitch detail above 8 kHz is gone. Default 16 000. */
  minSampleRate: number;
  /** Below this sample rate (Hz) a warning says quality may suffer. Default 44 100. */
  recommendedSampleRate: number;
  /** Most channels accepted. Default 2. */
  maxChannels: number;
  /** Lossy streams (MP3, AAC, Vorbis, Opus) below this bitrate (bit/s) get a warning. Default 64 000. */
  minLossyBitrate: number;
  /** RMS level (dBFS over all samples) below which the recording counts as silent, an error. Default -60. */
  silenceDbfs: number;
  /** Sample peak (dBFS) above which a clipping warning is given. Default -0.1. */
  clipDbfs: number;
  /**
   * Share (0..1) of samples at or above `clipDbfs` needed for the clipping warning besides the peak.
   * Default 0: any sample over the threshold warns, as the issue asks. Raise (e.g. 0.0001) to forgive
   * a single normalised peak.
   */
  minClippedRatio: number;
}

/** The defaults every limit falls back to; see {@link ValidationLimits} for what each means. */
export const DEFAULT_VALIDATION_LIMITS: Readonly<ValidationLimits> = Object.freeze({
  maxFileBytes: 50 * 1024 * 1024,
  minDurationSeconds: 1,
  maxDurationSeconds: 300,
  durationToleranceSeconds: 0.1,
  allowedFormats: AUDIO_FORMATS,
  minSampleRate: 16_000,
  recommendedSampleRate: 44_100,
  maxChannels: 2,
  minLossyBitrate: 64_000,
  silenceDbfs: -60,
  clipDbfs: -0.1,
  minClippedRatio: 0,
});

const LOSSY_CODECS = new Set(['mp3', 'aac', 'vorbis', 'opus', 'mp2', 'ac3', 'eac3', 'wmav2', 'amr_nb', 'amr_wb', 'speex']);

/** The result of the byte-level checks, with the detected container. */
export interface BytesValidationReport extends ValidationReport {
  /** Container detected from the bytes, null when none was recognised. */
  format: AudioFormat | null;
}

function report(errors: ValidationIssue[], warnings: ValidationIssue[]): ValidationReport {
  return { ok: errors.length === 0, errors, warnings };
}

function withDefaults(limits: Partial<ValidationLimits> | undefined): ValidationLimits {
  return { ...DEFAULT_VALIDATION_LIMITS, ...limits };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
/** dB values for JSON: -Infinity (digital silence) is not representable, so it becomes null. */
const dbValue = (db: number) => (Number.isFinite(db) ? round(db, 2) : null);
const mb = (bytes: number) => `${round(bytes / (1024 * 1024), 1)} MB`;
const khz = (hz: number) => `${round(hz / 1000, 2)} kHz`;
const formatList = (formats: readonly AudioFormat[]) => formats.map((f) => f.toUpperCase()).join(', ');

/** File extensions that name each container, for the extension-mismatch warning. */
const EXTENSIONS: Record<AudioFormat, string[]> = {
  wav: ['wav', 'wave'],
  mp3: ['mp3'],
  m4a: ['m4a', 'mp4', 'aac', 'm4b', '3gp'],
  aac: ['aac', 'adts'],
  ogg: ['ogg', 'oga', 'opus'],
  flac: ['flac'],
  webm: ['webm', 'weba', 'mka'],
};

/**
 * Checks what the raw upload alone can tell: `EMPTY_FILE`, `FILE_TOO_LARGE`, `UNSUPPORTED_FORMAT`
 * (not audio we read; the message names PNG, ZIP, text… when recognisable), `FORMAT_NOT_ALLOWED`
 * (errors); `EXTENSION_MISMATCH` (warning) when `fileName` is given and its extension names another
 * format than the bytes hold: the bytes win.
 */
export function validateBytes(
  bytes: Uint8Array,
  limits?: Partial<ValidationLimits>,
  options: { fileName?: string } = {},
): BytesValidationReport {
  const l = withDefaults(limits);
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  if (bytes.length === 0) return { ...report([emptyFileIssue()], warnings), format: null };
  if (bytes.length > l.maxFileBytes) {
    errors.push({
      code: 'FILE_TOO_LARGE',
      message: `The file is ${mb(bytes.length)}; uploads must be at most ${mb(l.maxFileBytes)}.`,
      value: bytes.length,
      limit: l.maxFileBytes,
    });
  }
  const format = detectFormat(bytes);
  if (!format) {
    errors.push(unsupportedFormatIssue(bytes));
  } else if (!l.allowedFormats.includes(format)) {
    errors.push({
      code: 'FORMAT_NOT_ALLOWED',
      message: `${format.toUpperCase()} files are not accepted here; please upload ${formatList(l.allowedFormats)}.`,
      value: format,
      limit: l.allowedFormats.join(','),
    });
  }
  const extension = options.fileName?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (format && extension && !EXTENSIONS[format].includes(extension)) {
    warnings.push({
      code: 'EXTENSION_MISMATCH',
      message: `The file is named .${extension} but contains ${format.toUpperCase()} audio; it was read as ${format.toUpperCase()}.`,
      value: extension,
      limit: format,
    });
  }
  return { ...report(errors, warnings), format };
}

/**
 * Checks decoded audio and its levels (from {@link measureLevels} with `limits.clipDbfs`).
 * Errors: `TOO_SHORT`, `TOO_LONG`, `SAMPLE_RATE_TOO_LOW`, `TOO_MANY_CHANNELS`, `SILENT`.
 * Warnings: `LOW_SAMPLE_RATE`, `LOW_BITRATE` (lossy codecs only), `CLIPPING`, `TRUNCATED_FILE`
 * (the decoder read less than the file declares; the rest is checked on what was there). A truncated
 * file too short to use is an error whose first issue is `TRUNCATED_FILE` (then `TOO_SHORT`).
 */
export function validateAudio(decoded: DecodedAudio, levels: LevelStats, limits?: Partial<ValidationLimits>): ValidationReport {
  const l = withDefaults(limits);
  const errors: ValidationIssue[] = [];
  const warnings: ValidationIssue[] = [];
  const seconds = durationSeconds(decoded);

  if (seconds < l.minDurationSeconds) {
    errors.push({
      code: 'TOO_SHORT',
      message: `The recording is ${round(seconds, 2)} s long; melodies must be at least ${l.minDurationSeconds} s.`,
      value: round(seconds, 3),
      limit: l.minDurationSeconds,
    });
  }
  if (seconds > l.maxDurationSeconds + l.durationToleranceSeconds || decoded.capped) {
    errors.push({
      code: 'TOO_LONG',
      message: decoded.capped
        ? `The recording is longer than ${round(seconds, 1)} s; melodies can be at most ${l.maxDurationSeconds} s.`
        : `The recording is ${round(seconds, 1)} s long; melodies can be at most ${l.maxDurationSeconds} s.`,
      value: round(seconds, 3),
      limit: l.maxDurationSeconds,
    });
  }
  if (decoded.sampleRate < l.minSampleRate) {
    errors.push({
      code: 'SAMPLE_RATE_TOO_LOW',
      message: `The sample rate is ${khz(decoded.sampleRate)}; at least ${khz(l.minSampleRate)} is needed to hear the melody clearly.`,
      value: decoded.sampleRate,
      limit: l.minSampleRate,
    });
  } else if (decoded.sampleRate < l.recommendedSampleRate) {
    warnings.push({
      code: 'LOW_SAMPLE_RATE',
      message: `The sample rate is ${khz(decoded.sampleRate)}; ${khz(l.recommendedSampleRate)} or more gives better results.`,
      value: decoded.sampleRate,
      limit: l.recommendedSampleRate,
    });
  }
  if (decoded.channels.length > l.maxChannels) {
    errors.push({
      code: 'TOO_MANY_CHANNELS',
      message: `The file has ${decoded.channels.length} channels; at most ${l.maxChannels} ${l.maxChannels === 1 ? 'is' : 'are'} accepted (mono or stereo).`,
      value: decoded.channels.length,
      limit: l.maxChannels,
    });
  }
  if (decoded.bitrate !== null && LOSSY_CODECS.has(decoded.codec) && decoded.bitrate < l.minLossyBitrate) {
    warnings.push({
      code: 'LOW_BITRATE',
      message: `The file is compressed at ${Math.round(decoded.bitrate / 1000)} kb/s; ${Math.round(l.minLossyBitrate / 1000)} kb/s or more keeps the pitch detail the analysis needs.`,
      value: decoded.bitrate,
      limit: l.minLossyBitrate,
    });
  }
  if (seconds > 0 && !(levels.meanDbfs >= l.silenceDbfs)) {
    errors.push({
      code: 'SILENT',
      message: Number.isFinite(levels.meanDbfs)
        ? `The recording is almost silent (average level ${round(levels.meanDbfs, 1)} dBFS, below ${l.silenceDbfs} dBFS); check the microphone.`
        : 'The recording is completely silent; check the microphone.',
      value: dbValue(levels.meanDbfs),
      limit: l.silenceDbfs,
    });
  }
  if (levels.samplePeakDbfs > l.clipDbfs && levels.clippedRatio >= l.minClippedRatio) {
    warnings.push({
      code: 'CLIPPING',
      message: `The recording clips: it peaks at ${round(levels.samplePeakDbfs, 2)} dBFS and ${round(levels.clippedRatio * 100, 2)}% of samples are at full scale; record a little quieter if you can.`,
      value: dbValue(levels.samplePeakDbfs),
      limit: l.clipDbfs,
    });
  }
  if (decoded.truncated) {
    const truncated = {
      code: 'TRUNCATED_FILE',
      message: `The file seems to be cut off or damaged; only the first ${round(seconds, 1)} s could be read.`,
      value: round(seconds, 3),
      limit: null,
    };
    // A cut that leaves too little to use is answered as the cut, not as a short recording: the user
    // must re-send the file, not record a longer melody.
    if (errors.some((e) => e.code === 'TOO_SHORT')) errors.unshift(truncated);
    else warnings.push(truncated);
  }
  return report(errors, warnings);
}

export interface ValidateAndDecodeOptions {
  /** Decoder for everything but plain WAV (production: `createFfmpegDecoder()` from src/platform). */
  decoder?: CompressedDecoder;
  limits?: Partial<ValidationLimits>;
  /** Original file name, used only for the extension-mismatch warning. */
  fileName?: string;
  signal?: AbortSignal;
  /** Awaited between slices of decoding and measuring (see sliced.ts); may reject to stop. Default: none. */
  pause?: () => Promise<void>;
}

/**
 * Byte checks, decoding (capped at `maxDurationSeconds` + 1 s) and audio checks in one call.
 * @returns the decoded audio and a report holding every warning (and no errors).
 * @throws ValidationError carrying every blocking issue when any check fails, including decoder
 *   rejections (`CORRUPT_FILE`, `TRUNCATED_FILE`…); AbortedError / AudioProcessingError as decodeAudio.
 */
export async function validateAndDecode(
  bytes: Uint8Array,
  options: ValidateAndDecodeOptions = {},
): Promise<{ audio: DecodedAudio; report: ValidationReport; levels: { clipDbfs: number; stats: LevelStats } }> {
  const limits = withDefaults(options.limits);
  const before = validateBytes(bytes, limits, { fileName: options.fileName });
  if (!before.ok) throw new ValidationError(before.errors);
  const audio = await decodeAudio(bytes, {
    decoder: options.decoder,
    maxSeconds: limits.maxDurationSeconds,
    signal: options.signal,
    pause: options.pause,
  });
  const stats = await driveSliced(measureLevelsSliced(audio.channels, limits.clipDbfs), options.pause);
  const after = validateAudio(audio, stats, limits);
  if (!after.ok) throw new ValidationError(after.errors);
  return { audio, report: report([], [...before.warnings, ...after.warnings]), levels: { clipDbfs: limits.clipDbfs, stats } };
}
