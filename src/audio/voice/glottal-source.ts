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

/**
 * The band-limited excitation of one pulse shape at one sample rate. Tables are built on first use
 * (one inverse FFT each), so a song only pays for the semitones it sings.
 */
export class GlottalSource {
  /** Open quotient (opening + closing phase) as a fraction of the period. */
  readonly openQuotient: number;
  /**
   * Magnitudes of harmonics 1 … 8 of the pulse before spectral tilt, relative to the fundamental
   * (index 0 is harmonic 1, so always 1).
   */
  readonly harmonics: Float64Array;
  /** The fundamental alone, in phase with the tables' fundamental (amplitude 1, TABLE_SIZE + 1 samples). */
  readonly fundamental: Float32Array;
  private readonly tables: (Float32Array | undefined)[] = [];
  /** Pulse spectrum X_k / (M · |fundamental|), interleaved (re, im), harmonics 0 … TABLE_SIZE / 2. */
  private readonly spectrum: Float64Array;

  constructor(
    private readonly sampleRate: number,
    opening: number,
    closing: number,
    private readonly tiltHz: number,
  ) {
    this.openQuotient = opening + closing;
    // Harmonic series of one period, sampled finely enough that aliasing in the analysis is negligible.
    const analysisSize = 16384;
    const pulse = new Array<number>(analysisSize);
    for (let n = 0; n < analysisSize; n++) pulse[n] = pulseDerivative(n / analysisSize, opening, closing);
    const analysis = new FFT(analysisSize);
    const raw = analysis.createComplexArray() as number[];
    analysis.realTransform(raw, pulse);
    // Table value = Σ_k c_k e^{2πikn/N} with c_k = X_k / M (M = analysis size), scaled to fundamental 1.
    const first = Math.hypot(raw[2], raw[3]);
    this.spectrum = new Float64Array(TABLE_SIZE + 2);
    for (let i = 0; i < TABLE_SIZE + 2; i++) this.spectrum[i] = raw[i] / (2 * first);
    this.harmonics = new Float64Array(8);
    for (let k = 1; k <= 8; k++) this.harmonics[k - 1] = Math.hypot(raw[2 * k], raw[2 * k + 1]) / first;
    this.fundamental = new Float32Array(TABLE_SIZE + 1);
    const phase1 = Math.atan2(raw[3], raw[2]);
    for (let n = 0; n <= TABLE_SIZE; n++) this.fundamental[n] = Math.cos((2 * Math.PI * n) / TABLE_SIZE + phase1);
  }

  /** The table for f0 nearest MIDI `midi` (clamped to C1 … C8): TABLE_SIZE + 1 samples, fundamental amplitude 1. */
  table(midi: number): Float32Array {
    const index = Math.min(TABLE_MAX_MIDI, Math.max(TABLE_MIN_MIDI, Math.round(midi))) - TABLE_MIN_MIDI;
    return this.tables[index] ?? (this.tables[index] = this.build(index + TABLE_MIN_MIDI));
  }

  private build(midi: number): Float32Array {
    const synthesis = fftOf(TABLE_SIZE);
    const bins = synthesis.createComplexArray() as number[];
    const out = synthesis.createComplexArray() as number[];
    const ceilingHz = Math.min(20000, 0.46 * this.sampleRate);
    const topHz = 440 * Math.pow(2, (midi + 0.5 - 69) / 12);
    const count = Math.max(1, Math.min(TABLE_SIZE / 2 - 1, Math.floor(ceilingHz / topHz)));
    const f0 = 440 * Math.pow(2, (midi - 69) / 12);
    for (let k = 1; k <= count; k++) {
      // Spectral tilt: a one-pole low-pass 1 / (1 + j·f/tiltHz) at this harmonic's frequency, the
      // smoothed closure of the Liljencrants–Fant model's return phase (Fant, Liljencrants & Lin,
      // "A four-parameter model of glottal flow", STL-QPSR 4, 1985): Fa = 1 / (2π·Ta).
      const ratio = (k * f0) / this.tiltHz;
      const tr = 1 / (1 + ratio * ratio);
      const ti = -ratio * tr;
      const xr = this.spectrum[2 * k];
      const xi = this.spectrum[2 * k + 1];
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
    return table;
  }
}

const ffts = new Map<number, FFT>();
function fftOf(size: number): FFT {
  let fft = ffts.get(size);
  if (!fft) ffts.set(size, (fft = new FFT(size)));
  return fft;
}

const cache = new Map<string, GlottalSource>();

/**
 * The (cached) source for a pulse with the given opening and closing phases (fractions of the
 * period, sum < 1) and spectral tilt (one-pole low-pass corner `tiltHz`) at `sampleRate`.
 */
export function glottalSource(sampleRate: number, opening: number, closing: number, tiltHz: number): GlottalSource {
  const key = `${sampleRate}:${opening}:${closing}:${tiltHz}`;
  let source = cache.get(key);
  if (!source) cache.set(key, (source = new GlottalSource(sampleRate, opening, closing, tiltHz)));
  return source;
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
