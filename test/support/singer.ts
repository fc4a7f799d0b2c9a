/**
 * A small seeded singing synthesizer for note-transcription tests (issue 12): each note is a syllable
 * with a vowel (harmonics shaped by two formants), an optional consonant before it (an unvoiced noise
 * burst, or a voiced consonant: a quieter, darker stretch at the note's pitch), a scoop into the note
 * and a fall out of it, vibrato, tremolo, a tuning drift over the whole take, and breaths (band
 * noise) between phrases. Deterministic for a seed. The truth is what a listener would write down:
 * one note per syllable at its held pitch (plus the drift at that time), onset where its consonant
 * or scoop begins.
 */
import { createRandom, gaussian } from '../../src/audio/random.js';
import type { MonoAudio } from '../../src/audio/types.js';
import type { TruthNote } from './signals.js';

/** Formant frequencies (Hz) of a few vowels (Peterson & Barney 1952, averaged adult values). */
const VOWELS = { a: [730, 1090], i: [270, 2290], u: [300, 870], e: [530, 1840], o: [570, 840] } as const;
export type Vowel = keyof typeof VOWELS;

export interface SungNote {
  /** Onset of the syllable (its consonant, if any), seconds. */
  start: number;
  /** End of the vowel, seconds. */
  end: number;
  /** Held pitch, MIDI (before drift). */
  midi: number;
  vowel?: Vowel;
  /** Consonant before the vowel: `unvoiced` (noise, voice off), `voiced` (voice 12 dB down, darker), or none. */
  consonant?: 'unvoiced' | 'voiced' | null;
  /** Consonant length in seconds; default 0.06. */
  consonantSeconds?: number;
  /** Scoop: the vowel starts this many semitones below (negative: above) and reaches the pitch in scoopSeconds. */
  scoopSemitones?: number;
  scoopSeconds?: number;
  /** Fall at the end: the pitch drops this many semitones over the last fallSeconds. */
  fallSemitones?: number;
  fallSeconds?: number;
  /** A stretch of breathy, aperiodic voice (noise at the vowel's level) of this length in the middle of the vowel, seconds. */
  midGapSeconds?: number;
}

export interface SingOptions {
  sampleRate?: number;
  seed?: number;
  /** Vibrato depth (cents, ±) and rate (Hz); default none. */
  vibrato?: { depthCents: number; rateHz: number };
  /** Tremolo: level swing (±dB) and rate (Hz) of the voice; default none. */
  tremolo?: { depthDb: number; rateHz: number };
  /** Tuning drift: cents added linearly from 0 at t = 0 to this at the end. Default 0. */
  driftCents?: number;
  /** Breaths: [start, end] seconds of breath noise at breathDb below the voice. */
  breaths?: [number, number][];
  /** Level of breaths relative to the voice, dB; default −20. */
  breathDb?: number;
  /** Extra seconds after the last note; default 0.4. */
  tail?: number;
}

export interface SungTake extends MonoAudio {
  /** One truth note per sung note (pitch includes the drift at the note's middle). */
  truth: TruthNote[];
}

/** Renders `notes` as a sung take. */
export function sing(notes: SungNote[], options: SingOptions = {}): SungTake {
  const rate = options.sampleRate ?? 16000;
  const random = createRandom(options.seed ?? 1);
  const last = notes.reduce((t, n) => Math.max(t, n.end), 0);
  const duration = last + (options.tail ?? 0.4);
  const samples = new Float32Array(Math.ceil(duration * rate));
  const drift = (t: number): number => ((options.driftCents ?? 0) / 100) * (t / duration);
  const amplitude = 0.3;
  for (const note of notes) {
    const consonant = note.consonant ?? null;
    const consonantSeconds = consonant ? (note.consonantSeconds ?? 0.06) : 0;
    const vowelStart = note.start + consonantSeconds;
    const formants = VOWELS[note.vowel ?? 'a'];
    let phase = 0;
    const from = Math.floor(note.start * rate);
    const to = Math.min(samples.length, Math.ceil(note.end * rate));
    const gapStart = (vowelStart + note.end) / 2 - (note.midGapSeconds ?? 0) / 2;
    const gapEnd = gapStart + (note.midGapSeconds ?? 0);
    for (let i = from; i < to; i++) {
      const t = i / rate;
      let semitones = note.midi + drift(t);
      const intoVowel = t - vowelStart;
      if (note.scoopSemitones && intoVowel >= 0 && intoVowel < (note.scoopSeconds ?? 0.1)) {
        semitones -= note.scoopSemitones * (1 - intoVowel / (note.scoopSeconds ?? 0.1));
      }
      const toEnd = note.end - t;
      if (note.fallSemitones && toEnd < (note.fallSeconds ?? 0.1))
        semitones -= note.fallSemitones * (1 - toEnd / (note.fallSeconds ?? 0.1));
      if (options.vibrato && intoVowel > 0.1)
        semitones += (options.vibrato.depthCents / 100) * Math.sin(2 * Math.PI * options.vibrato.rateHz * t);
      const f0 = 440 * 2 ** ((semitones - 69) / 12);
      phase += (2 * Math.PI * f0) / rate;
      // 10 ms ramps at the syllable's edges.
      const edge = Math.min(1, (t - note.start) / 0.01, (note.end - t) / 0.01);
      let level = amplitude * Math.max(0, edge);
      if (options.tremolo) level *= 10 ** ((options.tremolo.depthDb * Math.sin(2 * Math.PI * options.tremolo.rateHz * t)) / 20);
      const inConsonant = t < vowelStart;
      const inGap = t >= gapStart && t < gapEnd;
      if (inConsonant && consonant === 'unvoiced') {
        samples[i] += level * 0.15 * gaussian(random);
        continue;
      }
      if (inGap) {
        // Breathy, aperiodic voice at about the vowel's level (the tracker loses the pitch).
        samples[i] += level * 0.5 * gaussian(random);
        continue;
      }
      // Harmonics up to 4 kHz, each weighted by the vowel's two formants (a voiced consonant: only F1, 12 dB down).
      let value = 0;
      for (let k = 1; k * f0 < Math.min(4000, rate / 2); k++) {
        const f = k * f0;
        const g1 = 1 / (1 + ((f - formants[0]) / 120) ** 2);
        const g2 = inConsonant ? 0 : 0.5 / (1 + ((f - formants[1]) / 150) ** 2);
        value += ((g1 + g2 + 0.02) / k ** 0.5) * Math.sin(k * phase);
      }
      samples[i] += level * (inConsonant ? 0.25 : 1) * value * 0.5;
    }
  }
  const breathLevel = amplitude * 10 ** ((options.breathDb ?? -20) / 20);
  let low = 0;
  for (const [start, end] of options.breaths ?? []) {
    for (let i = Math.floor(start * rate); i < Math.min(samples.length, Math.ceil(end * rate)); i++) {
      const t = i / rate;
      const swell = Math.sin((Math.PI * (t - start)) / (end - start));
      // Breath: white noise, low-passed a little (one pole at ≈ 2 kHz).
      low += 0.55 * (gaussian(random) - low);
      samples[i] += breathLevel * swell * low;
    }
  }
  const truth = notes.map((note) => ({ start: note.start, end: note.end, midi: note.midi + drift((note.start + note.end) / 2) }));
  return { sampleRate: rate, samples, truth };
}
