/**
 * `npm run build && node dist/bench/worker-threads.bench.js [FILE] [RUNS]`: what running the pipeline
 * in a worker thread costs per job, for the worker's choice of a warm thread pool over a new thread
 * per job.
 *
 * For each of RUNS rounds (default 7) it converts FILE (default the voice-la fixture) three ways,
 * interleaved so machine load hits all alike: in this thread (warm), in a pooled thread (warm), and
 * in a new thread that exits afterwards (`runInThread`). Prints the medians and the overheads
 * against the in-process run. Each way is warmed once before timing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { convertMelody } from '../src/audio/pipeline.js';
import { createFfmpegDecoder } from '../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../src/platform/ffmpeg-encoder.js';
import { runInThread } from '../src/worker/run-in-thread.js';
import { createThreadPool } from '../src/worker/thread-pool.js';
import { median } from './bench-process.js';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..', '..');
const file = process.argv[2] ?? join(ROOT, 'test', 'fixtures', 'melodies', 'voice-la.flac');
const runs = Number(process.argv[3] ?? 7);
const bytes = new Uint8Array(readFileSync(file));
const request = {
  fileName: 'melody.flac',
  prompt: 'a romantic ballad about summer nights by the sea',
  genre: 'ballad',
  mood: 'romantic',
  seed: 7,
};
const ports = { decoder: createFfmpegDecoder(), encoder: createFfmpegEncoder() };
const pool = createThreadPool();

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const ways: Record<string, () => Promise<unknown>> = {
  inProcess: () => convertMelody({ ...request, audio: bytes.slice() }, ports),
  pooledThread: () => pool.run(bytes.slice(), request),
  newThread: () => runInThread(bytes.slice(), request),
};
for (const work of Object.values(ways)) await work();
const times: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((k) => [k, []]));
for (let i = 0; i < runs; i++) for (const [name, work] of Object.entries(ways)) times[name].push(await timed(work));
await pool.close();

const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, Math.round(median(v))]));
console.log(`${file.split('/').pop()}, ${runs} runs each, medians (ms):`);
console.log(`  in process       ${m.inProcess}`);
console.log(`  pooled thread    ${m.pooledThread}  (${m.pooledThread - m.inProcess >= 0 ? '+' : ''}${m.pooledThread - m.inProcess})`);
console.log(`  new thread       ${m.newThread}  (+${m.newThread - m.inProcess})`);
