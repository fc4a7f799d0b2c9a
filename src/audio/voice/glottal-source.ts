/**
 * Band-limited glottal excitation: one period of the derivative of a Rosenberg glottal pulse
 * (Rosenberg, "Effect of glottal pulse shape on the quality of natural vowels", JASA 49, 1971), the
 * derivative folding in the +6 dB/octave lip radiation, stored as wavetables. There is one table per
 * semitone of f0, each holding only the harmonics that stay below ~20 kHz at the top of its semitone,
 * so a phase-accumulator oscillator reading the table for the current f0 never aliases at 44.1 kHz
 * (the "mip-mapped wavetable" method of band-limited oscillators).
 */
import FFT from 'fft.js';

/** Samples per table period (a guard sample repeats the first one for interpolation). */
export const TABLE_SIZE = 2048;
/** f0 range covered, MIDI (C1 … C8); notes outside are clamped to the nearest table. */
export const TABLE_MIN_MIDI = 24;
export const TABLE_MAX_MIDI = 108;

export interface GlottalTables {
  /** `tables[m - TABLE_MIN_MIDI]` for f0 nearest MIDI m; each TABLE_SIZE + 1 samples, fundamental amplitude 1. */
  tables: Float32Array[];
  /** Open quotient (opening + closing phase) as a fraction of the period. */
  openQuotient: number;
  /**
   * Magnitudes of harmonics 1 … 8 of the pulse before spectral tilt, relative to the fundamental
   * (index 0 is harmonic 1, so always 1).
   */
  harmonics: Float64Array;
  /** The fundamental alone, in phase with the tables' fundamental (amplitude 1, TABLE_SIZE + 1 samples). */
  fundamental: Float32Array;
}

const cache = new Map<string, GlottalTables>();

/**
 * Tables for a pulse with the given opening and closing phases (fractions of the period, sum < 1)
 * and a spectral tilt (one-pole low-pass corner `tiltHz`) at `sampleRate`. Cached: building costs a few milliseconds once per shape and rate.
 */
export function glottalTables(sampleRate: number, opening: number, closing: number, tiltHz: number): GlottalTables {
  const key = `${sampleRate}:${opening}:${closing}:${tiltHz}`;
  const cached = cache.get(key);
  if (cached) return cached;

  // Harmonic series of one period, sampled finely enough that aliasing in the analysis is negligible.
  const analysisSize = 16384;
  const pulse = new Float64Array(analysisSize);
  for (let n = 0; n < analysisSize; n++) pulse[n] = pulseDerivative(n / analysisSize, opening, closing);
  const analysis = new FFT(analysisSize);
  const spectrum = analysis.createComplexArray() as number[];
  analysis.realTransform(spectrum, Array.from(pulse));
  const fundamental = (2 * Math.hypot(spectrum[2], spectrum[3])) / analysisSize;

  const synthesis = new FFT(TABLE_SIZE);
  const bins = synthesis.createComplexArray() as number[];
  const out = synthesis.createComplexArray() as number[];
  const ceilingHz = Math.min(20000, 0.46 * sampleRate);
  const tables: Float32Array[] = [];
  // Table value = Σ_k c_k e^{2πikn/N} with c_k = X_k/M (M = analysis size), scaled to fundamental 1.
  const scale = 1 / (analysisSize * fundamental);
  for (let midi = TABLE_MIN_MIDI; midi <= TABLE_MAX_MIDI; midi++) {
    const topHz = 440 * Math.pow(2, (midi + 0.5 - 69) / 12);
    const harmonics = Math.max(1, Math.min(TABLE_SIZE / 2 - 1, Math.floor(ceilingHz / topHz)));
    bins.fill(0);
    const f0 = 440 * Math.pow(2, (midi - 69) / 12);
    for (let k = 1; k <= harmonics; k++) {
      // Spectral tilt: a one-pole low-pass 1 / (1 + j·f/tiltHz) at this harmonic's frequency, the
      // smoothed closure of the Liljencrants–Fant model's return phase (Fant, Liljencrants & Lin,
      // "A four-parameter model of glottal flow", STL-QPSR 4, 1985): Fa = 1 / (2π·Ta).
      const ratio = (k * f0) / tiltHz;
      const tr = 1 / (1 + ratio * ratio);
      const ti = -ratio * tr;
      const xr = spectrum[2 * k] * scale;
      const xi = spectrum[2 * k + 1] * scale;
      const re = xr * tr - xi * ti;
      const im = xr * ti + xi * tr;
      bins[2 * k] = re;
      bins[2 * k + 1] = im;
      bins[2 * (TABLE_SIZE - k)] = re;
      bins[2 * (TABLE_SIZE - k) + 1] = -im;
    }
    synthesis.inverseTransform(out, bins);
    const table = new Float32Array(TABLE_SIZE + 1);
    // inverseTransform divides by N; the table wants the plain Fourier sum.
    for (let n = 0; n < TABLE_SIZE; n++) table[n] = out[2 * n] * TABLE_SIZE;
    table[TABLE_SIZE] = table[0];
    tables.push(table);
  }
  const harmonicMagnitudes = new Float64Array(8);
  for (let k = 1; k <= 8; k++) harmonicMagnitudes[k - 1] = (2 * Math.hypot(spectrum[2 * k], spectrum[2 * k + 1])) / analysisSize / fundamental;
  const fundamentalWave = new Float32Array(TABLE_SIZE + 1);
  const phase1 = Math.atan2(spectrum[3], spectrum[2]);
  for (let n = 0; n <= TABLE_SIZE; n++) fundamentalWave[n] = Math.cos((2 * Math.PI * n) / TABLE_SIZE + phase1);
  const result = { tables, openQuotient: opening + closing, harmonics: harmonicMagnitudes, fundamental: fundamentalWave };
  cache.set(key, result);
  return result;
}

/**
 * Derivative of the Rosenberg pulse (flow peak 1) at `phase` in [0, 1): a raised-cosine opening over
 * `opening`, a quarter-cosine closing over `closing` ending in an abrupt closure (the main excitation
 * of the tract), then a closed phase.
 */
function pulseDerivative(phase: number, opening: number, closing: number): number {
  if (phase < opening) return ((0.5 * Math.PI) / opening) * Math.sin((Math.PI * phase) / opening);
  if (phase < opening + closing) return ((-0.5 * Math.PI) / closing) * Math.sin((Math.PI * (phase - opening)) / (2 * closing));
  return 0;
}
