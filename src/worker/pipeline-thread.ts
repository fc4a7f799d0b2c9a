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
 */
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { convertMelody } from '../audio/pipeline.js';
import { createFfmpegDecoder } from '../platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../platform/ffmpeg-encoder.js';
import { serializeError, type ParentMessage, type ThreadInput, type ThreadMessage, type ThreadOutputs } from './thread-protocol.js';

/** The distinct ArrayBuffers behind some views (a buffer may back several views; transfer it once). */
function transferablesOf(views: Uint8Array[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const view of views) if (view.buffer instanceof ArrayBuffer) buffers.add(view.buffer);
  return [...buffers];
}

function serve(port: NonNullable<typeof parentPort>): void {
  let current: { runId: number; controller: AbortController } | null = null;
  const post = (message: ThreadMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

  async function run(runId: number, input: ThreadInput): Promise<void> {
    const controller = new AbortController();
    current = { runId, controller };
    try {
      const { decodeTimeoutMs, ...options } = input.options;
      const outputs = await convertMelody(
        { ...input.request, audio: new Uint8Array(input.audio, input.byteOffset, input.byteLength) },
        { decoder: createFfmpegDecoder(decodeTimeoutMs === undefined ? {} : { timeoutMs: decodeTimeoutMs }), encoder: createFfmpegEncoder(), clock: () => performance.now() },
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
      case 'close':
        // With no listener left the port no longer holds the thread open.
        port.off('message', onMessage);
        break;
    }
  };
  port.on('message', onMessage);
}

if (parentPort) serve(parentPort);
