/**
 * The singers: vocal range, tract size and voice quality of each synthetic voice, and the octave
 * transposition that moves a melody into a voice's range.
 */
import type { NoteEvent } from '../types.js';

/** A fixed formant: centre frequency and bandwidth in Hz. */
export type Formant = readonly [hz: number, bandwidthHz: number];

export interface VoiceProfile {
  /** Registry key, e.g. `low`. */
  id: string;
  /** Human name, e.g. `Baritone`. */
  name: string;
  /** Comfortable range as MIDI note numbers, inclusive. */
  range: { low: number; high: number };
  /** Multiplier on the male-reference F1–F3 targets (tract length: ~1 baritone, ~1.17 soprano). */
  formantScale: number;
  /** Fixed upper formants F4 and F5 in Hz with their bandwidths. */
  upperFormants: readonly [Formant, Formant];
  /** Bypass path: the excitation high-passed at `hz` and added at `gain` (negative flips its phase): the voice's air above F5. */
  bypass: { hz: number; gain: number };
  /** Spectral tilt of the source: corner (Hz) of a one-pole low-pass, lower = darker, softer voice. */
  tiltHz: number;
  /**
   * Rosenberg glottal pulse shape as fractions of the period: opening phase and closing phase.
   * Their sum is the open quotient; a longer closing phase is a softer, less buzzy voice.
   */
  glottalOpening: number;
  glottalClosing: number;
  /** Aspiration noise mixed into voiced sounds, relative to the voicing amplitude (0..1). */
  breathiness: number;
  /** Default vibrato: rate in Hz, depth in cents (peak), onset delay in seconds after the note onset. */
  vibrato: { rateHz: number; depthCents: number; delaySeconds: number };
  /** The Flite voice the `flite` engine sings with: `slt` (US English female) or `awb` (male). */
  fliteVoice: 'slt' | 'awb';
  /**
   * The `flite` engine's breath noise on notes above G4, relative to the voiced sound (0 = none): it
   * outlines the formants between a high voice's sparse harmonics (flite-singer.ts, BREATH_FROM_HZ).
   */
  fliteHighNoteBreath: number;
  /**
   * The `flite` engine reads voiced grains this much slower than it lays them (1 = unchanged): every
   * formant moves down by its inverse (flite-singer.ts, addGrain).
   */
  fliteFormantStretch: number;
  /**
   * The `flite` engine's glide into a melisma note (one vowel carried over several notes), seconds (up
   * to half of either note); unset = the portamento between syllables (pitch-contour.ts).
   */
  fliteMelismaGlideSeconds?: number;
}

export const VOICES: Readonly<Record<string, VoiceProfile>> = {
  low: {
    id: 'low',
    name: 'Baritone',
    range: { low: 45, high: 64 },
    formantScale: 1,
    upperFormants: [
      [3300, 250],
      [3900, 300],
    ],
    bypass: { hz: 4500, gain: -1 },
    tiltHz: 3000,
    glottalOpening: 0.4,
    glottalClosing: 0.16,
    breathiness: 0.04,
    vibrato: { rateHz: 5.3, depthCents: 30, delaySeconds: 0.25 },
    fliteVoice: 'awb',
    // None: its range ends at E4, below the breath, and its words are understood without it (issue 11
    // round 4: 0.968–0.987 on 155 held-out lines); so its samples stay exactly as they were.
    fliteHighNoteBreath: 0,
    fliteFormantStretch: 1,
  },
  high: {
    id: 'high',
    name: 'Soprano',
    // F3–D5, not A3–G5: the flite engine's `slt` is understood far better in the lower part of a
    // soprano's range (issue 11 round 5, docs/benchmarks.md: 155 held-out lines, +15..+17 in every column).
    range: { low: 53, high: 74 },
    formantScale: 1.17,
    upperFormants: [
      [3900, 300],
      [4650, 350],
    ],
    bypass: { hz: 5200, gain: -1 },
    tiltHz: 3500,
    glottalOpening: 0.42,
    glottalClosing: 0.2,
    breathiness: 0.07,
    vibrato: { rateHz: 5.6, depthCents: 35, delaySeconds: 0.25 },
    fliteVoice: 'slt',
    // Issue 11 round 6 (docs/benchmarks.md): 155 held-out lines.
    fliteHighNoteBreath: 0.35,
    // Voiced grains read 4 % slower, so the spectrum moves down: `slt` holding few syllables for long
    // (a melisma, a note of a second) lost lines that `awb` on the same notes kept (issue 11 round 10,
    // docs/benchmarks.md: 155 held-out lines; 1.1 gained as much but blurred the vowels of a phrase
    // around C5 by the quality report's measure, 1.2 lost twins).
    fliteFormantStretch: 1.04,
    // A melisma's notes joined by 0.2 s glides, not the 0.08 s between syllables, so a vowel held over
    // several notes is less often heard as several syllables (issue 11 round 11, docs/benchmarks.md: 155
    // held-out lines, +2 and +1 in the tempo2 columns; 0.3 cut the held note too short for the pitch test).
    fliteMelismaGlideSeconds: 0.2,
  },
};

/** The default voice id of {@link VOICES}. */
export const DEFAULT_VOICE = 'high';

export interface Transposition<T> {
  /** The notes with `midi` shifted (new objects; the input is untouched). */
  notes: T[];
  /** Whole-octave shift applied, in semitones (a multiple of 12, may be 0 or negative). */
  semitones: number;
  /** How many notes still lie outside the voice's range after the shift. */
  outOfRange: number;
}

/**
 * Shifts a melody by whole octaves into a voice's range. The chosen shift puts the duration-weighted
 * median pitch inside the range (always possible: every range spans at least an octave), then keeps
 * the most notes in range, then brings the median closest to the range's centre.
 */
export function transposeToRange<T extends Pick<NoteEvent, 'midi' | 'start' | 'end'>>(
  notes: readonly T[],
  voice: VoiceProfile,
): Transposition<T> {
  if (notes.length === 0) return { notes: [], semitones: 0, outOfRange: 0 };
  const median = weightedMedian(notes);
  const { low, high } = voice.range;
  const centre = (low + high) / 2;
  let best = { semitones: 0, score: -Infinity, inRange: 0 };
  const base = Math.round((centre - median) / 12);
  for (let octave = base - 2; octave <= base + 2; octave++) {
    const shift = octave * 12;
    const m = median + shift;
    let inRange = 0;
    for (const note of notes) if (note.midi + shift >= low - 0.5 && note.midi + shift <= high + 0.5) inRange++;
    const medianInside = m >= low - 0.5 && m <= high + 0.5 ? 1 : 0;
    const score = medianInside * 1e6 + inRange * 10 - Math.abs(m - centre) / 12;
    if (score > best.score) best = { semitones: shift, score, inRange };
  }
  return {
    notes: notes.map((note) => ({ ...note, midi: note.midi + best.semitones })),
    semitones: best.semitones,
    outOfRange: notes.length - best.inRange,
  };
}

/** Median of the notes' pitches, each weighted by its duration (a long note counts more than a grace note). */
function weightedMedian(notes: readonly Pick<NoteEvent, 'midi' | 'start' | 'end'>[]): number {
  const sorted = notes.map((n) => ({ midi: n.midi, weight: Math.max(n.end - n.start, 1e-3) })).sort((a, b) => a.midi - b.midi);
  const total = sorted.reduce((sum, n) => sum + n.weight, 0);
  let acc = 0;
  for (const n of sorted) {
    acc += n.weight;
    if (acc >= total / 2) return n.midi;
  }
  return sorted[sorted.length - 1].midi;
}
