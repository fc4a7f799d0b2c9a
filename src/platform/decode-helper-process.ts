/**
 * Entry of the decode helper process (decode-helper.ts forks it once per API process). It loads only
 * what checking an upload needs (storage, the validation, the ffmpeg decoder), not the service stack,
 * so it stays small and its own forks of ffmpeg are cheap; and whatever they cost, they block this
 * process's event loop, not the API's.
 *
 * It exits when the API goes away (the IPC channel closes), so a killed API leaves no helper behind.
 */
import { createFfmpegDecoder } from './ffmpeg-decoder.js';
import type { FromHelper, HelperSettings, ToHelper } from './decode-helper-protocol.js';
import { createStorage, type Storage } from './storage.js';
import { checkStoredUpload, serializeError } from './upload-check.js';
import { timeSlicedPause } from './time-slice.js';
import type { CompressedDecoder } from '../audio/decode/decode.js';

let ready: Promise<{ storage: Storage; decoder: CompressedDecoder }> | null = null;
const running = new Map<number, AbortController>();

function send(message: FromHelper): void {
  // The API may be gone already (then 'disconnect' ends this process).
  if (process.connected) process.send!(message);
}

async function init(settings: HelperSettings): Promise<{ storage: Storage; decoder: CompressedDecoder }> {
  return { storage: await createStorage(settings), decoder: createFfmpegDecoder({ timeoutMs: settings.ffmpegTimeoutMs }) };
}

async function check(message: Extract<ToHelper, { type: 'check' }>): Promise<void> {
  const controller = new AbortController();
  running.set(message.id, controller);
  try {
    if (!ready) throw new Error('The decode helper got a job before its settings.');
    const { storage, decoder } = await ready;
    // Two jobs at once (the API's decode slots) take turns between slices of a WAV decode.
    const result = await checkStoredUpload(storage, decoder, message.job, { signal: controller.signal, pause: timeSlicedPause() });
    send({ type: 'result', id: message.id, ok: true, result });
  } catch (error) {
    send({ type: 'result', id: message.id, ok: false, error: serializeError(error) });
  } finally {
    running.delete(message.id);
  }
}

process.on('message', (message: ToHelper) => {
  if (message.type === 'init') ready = init(message.settings);
  else if (message.type === 'check') void check(message);
  else if (message.type === 'cancel') running.get(message.id)?.abort();
});
process.on('disconnect', () => {
  for (const controller of running.values()) controller.abort();
  process.exit(0);
});
// SIGTERM/SIGINT sent to the API's process group reach this process too: the API stops it itself.
process.on('SIGINT', () => undefined);
send({ type: 'ready' });
