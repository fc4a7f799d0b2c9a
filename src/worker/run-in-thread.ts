/**
 * Runs {@link convertMelody} in a `worker_threads` thread ({@link PIPELINE_THREAD_SCRIPT}) so the
 * calling process's event loop stays free while the CPU-bound stages run.
 *
 * Life of one call: the input bytes are transferred to a new thread (not copied); progress events
 * come back as they happen; the outputs come back as transferred buffers; errors come back as plain
 * objects and are rebuilt as the same {@link AppError} subclass. On abort the thread is asked to stop
 * through its own AbortSignal (the pipeline checks it at least every ~200 ms), and if it has not
 * exited after `abortGraceMs` it is terminated. The returned promise settles only after the thread
 * has exited, so a settled call never leaves a thread behind.
 *
 * Where the thread's code comes from: the compiled `pipeline-thread.js` beside this file. When this
 * module runs from TypeScript source (jest with ts-jest), there is no compiled sibling and a Worker
 * cannot load `.ts` (Node 20 has no type stripping), so the thread is loaded from
 * `node_modules/.cache/melody-vocals-thread/src/worker/pipeline-thread.js` instead, which jest's global
 * setup (`test/support/build-thread.global-setup.ts`) transpiles from the current sources before any
 * test runs: tests never run a stale thread and never depend on `npm run build`.
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { AbortedError, AppError } from '../platform/errors.js';
import type { ProgressEvent } from '../audio/pipeline.js';
import { rebuildError, type ThreadInput, type ThreadMessage, type ThreadOutputs, type ThreadPipelineOptions, type ThreadRequest } from './thread-protocol.js';

/** Where the thread's entry point is: the compiled sibling, or the repo's dist when running from source. */
export const PIPELINE_THREAD_SCRIPT: URL = fileURLToPath(import.meta.url).endsWith('.ts')
  ? new URL('../../node_modules/.cache/melody-vocals-thread/src/worker/pipeline-thread.js', import.meta.url)
  : new URL('./pipeline-thread.js', import.meta.url);

/** Default time a thread gets to stop by itself after an abort before it is terminated, ms. */
export const DEFAULT_ABORT_GRACE_MS = 2000;

export interface RunInThreadOptions {
  /** Called on the caller's thread for every progress event, in order. */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Aborts the conversion. The call rejects with `signal.reason` when that is an {@link AppError}
   * (e.g. a TIMEOUT_ERROR the caller chose), otherwise with {@link AbortedError}.
   */
  signal?: AbortSignal;
  /** Time the thread gets to stop after an abort before `worker.terminate()`, ms; default 2000. */
  abortGraceMs?: number;
  /** The thread's entry module; default {@link PIPELINE_THREAD_SCRIPT}. */
  threadScript?: URL | string;
  /** Called once with the thread's id when it starts (observability and tests). */
  onThreadStart?: (threadId: number) => void;
}

/**
 * An ArrayBuffer holding exactly `audio`'s bytes that can be transferred: the view's own buffer when
 * it covers all of it (no copy; the caller's view is detached afterwards), else a copy.
 */
function transferableCopy(audio: Uint8Array): { buffer: ArrayBuffer; byteOffset: number; byteLength: number } {
  const { buffer } = audio;
  if (buffer instanceof ArrayBuffer && audio.byteOffset === 0 && audio.byteLength === buffer.byteLength) {
    return { buffer, byteOffset: 0, byteLength: audio.byteLength };
  }
  const copy = new Uint8Array(audio.byteLength);
  copy.set(audio);
  return { buffer: copy.buffer, byteOffset: 0, byteLength: copy.byteLength };
}

/**
 * Converts `audio` in a new thread.
 * @param audio The upload; its buffer is transferred when the view covers all of it (then unusable here).
 * @throws the pipeline's AppError (ValidationError, AudioProcessingError...), the signal's AppError
 *   reason or AbortedError on abort, AudioProcessingError `THREAD_CRASHED` (retryable) when the thread dies.
 */
export function runInThread(audio: Uint8Array, request: ThreadRequest, pipelineOptions: ThreadPipelineOptions = {}, options: RunInThreadOptions = {}): Promise<ThreadOutputs> {
  const { signal, onProgress } = options;
  const graceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
  const abortError = (): AppError => (signal?.reason instanceof AppError ? signal.reason : new AbortedError());
  if (signal?.aborted) return Promise.reject(abortError());

  const bytes = transferableCopy(audio);
  const workerData: ThreadInput = { audio: bytes.buffer, byteOffset: bytes.byteOffset, byteLength: bytes.byteLength, request, options: pipelineOptions };
  const worker = new Worker(options.threadScript ?? PIPELINE_THREAD_SCRIPT, { workerData, transferList: [bytes.buffer] });
  options.onThreadStart?.(worker.threadId);

  return new Promise<ThreadOutputs>((resolve, reject) => {
    let outcome: { ok: true; outputs: ThreadOutputs } | { ok: false; error: AppError } | null = null;
    let aborted = false;
    let killTimer: NodeJS.Timeout | null = null;

    const settle = (first: typeof outcome): void => {
      if (outcome === null) outcome = first;
    };
    const onAbort = (): void => {
      if (outcome !== null) return;
      aborted = true;
      worker.postMessage({ type: 'abort' });
      // A thread stuck in a long synchronous step never sees the message: stop it from outside.
      killTimer = setTimeout(() => void worker.terminate(), graceMs);
      killTimer.unref();
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    worker.on('message', (message: ThreadMessage) => {
      if (message.type === 'progress') {
        if (!aborted && outcome === null) onProgress?.(message.event);
      } else if (message.type === 'result') {
        settle({ ok: true, outputs: message.outputs });
      } else if (message.type === 'error') {
        settle({ ok: false, error: rebuildError(message.error) });
      }
    });
    worker.on('error', (error) => {
      // An uncaught exception or resource-limit crash inside the thread (the 'exit' event follows).
      settle({ ok: false, error: new AppError('AUDIO_PROCESSING_ERROR', `The conversion thread crashed: ${error.message}`, { reason: 'THREAD_CRASHED', retryable: true, cause: error }) });
    });
    worker.on('exit', (exitCode) => {
      if (killTimer) clearTimeout(killTimer);
      signal?.removeEventListener('abort', onAbort);
      // An abort wins over whatever the thread said on its way out, unless its result was already in.
      if (aborted && outcome?.ok !== true) return reject(abortError());
      if (outcome === null) {
        return reject(new AppError('AUDIO_PROCESSING_ERROR', `The conversion thread exited (code ${exitCode}) without a result.`, { reason: 'THREAD_CRASHED', retryable: true }));
      }
      if (outcome.ok) resolve(outcome.outputs);
      else reject(outcome.error);
    });
  });
}
