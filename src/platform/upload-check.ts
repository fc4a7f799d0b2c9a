/**
 * The check `convertMelody` runs on a stored upload before a row or a job exists: read it back from
 * storage, run `validateAndDecode` (byte checks, decoding, level checks) and keep only what the row
 * needs (format, duration, rate, channels, bitrate, warnings). The decoded samples never leave this
 * function.
 *
 * It runs in the decode helper process (decode-helper.ts, issue 16: an API process never forks ffmpeg
 * or decodes a WAV on its own event loop) or, with `DECODE_HELPER=inline`, in the API process itself
 * ({@link inlineUploadChecker}). Both give the same answers and the same errors with the same stable
 * codes; errors cross the process boundary as {@link SerializedError} and come back as the same classes.
 */
import type { ValidationIssue } from '../audio/types.js';
import { validateAndDecode } from '../audio/validate/validate.js';
import { durationSeconds, formatSummary, type AudioFormatSummary, type CompressedDecoder } from '../audio/decode/decode.js';
import { AbortedError, AppError, AudioProcessingError, ValidationError, type ErrorCode } from '../audio/errors.js';
import type { Storage } from './storage.js';
import { timeSlicedPause } from './time-slice.js';

/** One stored upload to check. */
export interface UploadCheckJob {
  /** Storage key of the stored upload (`conversions/<id>/input`). */
  key: string;
  /** The client's file name (sanitised), for the extension-mismatch warning only. */
  fileName: string;
  /** Largest accepted upload, bytes (`MAX_UPLOAD_BYTES`). */
  maxFileBytes: number;
}

/** What the check found out about an accepted upload. */
export interface UploadCheckResult extends AudioFormatSummary {
  /** Decoded length, s (capped at the longest accepted recording + 1 s). */
  seconds: number;
  /** Non-blocking issues (`LOW_SAMPLE_RATE`, `CLIPPING`, `EXTENSION_MISMATCH`…). */
  warnings: ValidationIssue[];
}

/** Something that checks stored uploads: the decode helper, or the API process itself. */
export interface UploadChecker {
  /**
   * @throws ValidationError with every blocking issue (the stable codes of validate.ts); AppError
   *   TIMEOUT_ERROR `DECODE_TIMEOUT`; AudioProcessingError (`DECODE_HELPER_CRASHED` is retryable);
   *   AppError STORAGE_ERROR.
   */
  check(job: UploadCheckJob, signal?: AbortSignal): Promise<UploadCheckResult>;
  /** Stops what the checker runs (the helper process); safe to call twice. */
  close(): Promise<void>;
}

/** Reads `job.key` from `storage` and checks it; the core of both checkers. */
export async function checkStoredUpload(
  storage: Storage,
  decoder: CompressedDecoder,
  job: UploadCheckJob,
  options: { signal?: AbortSignal; pause?: () => Promise<void> } = {},
): Promise<UploadCheckResult> {
  const bytes = await storage.read(job.key);
  const { audio, report } = await validateAndDecode(bytes, {
    decoder,
    limits: { maxFileBytes: job.maxFileBytes },
    fileName: job.fileName,
    signal: options.signal,
    pause: options.pause,
  });
  return {
    ...formatSummary(audio),
    seconds: durationSeconds(audio),
    warnings: report.warnings,
  };
}

/**
 * The check in the calling process (`DECODE_HELPER=inline`, and tests that inject a decoder): the WAV
 * decode and level scan run in 10 ms slices between which the event loop serves other requests, but
 * ffmpeg is spawned from this process (a fork whose synchronous cost grows with the process's size).
 */
export function inlineUploadChecker(storage: Storage, decoder: CompressedDecoder): UploadChecker {
  return {
    check: (job, signal) => checkStoredUpload(storage, decoder, job, { signal, pause: timeSlicedPause() }),
    close: async () => undefined,
  };
}

/** An error as it crosses the helper's IPC channel (JSON). */
export interface SerializedError {
  code: ErrorCode | null;
  reason: string | null;
  message: string;
  retryable: boolean;
  /** A ValidationError's issues. */
  issues?: ValidationError['issues'];
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ValidationError)
    return { code: error.code, reason: error.reason, message: error.message, retryable: false, issues: error.issues };
  if (error instanceof AppError) return { code: error.code, reason: error.reason, message: error.message, retryable: error.retryable };
  return { code: null, reason: null, message: error instanceof Error ? error.message : String(error), retryable: false };
}

/** The error {@link serializeError} was given, as the same class (an unknown one as a plain Error). */
export function deserializeError(data: SerializedError): Error {
  if (data.issues) return new ValidationError(data.issues);
  if (data.code === 'ABORTED') return new AbortedError(data.message);
  if (data.code === 'AUDIO_PROCESSING_ERROR')
    return new AudioProcessingError(data.message, { reason: data.reason ?? undefined, retryable: data.retryable });
  if (data.code !== null) return new AppError(data.code, data.message, { reason: data.reason ?? undefined, retryable: data.retryable });
  return new Error(data.message);
}
