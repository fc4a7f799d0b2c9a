/**
 * Key estimation from notes: the Krumhansl–Schmuckler algorithm (Krumhansl 1990, "Cognitive
 * Foundations of Musical Pitch", ch. 4): a duration-weighted pitch-class histogram is correlated
 * (Pearson) with the major and minor key profiles rotated to each of the 12 tonics; the best of the
 * 24 keys wins. Profiles: Krumhansl & Kessler (1982) probe-tone ratings by default, or Temperley's
 * (1999, "What's key for key? The Krumhansl-Schmuckler key-finding algorithm reconsidered").
 *
 * Sung and hummed melodies are rarely tuned to A = 440 Hz, so before binning, a global tuning offset
 * (the duration-weighted circular mean of each note's deviation from the nearest semitone) is
 * removed; a melody sung 40 cents sharp still lands on the right pitch classes.
 */
import { PITCH_CLASS_NAMES } from '../pitch-math.js';
import type { KeyEstimate, NoteEvent } from '../types.js';

/** Krumhansl & Kessler (1982) probe-tone profiles, index 0 = tonic. */
const KRUMHANSL_KESSLER = {
  major: [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
  minor: [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
};

/** Temperley (1999) revised profiles, index 0 = tonic. */
const TEMPERLEY = {
  major: [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
  minor: [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0],
};

export interface KeyOptions {
  /** Key profiles; default `krumhansl-kessler`. */
  profile?: 'krumhansl-kessler' | 'temperley';
  /** Weight each note by its confidence as well as its duration; default true. */
  weightByConfidence?: boolean;
}

/** Correlation of every key with a histogram: index = mode·12 + tonic (mode 0 major, 1 minor). */
export function keyCorrelations(histogram: ArrayLike<number>, options: KeyOptions = {}): Float64Array {
  const profiles = options.profile === 'temperley' ? TEMPERLEY : KRUMHANSL_KESSLER;
  const out = new Float64Array(24);
  [profiles.major, profiles.minor].forEach((profile, mode) => {
    for (let tonic = 0; tonic < 12; tonic++) {
      const rotated = new Float64Array(12);
      for (let pc = 0; pc < 12; pc++) rotated[pc] = profile[(pc - tonic + 12) % 12];
      out[mode * 12 + tonic] = pearson(histogram, rotated);
    }
  });
  return out;
}

/**
 * Estimates the key of a melody.
 * @returns the best of 24 keys, or null when there are no notes (or no pitch-class variety).
 *   `confidence` (0..1) grows with the margin between the best and the runner-up correlation
 *   (a margin of 0.1 gives ≈ 0.63, 0.2 gives ≈ 0.86) and is scaled by the best correlation itself.
 *   The runner-up is often the relative major/minor, which shares all pitch classes.
 */
export function estimateKey(notes: NoteEvent[], options: KeyOptions = {}): KeyEstimate | null {
  if (notes.length === 0) return null;
  const weightByConfidence = options.weightByConfidence ?? true;
  const weights = notes.map((n) => Math.max(0, n.end - n.start) * (weightByConfidence ? Math.max(0.05, n.confidence) : 1));

  // Global tuning offset: circular mean of (midi − round(midi)) on a one-semitone circle.
  let sx = 0;
  let sy = 0;
  notes.forEach((n, i) => {
    const angle = 2 * Math.PI * (n.midi - Math.round(n.midi));
    sx += weights[i] * Math.cos(angle);
    sy += weights[i] * Math.sin(angle);
  });
  const offset = sx === 0 && sy === 0 ? 0 : Math.atan2(sy, sx) / (2 * Math.PI);

  const histogram = new Float64Array(12);
  notes.forEach((n, i) => {
    const pc = ((Math.round(n.midi - offset) % 12) + 12) % 12;
    histogram[pc] += weights[i];
  });
  const correlations = keyCorrelations(histogram, options);
  let best = -1;
  let second = -1;
  for (let k = 0; k < 24; k++) {
    if (!Number.isFinite(correlations[k])) continue;
    if (best < 0 || correlations[k] > correlations[best]) {
      second = best;
      best = k;
    } else if (second < 0 || correlations[k] > correlations[second]) {
      second = k;
    }
  }
  if (best < 0) return null;
  const top = correlations[best];
  const margin = second >= 0 ? top - correlations[second] : top;
  const confidence = Math.max(0, Math.min(1, top)) * (1 - Math.exp(-margin / 0.1));
  const tonicPitchClass = best % 12;
  const mode = best < 12 ? 'major' : 'minor';
  const tonic = PITCH_CLASS_NAMES[tonicPitchClass];
  return { tonic, tonicPitchClass, mode, confidence, label: `${tonic} ${mode}` };
}

/** Pearson correlation; NaN when either side is (numerically) constant. */
function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  // A histogram whose bins differ only by rounding noise counts as constant.
  const tiny = 1e-12 * n * Math.max(ma * ma, mb * mb);
  return saa > tiny && sbb > tiny ? sab / Math.sqrt(saa * sbb) : NaN;
}
