/**
 * `npm run bench:abort`: how soon convertMelody stops after an abort (the product promises ≤ 200 ms),
 * counted from when the abort was due, not from when its timer managed to fire (a step that blocked
 * the event loop would delay both). Plain Node on the compiled pipeline (jest's sandbox slows the audio
 * loops about threefold). Input: piano-waltz four times over (56 s), or a file given as argument.
 *
 * Usage: `node dist/bench/abort.bench.js [FILE] [--delays 0,100,250,400,600,800,1000] [--runs N]`.
 * One untimed conversion first, so every measured run is as warm as a long-lived worker; each delay is
 * measured N times (default 2) and its worst is printed beside the target.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { encodeWav } from '../src/audio/decode/wav.js';
import { convertMelody } from '../src/audio/pipeline.js';
import { createFfmpegDecoder } from '../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../src/platform/ffmpeg-encoder.js';
import { MELODY_FIXTURE_DIR } from '../test/support/melody-fixtures.js';

const TARGET_MS = 200;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] ? process.argv[at + 1] : fallback;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  const delays = option('--delays', '0,100,250,400,600,800,1000').split(',').map(Number);
  const runs = Number(option('--runs', '2'));
  const decoder = createFfmpegDecoder();
  const ports = { decoder, encoder: createFfmpegEncoder(), clock: () => performance.now() };
  let audio: Uint8Array;
  if (args[0]) audio = new Uint8Array(readFileSync(args[0]));
  else {
    const flac = new Uint8Array(readFileSync(join(MELODY_FIXTURE_DIR, 'piano-waltz.flac')));
    const one = (await decoder.decode(flac, { format: 'flac', maxSeconds: 300 })).channels[0];
    const repeated = new Float32Array(one.length * 4);
    for (let k = 0; k < 4; k++) repeated.set(one, k * one.length);
    audio = encodeWav([repeated], 44100, { bitDepth: 16 });
  }
  const request = { audio, prompt: 'a romantic ballad about summer nights by the sea', genre: 'ballad', mood: 'romantic', seed: 7 };
  const warm = performance.now();
  await convertMelody(request, ports);
  const fullMs = performance.now() - warm;
  console.log(
    `# bench:abort — ${cpus().length} CPU(s) ${cpus()[0]?.model ?? ''}, Node ${process.version}, load ${loadavg()[0].toFixed(2)}`,
  );
  console.log(`# input ${args[0] ?? 'piano-waltz ×4 (56 s)'}; a whole conversion took ${Math.round(fullMs)} ms (warm-up)`);
  console.log('| abort due at | stopped after (worst of runs) | outcome | target |');
  console.log('| ---: | ---: | --- | --- |');
  let worst = 0;
  for (const delay of delays) {
    let late = 0;
    let outcome = '';
    for (let r = 0; r < runs; r++) {
      const controller = new AbortController();
      const started = performance.now();
      const timer = setTimeout(() => controller.abort(), delay);
      outcome = await convertMelody(request, ports, { signal: controller.signal }).then(
        () => 'completed',
        (error: { code?: string }) => error.code ?? String(error),
      );
      clearTimeout(timer);
      late = Math.max(late, performance.now() - (started + delay));
    }
    worst = Math.max(worst, late);
    console.log(`| ${delay} ms | ${Math.round(late)} ms | ${outcome} | ${late <= TARGET_MS ? '≤ 200 ms: met' : '≤ 200 ms: NOT met'} |`);
  }
  console.log(
    `worst ${Math.round(worst)} ms against ${TARGET_MS} ms: ${worst <= TARGET_MS ? 'met' : 'NOT met'} (load ${loadavg()[0].toFixed(2)} at the end)`,
  );
}

await main();
