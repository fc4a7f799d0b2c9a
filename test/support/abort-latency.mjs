// Measures how long convertMelody takes to stop after an abort, in plain Node (jest's module sandbox
// slows the audio loops about threefold, which would measure the test harness, not the product).
// Usage: node test/support/abort-latency.mjs FILE DELAY_MS... → prints one JSON array of
// { delay, stoppedAfterMs, error } where stoppedAfterMs counts from when the abort was due.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { convertMelody } from '../../dist/src/audio/pipeline.js';
import { createFfmpegDecoder } from '../../dist/src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../../dist/src/platform/ffmpeg-encoder.js';

const [file, ...delays] = process.argv.slice(2);
const audio = new Uint8Array(readFileSync(file));
const ports = { decoder: createFfmpegDecoder(), encoder: createFfmpegEncoder(), clock: () => performance.now() };
const request = { audio, prompt: 'a romantic ballad about summer nights by the sea', genre: 'ballad', mood: 'romantic', seed: 7 };
// One untimed run first, so every measured run is as warm as a long-lived worker.
await convertMelody(request, ports);
const results = [];
for (const delay of delays.map(Number)) {
  const controller = new AbortController();
  const started = performance.now();
  const timer = setTimeout(() => controller.abort(), delay);
  const outcome = await convertMelody(request, ports, { signal: controller.signal }).then(
    () => 'completed',
    (error) => error.code ?? String(error),
  );
  clearTimeout(timer);
  results.push({ delay, stoppedAfterMs: Math.round(performance.now() - (started + delay)), error: outcome });
}
process.stdout.write(JSON.stringify(results));
