/**
 * Runs {@link convertMelody} in a `worker_threads` thread (`pipeline-thread.ts`) so the calling
 * process's event loop stays free while the CPU-bound stages run.
 *
 * A {@link PipelineThread} is one thread serving one run at a time: the input bytes are transferred
 * to it (not copied); progress events come back as they happen; the outputs come back as transferred
 * buffers; errors come back as plain objects and are rebuilt as the same {@link AppError} subclass.
 * On abort the thread is asked to stop the run through the run's own AbortSignal (the pipeline
 * checks it at least every ~200 ms); if it has not answered after `abortGraceMs`, the thread is
 * terminated. A thread whose run ended, even by an abort it obeyed, can take the next run, which then
 * finds the pipeline's code already compiled (see `thread-pool.ts`). {@link runInThread} is the
 * one-shot form: a new thread for one run, settled only after the thread has exited.
 *
 * Providers: a run given `providers` (the worker's ProviderHost) tells the thread which exist, and
 * answers the thread's `provider-call` messages with them, here on the caller's thread, where the
 * breakers are shared by every run. Each call gets its own AbortSignal, aborted when the run is
 * aborted or ends (the thread stops waiting for it then anyway); a result that arrives after that is
 * dropped. A provider's take is transferred to the thread, not copied.
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
import { AbortedError, AppError } from '../audio/errors.js';
import type { ProgressEvent } from '../audio/pipeline.js';
import type { LyricsDraft, Providers, VocalTake } from '../audio/providers.js';
import {
  ownedBytes,
  providerSpecOf,
  rebuildError,
  serializeError,
  type ParentMessage,
  type ProviderCallMessage,
  type ThreadInput,
  type ThreadMessage,
  type ThreadOutputs,
  type ThreadPipelineOptions,
  type ThreadRequest,
} from './thread-protocol.js';

/** Where the thread's entry point is: the compiled sibling, or the jest-built copy when running from source. */
export const PIPELINE_THREAD_SCRIPT: URL = fileURLToPath(import.meta.url).endsWith('.ts')
  ? new URL('../../node_modules/.cache/melody-vocals-thread/src/worker/pipeline-thread.js', import.meta.url)
  : new URL('./pipeline-thread.js', import.meta.url);

/** Default time a thread gets to stop a run by itself after an abort before it is terminated, ms. */
export const DEFAULT_ABORT_GRACE_MS = 2000;

/**
 * Default cap on a pipeline thread's JavaScript heap (V8's old generation), MB. A 5-minute conversion
 * peaks near 60 MB of heap (its audio lives in typed arrays outside the heap; docs/benchmarks.md), so
 * this is ~8× what a real run needs. Without a cap a thread may grow to V8's default (~4 GB here)
 * before Node stops it, enough to get a whole worker pod killed for memory with its other jobs.
 */
export const DEFAULT_THREAD_HEAP_MB = 512;

/** How a pipeline thread is started. */
export interface ThreadStartOptions {
  /** The thread's entry module; default {@link PIPELINE_THREAD_SCRIPT}. */
  threadScript?: URL | string;
  /**
   * Most heap (V8 old generation) the thread may use, MB; default {@link DEFAULT_THREAD_HEAP_MB}. A run
   * that needs more ends with AUDIO_PROCESSING_ERROR `THREAD_OUT_OF_MEMORY` (not retryable: the same
   * input would need the same again); the calling thread and the process's other runs go on.
   */
  maxHeapMb?: number;
}

export interface RunOptions {
  /** Called on the caller's thread for every progress event, in order (none after an abort). */
  onProgress?: (event: ProgressEvent) => void;
  /**
   * Aborts the run. The run rejects with `signal.reason` when that is an {@link AppError} (e.g. a
   * TIMEOUT_ERROR the caller chose), otherwise with {@link AbortedError}.
   */
  signal?: AbortSignal;
  /** Time the thread gets to stop after an abort before `worker.terminate()`, ms; default 2000. */
  abortGraceMs?: number;
  /**
   * Remote providers the run may use (the worker's ProviderHost, shared by every run). Default none:
   * the embedded engines only. Sets the thread options' `providers` from their names.
   */
  providers?: Providers | null;
}

export interface RunInThreadOptions extends RunOptions, ThreadStartOptions {
  /** Called once with the thread's id when it starts (observability and tests). */
  onThreadStart?: (threadId: number) => void;
}

/** The signature of a function that converts in some thread: {@link runInThread} or a pool's `run`. */
export type RunPipeline = (
  audio: Uint8Array,
  request: ThreadRequest,
  pipelineOptions?: ThreadPipelineOptions,
  options?: RunOptions,
) => Promise<ThreadOutputs>;

/**
 * An ArrayBuffer holding exactly `audio`'s bytes that can be transferred: the view's own buffer when
 * it covers all of it (no copy; the caller's view is detached afterwards), else a copy.
 */
function transferable(audio: Uint8Array): { buffer: ArrayBuffer; byteOffset: number; byteLength: number } {
  const { buffer } = audio;
  if (buffer instanceof ArrayBuffer && audio.byteOffset === 0 && audio.byteLength === buffer.byteLength) {
    return { buffer, byteOffset: 0, byteLength: audio.byteLength };
  }
  const copy = new Uint8Array(audio.byteLength);
  copy.set(audio);
  return { buffer: copy.buffer, byteOffset: 0, byteLength: copy.byteLength };
}

function notConfigured(kind: 'lyrics' | 'vocals'): AppError {
  return new AppError('AI_SERVICE_ERROR', `No ${kind} provider is configured for this run.`, { reason: 'NOT_CONFIGURED' });
}

function threadCrashed(detail: string, cause?: unknown): AppError {
  // Retryable: a crash (e.g. a native fault under memory pressure from other processes) may not recur.
  return new AppError('AUDIO_PROCESSING_ERROR', `The conversion thread ${detail}.`, { reason: 'THREAD_CRASHED', retryable: true, cause });
}

/** The thread reached its heap cap: the same input would need as much again, so it is not retried. */
function threadOutOfMemory(maxHeapMb: number, cause: unknown): AppError {
  return new AppError(
    'AUDIO_PROCESSING_ERROR',
    `The conversion needed more than the ${maxHeapMb} MB of memory a conversion may use, and was stopped.`,
    { reason: 'THREAD_OUT_OF_MEMORY', retryable: false, cause },
  );
}

interface ActiveRun {
  runId: number;
  options: RunOptions;
  aborted: boolean;
  killTimer: NodeJS.Timeout | null;
  /** Provider calls in flight for this run, by call id. */
  calls: Map<number, AbortController>;
  resolve: (outputs: ThreadOutputs) => void;
  reject: (error: AppError) => void;
}

/** One pipeline thread; one run at a time. */
export class PipelineThread {
  readonly threadId: number;
  /** Runs finished on this thread. */
  runs = 0;
  private readonly worker: Worker;
  private readonly exited: Promise<number>;
  private alive = true;
  private crash: Error | null = null;
  private current: ActiveRun | null = null;
  private nextRunId = 1;
  private readonly maxHeapMb: number;

  constructor(options: ThreadStartOptions = {}) {
    this.maxHeapMb = options.maxHeapMb ?? DEFAULT_THREAD_HEAP_MB;
    this.worker = new Worker(options.threadScript ?? PIPELINE_THREAD_SCRIPT, {
      resourceLimits: { maxOldGenerationSizeMb: this.maxHeapMb },
    });
    this.threadId = this.worker.threadId;
    this.worker.on('message', (message: ThreadMessage) => this.onMessage(message));
    // An uncaught exception or resource-limit crash inside the thread; 'exit' follows.
    this.worker.on('error', (error) => (this.crash = error));
    this.exited = new Promise((resolve) => {
      this.worker.on('exit', (code) => {
        this.alive = false;
        const run = this.current;
        if (run)
          this.finish(
            run,
            run.aborted
              ? this.abortError(run)
              : (this.crash as NodeJS.ErrnoException | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY'
                ? threadOutOfMemory(this.maxHeapMb, this.crash)
                : threadCrashed(this.crash ? `crashed: ${this.crash.message}` : `exited (code ${code}) during a run`, this.crash),
          );
        resolve(code);
      });
    });
  }

  /** False once the thread has exited (or is being terminated). */
  get isAlive(): boolean {
    return this.alive;
  }

  get isBusy(): boolean {
    return this.current !== null;
  }

  /** Lets an idle thread not keep the process alive (`unref`), or makes it count again (`ref`). */
  setRef(ref: boolean): void {
    if (ref) this.worker.ref();
    else this.worker.unref();
  }

  /**
   * Converts `audio` on this thread.
   * @param audio The upload; its buffer is transferred when the view covers all of it (then unusable here).
   * @throws the pipeline's AppError (ValidationError, AudioProcessingError...), the signal's AppError
   *   reason or AbortedError on abort, AudioProcessingError `THREAD_CRASHED` (retryable) when the thread dies,
   *   `THREAD_OUT_OF_MEMORY` (not retryable) when it reached its heap cap.
   */
  run(
    audio: Uint8Array,
    request: ThreadRequest,
    pipelineOptions: ThreadPipelineOptions = {},
    options: RunOptions = {},
  ): Promise<ThreadOutputs> {
    if (!this.alive) return Promise.reject(threadCrashed('is no longer running'));
    if (this.current) return Promise.reject(new Error('PipelineThread.run: the thread is busy.'));
    const { signal } = options;
    return new Promise<ThreadOutputs>((resolve, reject) => {
      const run: ActiveRun = { runId: this.nextRunId++, options, aborted: false, killTimer: null, calls: new Map(), resolve, reject };
      if (signal?.aborted) return reject(this.abortError(run));
      this.current = run;
      const bytes = transferable(audio);
      const providers = providerSpecOf(options.providers);
      const input: ThreadInput = {
        audio: bytes.buffer,
        byteOffset: bytes.byteOffset,
        byteLength: bytes.byteLength,
        request,
        options: providers ? { ...pipelineOptions, providers } : pipelineOptions,
      };
      this.post({ type: 'run', runId: run.runId, input }, [bytes.buffer]);
      signal?.addEventListener('abort', () => this.abort(run), { once: true });
    });
  }

  /**
   * Ends the thread: it exits once its current run (if any) is over; after `graceMs` it is terminated.
   * Resolves when it has exited.
   */
  async close(graceMs = DEFAULT_ABORT_GRACE_MS): Promise<void> {
    if (this.alive) {
      // An unref'd idle thread would let the process exit before 'exit' arrives: wait for it for real.
      this.worker.ref();
      this.post({ type: 'close' });
      const timer = setTimeout(() => void this.terminate(), graceMs);
      timer.unref();
      await this.exited;
      clearTimeout(timer);
    }
  }

  /** Stops the thread at once. Resolves when it has exited. */
  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
    await this.exited;
  }

  private post(message: ParentMessage, transfer: ArrayBuffer[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  private abortError(run: ActiveRun): AppError {
    const reason: unknown = run.options.signal?.reason;
    return reason instanceof AppError ? reason : new AbortedError();
  }

  private abort(run: ActiveRun): void {
    if (this.current !== run || run.aborted) return;
    run.aborted = true;
    this.abortCalls(run);
    this.post({ type: 'abort', runId: run.runId });
    // A thread stuck in a long synchronous step never sees the message: stop it from outside.
    run.killTimer = setTimeout(() => void this.terminate(), run.options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS);
    run.killTimer.unref();
  }

  private finish(run: ActiveRun, outcome: ThreadOutputs | AppError): void {
    if (this.current !== run) return;
    this.current = null;
    this.runs += 1;
    this.abortCalls(run);
    if (run.killTimer) clearTimeout(run.killTimer);
    if (outcome instanceof AppError) run.reject(outcome);
    else run.resolve(outcome);
  }

  private abortCalls(run: ActiveRun): void {
    for (const controller of run.calls.values()) controller.abort(new AbortedError());
    run.calls.clear();
  }

  /** Runs a provider call for the thread and posts its outcome, unless the run has moved on meanwhile. */
  private async answerCall(run: ActiveRun, message: ProviderCallMessage): Promise<void> {
    const controller = new AbortController();
    run.calls.set(message.callId, controller);
    const stillWanted = (): boolean => this.current === run && !run.aborted && !controller.signal.aborted;
    try {
      const providers = run.options.providers;
      let value: LyricsDraft | VocalTake;
      let transfer: ArrayBuffer[] = [];
      if (message.kind === 'lyrics') {
        if (!providers?.lyrics) throw notConfigured('lyrics');
        value = await providers.lyrics.writeLyrics(message.request, { signal: controller.signal });
      } else {
        if (!providers?.vocals) throw notConfigured('vocals');
        const take = await providers.vocals.sing(message.request, { signal: controller.signal });
        const wav = ownedBytes(take.wav);
        value = { wav, source: take.source };
        transfer = [wav.buffer];
      }
      if (stillWanted()) this.post({ type: 'provider-result', runId: run.runId, callId: message.callId, ok: true, value }, transfer);
    } catch (error) {
      if (stillWanted())
        this.post({ type: 'provider-result', runId: run.runId, callId: message.callId, ok: false, error: serializeError(error) });
    } finally {
      run.calls.delete(message.callId);
    }
  }

  private onMessage(message: ThreadMessage): void {
    const run = this.current;
    if (!run || message.runId !== run.runId) return;
    if (message.type === 'progress') {
      if (!run.aborted) run.options.onProgress?.(message.event);
    } else if (message.type === 'provider-call') {
      if (!run.aborted) void this.answerCall(run, message);
    } else if (run.aborted) {
      // The thread stopped the run (or finished it just as the abort was asked): the abort wins.
      this.finish(run, this.abortError(run));
    } else if (message.type === 'result') {
      this.finish(run, message.outputs);
    } else {
      this.finish(run, rebuildError(message.error));
    }
  }
}

/**
 * Converts `audio` in a new thread that exits afterwards; settles only once the thread has exited, so
 * a settled call never leaves a thread behind. See {@link PipelineThread.run} for the errors.
 */
export async function runInThread(
  audio: Uint8Array,
  request: ThreadRequest,
  pipelineOptions: ThreadPipelineOptions = {},
  options: RunInThreadOptions = {},
): Promise<ThreadOutputs> {
  if (options.signal?.aborted) {
    const reason: unknown = options.signal.reason;
    throw reason instanceof AppError ? reason : new AbortedError();
  }
  const thread = new PipelineThread(options);
  options.onThreadStart?.(thread.threadId);
  try {
    return await thread.run(audio, request, pipelineOptions, options);
  } finally {
    await thread.close(options.abortGraceMs);
  }
}
