/**
 * Entry point of a `worker_threads` thread that runs conversions, so the CPU-bound pipeline never
 * blocks the worker process's event loop (Bee-Queue's stall heartbeats, Redis pub/sub, database
 * writes keep running). Driven by {@link PipelineThread} (`run-in-thread.ts`) through
 * {@link ParentMessage}s.
 *
 * One run at a time: `run` starts {@link convertMelody} on the transferred bytes with ffmpeg decoder
 * and encoder ports made here; every progress event is posted back; `abort` aborts the run's
 * AbortSignal; the run ends with exactly one `result` (byte buffers transferred, not copied) or
 * `error` (a {@link SerializedError}) message. The thread then waits for the next run, so later runs
 * find the pipeline's code already compiled by V8. `close` removes the message listener, and the
 * thread exits once its event loop is empty.
 *
 * When the run's options name providers, the pipeline gets proxy providers whose calls go to the
 * parent as `provider-call` messages and come back as `provider-result` (see thread-protocol.ts).
 * A proxy call rejects with AbortedError as soon as the run's signal fires; the parent aborts its own
 * call on the same abort.
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { convertMelody } from '../audio/pipeline.js';
import type {
  LyricsDraft,
  LyricsProvider,
  LyricsRequest,
  ProviderCallOptions,
  Providers,
  VocalEngine,
  VocalRequest,
  VocalTake,
} from '../audio/providers.js';
import { AbortedError } from '../audio/errors.js';
import { createFfmpegDecoder } from '../platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../platform/ffmpeg-encoder.js';
import { loadFliteProgram } from '../platform/flite-program.js';
import {
  rebuildError,
  serializeError,
  type ParentMessage,
  type ProviderResultMessage,
  type ThreadInput,
  type ThreadMessage,
  type ThreadOutputs,
  type ThreadProviderSpec,
} from './thread-protocol.js';

/** The distinct ArrayBuffers behind some views (a buffer may back several views; transfer it once). */
function transferablesOf(views: Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) if (view.buffer instanceof ArrayBuffer) buffers.add(view.buffer);
  return [...buffers];
}

/** A provider call waiting for the parent's answer. */
interface PendingCall {
  resolve: (value: LyricsDraft | VocalTake) => void;
  reject: (error: Error) => void;
}

type Post = (message: ThreadMessage, transfer?: ArrayBuffer[]) => void;

/**
 * Proxies for the parent's providers, for one run: each call posts a `provider-call` and settles
 * with the matching `provider-result` (see {@link settleCall}), or with AbortedError when its signal fires.
 */
function providerProxies(runId: number, spec: ThreadProviderSpec, pending: Map<number, PendingCall>, post: Post): Providers {
  let nextCallId = 1;
  const call = <T extends LyricsDraft | VocalTake>(send: (callId: number) => void, options?: ProviderCallOptions): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const { signal } = options ?? {};
      if (signal?.aborted) return reject(new AbortedError());
      const callId = nextCallId++;
      const onAbort = (): void => {
        pending.delete(callId);
        reject(new AbortedError());
      };
      pending.set(callId, {
        resolve: (value) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(value as T);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      send(callId);
    });
  const lyrics: LyricsProvider | null = spec.lyrics
    ? {
        name: spec.lyrics,
        writeLyrics: (request: LyricsRequest, options?: ProviderCallOptions) =>
          call<LyricsDraft>((callId) => post({ type: 'provider-call', runId, callId, kind: 'lyrics', request }), options),
      }
    : null;
  const vocals: VocalEngine | null = spec.vocals
    ? {
        name: spec.vocals,
        sing: (request: VocalRequest, options?: ProviderCallOptions) =>
          call<VocalTake>((callId) => {
            // The pipeline keeps its own upload (the report measures it): send a transferable copy.
            const melody = new Uint8Array(request.melody);
            post({ type: 'provider-call', runId, callId, kind: 'vocals', request: { ...request, melody } }, [melody.buffer]);
          }, options),
      }
    : null;
  return { lyrics, vocals, fallback: spec.fallback };
}

/** Settles the pending call a `provider-result` answers (ignored when the call was already given up). */
function settleCall(pending: Map<number, PendingCall>, message: ProviderResultMessage): void {
  const call = pending.get(message.callId);
  if (!call) return;
  pending.delete(message.callId);
  if (message.ok) call.resolve(message.value);
  else call.reject(rebuildError(message.error));
}

function serve(port: NonNullable<typeof parentPort>): void {
  let current: { runId: number; controller: AbortController; calls: Map<number, PendingCall> } | null = null;
  const post: Post = (message, transfer = []) => port.postMessage(message, transfer);

  async function run(runId: number, input: ThreadInput): Promise<void> {
    const controller = new AbortController();
    const calls = new Map<number, PendingCall>();
    current = { runId, controller, calls };
    try {
      const { decodeTimeoutMs, providers: spec, ...options } = input.options;
      const outputs = await convertMelody(
        { ...input.request, audio: new Uint8Array(input.audio, input.byteOffset, input.byteLength) },
        {
          decoder: createFfmpegDecoder(decodeTimeoutMs === undefined ? {} : { timeoutMs: decodeTimeoutMs }),
          encoder: createFfmpegEncoder(),
          clock: () => performance.now(),
          providers: spec ? providerProxies(runId, spec, calls, post) : undefined,
          // The default singing engine's program, compiled once per thread.
          flite: options.engine === 'formant' ? undefined : loadFliteProgram(),
        },
        { ...options, signal: controller.signal, onProgress: (event) => post({ type: 'progress', runId, event }) },
      );
      const result: ThreadOutputs = {
        vocalsWav: outputs.vocalsWav,
        vocalsCompressed: outputs.vocalsCompressed,
        midi: outputs.midi,
        musicXml: outputs.musicXml,
        report: outputs.report,
      };
      post({ type: 'result', runId, outputs: result }, transferablesOf([result.vocalsWav, result.vocalsCompressed.bytes, result.midi]));
    } catch (error) {
      post({ type: 'error', runId, error: serializeError(error) });
    } finally {
      // Nothing should be pending once the pipeline settled; anything left must not hold the thread.
      for (const call of calls.values()) call.reject(new AbortedError());
      calls.clear();
      current = null;
    }
  }

  const onMessage = (message: ParentMessage): void => {
    switch (message?.type) {
      case 'run':
        if (current !== null) {
          post({ type: 'error', runId: message.runId, error: serializeError(new Error('This thread is busy with another run.')) });
        } else {
          void run(message.runId, message.input);
        }
        break;
      case 'abort':
        if (current?.runId === message.runId) current.controller.abort();
        break;
      case 'provider-result':
        if (current?.runId === message.runId) settleCall(current.calls, message);
        break;
      case 'close':
        // With no listener left the port no longer holds the thread open.
        port.off('message', onMessage);
        break;
    }
  };
  port.on('message', onMessage);
}

if (parentPort) serve(parentPort);
