/**
 * The messages between the worker process and the thread that runs one conversion
 * (`pipeline-thread.ts`), and how errors cross that boundary.
 *
 * Structured clone keeps an Error's message but drops its class, `code`, `retryable` and `reason`, so
 * errors travel as {@link SerializedError} plain objects and are rebuilt as the same {@link AppError}
 * subclass on the parent side ({@link rebuildError}). Byte outputs travel as transferred buffers.
 */
import type { ConvertOptions, ConvertRequest, ConversionReport, CompressedFormat, ProgressEvent } from '../audio/pipeline.js';
import { AbortedError, AppError, AudioProcessingError, ValidationError, type ErrorCode } from '../platform/errors.js';

/** The request fields a thread needs besides the audio. */
export type ThreadRequest = Omit<ConvertRequest, 'audio'>;

/** The pipeline options that can cross a thread boundary (no callbacks, no signal). */
export type ThreadPipelineOptions = Omit<ConvertOptions, 'onProgress' | 'signal'> & {
  /** ffmpeg decode timeout inside the thread, ms; default the decoder's own (60 000). */
  decodeTimeoutMs?: number;
};

/** One run's input. `audio` is transferred, not copied. */
export interface ThreadInput {
  audio: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
  request: ThreadRequest;
  options: ThreadPipelineOptions;
}

/** What a thread hands back: the files and the report (not the analysis, which stays in the thread). */
export interface ThreadOutputs {
  /** 44.1 kHz 16-bit mono WAV. */
  vocalsWav: Uint8Array;
  vocalsCompressed: { format: CompressedFormat; extension: string; mimeType: string; bytes: Uint8Array };
  /** Standard MIDI File. */
  midi: Uint8Array;
  /** MusicXML 4.0 text. */
  musicXml: string;
  report: ConversionReport;
}

export interface SerializedError {
  name: string;
  code: ErrorCode;
  reason: string;
  message: string;
  retryable: boolean;
  issues?: ValidationError['issues'];
}

/** Thread → parent; `runId` names the run the message belongs to. */
export type ThreadMessage =
  | { type: 'progress'; runId: number; event: ProgressEvent }
  | { type: 'result'; runId: number; outputs: ThreadOutputs }
  | { type: 'error'; runId: number; error: SerializedError };

/**
 * Parent → thread: start a run (one at a time per thread), abort it, or finish (the thread exits once
 * its current run, if any, is over).
 */
export type ParentMessage = { type: 'run'; runId: number; input: ThreadInput } | { type: 'abort'; runId: number } | { type: 'close' };

/** A plain, cloneable description of any thrown value. Non-AppErrors become UNKNOWN_ERROR (not retryable). */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) {
    const plain: SerializedError = { name: error.name, code: error.code, reason: error.reason, message: error.message, retryable: error.retryable };
    if (error instanceof ValidationError) plain.issues = error.issues.map((issue) => ({ ...issue }));
    return plain;
  }
  const message = error instanceof Error ? error.message : String(error);
  return { name: error instanceof Error ? error.name : 'Error', code: 'UNKNOWN_ERROR', reason: 'UNKNOWN_ERROR', message, retryable: false };
}

/** The AppError (same subclass where the protocol knows it) that {@link serializeError} described. */
export function rebuildError(plain: SerializedError): AppError {
  switch (plain.name) {
    case 'ValidationError':
      if (plain.issues && plain.issues.length > 0) return new ValidationError(plain.issues);
      return new ValidationError([{ code: plain.reason, message: plain.message }]);
    case 'AbortedError':
      return new AbortedError(plain.message);
    case 'AudioProcessingError':
      return new AudioProcessingError(plain.message, { reason: plain.reason, retryable: plain.retryable });
    default:
      return new AppError(plain.code, plain.message, { reason: plain.reason, retryable: plain.retryable });
  }
}
