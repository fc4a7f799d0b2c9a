/**
 * The messages between the worker process and the thread that runs one conversion
 * (`pipeline-thread.ts`), and how errors cross that boundary.
 *
 * Structured clone keeps an Error's message but drops its class, `code`, `retryable` and `reason`, so
 * errors travel as {@link SerializedError} plain objects and are rebuilt as the same {@link AppError}
 * subclass on the parent side ({@link rebuildError}). Byte outputs travel as transferred buffers.
 *
 * Remote providers stay in the parent: their circuit breakers must see every job of the process, and
 * a thread is one job. When a run's options name providers ({@link ThreadProviderSpec}) the thread
 * gives the pipeline proxies that post a `provider-call` and wait for the parent's `provider-result`
 * with the same `callId`; the parent answers with the {@link Providers} it was given (the worker's
 * ProviderHost) and aborts its call when the run is aborted or ends. The melody sent with a vocals
 * call and the take that comes back are transferred, not copied.
 */
import type { ConvertOptions, ConvertRequest, ConversionReport, CompressedFormat, ProgressEvent } from '../audio/pipeline.js';
import type { LyricsDraft, LyricsRequest, Providers, VocalRequest, VocalTake } from '../audio/providers.js';
import { AbortedError, AppError, AudioProcessingError, ValidationError, type ErrorCode } from '../audio/errors.js';

/** The request fields a thread needs besides the audio. */
export type ThreadRequest = Omit<ConvertRequest, 'audio'>;

/** Which providers a run may call through its parent: their names (null: none) and the fallback rule. */
export interface ThreadProviderSpec {
  /** Name of the parent's lyrics provider (e.g. `llm`), or null when there is none. */
  lyrics: string | null;
  /** Name of the parent's vocal engine (e.g. `expert-music-ai`), or null when there is none. */
  vocals: string | null;
  /** See {@link Providers.fallback}. */
  fallback: boolean;
}

/** The pipeline options that can cross a thread boundary (no callbacks, no signal). */
export type ThreadPipelineOptions = Omit<ConvertOptions, 'onProgress' | 'signal'> & {
  /** ffmpeg decode timeout inside the thread, ms; default the decoder's own (60 000). */
  decodeTimeoutMs?: number;
  /**
   * Providers the thread may call through its parent. Set by the parent from the {@link Providers} it
   * answers with (see `PipelineThread.run`); absent: the embedded engines only.
   */
  providers?: ThreadProviderSpec;
};

/** The description of a set of providers a thread needs, or undefined when there is no provider at all. */
export function providerSpecOf(providers: Providers | null | undefined): ThreadProviderSpec | undefined {
  if (!providers || (!providers.lyrics && !providers.vocals)) return undefined;
  return { lyrics: providers.lyrics?.name ?? null, vocals: providers.vocals?.name ?? null, fallback: providers.fallback ?? true };
}

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

/** Thread → parent: call a provider for the run; answered by a `provider-result` with the same ids. */
export type ProviderCallMessage =
  | { type: 'provider-call'; runId: number; callId: number; kind: 'lyrics'; request: LyricsRequest }
  | { type: 'provider-call'; runId: number; callId: number; kind: 'vocals'; request: VocalRequest };

/** Parent → thread: a provider call's outcome. */
export type ProviderResultMessage =
  | { type: 'provider-result'; runId: number; callId: number; ok: true; value: LyricsDraft | VocalTake }
  | { type: 'provider-result'; runId: number; callId: number; ok: false; error: SerializedError };

/** Thread → parent; `runId` names the run the message belongs to. */
export type ThreadMessage =
  | ProviderCallMessage
  | { type: 'progress'; runId: number; event: ProgressEvent }
  | { type: 'result'; runId: number; outputs: ThreadOutputs }
  | { type: 'error'; runId: number; error: SerializedError };

/**
 * Parent → thread: start a run (one at a time per thread), abort it, or finish (the thread exits once
 * its current run, if any, is over).
 */
export type ParentMessage =
  { type: 'run'; runId: number; input: ThreadInput } | { type: 'abort'; runId: number } | { type: 'close' } | ProviderResultMessage;

/**
 * `bytes` in a view that owns its whole ArrayBuffer, so the buffer can be transferred without taking
 * anything else with it: the view itself when it already does, else a copy (e.g. a Node Buffer from
 * the shared pool, or a view into a larger buffer the sender still needs).
 */
export function ownedBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const { buffer } = bytes;
  if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength)
    return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}

/** A plain, cloneable description of any thrown value. Non-AppErrors become UNKNOWN_ERROR (not retryable). */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof AppError) {
    const plain: SerializedError = {
      name: error.name,
      code: error.code,
      reason: error.reason,
      message: error.message,
      retryable: error.retryable,
    };
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
