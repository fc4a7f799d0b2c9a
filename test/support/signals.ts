/**
 * Test signals with known truth, rendered in code. Every generator is deterministic (seeded).
 */
import { createRandom, gaussian } from '../../src/audio/random.js';
import { midiToHz } from '../../src/audio/pitch-math.js';

export interface TruthNote {
  start: number;
  end: number;
  midi: number;
}

export type Timbre = 'sine' | 'voice' | 'hum' | 'whistle' | 'bright';

export interface RenderOptions {
  sampleRate?: number;
  /** Total length in seconds; defaults to the last note's end + 0.5 s. */
  duration?: number;
  timbre?: Timbre;
  /** Peak amplitude of the notes (0..1). */
  amplitude?: number;
  /** Vibrato rate in Hz and depth in cents (peak), starting `delay` seconds into each note. */
  vibrato?: { rateHz: number; depthCents: number; delay?: number };
  /** Glide into each note over this many seconds when the previous note ends where this one starts. */
  glideSeconds?: number;
  /** White noise level relative to full scale in dB (e.g. -40), added everywhere. */
  noiseDb?: number;
  /** Attack/release ramps in seconds. */
  attack?: number;
  release?: number;
  seed?: number;
}

/** Relative harmonic amplitudes for each timbre. */
function harmonics(timbre: Timbre): number[] {
  switch (timbre) {
    case 'sine':
    case 'whistle':
      return [1];
    case 'hum': // nasal hum: strong fundamental, fast roll-off
      return [1, 0.35, 0.12, 0.05, 0.02];
    case 'voice': // sung vowel-like: harmonics with a formant bump near the 3rd-5th harmonic
      return [1, 0.7, 0.9, 0.6, 0.5, 0.3, 0.2, 0.15, 0.1, 0.08, 0.05, 0.03];
    case 'bright': // reed/brass-like with a weak fundamental
      return [0.5, 1, 0.8, 0.7, 0.5, 0.4, 0.3, 0.25, 0.2, 0.15];
  }
}

export interface RenderedMelody {
  sampleRate: number;
  samples: Float32Array;
  /** f0 truth on a 10 ms grid starting at t = 0 (0 where silent). */
  truthHz: Float32Array;
  truthTimes: Float64Array;
}

/** Renders notes additively with phase continuity; returns the samples and the f0 truth on a 10 ms grid. */
export function renderMelody(notes: TruthNote[], options: RenderOptions = {}): RenderedMelody {
  const rate = options.sampleRate ?? 44100;
  const duration = options.duration ?? (notes.length ? notes[notes.length - 1].end + 0.5 : 1);
  const length = Math.round(duration * rate);
  const out = new Float32Array(length);
  const partials = harmonics(options.timbre ?? 'voice');
  const norm = 1 / partials.reduce((a, b) => a + b, 0);
  const amplitude = options.amplitude ?? 0.5;
  const attack = options.attack ?? 0.02;
  const release = options.release ?? 0.03;
  const random = createRandom(options.seed ?? 1);
  const hop = 0.01;
  const frames = Math.floor(duration / hop);
  const truthHz = new Float32Array(frames);
  const truthTimes = new Float64Array(frames);
  for (let f = 0; f < frames; f++) truthTimes[f] = f * hop;

  const instantaneousHz = (t: number, index: number): number => {
    const note = notes[index];
    let midi = note.midi;
    const previous = notes[index - 1];
    const glide = options.glideSeconds ?? 0;
    if (glide > 0 && previous && Math.abs(previous.end - note.start) < 1e-6 && t - note.start < glide) {
      const x = (t - note.start) / glide;
      midi = previous.midi + (note.midi - previous.midi) * x;
    }
    let hz = midiToHz(midi);
    if (options.vibrato) {
      const since = t - note.start - (options.vibrato.delay ?? 0.15);
      if (since > 0) {
        const depth = options.vibrato.depthCents * Math.min(1, since / 0.2);
        hz *= Math.pow(2, (depth * Math.sin(2 * Math.PI * options.vibrato.rateHz * since)) / 1200);
      }
    }
    return hz;
  };

  let phase = 0;
  notes.forEach((note, index) => {
    const from = Math.round(note.start * rate);
    const to = Math.min(length, Math.round(note.end * rate));
    const joined = index > 0 && Math.abs(notes[index - 1].end - note.start) < 1e-6;
    if (!joined) phase = 0;
    for (let i = from; i < to; i++) {
      const t = i / rate;
      const hz = instantaneousHz(t, index);
      phase += (2 * Math.PI * hz) / rate;
      // Legato joins keep the envelope up; separate notes get attack and release ramps.
      const next = notes[index + 1];
      const legatoOut = next && Math.abs(next.start - note.end) < 1e-6;
      let env = 1;
      if (!joined) env = Math.min(env, (t - note.start) / attack);
      if (!legatoOut) env = Math.min(env, (note.end - t) / release);
      env = Math.max(0, Math.min(1, env));
      let sum = 0;
      for (let h = 0; h < partials.length; h++) {
        if (hz * (h + 1) >= rate / 2) break;
        sum += partials[h] * Math.sin((h + 1) * phase);
      }
      out[i] += amplitude * env * norm * sum;
    }
    for (let f = Math.ceil(note.start / hop); f * hop < note.end && f < frames; f++) {
      truthHz[f] = instantaneousHz(f * hop, index);
    }
  });

  if (options.noiseDb !== undefined) {
    const level = Math.pow(10, options.noiseDb / 20);
    for (let i = 0; i < length; i++) out[i] += level * gaussian(random) * 0.5;
  }
  return { sampleRate: rate, samples: out, truthHz, truthTimes };
}

/** A plain sine of `seconds` at `hz`, amplitude `amplitude` (peak). */
export function sine(hz: number, seconds: number, sampleRate = 44100, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / sampleRate);
  return out;
}

/** "Twinkle twinkle" opening in C major at 100 BPM: a simple melody with repeated notes and phrases. */
export function twinkle(startMidi = 60, beat = 0.6): TruthNote[] {
  const steps = [0, 0, 7, 7, 9, 9, 7, null, 5, 5, 4, 4, 2, 2, 0, null];
  const notes: TruthNote[] = [];
  let t = 0.3;
  for (const step of steps) {
    if (step === null) {
      t += beat;
      continue;
    }
    notes.push({ start: t, end: t + beat * 0.9, midi: startMidi + step });
    t += beat;
  }
  return notes;
}

/**
 * A long melody for benchmarks: the twinkle phrase (0.5 s beats) repeated until `seconds`, each
 * repetition moved to the next base note of `bases` (MIDI), in turn.
 */
export function repeatedTwinkle(seconds: number, bases: readonly number[]): TruthNote[] {
  const notes: TruthNote[] = [];
  const phrase = twinkle(0, 0.5);
  const length = phrase[phrase.length - 1].end + 0.6;
  for (let offset = 0, i = 0; offset + length < seconds - 0.5; offset += length, i++) {
    for (const note of phrase)
      notes.push({ start: note.start + offset, end: note.end + offset, midi: note.midi + bases[i % bases.length] });
  }
  return notes;
}
