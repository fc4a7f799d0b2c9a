/**
 * True peak per ITU-R BS.1770-4 Annex 2: the highest magnitude of the signal between its samples,
 * estimated by oversampling with a polyphase interpolation filter.
 *
 * Filter. Annex 2 describes a 4× oversampler made of a 48-tap FIR split into 4 phases of 12 taps.
 * We design our own, a Kaiser-windowed sinc (β = 5) with its cut-off at the input Nyquist frequency
 * and 16 taps per phase (a 65-tap prototype centred on an input sample):
 * - with the cut-off exactly at Nyquist the sinc's zeros fall on every L-th tap, so phase 0 is the
 *   identity: the oversampled signal passes through the original samples and the true peak can never
 *   read below the sample peak (the annex's 48-tap filter is not centred on a sample and can);
 * - each fractional phase is scaled to unity DC gain;
 * - 16 taps/phase keep the magnitude error of every phase within ±0.05 dB up to 0.4·fs (17.6 kHz at
 *   44.1 kHz); with 12 taps/phase the best Kaiser β (sweep over 3…7) only reaches ±0.2 dB there.
 * The remaining under-read is the 4× grid itself: a sine at frequency f can peak up to 1/8 sample
 * away from the nearest output, i.e. at most 20·log10(cos(π·f/(4·fs))) (−0.17 dB at fs/4).
 * Annex 2 also attenuates by 12.04 dB before filtering to leave headroom in fixed-point arithmetic;
 * we compute in Float64, so that step (and its +12.04 dB compensation) is unnecessary.
 *
 * Oversampling factor: 4× below 88.2 kHz, 2× from 88.2 kHz, none from 176.4 kHz (the annex notes that
 * at 192 kHz oversampling is no longer needed).
 *
 * Edges: the output grid covers the interval from the first to the last sample; the filter sees zeros
 * outside the signal.
 *
 * Speed (pruning). For an output of phase p, |y| ≤ Σ|h_p|·max|x| over the taps it reads. The running
 * maximum starts at the sample peak (which the identity phase 0 contributes anyway) raised by an exact
 * search around it; then blocks of {@link BLOCK} input samples whose bound cannot exceed the running
 * maximum are skipped. This is exact: a skipped output is at most its bound, which is at most the
 * running maximum, which is at most the final answer, so the pruned and unpruned searches return the
 * same number (the bound carries a 1e-9 relative margin that covers floating-point rounding of the
 * 16-term dot products). Steady signals whose sample peak sits at every crest (a constant sine) cannot
 * be pruned by a bound of this kind; they cost the full search.
 */
import { toDb } from './levels.js';
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

/** Taps per polyphase branch (the hot loops are written out for 16). */
export const TAPS_PER_PHASE = 16;
/** Kaiser window shape parameter of the interpolation filter. */
export const KAISER_BETA = 5;
/**
 * Input samples per pruning block (≥ TAPS_PER_PHASE / 2 so that a block's neighbours cover its taps).
 * Shorter than a period of a voice's fundamental, so block maxima follow the waveform and blocks
 * away from its crests can be skipped.
 */
const BLOCK = 16;
/** Blocks searched either side of the sample peak's block to seed the running maximum. */
const SEED_BLOCKS = 8;
/** Longest run of consecutive blocks interpolated in one call. */
const MAX_RUN = 32;
/** Relative safety margin on the pruning bound, far above Float64 rounding of a 16-term dot product. */
const BOUND_MARGIN = 1 + 1e-9;
/** Blocks of the sample-maximum pass per slice (see sliced.ts). */
const SLICE_BLOCKS = SLICE_SAMPLES / BLOCK;
/** An interpolated sample costs ~16 times a sample-maximum one (3 phases × 16 taps against a compare). */
const INTERPOLATED_COST = 16;

export interface TruePeakOptions {
  /** Skip blocks that provably cannot raise the maximum (default true). False runs the full search; tests use it. */
  prune?: boolean;
}

/** Oversampling factor BS.1770-4 Annex 2 calls for at `sampleRate` (Hz): 4, 2 or 1. */
export function oversamplingFactor(sampleRate: number): number {
  if (sampleRate >= 176400) return 1;
  if (sampleRate >= 88200) return 2;
  return 4;
}

/** Zeroth-order modified Bessel function of the first kind (power series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x / 2) * (x / 2);
  for (let k = 1; k < 60; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** Coefficients of the fractional phases of an L× interpolator (L = 2 or 4). */
export interface Interpolator {
  /** Oversampling factor L. */
  factor: number;
  /** Taps per phase T (16). */
  taps: number;
  /**
   * (L − 1)·T coefficients: phase p (1..L−1) at offset (p − 1)·T; the output at time n + p/L is
   * Σₖ c[(p − 1)·T + k] · x[n + T/2 − k], k = 0..T−1.
   */
  coefficients: Float64Array;
  /** The same filter folded by symmetry for the hot loops (see `interiorPeak4`). */
  folded: { even: Float64Array; odd: Float64Array; half: Float64Array };
  /** max over phases of Σ|c|: the gain bound used for pruning. */
  bound: number;
}

const interpolators = new Map<number, Interpolator>();

/**
 * The Kaiser-windowed-sinc polyphase interpolator for oversampling `factor` (2 or 4; cached).
 * The prototype has factor·16 + 1 taps centred on an input sample; phase p holds every factor-th tap
 * from p, scaled to unity DC gain. Phase L − p is stored as the exact mirror of phase p (the prototype
 * is symmetric), so the folded and the plain forms agree.
 */
export function interpolatorFor(factor: number): Interpolator {
  const cached = interpolators.get(factor);
  if (cached) return cached;
  if (factor !== 2 && factor !== 4) throw new RangeError(`oversampling factor must be 2 or 4, got ${factor}`);
  const taps = TAPS_PER_PHASE;
  const centre = (factor * taps) / 2;
  const coefficients = new Float64Array((factor - 1) * taps);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 1; p <= factor / 2; p++) {
    const phase = coefficients.subarray((p - 1) * taps, p * taps);
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const j = p + factor * k; // index into the prototype
      const t = (j - centre) / factor; // distance in input samples, never an integer for p ≠ 0
      const r = (j - centre) / centre;
      const window = besselI0(KAISER_BETA * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
      phase[k] = (Math.sin(Math.PI * t) / (Math.PI * t)) * window;
      sum += phase[k];
    }
    for (let k = 0; k < taps; k++) phase[k] /= sum;
    if (2 * p === factor) {
      for (let k = 0; k < taps / 2; k++) phase[taps - 1 - k] = phase[k]; // exact symmetry
    } else {
      const mirror = coefficients.subarray((factor - p - 1) * taps, (factor - p) * taps);
      for (let k = 0; k < taps; k++) mirror[k] = phase[taps - 1 - k];
    }
  }
  let bound = 1; // phase 0 is the identity
  for (let p = 1; p < factor; p++) {
    let absSum = 0;
    for (let k = 0; k < taps; k++) absSum += Math.abs(coefficients[(p - 1) * taps + k]);
    bound = Math.max(bound, absSum);
  }
  const halfPhase = coefficients.subarray((factor / 2 - 1) * taps, (factor / 2) * taps);
  const folded = { even: new Float64Array(taps / 2), odd: new Float64Array(taps / 2), half: new Float64Array(taps / 2) };
  for (let k = 0; k < taps / 2; k++) {
    folded.half[k] = halfPhase[k];
    folded.even[k] = coefficients[k] + coefficients[taps - 1 - k];
    folded.odd[k] = coefficients[k] - coefficients[taps - 1 - k];
  }
  const interpolator = { factor, taps, coefficients, folded, bound };
  interpolators.set(factor, interpolator);
  return interpolator;
}

/** Interpolated value at time i + p/L (p ≥ 1), reading zeros outside the signal: the edge path. */
function interpolateAt(x: Float32Array, i: number, p: number, interpolator: Interpolator): number {
  const { taps, coefficients: c } = interpolator;
  const offset = (p - 1) * taps;
  const base = i + taps / 2;
  let acc = 0;
  for (let k = 0; k < taps; k++) {
    const m = base - k;
    if (m >= 0 && m < x.length) acc += c[offset + k] * x[m];
  }
  return acc;
}

/**
 * Highest |interpolated value| at the fractional positions i + p/L, p = 1..L−1, for input indices i in
 * [from, to), reading zeros outside the signal. When `envelope` is given, `envelope[i]` is raised to
 * the largest of those values at each i instead (and the peak is still returned).
 */
function fractionalPeak(
  x: Float32Array,
  from: number,
  to: number,
  interpolator: Interpolator,
  envelope: Float32Array | null = null,
): number {
  const half = interpolator.taps / 2;
  // Fast range: every tap index i + half − k (k = 0..taps−1) lies inside the signal.
  const fastFrom = Math.min(to, Math.max(from, half - 1));
  const fastTo = Math.max(fastFrom, Math.min(to, x.length - half));
  let peak = 0;
  if (fastTo > fastFrom) {
    if (envelope !== null) peak = interiorEnvelope(x, fastFrom, fastTo, interpolator, envelope);
    else if (interpolator.factor === 4) peak = interiorPeak4(x, fastFrom, fastTo, interpolator);
    else peak = interiorPeak2(x, fastFrom, fastTo, interpolator);
  }
  for (let i = from; i < to; i++) {
    if (i === fastFrom) i = fastTo;
    if (i >= to) break;
    let local = 0;
    for (let p = 1; p < interpolator.factor; p++) {
      const v = interpolateAt(x, i, p, interpolator);
      const a = v < 0 ? -v : v;
      if (a > local) local = a;
    }
    if (local > peak) peak = local;
    if (envelope !== null && local > envelope[i]) envelope[i] = local;
  }
  return peak;
}

/*
 * The hot loops, away from the edges, written out for 16 taps. They use the filter's symmetry: phase
 * L − p is phase p reversed, and the half-sample phase is symmetric. With sₖ = x[i+8−k] + x[i−7+k] and
 * dₖ = x[i+8−k] − x[i−7+k] (k = 0..7):
 *   y_half = Σ mₖ·sₖ,   y_p + y_{L−p} = Σ (cₖ + c₁₅₋ₖ)·sₖ,   y_p − y_{L−p} = Σ (cₖ − c₁₅₋ₖ)·dₖ,
 * from which y_p and y_{L−p} follow by half-sum and half-difference: 24 multiplications per input
 * sample instead of 48 for 4×, 8 for 2×. The peak-only loops track the highest and the lowest value
 * rather than |y| (the sign branch of |y| is unpredictable on real audio and cost ~1.5× in V8), and do
 * nothing else (an envelope store in the same loop made it about twice as slow).
 */

/** 4× interior peak. */
function interiorPeak4(x: Float32Array, from: number, to: number, interpolator: Interpolator): number {
  const f = interpolator.folded;
  const [m0, m1, m2, m3, m4, m5, m6, m7] = f.half;
  const [e0, e1, e2, e3, e4, e5, e6, e7] = f.even;
  const [o0, o1, o2, o3, o4, o5, o6, o7] = f.odd;
  let high = 0;
  let low = 0;
  for (let i = from; i < to; i++) {
    const u0 = x[i + 8],
      v0 = x[i - 7],
      u1 = x[i + 7],
      v1 = x[i - 6],
      u2 = x[i + 6],
      v2 = x[i - 5],
      u3 = x[i + 5],
      v3 = x[i - 4];
    const u4 = x[i + 4],
      v4 = x[i - 3],
      u5 = x[i + 3],
      v5 = x[i - 2],
      u6 = x[i + 2],
      v6 = x[i - 1],
      u7 = x[i + 1],
      v7 = x[i];
    const s0 = u0 + v0,
      s1 = u1 + v1,
      s2 = u2 + v2,
      s3 = u3 + v3,
      s4 = u4 + v4,
      s5 = u5 + v5,
      s6 = u6 + v6,
      s7 = u7 + v7;
    const sum = e0 * s0 + e1 * s1 + e2 * s2 + e3 * s3 + e4 * s4 + e5 * s5 + e6 * s6 + e7 * s7;
    const difference =
      o0 * (u0 - v0) + o1 * (u1 - v1) + o2 * (u2 - v2) + o3 * (u3 - v3) + o4 * (u4 - v4) + o5 * (u5 - v5) + o6 * (u6 - v6) + o7 * (u7 - v7);
    const half = m0 * s0 + m1 * s1 + m2 * s2 + m3 * s3 + m4 * s4 + m5 * s5 + m6 * s6 + m7 * s7;
    const early = 0.5 * (sum + difference);
    const late = 0.5 * (sum - difference);
    if (early > high) high = early;
    if (early < low) low = early;
    if (late > high) high = late;
    if (late < low) low = late;
    if (half > high) high = half;
    if (half < low) low = half;
  }
  return high > -low ? high : -low;
}

/** 2× interior peak: only the symmetric half-sample phase. */
function interiorPeak2(x: Float32Array, from: number, to: number, interpolator: Interpolator): number {
  const [m0, m1, m2, m3, m4, m5, m6, m7] = interpolator.folded.half;
  let high = 0;
  let low = 0;
  for (let i = from; i < to; i++) {
    const y =
      m0 * (x[i + 8] + x[i - 7]) +
      m1 * (x[i + 7] + x[i - 6]) +
      m2 * (x[i + 6] + x[i - 5]) +
      m3 * (x[i + 5] + x[i - 4]) +
      m4 * (x[i + 4] + x[i - 3]) +
      m5 * (x[i + 3] + x[i - 2]) +
      m6 * (x[i + 2] + x[i - 1]) +
      m7 * (x[i + 1] + x[i]);
    if (y > high) high = y;
    if (y < low) low = y;
  }
  return high > -low ? high : -low;
}

/** Interior envelope for either factor (same folded arithmetic, so the same values as the peak loops). */
function interiorEnvelope(x: Float32Array, from: number, to: number, interpolator: Interpolator, envelope: Float32Array): number {
  const { even, odd, half } = interpolator.folded;
  const four = interpolator.factor === 4;
  let peak = 0;
  for (let i = from; i < to; i++) {
    let sum = 0;
    let difference = 0;
    let middle = 0;
    for (let k = 0; k < 8; k++) {
      const u = x[i + 8 - k];
      const v = x[i - 7 + k];
      middle += half[k] * (u + v);
      if (four) {
        sum += even[k] * (u + v);
        difference += odd[k] * (u - v);
      }
    }
    let local = middle < 0 ? -middle : middle;
    if (four) {
      const outer = 0.5 * ((sum < 0 ? -sum : sum) + (difference < 0 ? -difference : difference));
      if (outer > local) local = outer;
    }
    if (local > peak) peak = local;
    if (local > envelope[i]) envelope[i] = local;
  }
  return peak;
}

/**
 * Sample maxima of blocks [from, to) of `blockLength` samples into `sampleMax`, raising `out` to them
 * (a plain function: V8 runs loops inside generators about three times slower).
 */
function raiseToBlockMaxima(
  x: Float32Array,
  from: number,
  to: number,
  blockLength: number,
  sampleMax: Float32Array,
  out: Float32Array,
): void {
  const length = x.length;
  for (let b = from; b < to; b++) {
    const end = Math.min(length, (b + 1) * blockLength);
    let m = 0;
    for (let i = b * blockLength; i < end; i++) {
      const a = x[i] < 0 ? -x[i] : x[i];
      if (a > m) m = a;
    }
    sampleMax[b] = m;
    if (m > out[b]) out[b] = m;
  }
}

/** Linear true peak of one channel (max |x| over the oversampled grid); see the module comment. */
function* channelTruePeak(x: Float32Array, factor: number, prune: boolean): Sliced<number> {
  const n = x.length;
  // Per-block sample maxima; the extra block past the end keeps the neighbour lookup in range.
  const blockCount = Math.ceil(n / BLOCK);
  const blockMax = new Float32Array(blockCount + 1); // maxima of Float32 samples are exact in Float32
  const top = { peak: 0, block: 0 };
  for (let b = 0; b < blockCount; b += SLICE_BLOCKS) {
    blockMaxima(x, b, Math.min(blockCount, b + SLICE_BLOCKS), blockMax, top);
    yield;
  }
  const samplePeak = top.peak;
  const peakBlock = top.block;
  if (factor === 1 || n < 2) return samplePeak;
  const interpolator = interpolatorFor(factor);
  // Fractional outputs exist for i in [0, n − 2]: strictly between the first and the last sample.
  const last = n - 1;
  if (!prune) {
    let peak = samplePeak;
    for (let from = 0; from < last; from += SLICE_SAMPLES / 4) {
      peak = Math.max(peak, fractionalPeak(x, from, Math.min(last, from + SLICE_SAMPLES / 4), interpolator));
      yield;
    }
    return peak;
  }

  // Seed the running maximum near the sample peak, where the true peak usually is, so that the scan
  // below can skip as much as possible from its first block on.
  const seedFrom = Math.max(0, (peakBlock - SEED_BLOCKS) * BLOCK);
  const seedTo = Math.min(last, (peakBlock + SEED_BLOCKS + 1) * BLOCK);
  const peak = Math.max(samplePeak, fractionalPeak(x, seedFrom, seedTo, interpolator));
  const scan = { block: 0, peak };
  while (scan.block < blockCount) {
    scanBlocks(x, blockMax, blockCount, interpolator, scan);
    yield;
  }
  return scan.peak;
}

/**
 * Sample maxima of blocks [from, to) into `blockMax`, raising `top` to the largest (and its block).
 * Plain functions, not loops in the generator: V8 runs loops inside generators about three times slower.
 */
function blockMaxima(x: Float32Array, from: number, to: number, blockMax: Float32Array, top: { peak: number; block: number }): void {
  const n = x.length;
  for (let b = from; b < to; b++) {
    const end = Math.min(n, (b + 1) * BLOCK);
    let high = 0;
    let low = 0;
    for (let i = b * BLOCK; i < end; i++) {
      const v = x[i];
      if (v > high) high = v;
      if (v < low) low = v;
    }
    const m = high > -low ? high : -low;
    blockMax[b] = m;
    if (m > top.peak) {
      top.peak = m;
      top.block = b;
    }
  }
}

/**
 * The pruned scan of channelTruePeak from block `scan.block` on, for about one slice of work (a
 * skipped block costs one unit, an interpolated one INTERPOLATED_COST): a block's outputs read at
 * most taps/2 ≤ BLOCK samples beyond either edge, so its bound is gain·max(neighbours' and own sample
 * maxima). Consecutive blocks that cannot be skipped are interpolated as one run (at most MAX_RUN
 * blocks, so the running maximum keeps being refreshed). Advances `scan.block` and raises `scan.peak`.
 */
function scanBlocks(
  x: Float32Array,
  blockMax: Float32Array,
  blockCount: number,
  interpolator: Interpolator,
  scan: { block: number; peak: number },
): void {
  const gain = interpolator.bound * BOUND_MARGIN;
  const last = x.length - 1;
  let b = scan.block;
  let peak = scan.peak;
  for (let work = 0; b < blockCount && work < SLICE_BLOCKS;) {
    if (gain * Math.max(b > 0 ? blockMax[b - 1] : 0, blockMax[b], blockMax[b + 1]) <= peak) {
      b++;
      work++;
      continue;
    }
    let end = b + 1;
    while (end < blockCount && end - b < MAX_RUN && gain * Math.max(blockMax[end - 1], blockMax[end], blockMax[end + 1]) > peak) end++;
    const runPeak = fractionalPeak(x, b * BLOCK, Math.min(last, end * BLOCK), interpolator);
    if (runPeak > peak) peak = runPeak;
    work += (end - b) * INTERPOLATED_COST;
    b = end;
  }
  scan.block = b;
  scan.peak = peak;
}

/** Linear true peak (0..∞, 1 = full scale) over all channels. */
export function truePeakAmplitude(channels: Float32Array[], sampleRate: number, options: TruePeakOptions = {}): number {
  return runSliced(truePeakAmplitudeSliced(channels, sampleRate, options));
}

/** {@link truePeakAmplitude} as a sliced computation (see sliced.ts); same result. */
export function* truePeakAmplitudeSliced(channels: Float32Array[], sampleRate: number, options: TruePeakOptions = {}): Sliced<number> {
  const factor = oversamplingFactor(sampleRate);
  const prune = options.prune ?? true;
  let peak = 0;
  for (const channel of channels) peak = Math.max(peak, yield* channelTruePeak(channel, factor, prune));
  return peak;
}

/**
 * True peak over all channels in dBTP (dB relative to full scale, measured on the oversampled signal);
 * -Infinity for digital silence or no samples.
 * @param channels one Float32Array per channel, samples nominally in [-1, 1].
 * @param sampleRate in Hz; sets the oversampling factor (4× below 88.2 kHz, 2× below 176.4 kHz, else 1×).
 */
export function measureTruePeak(channels: Float32Array[], sampleRate: number, options: TruePeakOptions = {}): number {
  return toDb(truePeakAmplitude(channels, sampleRate, options));
}

/**
 * Per-sample true-peak envelope, linked across channels: `out[i]` is the largest magnitude, over all
 * channels, of the sample i and of the interpolated values between samples i and i + 1. Used by the
 * look-ahead limiter in normalisation. Full search, no pruning.
 */
export function truePeakEnvelope(channels: Float32Array[], sampleRate: number): Float32Array {
  const length = channels.length ? channels[0].length : 0;
  const out = new Float32Array(length);
  const factor = oversamplingFactor(sampleRate);
  const interpolator = factor > 1 ? interpolatorFor(factor) : null;
  for (const x of channels) {
    for (let i = 0; i < length; i++) {
      const a = x[i] < 0 ? -x[i] : x[i];
      if (a > out[i]) out[i] = a;
    }
    if (interpolator && length > 1) fractionalPeak(x, 0, length - 1, interpolator, out);
  }
  return out;
}

export interface BlockEnvelopeOptions {
  /**
   * Linear level at or under which a block's exact value is not needed (default 0: every block exact).
   * A block whose bound (see the module comment's pruning) is at or under `floor` is not interpolated
   * and reports its sample maximum instead: a value between its sample maximum and `floor`. A limiter
   * that acts only on levels above `floor` reads the same thing either way, for much less work.
   * Applies when blockLength ≥ {@link TAPS_PER_PHASE}/2 (a block's neighbours then cover its taps).
   */
  floor?: number;
}

/**
 * Block maxima of {@link truePeakEnvelope}: `out[b]` is the largest of its values over the samples
 * b·blockLength … (b + 1)·blockLength − 1 (the last block may be shorter), linked across channels.
 * Used by the limiter in normalisation, which works at block resolution.
 *
 * Memory: ⌈length / blockLength⌉ values out and as many of scratch (the per-block sample maxima), no
 * per-sample array. Each block's interpolated maximum comes from the peak-only hot loops over that
 * block's samples; they form the same sums as the envelope loop and take |·| of the same values
 * (max(|(s + d)/2|, |(s − d)/2|) = (|s| + |d|)/2 holds in floating point too, rounding being symmetric
 * and monotonic), and a Float32 maximum of Float32-rounded values is the Float32 rounding of the
 * maximum, so without `floor` every block equals the maximum of `truePeakEnvelope` over it exactly.
 * @param channels one Float32Array per channel, same length.
 * @param sampleRate in Hz (sets the oversampling factor as in {@link measureTruePeak}).
 * @param blockLength samples per block, an integer ≥ 1.
 */
export function truePeakBlockEnvelope(
  channels: Float32Array[],
  sampleRate: number,
  blockLength: number,
  options: BlockEnvelopeOptions = {},
): Float32Array {
  return runSliced(truePeakBlockEnvelopeSliced(channels, sampleRate, blockLength, options));
}

/**
 * {@link truePeakBlockEnvelope} as a sliced computation (see sliced.ts); same result: runs of interior
 * blocks are cut into pieces, and every block's maximum is computed by the same sums either way.
 */
export function* truePeakBlockEnvelopeSliced(
  channels: Float32Array[],
  sampleRate: number,
  blockLength: number,
  options: BlockEnvelopeOptions = {},
): Sliced<Float32Array> {
  if (!Number.isInteger(blockLength) || blockLength < 1) throw new RangeError(`block length must be an integer ≥ 1, got ${blockLength}`);
  const length = channels.length ? channels[0].length : 0;
  const blockCount = Math.ceil(length / blockLength);
  const out = new Float32Array(blockCount);
  const factor = oversamplingFactor(sampleRate);
  const interpolator = factor > 1 && length > 1 ? interpolatorFor(factor) : null;
  const floor = options.floor ?? 0;
  const prune = floor > 0 && 2 * blockLength >= TAPS_PER_PHASE;
  const sampleMax = new Float32Array(blockCount);
  const gain = interpolator ? interpolator.bound * BOUND_MARGIN : 1;
  // Fractional outputs exist for samples 0 … length − 2 (between the first and the last sample).
  const last = length - 1;
  // Blocks b in [interiorFrom, interiorTo) lie wholly in the range where every tap reads inside the
  // signal (samples taps/2 − 1 … length − taps/2 − 1) and go to the hot loops in runs; the few blocks
  // at the edges take the edge path of fractionalPeak.
  const half = TAPS_PER_PHASE / 2;
  const interiorFrom = Math.ceil((half - 1) / blockLength);
  const interiorTo = Math.max(interiorFrom, Math.floor((length - half) / blockLength));
  const skip = (b: number): boolean =>
    prune && gain * Math.max(b > 0 ? sampleMax[b - 1] : 0, sampleMax[b], b + 1 < blockCount ? sampleMax[b + 1] : 0) <= floor;
  // Blocks per slice of the sample-maximum pass, and most blocks interpolated per slice.
  const sliceBlocks = Math.max(1, Math.floor(SLICE_SAMPLES / blockLength));
  const runBlocks = Math.max(1, Math.floor(sliceBlocks / INTERPOLATED_COST));
  for (const x of channels) {
    for (let b = 0; b < blockCount; b += sliceBlocks) {
      raiseToBlockMaxima(x, b, Math.min(blockCount, b + sliceBlocks), blockLength, sampleMax, out);
      yield;
    }
    if (!interpolator) continue;
    let work = 0;
    for (let b = 0; b < blockCount;) {
      if (work >= sliceBlocks) {
        work = 0;
        yield;
      }
      if (skip(b)) {
        b++;
        work++;
        continue;
      }
      if (b < interiorFrom || b >= interiorTo) {
        const from = b * blockLength;
        const to = Math.min(last, from + blockLength);
        const peak = to > from ? Math.fround(fractionalPeak(x, from, to, interpolator)) : 0;
        if (peak > out[b]) out[b] = peak;
        b++;
        work += INTERPOLATED_COST;
        continue;
      }
      let end = b + 1;
      while (end < interiorTo && end - b < runBlocks && !skip(end)) end++;
      work += (end - b) * INTERPOLATED_COST;
      if (interpolator.factor === 4) interiorBlockPeaks4(x, b, end, blockLength, interpolator, out);
      else interiorBlockPeaks2(x, b, end, blockLength, interpolator, out);
      b = end;
    }
  }
  return out;
}

/*
 * Block-maximum forms of interiorPeak4 / interiorPeak2 for consecutive whole blocks [firstBlock,
 * endBlock) away from the edges: the same sums in the same order, one maximum per block, raised into
 * out[b] after Float32 rounding. One call per run of blocks keeps the call and set-up cost (which
 * cost ~50 % on 32-sample blocks called one by one) off the hot loop.
 */

/** 4× block maxima of the interpolated values (see interiorPeak4 for the arithmetic). */
function interiorBlockPeaks4(
  x: Float32Array,
  firstBlock: number,
  endBlock: number,
  blockLength: number,
  interpolator: Interpolator,
  out: Float32Array,
): void {
  const f = interpolator.folded;
  const [m0, m1, m2, m3, m4, m5, m6, m7] = f.half;
  const [e0, e1, e2, e3, e4, e5, e6, e7] = f.even;
  const [o0, o1, o2, o3, o4, o5, o6, o7] = f.odd;
  for (let b = firstBlock; b < endBlock; b++) {
    let high = 0;
    let low = 0;
    const to = (b + 1) * blockLength;
    for (let i = b * blockLength; i < to; i++) {
      const u0 = x[i + 8],
        v0 = x[i - 7],
        u1 = x[i + 7],
        v1 = x[i - 6],
        u2 = x[i + 6],
        v2 = x[i - 5],
        u3 = x[i + 5],
        v3 = x[i - 4];
      const u4 = x[i + 4],
        v4 = x[i - 3],
        u5 = x[i + 3],
        v5 = x[i - 2],
        u6 = x[i + 2],
        v6 = x[i - 1],
        u7 = x[i + 1],
        v7 = x[i];
      const s0 = u0 + v0,
        s1 = u1 + v1,
        s2 = u2 + v2,
        s3 = u3 + v3,
        s4 = u4 + v4,
        s5 = u5 + v5,
        s6 = u6 + v6,
        s7 = u7 + v7;
      const sum = e0 * s0 + e1 * s1 + e2 * s2 + e3 * s3 + e4 * s4 + e5 * s5 + e6 * s6 + e7 * s7;
      const difference =
        o0 * (u0 - v0) +
        o1 * (u1 - v1) +
        o2 * (u2 - v2) +
        o3 * (u3 - v3) +
        o4 * (u4 - v4) +
        o5 * (u5 - v5) +
        o6 * (u6 - v6) +
        o7 * (u7 - v7);
      const half = m0 * s0 + m1 * s1 + m2 * s2 + m3 * s3 + m4 * s4 + m5 * s5 + m6 * s6 + m7 * s7;
      const early = 0.5 * (sum + difference);
      const late = 0.5 * (sum - difference);
      if (early > high) high = early;
      if (early < low) low = early;
      if (late > high) high = late;
      if (late < low) low = late;
      if (half > high) high = half;
      if (half < low) low = half;
    }
    const peak = Math.fround(high > -low ? high : -low);
    if (peak > out[b]) out[b] = peak;
  }
}

/** 2× block maxima: only the symmetric half-sample phase (see interiorPeak2). */
function interiorBlockPeaks2(
  x: Float32Array,
  firstBlock: number,
  endBlock: number,
  blockLength: number,
  interpolator: Interpolator,
  out: Float32Array,
): void {
  const [m0, m1, m2, m3, m4, m5, m6, m7] = interpolator.folded.half;
  for (let b = firstBlock; b < endBlock; b++) {
    let high = 0;
    let low = 0;
    const to = (b + 1) * blockLength;
    for (let i = b * blockLength; i < to; i++) {
      const y =
        m0 * (x[i + 8] + x[i - 7]) +
        m1 * (x[i + 7] + x[i - 6]) +
        m2 * (x[i + 6] + x[i - 5]) +
        m3 * (x[i + 5] + x[i - 4]) +
        m4 * (x[i + 4] + x[i - 3]) +
        m5 * (x[i + 3] + x[i - 2]) +
        m6 * (x[i + 2] + x[i - 1]) +
        m7 * (x[i + 1] + x[i]);
      if (y > high) high = y;
      if (y < low) low = y;
    }
    const peak = Math.fround(high > -low ? high : -low);
    if (peak > out[b]) out[b] = peak;
  }
}
