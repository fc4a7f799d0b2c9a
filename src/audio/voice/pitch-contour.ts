/**
 * The sung f0 contour on the control grid: held note pitches joined by smooth glides (portamento
 * between legato notes, a quick 20 ms move otherwise), a vibrato that fades in after a delay, and a
 * few cents of slow "flutter" so held notes are not machine-flat (Klatt & Klatt, "Analysis,
 * synthesis, and perception of voice quality variations", JASA 87, 1990: the sum-of-sines flutter).
 */
import { createRandom } from '../random.js';
import type { TimedNote } from './timeline.js';

export interface VibratoSettings {
  /** Rate in Hz (typ. 5–6.5). */
  rateHz: number;
  /** Depth in cents, peak (the pitch swings ± this much). */
  depthCents: number;
  /** Seconds after the note onset before the vibrato starts fading in. */
  delaySeconds: number;
}

export interface ContourOptions {
  vibrato: VibratoSettings | null;
  /** Glide length between legato notes, seconds (0.02 when portamento is off). */
  glideSeconds: number;
  /**
   * Glide length into a melisma note (the same vowel carried on), seconds, up to half of either note;
   * default: `glideSeconds`, up to 0.4 of either note, as between syllables.
   */
  melismaGlideSeconds?: number;
  /** Flutter depth in cents, peak. */
  flutterCents: number;
  seed: number;
}

export interface PitchContour {
  /** Instantaneous sung pitch, float MIDI, one value per control point. */
  midi: Float32Array;
  /** The held note's pitch (no vibrato or flutter) where the voice sits on a note, 0 during glides. */
  target: Float32Array;
}

/** Seconds over which vibrato fades in after its delay. */
const VIBRATO_FADE_IN = 0.2;
/** Length of the pitch move between non-legato notes (inside the rest or the onset consonants). */
const QUICK_GLIDE = 0.02;

/**
 * Evaluates the contour at `count` control points `t_k = k · step` seconds. Notes must be sorted and
 * non-overlapping.
 */
export function buildPitchContour(notes: readonly TimedNote[], count: number, step: number, options: ContourOptions): PitchContour {
  const midi = new Float32Array(count);
  const target = new Float32Array(count);
  if (notes.length === 0) return { midi, target };
  const random = createRandom(options.seed ^ 0x5a17c0de);

  // Glide into note i spans [glideStart[i], glideEnd[i]]; note 0 has none.
  const n = notes.length;
  const glideStart = new Float64Array(n + 1);
  const glideEnd = new Float64Array(n + 1);
  glideStart[0] = glideEnd[0] = -Infinity;
  glideStart[n] = glideEnd[n] = Infinity;
  for (let i = 1; i < n; i++) {
    const previous = notes[i - 1];
    const note = notes[i];
    if (note.legato) {
      // Into a melisma note (always legato) the voice's own glide, up to half of either note, where it has one.
      const melismaGlide = note.melisma ? options.melismaGlideSeconds : undefined;
      const [seconds, share] = melismaGlide === undefined ? [options.glideSeconds, 0.4] : [melismaGlide, 0.5];
      const length = Math.min(seconds, share * (previous.end - previous.start), share * (note.end - note.start));
      glideStart[i] = note.start - length / 2;
      glideEnd[i] = note.start + length / 2;
    } else {
      glideEnd[i] = Math.min(note.start, note.attack);
      glideStart[i] = glideEnd[i] - QUICK_GLIDE;
    }
    if (glideStart[i] < glideEnd[i - 1]) glideStart[i] = glideEnd[i - 1];
    if (glideEnd[i] < glideStart[i]) glideEnd[i] = glideStart[i];
  }
  const rates = new Float64Array(n);
  for (let i = 0; i < n; i++) rates[i] = (options.vibrato?.rateHz ?? 0) * (0.96 + 0.08 * random());
  const flutterPhase = [random(), random(), random()].map((p) => 2 * Math.PI * p);
  const flutterDepth = options.flutterCents / 100 / 3;

  let i = 0;
  for (let k = 0; k < count; k++) {
    const t = k * step;
    while (i + 1 < n && t >= glideStart[i + 1]) i++;
    const note = notes[i];
    let value: number;
    if (i > 0 && t < glideEnd[i]) {
      const span = glideEnd[i] - glideStart[i];
      const x = span > 0 ? (t - glideStart[i]) / span : 1;
      value = notes[i - 1].midi + (note.midi - notes[i - 1].midi) * smoothstep(x);
      target[k] = 0;
    } else {
      value = note.midi;
      target[k] = note.midi;
      const vibrato = options.vibrato;
      if (vibrato && vibrato.depthCents > 0) {
        const onset = note.start + vibrato.delaySeconds;
        const release = Math.min(glideStart[i + 1], note.end + 0.05);
        const envelope = smoothstep((t - onset) / VIBRATO_FADE_IN) * smoothstep((release - t) / 0.08);
        if (envelope > 0) value += (vibrato.depthCents / 100) * envelope * Math.sin(2 * Math.PI * rates[i] * (t - onset));
      }
    }
    if (flutterDepth > 0) {
      value +=
        flutterDepth *
        (Math.sin(2 * Math.PI * 12.7 * t + flutterPhase[0]) +
          Math.sin(2 * Math.PI * 7.1 * t + flutterPhase[1]) +
          Math.sin(2 * Math.PI * 4.7 * t + flutterPhase[2]));
    }
    midi[k] = value;
  }
  return { midi, target };
}

/** 0 below 0, 1 above 1, 3x² − 2x³ between: a glide with zero slope at both ends. */
function smoothstep(x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  return x * x * (3 - 2 * x);
}
