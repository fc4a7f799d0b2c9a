/**
 * Times the singing voice on 30 s and 300 s of syllabic melody (mixed consonants, rests, phrases,
 * vibrato, portamento and breaths on), for both voices: the first call in a fresh process (glottal
 * tables and JIT warm-up included) and the best of three later calls. Also reports the output pitch
 * accuracy the quality check uses (share of frames the pitch tracker finds voiced, among those the
 * voice reports as sung, that lie within 50 cents of the intended note) and the heap growth.
 * Times are CPU time of this process (user + system): the machine is shared, and wall time would
 * also count the neighbours.
 *
 * Run: npx tsc -p tsconfig.build.json && node --expose-gc dist/bench/voice.bench.js
 */
import type { Score, SungNote } from '../src/audio/types.js';
import { singScore, type SingResult } from '../src/audio/voice/voice.js';
import { trackPitch } from '../src/audio/pitch/pitch.js';

const SYLLABLES = [
  ['L', 'AA'],
  ['M', 'IY'],
  ['S', 'OW'],
  ['T', 'EY', 'K'],
  ['D', 'R', 'IY', 'M'],
  ['S', 'T', 'AA', 'R'],
  ['HH', 'UW'],
  ['W', 'ER', 'L', 'D'],
  ['B', 'L', 'UW'],
  ['N', 'AY', 'T'],
  ['F', 'AY', 'ER'],
  ['K', 'IH', 'S'],
  ['TH', 'IH', 'NG'],
  ['CH', 'EH', 'R'],
];
const STEPS = [0, 2, 4, 5, 7, 9, 7, 5, 4, 2, 0, -1, -3, -5, 0, 12];
const LENGTHS = [0.25, 0.5, 0.35, 0.7, 0.3, 0.45, 1.0];

/** A deterministic melody of about `seconds` around MIDI 55 (a hummed baritone range), 8 notes a phrase. */
function melody(seconds: number): Score {
  const notes: SungNote[] = [];
  let t = 0.4;
  for (let i = 0; t < seconds - 1.2; i++) {
    const length = LENGTHS[(i * 3) % LENGTHS.length];
    const continuation = i % 11 === 5;
    notes.push({
      start: t,
      end: t + length - (i % 4 === 3 ? 0.08 : 0),
      midi: 55 + STEPS[i % STEPS.length],
      confidence: 1,
      syllable: continuation ? '' : 'la',
      continuation,
      syllabic: 'single',
      phonemes: continuation ? [] : SYLLABLES[i % SYLLABLES.length],
      stressed: i % 2 === 0,
      phraseIndex: Math.floor(i / 8),
    });
    t += length + (i % 8 === 7 ? 0.6 : 0);
  }
  return { notes, tempo: null, key: null };
}

function time<T>(run: () => T): { result: T; ms: number } {
  const start = process.cpuUsage();
  const result = run();
  const used = process.cpuUsage(start);
  return { result, ms: (used.user + used.system) / 1000 };
}

function accuracy(result: SingResult): { share: number; frames: number } {
  const track = trackPitch({ sampleRate: result.sampleRate, samples: result.samples });
  let frames = 0;
  let within = 0;
  const { times, midi } = result.intendedPitch;
  for (let f = 0; f < midi.length; f++) {
    if (midi[f] <= 0) continue;
    const hz = track.hz[Math.round(times[f] / track.hopSeconds)];
    if (!hz) continue;
    frames++;
    if (Math.abs(1200 * Math.log2(hz / (440 * Math.pow(2, (midi[f] - 69) / 12)))) <= 50) within++;
  }
  return { share: within / frames, frames };
}

const gc = (globalThis as { gc?: () => void }).gc;
for (const voice of ['high', 'low']) {
  for (const seconds of [30, 300]) {
    const score = melody(seconds);
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const first = time(() => singScore(score, { voice }));
    const heapAfter = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    const later: number[] = [];
    for (let i = 0; i < 3; i++) later.push(time(() => singScore(score, { voice })).ms);
    const { share, frames } = accuracy(first.result);
    console.log(
      `${voice} voice, ${seconds} s (${score.notes.length} notes): first call ${first.ms.toFixed(0)} ms, best later ${Math.min(...later).toFixed(0)} ms; ` +
        `heap +${((heapAfter - heapBefore) / 1e6).toFixed(0)} MB; pitch accuracy ${(100 * share).toFixed(2)} % of ${frames} frames; ` +
        `transposed ${first.result.transposeSemitones} semitones`,
    );
  }
}
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
