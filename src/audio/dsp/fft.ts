/**
 * Real-input FFTs of power-of-two sizes: a thin typed wrapper over `fft.js` (radix-4), with one
 * cached transform per size so hot loops never rebuild twiddle tables.
 *
 * Spectra are "half spectra" of a length-`size` real signal: bins 0 … size/2 as interleaved
 * (re, im) pairs, so a spectrum array has `size + 2` entries. Bins above size/2 are the complex
 * conjugates of those below and are never stored.
 */
import FFT from 'fft.js';

export interface RealFft {
  /** Transform length (a power of two ≥ 4). */
  readonly size: number;
  /** A zeroed half-spectrum buffer: `size + 2` numbers, (re, im) for bins 0 … size/2. */
  createSpectrum(): Float64Array;
  /**
   * Forward DFT X[k] = Σ x[n]·e^(−2πikn/size) of `input` (its first `size` samples; shorter input is
   * zero-padded) into the half spectrum `out`. Unscaled.
   */
  forward(input: ArrayLike<number>, out: Float64Array): void;
  /**
   * Inverse DFT of a half spectrum (conjugate symmetry assumed) into `size` real samples, scaled by
   * 1/size so that `inverse(forward(x)) = x`. `spectrum` is left unchanged.
   */
  inverse(spectrum: Float64Array, out: Float64Array | Float32Array): void;
}

const cache = new Map<number, RealFft>();

/** The cached {@link RealFft} for `size` (a power of two ≥ 4); throws RangeError otherwise. */
export function getRealFft(size: number): RealFft {
  let fft = cache.get(size);
  if (!fft) {
    fft = createRealFft(size);
    cache.set(size, fft);
  }
  return fft;
}

/** Smallest power of two ≥ `n` (and ≥ 4, the smallest size the transform takes). */
export function nextPowerOfTwo(n: number): number {
  let size = 4;
  while (size < n) size *= 2;
  return size;
}

function createRealFft(size: number): RealFft {
  if (!Number.isInteger(size) || size < 4 || (size & (size - 1)) !== 0) {
    throw new RangeError(`FFT size must be a power of two ≥ 4, got ${size}`);
  }
  const full = new FFT(size);
  const half = new FFT(size / 2);
  const input = new Float64Array(size);
  const complexOut = new Float64Array(2 * size);
  const packed = new Float64Array(size);
  const unpacked = new Float64Array(size);
  const n2 = size / 2;
  // Twiddles W^-k = e^(+2πik/size) for k = 0 … size/2, used to unpack the odd-sample spectrum.
  const twCos = new Float64Array(n2 + 1);
  const twSin = new Float64Array(n2 + 1);
  for (let k = 0; k <= n2; k++) {
    twCos[k] = Math.cos((2 * Math.PI * k) / size);
    twSin[k] = Math.sin((2 * Math.PI * k) / size);
  }

  return {
    size,
    createSpectrum: () => new Float64Array(size + 2),
    forward(source, out) {
      let data: ArrayLike<number> = source;
      if (!(source instanceof Float64Array && source.length === size)) {
        const n = Math.min(size, source.length);
        for (let i = 0; i < n; i++) input[i] = source[i];
        for (let i = n; i < size; i++) input[i] = 0;
        data = input;
      }
      // fft.js's realTransform fills bins 0 … size/2 of a full interleaved complex array.
      full.realTransform(complexOut, data);
      for (let i = 0; i < size + 2; i++) out[i] = complexOut[i];
    },
    inverse(spectrum, out) {
      // Real inverse through one complex inverse of half the length: with E, O the spectra of the
      // even and odd samples, E[k] = (X[k] + X*[N/2−k]) / 2 and O[k] = (X[k] − X*[N/2−k])·W^−k / 2;
      // the complex signal e[m] + i·o[m] is the inverse of E + i·O.
      for (let k = 0; k < n2; k++) {
        const ar = spectrum[2 * k];
        const ai = spectrum[2 * k + 1];
        const br = spectrum[2 * (n2 - k)];
        const bi = -spectrum[2 * (n2 - k) + 1];
        const er = 0.5 * (ar + br);
        const ei = 0.5 * (ai + bi);
        const dr = 0.5 * (ar - br);
        const di = 0.5 * (ai - bi);
        const c = twCos[k];
        const s = twSin[k];
        const or = dr * c - di * s;
        const oi = dr * s + di * c;
        packed[2 * k] = er - oi;
        packed[2 * k + 1] = ei + or;
      }
      half.inverseTransform(unpacked, packed);
      for (let i = 0; i < size; i++) out[i] = unpacked[i];
    },
  };
}
