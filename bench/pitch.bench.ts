/**
 * Times the pitch stage on 300 s of 44.1 kHz voice-like audio (a sung "twinkle" melody repeated with
 * vibrato and light breath noise): resample to the analysis rate on its own, then the whole
 * trackPitch (which includes that resampling). Also reports raw pitch accuracy against the truth
 * and the heap growth, so a speed-up that breaks accuracy shows up here. Times are CPU time of this
 * process (user + system): the machine is shared, and wall time would also count the neighbours.
 *
 * Run: npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/pitch.bench.js
 */
import { renderMelody, repeatedTwinkle, type TruthNote } from '../test/support/signals.js';
import { resample } from '../src/audio/dsp/resample.js';
import { trackPitch } from '../src/audio/pitch/pitch.js';
import { rawPitchAccuracy, voicingFalseAlarm } from '../src/audio/eval/pitch-metrics.js';

const SECONDS = 300;
const RATE = 44100;

const melody = (seconds: number): TruthNote[] => repeatedTwinkle(seconds, [55, 60, 48, 64, 57, 43, 67]);

/** CPU time (user + system) of `run`: the machine is shared, so wall time would measure the neighbours. */
function time<T>(run: () => T): { result: T; ms: number } {
  const start = process.cpuUsage();
  const result = run();
  const used = process.cpuUsage(start);
  return { result, ms: (used.user + used.system) / 1000 };
}

const gc = (globalThis as { gc?: () => void }).gc;
const signal = renderMelody(melody(SECONDS), {
  sampleRate: RATE,
  duration: SECONDS,
  timbre: 'voice',
  vibrato: { rateHz: 5.5, depthCents: 40 },
  noiseDb: -45,
});
const audio = { sampleRate: RATE, samples: signal.samples };

for (const [label, to] of [
  ['resample 44.1 kHz → 16 kHz (defaults: 60 dB, no aliasing)', 16000],
  ['resample 44.1 kHz → 8 kHz (defaults)', 8000],
] as const) {
  const { ms } = time(() => resample(audio.samples, RATE, to));
  console.log(`${label}: ${ms.toFixed(0)} ms`);
}
const analysisOnly = time(() => resample(audio.samples, RATE, 8000, { passband: 0.5, attenuationDb: 40 }));
console.log(`resample 44.1 kHz → 8 kHz (pitch settings): ${analysisOnly.ms.toFixed(0)} ms`);

gc?.();
const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
const runs: number[] = [];
let track = trackPitch(audio);
for (let i = 0; i < 3; i++) {
  const { result, ms } = time(() => trackPitch(audio));
  track = result;
  runs.push(ms);
}
const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
runs.sort((a, b) => a - b);
const rpa = rawPitchAccuracy(signal.truthTimes, signal.truthHz, track.times, track.hz);
const fa = voicingFalseAlarm(signal.truthTimes, signal.truthHz, track.times, track.hz);
console.log(
  `trackPitch on ${SECONDS} s: median CPU ${runs[1].toFixed(0)} ms (runs ${runs.map((r) => r.toFixed(0)).join(', ')} ms), ${(SECONDS / (runs[1] / 1000)).toFixed(0)}× real time`,
);
console.log(`raw pitch accuracy ${rpa.toFixed(4)}, voicing false alarm ${fa.toFixed(4)}, frames ${track.hz.length}`);
console.log(
  `heap + array buffers retained after runs: ${((heapAfter - heapBefore) / 1e6).toFixed(1)} MB; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB (input ${(audio.samples.byteLength / 1e6).toFixed(0)} MB)`,
);
