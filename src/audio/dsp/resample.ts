/**
 * Band-limited sample-rate conversion: a polyphase filter bank cut from one Kaiser-windowed sinc
 * prototype (Kaiser 1974; design formulas as in Oppenheim & Schafer, Discrete-Time Signal
 * Processing, §7.6). Zero phase: output sample n sits exactly at input time n·fromRate/toRate.
 */
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

export interface ResampleOptions {
  /**
   * Edge of the flat passband as a fraction (0 < passband < 1) of the lower of the two Nyquist
   * frequencies. Default 0.85: converting 44.1 kHz to 16 kHz keeps 0 – 6.8 kHz flat (ripple well
   * under 0.01 dB) and rolls off above.
   */
  passband?: number;
  /** Minimum stopband attenuation in dB (20 … 140). Default 60. */
  attenuationDb?: number;
  /**
   * Where the stopband starts. `'nyquist'` (default): at the lower Nyquist frequency, so nothing
   * aliases at all (to within `attenuationDb`). `'passband'`: at (lower rate − passband edge), which
   * lets content just above the new Nyquist fold back into the transition band (above the
   * passband) but never into the passband; the filter gets about half as long. Analysis stages
   * that only look at the passband use this.
   */
  stopband?: 'nyquist' | 'passband';
}

/** Largest number of filter phases stored; rarer ratios round their fractional delay to 1/this sample. */
const MAX_PHASES = 1024;
/** Output samples per slice of {@link resampleSliced}: a few ms of filtering. */
const OUTPUTS_PER_SLICE = SLICE_SAMPLES / 8;

/**
 * Converts `samples` from `fromRate` to `toRate` (positive integers, Hz).
 * @returns a new array of ⌈length·toRate/fromRate⌉ samples (the input itself when the rates are equal).
 * @throws RangeError for non-integer or non-positive rates or out-of-range options.
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number, options: ResampleOptions = {}): Float32Array {
  return runSliced(resampleSliced(samples, fromRate, toRate, options));
}

/** {@link resample} as a sliced computation (see sliced.ts): yields between blocks of output samples; same result. */
export function* resampleSliced(
  samples: Float32Array,
  fromRate: number,
  toRate: number,
  options: ResampleOptions = {},
): Sliced<Float32Array> {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`sample rates must be positive integers, got ${fromRate} → ${toRate}`);
  }
  if (fromRate === toRate) return samples;
  const passband = options.passband ?? 0.85;
  const attenuation = options.attenuationDb ?? 60;
  if (!(passband > 0 && passband < 1)) throw new RangeError(`passband must be in (0, 1), got ${passband}`);
  if (!(attenuation >= 20 && attenuation <= 140)) throw new RangeError(`attenuationDb must be in [20, 140], got ${attenuation}`);

  const divisor = gcd(fromRate, toRate);
  const up = toRate / divisor; // L
  const down = fromRate / divisor; // M
  const outLength = Math.ceil((samples.length * up) / down);
  const out = new Float32Array(outLength);
  if (samples.length === 0) return out;

  // Filter design in units of input samples (cycles per input sample for frequencies).
  const nyquist = Math.min(fromRate, toRate) / 2;
  const passEdge = passband * nyquist;
  const stopEdge = options.stopband === 'passband' ? 2 * nyquist - passEdge : nyquist;
  const cutoff = (passEdge + stopEdge) / 2 / fromRate;
  // The prototype runs at the input rate when downsampling; when upsampling its sinc is at the
  // input Nyquist anyway, so lengths are counted in input samples in both cases.
  const transition = (stopEdge - passEdge) / fromRate;
  // Kaiser's length estimate, rounded up to a multiple of 4 for the unrolled inner loop.
  const taps = Math.max(4, 4 * Math.ceil(((attenuation - 7.95) / (2.285 * 2 * Math.PI * transition) + 1) / 4));
  const beta = kaiserBeta(attenuation);
  const phases = up <= MAX_PHASES ? up : MAX_PHASES;
  const bank = cachedBank(phases, taps, cutoff, beta);

  // Each output sample costs `taps` multiply-adds (52 for the pitch tracker's 44.1 → 8 kHz).
  for (let n = 0; n < outLength; n += OUTPUTS_PER_SLICE) {
    filterOutputs(samples, out, n, Math.min(outLength, n + OUTPUTS_PER_SLICE), up, down, phases, bank, taps);
    yield;
  }
  return out;
}

/**
 * Output samples [from, to) of the polyphase filter (a plain function, not a loop in the generator:
 * V8 runs loops inside generators about three times slower).
 */
function filterOutputs(
  samples: Float32Array,
  out: Float32Array,
  from: number,
  to: number,
  up: number,
  down: number,
  phases: number,
  bank: Float64Array,
  taps: number,
): void {
  const inLength = samples.length;
  const exact = phases === up;
  const halfTaps = taps / 2;
  for (let n = from; n < to; n++) {
    // Input position t = n·M/L = base + phase/L, computed exactly in integers when the bank is exact.
    let base: number;
    let phase: number;
    if (exact) {
      const numerator = n * down;
      base = Math.floor(numerator / up);
      phase = numerator - base * up;
    } else {
      const t = (n * down) / up;
      base = Math.floor(t);
      phase = Math.round((t - base) * phases);
      if (phase === phases) {
        phase = 0;
        base += 1;
      }
    }
    // Taps cover input samples base − halfTaps + 1 … base + halfTaps.
    const first = base - halfTaps + 1;
    const offset = phase * taps;
    let acc0 = 0;
    let acc1 = 0;
    let acc2 = 0;
    let acc3 = 0;
    if (first >= 0 && first + taps <= inLength) {
      for (let k = 0; k < taps; k += 4) {
        const j = first + k;
        const o = offset + k;
        acc0 += samples[j] * bank[o];
        acc1 += samples[j + 1] * bank[o + 1];
        acc2 += samples[j + 2] * bank[o + 2];
        acc3 += samples[j + 3] * bank[o + 3];
      }
    } else {
      for (let k = 0; k < taps; k++) {
        const j = first + k;
        if (j >= 0 && j < inLength) acc0 += samples[j] * bank[offset + k];
      }
    }
    out[n] = acc0 + acc1 + acc2 + acc3;
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Kaiser's empirical β for a stopband attenuation of `a` dB. */
function kaiserBeta(a: number): number {
  if (a > 50) return 0.1102 * (a - 8.7);
  if (a >= 21) return 0.5842 * Math.pow(a - 21, 0.4) + 0.07886 * (a - 21);
  return 0;
}

/** Zeroth-order modified Bessel function of the first kind (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/**
 * Banks already built, by design (phases, taps, cutoff, β): a conversion resamples every Flite phrase
 * 16 → 44.1 kHz (441 phases × 52 taps, ~23 000 Bessel evaluations to build) and the input and the vocals
 * 44.1 → 8 kHz, always with the same few designs. Kept small: the oldest design goes when a new one
 * would make it more than {@link MAX_CACHED_BANKS}.
 */
const banks = new Map<string, Float64Array>();
const MAX_CACHED_BANKS = 8;

/** {@link buildBank}, built once per design and kept (the bank is read, never written, by the filter). */
function cachedBank(phases: number, taps: number, cutoff: number, beta: number): Float64Array {
  const key = `${phases} ${taps} ${cutoff} ${beta}`;
  let bank = banks.get(key);
  if (!bank) {
    bank = buildBank(phases, taps, cutoff, beta);
    if (banks.size >= MAX_CACHED_BANKS) banks.delete(banks.keys().next().value as string);
    banks.set(key, bank);
  }
  return bank;
}

/**
 * Phase p of the bank holds the prototype h(x) = 2fc·sinc(2fc·x)·kaiser(x) sampled at
 * x = p/phases + halfTaps − 1 − k for k = 0 … taps−1 (the distance from the output instant to each
 * input sample), normalised to unit DC gain per phase so that a
 * constant stays exactly constant.
 */
function buildBank(phases: number, taps: number, cutoff: number, beta: number): Float64Array {
  const bank = new Float64Array(phases * taps);
  const halfTaps = taps / 2;
  const i0Beta = besselI0(beta);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const x = frac + halfTaps - 1 - k;
      const r = x / halfTaps;
      let h = 0;
      if (Math.abs(r) < 1) {
        const arg = 2 * cutoff * x;
        const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
        h = 2 * cutoff * sinc * (besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta);
      }
      bank[p * taps + k] = h;
      sum += h;
    }
    for (let k = 0; k < taps; k++) bank[p * taps + k] /= sum;
  }
  return bank;
}
