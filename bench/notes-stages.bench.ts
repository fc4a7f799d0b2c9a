/**
 * Times the onset envelope, note segmentation, key, tempo and phrase stages on 300 s of synthetic 44.1 kHz audio
 * (a repeating melody) with a matching 10 ms pitch track.
 * Run: npx tsc -p tsconfig.build.json --outDir /tmp/mv-bench && node /tmp/mv-bench/bench/notes-stages.bench.js
 */
import { estimateKey } from '../src/audio/key/key.js';
import { segmentNotes } from '../src/audio/notes/notes.js';
import { findPhrases } from '../src/audio/phrases/phrases.js';
import { estimateTempo } from '../src/audio/tempo/tempo.js';
import { computeOnsetEnvelope } from '../src/audio/notes/onsets.js';
import { midiToHz } from '../src/audio/pitch-math.js';
import type { PitchTrack } from '../src/audio/types.js';

const rate = 44100;
const seconds = 300;
const hop = 0.01;
const samples = new Float32Array(rate * seconds);
const frames = Math.floor(seconds / hop);
const hz = new Float32Array(frames);
const prob = new Float32Array(frames);
const times = new Float64Array(frames);
const steps = [0, 2, 4, 5, 7, 7, 9, 7, 5, 4, 2, 0];
const beat = 0.4;
let phase = 0;
for (let f = 0; f < frames; f++) times[f] = f * hop;
for (let n = 0; n * beat < seconds; n++) {
  const start = n * beat;
  const end = Math.min(seconds, start + beat * 0.85);
  const f0 = midiToHz(60 + steps[n % steps.length]) * Math.pow(2, (n % 7 === 6 ? 0.6 : 0) / 12);
  for (let i = Math.round(start * rate); i < Math.round(end * rate); i++) {
    phase += (2 * Math.PI * f0) / rate;
    samples[i] = 0.4 * Math.sin(phase) + 0.2 * Math.sin(2 * phase);
  }
  for (let f = Math.ceil(start / hop); f * hop < end && f < frames; f++) {
    hz[f] = f0 * (1 + 0.003 * Math.sin(f));
    prob[f] = 0.9;
  }
}
const audio = { sampleRate: rate, samples };
const pitch: PitchTrack = { hopSeconds: hop, times, hz, voicedProbability: prob };

function time<T>(label: string, run: () => T, repeats = 5): T {
  let result = run();
  const list: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    result = run();
    list.push(performance.now() - t);
  }
  list.sort((a, b) => a - b);
  console.log(`${label}: median ${list[repeats >> 1].toFixed(1)} ms (min ${list[0].toFixed(1)} ms) for ${seconds} s`);
  return result;
}

const envelope = time('computeOnsetEnvelope', () => computeOnsetEnvelope(audio));
const notes = time('segmentNotes (envelope given)', () => segmentNotes(pitch, audio, { onsetEnvelope: envelope }));
console.log(`notes: ${notes.length}`);
const tempo = time('estimateTempo (with envelope)', () => estimateTempo(notes, envelope));
time('estimateKey', () => estimateKey(notes));
time('findPhrases', () => findPhrases(notes, tempo));
console.log(`tempo ${tempo?.bpm.toFixed(2)} BPM (true ${(60 / beat).toFixed(2)}), key ${estimateKey(notes)?.label}`);

// Worst case for the segmentation's dynamic programme: one 300 s voiced run (legato, no rests).
const legatoHz = new Float32Array(frames);
const legatoProb = new Float32Array(frames).fill(0.9);
for (let f = 0; f < frames; f++)
  legatoHz[f] = midiToHz(60 + steps[Math.floor((f * hop) / beat) % steps.length]) * (1 + 0.003 * Math.sin(f));
const legato: PitchTrack = { hopSeconds: hop, times, hz: legatoHz, voicedProbability: legatoProb };
const legatoNotes = time('segmentNotes, one 300 s legato run', () => segmentNotes(legato, null));
console.log(`legato notes: ${legatoNotes.length}`);
