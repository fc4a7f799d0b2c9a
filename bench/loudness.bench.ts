/**
 * Times the loudness stage on 300 s of generated 44.1 kHz audio, mono and stereo:
 * measureLoudness (levels + BS.1770-4 integrated loudness + true peak) and each of its parts alone.
 *
 * Signals:
 * - "voice": a sung-like melody (12 harmonics, vibrato, phrase rests, a few louder accents, a -60 dB
 *   noise floor), the realistic case for true-peak pruning;
 * - "steady sine": a constant-amplitude 1 kHz sine, the worst case for pruning (every block can
 *   reach the running maximum, so every block is interpolated).
 *
 * Times are CPU time of this process (user + system, median of 7 after a warm-up): the machine is
 * shared, wall time would also count the neighbours. Wall time is printed alongside.
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/loudness.bench.js
 */
import os from 'node:os';
import { measureIntegratedLoudness, measureLoudness } from '../src/audio/loudness/loudness.js';
import { measureLevels } from '../src/audio/loudness/levels.js';
import { measureTruePeak } from '../src/audio/loudness/true-peak.js';
import { createRandom, gaussian } from '../src/audio/random.js';

const rate = 44100;
const seconds = 300;
const length = rate * seconds;

/** Sung-like melody: notes of 0.3-0.9 s with rests, harmonics with a formant bump, 5.5 Hz vibrato. */
function voice(seed: number): Float32Array {
  const random = createRandom(seed);
  const out = new Float32Array(length);
  const partials = [1, 0.7, 0.9, 0.6, 0.5, 0.3, 0.2, 0.15, 0.1, 0.08, 0.05, 0.03];
  const norm = 1 / partials.reduce((a, b) => a + b, 0);
  let t = 0.2;
  while (t < seconds - 1) {
    const duration = 0.3 + random() * 0.6;
    const f0 = 196 * Math.pow(2, Math.floor(random() * 15) / 12);
    const amplitude = (random() < 0.05 ? 0.9 : 0.3 + random() * 0.3) * norm;
    const from = Math.round(t * rate);
    const to = Math.min(length, Math.round((t + duration) * rate));
    let phase = 0;
    for (let i = from; i < to; i++) {
      const local = (i - from) / rate;
      const env = Math.min(1, local / 0.03, (to - i) / rate / 0.05);
      phase += (2 * Math.PI * f0 * (1 + 0.006 * Math.sin(2 * Math.PI * 5.5 * local))) / rate;
      let sum = 0;
      for (let h = 0; h < partials.length; h++) sum += partials[h] * Math.sin((h + 1) * phase);
      out[i] = amplitude * env * sum;
    }
    t += duration + (random() < 0.2 ? 0.5 + random() : 0.05);
  }
  for (let i = 0; i < length; i++) out[i] += 0.001 * gaussian(random);
  return out;
}

function steadySine(): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / rate + 0.3);
  return out;
}

function time(label: string, run: () => unknown, repeats = 7): void {
  run();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c = process.cpuUsage();
    const w = performance.now();
    run();
    wall.push(performance.now() - w);
    const used = process.cpuUsage(c);
    cpu.push((used.user + used.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  wall.sort((a, b) => a - b);
  const median = cpu[repeats >> 1];
  console.log(
    `${label.padEnd(44)} cpu median ${median.toFixed(0).padStart(5)} ms (min ${cpu[0].toFixed(0)}), ` +
      `wall median ${wall[repeats >> 1].toFixed(0)} ms, ${((seconds * 1000) / median).toFixed(0)}x real time`,
  );
}

console.log(
  `machine: ${os.cpus()[0]?.model ?? 'unknown'} × ${os.cpus().length}, node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`signal: ${seconds} s at ${rate} Hz`);
const left = voice(1);
const right = voice(2);
const sine = steadySine();
const cases: [string, Float32Array[]][] = [
  ['voice mono', [left]],
  ['voice stereo', [left, right]],
  ['steady sine mono (worst case)', [sine]],
  ['steady sine stereo (worst case)', [sine, sine]],
];
// Warm-up: let V8 optimise every path before anything is timed.
for (let r = 0; r < 5; r++) for (const [, channels] of cases) measureLoudness(channels, rate);
for (const [name, channels] of cases) {
  const report = measureLoudness(channels, rate);
  console.log(`\n${name}: ${JSON.stringify(report)}`);
  time(`  measureLevels`, () => measureLevels(channels));
  time(`  measureIntegratedLoudness`, () => measureIntegratedLoudness(channels, rate));
  time(`  measureTruePeak (pruned)`, () => measureTruePeak(channels, rate));
  time(`  measureTruePeak (no pruning)`, () => measureTruePeak(channels, rate, { prune: false }), 3);
  time(`  measureLoudness (all of the above, pruned)`, () => measureLoudness(channels, rate));
}
console.log(
  `\nload after: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
