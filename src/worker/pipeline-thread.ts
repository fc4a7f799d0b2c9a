/**
 * Entry point of a `worker_threads` thread that runs one conversion, so the CPU-bound pipeline never
 * blocks the worker process's event loop (Bee-Queue's stall heartbeats, Redis pub/sub, database
 * writes keep running). Started by {@link runInThread} with a {@link ThreadInput} as `workerData`.
 *
 * The thread builds its own ffmpeg decoder and encoder ports, posts every progress event, aborts the
 * pipeline through its AbortSignal when the parent posts `{type:'abort'}`, and ends with exactly one
 * `result` (byte buffers transferred, not copied) or `error` (a {@link SerializedError}) message.
 * It then lets its event loop drain and exits by itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
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

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const input = workerData as ThreadInput;
  const controller = new AbortController();
  const onMessage = (message: ParentMessage): void => {
    if (message?.type === 'abort') controller.abort();
  };
  port.on('message', onMessage);
  const post = (message: ThreadMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  try {
    const { decodeTimeoutMs, ...options } = input.options;
    const outputs = await convertMelody(
      { ...input.request, audio: new Uint8Array(input.audio, input.byteOffset, input.byteLength) },
      { decoder: createFfmpegDecoder(decodeTimeoutMs === undefined ? {} : { timeoutMs: decodeTimeoutMs }), encoder: createFfmpegEncoder(), clock: () => performance.now() },
      { ...options, signal: controller.signal, onProgress: (event) => post({ type: 'progress', event }) },
    );
    const result: ThreadOutputs = {
      vocalsWav: outputs.vocalsWav,
      vocalsCompressed: outputs.vocalsCompressed,
      midi: outputs.midi,
      musicXml: outputs.musicXml,
      report: outputs.report,
    };
    post({ type: 'result', outputs: result }, transferablesOf([result.vocalsWav, result.vocalsCompressed.bytes, result.midi]));
  } catch (error) {
    post({ type: 'error', error: serializeError(error) });
  } finally {
    // With no listener left the port no longer holds the thread open: it exits once ffmpeg is gone.
    port.off('message', onMessage);
  }
}

if (parentPort) await main(parentPort);
