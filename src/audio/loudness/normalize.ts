/**
 * Loudness normalisation: a static gain to reach a target integrated loudness (BS.1770-4), with a
 * look-ahead true-peak limiter when that gain would push the true peak over the ceiling.
 *
 * Method:
 * 1. gain = target − measured integrated loudness. If the true peak after that gain stays at or below
 *    the ceiling, that is all (no limiting, the result is the input times one number).
 * 2. Otherwise a look-ahead limiter, linked across channels, works on the true-peak envelope of the
 *    input (the largest of each sample and the 4× interpolated values after it, `truePeakEnvelope`
 *    in true-peak.ts), so that inter-sample peaks are caught, not only sample peaks. It works
 *    at the resolution of blocks of {@link LIMITER_BLOCK_LENGTH} samples (0.73 ms at 44.1 kHz), on the
 *    block maxima E_b of that envelope ({@link truePeakBlockEnvelope}), so that it holds ~n/32 values
 *    instead of two per-sample curves (a 5-minute channel is 53 MB per curve). Blocks that provably
 *    stay under threshold / (the largest gain the iteration may try) never need limiting and are not
 *    interpolated (the envelope's `floor` option):
 *    - required gain r_b = min(1, threshold / (gain · E_b)), threshold 0.2 dB under the ceiling; since
 *      E_b is the block's largest envelope value, r_b ≤ rᵢ, the gain any sample i of block b requires;
 *    - look-ahead minimum h_b = min(r_b … r_{b+a−1}) over a = ⌈{@link DEFAULT_LOOKAHEAD_SECONDS}·fs / 32⌉
 *      blocks;
 *    - instant attack / exponential release e_b = min(h_b, e_{b−1} + (1 − e_{b−1})·(1 − exp(−32/(release·fs))));
 *    - a moving average g_b of e over the same a blocks. Every value averaged into block k is ≤ r_k
 *      (each h_j for j in [k − a + 1, k] includes r_k), so g_k ≤ r_k: the smoothed gain never exceeds
 *      what the peaks of block k require, while it ramps down over the look-ahead time instead of
 *      jumping (a jump would itself create distortion and new inter-sample peaks);
 *    - per sample, the gain is interpolated linearly between block centres through c_b = min(g_{b−1},
 *      g_b, g_{b+1}) (see {@link limiterBlockGains}). A sample between the centres of blocks b and b + 1
 *      lies in one of them, say k, and gets a convex combination of c_b and c_{b+1}, both ≤ g_k
 *      (each c covers its neighbours); before the first centre and after the last a sample gets c of
 *      its own block. So at every sample the applied gain is ≤ g_k ≤ r_k ≤ rᵢ: the per-sample guarantee
 *      of a per-sample limiter holds, at the price of up to two blocks (~1.5 ms) of earlier or longer
 *      gain reduction around each peak, which the make-up gain below pays back.
 *    Limiting lowers the loudness a little, so the static gain is raised by the shortfall and the
 *    limiter re-run (up to {@link MAX_ITERATIONS} times, stopping within 0.05 LU, when more gain stops
 *    buying loudness, or at {@link MAX_MAKEUP_DB} dB of extra gain). A dense signal with little
 *    headroom between its loudness and its peaks may therefore end below the target: the result's
 *    `integratedLufs` says where it landed. Each trial is measured without being stored: the limited
 *    signal is computed chunk by chunk into a small buffer and fed to a streaming K-weighting
 *    ({@link measureBlockGainedLoudness}), which gives the same number as measuring the stored signal;
 *    the output is written once, with the gain that was last measured.
 * 3. The result's true peak is measured; if gain modulation still left it above the ceiling, the whole
 *    output is scaled down by the excess, so the ceiling always holds. The result reports the loudness
 *    and true peak actually reached: when the target cannot be met, callers see by how much.
 *
 * Memory beyond the input and the output: the block envelope and its scratch (4 bytes per block each),
 * the block gain curve (8 bytes per block) and chunk-sized buffers: ~0.5 byte per input sample, where
 * the per-sample envelope and gain curve took 8 (a 5-minute mono 44.1 kHz input: ~7 MB instead of 106 MB).
 * The true-peak searches on the input and the output each hold one more 4-byte value per 16 samples.
 */
import {
  channelWeights,
  energyToLufs,
  gatedLoudness,
  measureIntegratedLoudnessSliced,
  ABSOLUTE_GATE_LUFS,
  BLOCK_SECONDS,
  STEP_SECONDS,
} from './loudness.js';
import { createKWeightedEnergyAccumulator } from './k-weighting.js';
import { truePeakAmplitudeSliced, truePeakBlockEnvelopeSliced } from './true-peak.js';
import { toDb } from './levels.js';
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

/** Default target integrated loudness, LUFS (streaming platforms' common reference). */
export const DEFAULT_TARGET_LUFS = -14;
/** Default true-peak ceiling, dBTP (EBU R 128 s1 / streaming delivery specs). */
export const DEFAULT_MAX_TRUE_PEAK_DBTP = -1;
/** Limiter look-ahead and attack ramp, seconds. */
export const DEFAULT_LOOKAHEAD_SECONDS = 0.005;
/** Limiter release time constant, seconds. */
export const DEFAULT_RELEASE_SECONDS = 0.1;
/** The limiter aims this far (dB) under the ceiling to absorb the effect of its own gain modulation. */
const LIMITER_MARGIN_DB = 0.2;
/**
 * Most extra static gain (dB) the iteration may add to make up for the loudness the limiter removes;
 * beyond that the limiter would be doing heavy dynamic-range compression, and the shortfall is reported.
 */
const MAX_MAKEUP_DB = 3;
/** Re-runs of the limiter with a corrected make-up gain. */
const MAX_ITERATIONS = 6;
/** Loudness error (LU) at which the iteration stops. */
const LOUDNESS_TOLERANCE_LU = 0.05;
/**
 * Samples per limiter block (0.73 ms at 44.1 kHz, 0.67 ms at 48 kHz): short against the 5 ms
 * look-ahead ramp, long enough that the limiter's curves take 1/32 of the memory of per-sample ones.
 */
export const LIMITER_BLOCK_LENGTH = 32;
/** Samples per chunk when a trial gain is applied and measured without storing the result. */
const MEASURE_CHUNK = 16384;

export interface NormalizeOptions {
  /**
   * Write the result over the input arrays instead of new ones (saves a copy: 53 MB for 5 minutes of
   * mono at 44.1 kHz). Only for callers that own the input and no longer need it. Default false.
   */
  inPlace?: boolean;
  /** Target integrated loudness, LUFS; default -14. */
  targetLufs?: number;
  /** True-peak ceiling, dBTP; default -1. */
  maxTruePeakDbtp?: number;
  /** Limiter look-ahead (= attack ramp), seconds; default 0.005. */
  lookaheadSeconds?: number;
  /** Limiter release time constant, seconds; default 0.1. */
  releaseSeconds?: number;
}

export interface NormalizedAudio {
  /** New arrays (the input is not modified). */
  channels: Float32Array[];
  /** Static gain applied, dB (when `limited`, peaks were further reduced by the limiter or the final trim). */
  gainDb: number;
  /** True when the limiter or the final trim reduced any part of the signal below the static gain. */
  limited: boolean;
  /** Integrated loudness of the result, LUFS (−Infinity for silence): compare with the target. */
  integratedLufs: number;
  /** True peak of the result, dBTP (≤ the ceiling). */
  truePeakDbtp: number;
}

/**
 * Normalises to `targetLufs` integrated loudness with the true peak at or below `maxTruePeakDbtp`
 * (see the module comment for the method). Pure: returns new arrays (or, with `inPlace`, the input's).
 * Silence (integrated loudness −Infinity) is returned unchanged with gainDb 0.
 * @param channels one Float32Array per channel, same length.
 * @param sampleRate in Hz.
 */
export function normalizeLoudness(channels: Float32Array[], sampleRate: number, options: NormalizeOptions = {}): NormalizedAudio {
  return runSliced(normalizeLoudnessSliced(channels, sampleRate, options));
}

/** {@link normalizeLoudness} as a sliced computation (see sliced.ts); same result. */
export function* normalizeLoudnessSliced(
  channels: Float32Array[],
  sampleRate: number,
  options: NormalizeOptions = {},
): Sliced<NormalizedAudio> {
  const target = options.targetLufs ?? DEFAULT_TARGET_LUFS;
  const ceilingDb = options.maxTruePeakDbtp ?? DEFAULT_MAX_TRUE_PEAK_DBTP;
  const ceiling = Math.pow(10, ceilingDb / 20);
  const measured = yield* measureIntegratedLoudnessSliced(channels, sampleRate);
  if (!Number.isFinite(measured)) {
    const copies = options.inPlace ? channels : channels.map((x) => Float32Array.from(x));
    return {
      channels: copies,
      gainDb: 0,
      limited: false,
      integratedLufs: measured,
      truePeakDbtp: toDb(yield* truePeakAmplitudeSliced(copies, sampleRate)),
    };
  }

  let gainDb = target - measured;
  // The true peak of the input is the maximum of its true-peak envelope; the pruned search finds it
  // without computing the envelope, which only the limiter needs.
  const inputPeak = yield* truePeakAmplitudeSliced(channels, sampleRate);

  const into = options.inPlace ? channels : undefined;
  let output: Float32Array[];
  let limited = false;
  let loudness: number;
  if (Math.pow(10, gainDb / 20) * inputPeak <= ceiling) {
    output = yield* applyGain(channels, Math.pow(10, gainDb / 20), into);
    loudness = yield* measureIntegratedLoudnessSliced(output, sampleRate);
  } else {
    limited = true;
    const lookaheadSamples = Math.max(1, Math.round((options.lookaheadSeconds ?? DEFAULT_LOOKAHEAD_SECONDS) * sampleRate));
    const lookahead = Math.ceil(lookaheadSamples / LIMITER_BLOCK_LENGTH);
    const releaseSeconds = Math.max(1e-4, options.releaseSeconds ?? DEFAULT_RELEASE_SECONDS);
    const release = 1 - Math.exp(-LIMITER_BLOCK_LENGTH / (releaseSeconds * sampleRate));
    const threshold = ceiling * Math.pow(10, -LIMITER_MARGIN_DB / 20);
    const maxGainDb = gainDb + MAX_MAKEUP_DB;
    // No gain tried exceeds maxGainDb, so a block whose envelope is at or under threshold / maxGain
    // never needs limiting: its exact value does not matter and the envelope may skip it (the 1e-9
    // keeps rounding of the two powers of ten from ever making such a block read over the threshold).
    const floor = (threshold / Math.pow(10, maxGainDb / 20)) * (1 - 1e-9);
    const envelope = yield* truePeakBlockEnvelopeSliced(channels, sampleRate, LIMITER_BLOCK_LENGTH, { floor });
    const curve = new Float64Array(envelope.length);
    let previous = -Infinity;
    for (let iteration = 1; ; iteration++) {
      const gain = Math.pow(10, gainDb / 20);
      limiterBlockGains(envelope, gain, threshold, lookahead, release, curve);
      yield;
      loudness = yield* measureBlockGainedLoudnessSliced(channels, sampleRate, gain, curve);
      // Stop on target, at the make-up cap, when more gain no longer buys loudness (the limiter then
      // only levels the signal: its loudness is capped by its peak-to-loudness ratio), or out of
      // iterations; the gain just measured is the one applied.
      if (
        Math.abs(loudness - target) <= LOUDNESS_TOLERANCE_LU ||
        gainDb >= maxGainDb ||
        loudness - previous < LOUDNESS_TOLERANCE_LU ||
        iteration >= MAX_ITERATIONS
      ) {
        break;
      }
      previous = loudness;
      gainDb = Math.min(maxGainDb, gainDb + target - loudness);
    }
    output = yield* applyBlockGainsSliced(channels, Math.pow(10, gainDb / 20), curve, into);
  }

  let truePeak = toDb(yield* truePeakAmplitudeSliced(output, sampleRate));
  if (truePeak > ceilingDb) {
    // Final trim: the limiter's gain modulation (or Float32 rounding) left a hair over the ceiling.
    limited = true;
    output = yield* applyGain(output, Math.pow(10, (ceilingDb - truePeak) / 20) * (1 - 1e-6), output);
    loudness = yield* measureIntegratedLoudnessSliced(output, sampleRate);
    truePeak = toDb(yield* truePeakAmplitudeSliced(output, sampleRate));
  }
  return { channels: output, gainDb, limited, integratedLufs: loudness, truePeakDbtp: truePeak };
}

/** out_c[i] = x_c[i] · gain, into `into` (may be `channels` itself) or new arrays. */
function applyGain(channels: Float32Array[], gain: number, into?: Float32Array[]): Sliced<Float32Array[]> {
  return mapSamplesSliced(channels, into, (x, from, to, out) => {
    for (let i = from; i < to; i++) out[i] = x[i] * gain;
  });
}

/**
 * Runs `range(x, from, to, out)` over each channel, {@link SLICE_SAMPLES} at a time, yielding between
 * ranges; `out` is `into[c]` (may be the input itself: ranges are element-wise) or a new array.
 */
function* mapSamplesSliced(
  channels: Float32Array[],
  into: Float32Array[] | undefined,
  range: (x: Float32Array, from: number, to: number, out: Float32Array) => void,
): Sliced<Float32Array[]> {
  const outputs: Float32Array[] = [];
  for (let c = 0; c < channels.length; c++) {
    const x = channels[c];
    const out = into ? into[c] : new Float32Array(x.length);
    for (let from = 0; from < x.length; from += SLICE_SAMPLES) {
      range(x, from, Math.min(x.length, from + SLICE_SAMPLES), out);
      yield;
    }
    outputs.push(out);
  }
  return outputs;
}

/**
 * The limiter's block gain curve (0..1) for the linked true-peak block maxima `envelope` under a static
 * `gain`, written into `out`: required gain → look-ahead minimum → instant attack / exponential release
 * → moving average (g_b), then each block takes the minimum of itself and its two neighbours,
 * c_b = min(g_{b−1}, g_b, g_{b+1}), so that the per-sample interpolation of {@link applyBlockGains}
 * never exceeds the gain of the sample's own block (see the module comment).
 * @param envelope block maxima of the true-peak envelope, linear.
 * @param gain static gain, linear.
 * @param threshold level the peaks are held to, linear.
 * @param lookahead look-ahead (= attack ramp and averaging length), blocks ≥ 1.
 * @param release per-block release coefficient 1 − exp(−blockLength/(release·fs)).
 */
export function limiterBlockGains(
  envelope: Float32Array,
  gain: number,
  threshold: number,
  lookahead: number,
  release: number,
  out: Float64Array,
): void {
  const n = envelope.length;
  if (n === 0) return;
  const g = out;
  const required = (i: number): number => {
    const level = gain * envelope[i];
    return level > threshold ? threshold / level : 1;
  };
  // Look-ahead minimum over [b, b + lookahead − 1] with a monotonic deque of indices (O(n)). The
  // deque never holds more than `lookahead` indices, so it lives in a ring of that size; head and
  // tail count pushes and pops and are reduced modulo the ring size on access.
  const size = lookahead + 1;
  const deque = new Int32Array(size);
  let head = 0;
  let tail = 0;
  let next = 0; // next index to push
  for (let b = 0; b < n; b++) {
    const end = Math.min(n - 1, b + lookahead - 1);
    for (; next <= end; next++) {
      const r = required(next);
      while (tail > head && required(deque[(tail - 1) % size]) >= r) tail--;
      deque[tail++ % size] = next;
    }
    while (deque[head % size] < b) head++;
    g[b] = required(deque[head % size]);
  }
  // Instant attack, exponential release.
  let held = g[0];
  for (let b = 0; b < n; b++) {
    held = Math.min(g[b], held + (1 - held) * release);
    g[b] = held;
  }
  // Moving average over `lookahead` blocks ending at b; the window starts filled with g[0].
  const ring = new Float64Array(lookahead).fill(g[0]);
  let sum = g[0] * lookahead;
  for (let b = 0; b < n; b++) {
    const slot = b % lookahead;
    sum += g[b] - ring[slot];
    ring[slot] = g[b];
    g[b] = Math.min(1, sum / lookahead);
  }
  // Cover the neighbours, for the interpolation between block centres (in place: `previous` keeps
  // g_{b−1} after out[b − 1] has been overwritten).
  let previous = g[0];
  for (let b = 0; b < n; b++) {
    const current = g[b];
    let m = current < previous ? current : previous;
    if (b + 1 < n && g[b + 1] < m) m = g[b + 1];
    out[b] = m;
    previous = current;
  }
}

/**
 * out[j] = x[i] · gain · curve(i) for i in [from, to), j = i − from + at, where curve(i) interpolates
 * `blockGains` linearly between block centres (b·B + (B − 1)/2, B = {@link LIMITER_BLOCK_LENGTH}) and
 * holds the first and last values before the first and after the last centre. Every product is
 * formed the same way wherever it is computed, so a signal measured chunk by chunk and the same signal
 * written out are identical sample for sample.
 */
function applyBlockGainsInto(
  x: Float32Array,
  from: number,
  to: number,
  gain: number,
  blockGains: Float64Array,
  out: Float32Array,
  at: number,
): void {
  const B = LIMITER_BLOCK_LENGTH;
  const blocks = blockGains.length;
  const firstCentre = (B - 1) / 2;
  let i = from;
  while (i < to) {
    // The centre at or before i is that of block b; samples up to the next centre share a segment.
    const b = Math.floor((i - firstCentre) / B);
    const segmentEnd = Math.min(to, Math.floor(firstCentre + (b + 1) * B) + 1);
    if (b < 0 || b + 1 >= blocks) {
      const k = gain * blockGains[b < 0 ? 0 : blocks - 1];
      for (; i < segmentEnd; i++) out[i - from + at] = x[i] * k;
      if (b + 1 >= blocks) for (; i < to; i++) out[i - from + at] = x[i] * k;
      continue;
    }
    const left = blockGains[b];
    const slope = (blockGains[b + 1] - left) / B;
    const centre = firstCentre + b * B;
    for (; i < segmentEnd; i++) out[i - from + at] = x[i] * (gain * (left + slope * (i - centre)));
  }
}

/**
 * The input with a static `gain` and the limiter's block gain curve applied (see
 * {@link applyBlockGainsInto} for the per-sample interpolation): new arrays.
 * @param channels one Float32Array per channel, same length.
 * @param gain static gain, linear.
 * @param blockGains one gain per {@link LIMITER_BLOCK_LENGTH} samples (⌈length / 32⌉ values), linear.
 */
export function applyBlockGains(channels: Float32Array[], gain: number, blockGains: Float64Array, into?: Float32Array[]): Float32Array[] {
  return runSliced(applyBlockGainsSliced(channels, gain, blockGains, into));
}

/** {@link applyBlockGains} as a sliced computation (see sliced.ts); the same samples, range by range. */
function applyBlockGainsSliced(
  channels: Float32Array[],
  gain: number,
  blockGains: Float64Array,
  into?: Float32Array[],
): Sliced<Float32Array[]> {
  return mapSamplesSliced(channels, into, (x, from, to, out) => applyBlockGainsInto(x, from, to, gain, blockGains, out, from));
}

/**
 * Integrated loudness (LUFS, BS.1770-4) of `applyBlockGains(channels, gain, blockGains)` without
 * storing it: the signal is formed {@link MEASURE_CHUNK} samples at a time into one buffer and fed to
 * a streaming K-weighting per channel, then gated as {@link measureIntegratedLoudness} does (steps 2-5
 * of loudness.ts, repeated here over the step energies). Same samples, same filter operations in the
 * same order and the same gating arithmetic, so the same number as measuring the stored signal.
 */
export function measureBlockGainedLoudness(channels: Float32Array[], sampleRate: number, gain: number, blockGains: Float64Array): number {
  return runSliced(measureBlockGainedLoudnessSliced(channels, sampleRate, gain, blockGains));
}

/** {@link measureBlockGainedLoudness} as a sliced computation (see sliced.ts), yielding after each chunk; same result. */
function* measureBlockGainedLoudnessSliced(
  channels: Float32Array[],
  sampleRate: number,
  gain: number,
  blockGains: Float64Array,
): Sliced<number> {
  const length = channels.length ? channels[0].length : 0;
  if (length === 0) return -Infinity;
  const step = Math.max(1, Math.round(STEP_SECONDS * sampleRate));
  const stepsPerBlock = Math.round(BLOCK_SECONDS / STEP_SECONDS);
  const blockLength = stepsPerBlock * step;
  const weights = channelWeights(channels.length);
  // Shorter than one gating block: the whole signal is the only block (as in measureIntegratedLoudness).
  const short = length < blockLength;
  const energies = new Float64Array(short ? 1 : Math.floor(length / step));
  const accumulators = channels.map((_, c) =>
    weights[c] > 0 ? createKWeightedEnergyAccumulator(sampleRate, short ? length : step, weights[c], energies) : null,
  );
  const buffer = new Float32Array(Math.min(length, MEASURE_CHUNK));
  for (let from = 0; from < length; from += MEASURE_CHUNK) {
    const to = Math.min(length, from + MEASURE_CHUNK);
    const piece = buffer.subarray(0, to - from);
    channels.forEach((x, c) => {
      const accumulator = accumulators[c];
      if (!accumulator) return;
      applyBlockGainsInto(x, from, to, gain, blockGains, piece, 0);
      accumulator.push(piece);
    });
    yield;
  }
  if (short) {
    const loudness = energyToLufs(energies[0] / length);
    return loudness > ABSOLUTE_GATE_LUFS ? loudness : -Infinity;
  }
  return gatedLoudness(energies, stepsPerBlock, blockLength);
}
