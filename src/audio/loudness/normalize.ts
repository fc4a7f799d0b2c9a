/**
 * Loudness normalisation: a static gain to reach a target integrated loudness (BS.1770-4), with a
 * look-ahead true-peak limiter when that gain would push the true peak over the ceiling.
 *
 * Method:
 * 1. gain = target − measured integrated loudness. If the true peak after that gain stays at or below
 *    the ceiling, that is all (no limiting, the result is the input times one number).
 * 2. Otherwise a look-ahead limiter, linked across channels, works on the true-peak envelope of the
 *    input (the largest of each sample and the 4× interpolated values after it,
 *    {@link truePeakEnvelope}), so that inter-sample peaks are caught, not only sample peaks:
 *    - required gain rᵢ = min(1, threshold / (gain · envelopeᵢ)), threshold 0.2 dB under the ceiling;
 *    - look-ahead minimum hᵢ = min(rᵢ … rᵢ₊ₐ₋₁) over a = {@link DEFAULT_LOOKAHEAD_SECONDS};
 *    - instant attack / exponential release eᵢ = min(hᵢ, eᵢ₋₁ + (1 − eᵢ₋₁)·(1 − exp(−1/(release·fs))));
 *    - a moving average of eᵢ over the same a samples gives the applied gain. Every value averaged
 *      into position k is ≤ r_k (each hⱼ for j in [k − a + 1, k] includes r_k), so the smoothed gain
 *      never exceeds what the peak at k requires, while it ramps down over the look-ahead time
 *      instead of jumping (a jump would itself create distortion and new inter-sample peaks).
 *    Limiting lowers the loudness a little, so the static gain is raised by the shortfall and the
 *    limiter re-run (up to {@link MAX_ITERATIONS} times, stopping within 0.05 LU, when more gain stops
 *    buying loudness, or at {@link MAX_MAKEUP_DB} dB of extra gain). A dense signal with little
 *    headroom between its loudness and its peaks may therefore end below the target: the result's
 *    `integratedLufs` says where it landed.
 * 3. The result's true peak is measured; if gain modulation still left it above the ceiling, the whole
 *    output is scaled down by the excess, so the ceiling always holds. The result reports the loudness
 *    and true peak actually reached: when the target cannot be met, callers see by how much.
 */
import { measureIntegratedLoudness } from './loudness.js';
import { measureTruePeak, truePeakEnvelope } from './true-peak.js';

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

export interface NormalizeOptions {
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
 * (see the module comment for the method). Pure: returns new arrays.
 * Silence (integrated loudness −Infinity) is returned unchanged with gainDb 0.
 * @param channels one Float32Array per channel, same length.
 * @param sampleRate in Hz.
 */
export function normalizeLoudness(channels: Float32Array[], sampleRate: number, options: NormalizeOptions = {}): NormalizedAudio {
  const target = options.targetLufs ?? DEFAULT_TARGET_LUFS;
  const ceilingDb = options.maxTruePeakDbtp ?? DEFAULT_MAX_TRUE_PEAK_DBTP;
  const ceiling = Math.pow(10, ceilingDb / 20);
  const measured = measureIntegratedLoudness(channels, sampleRate);
  if (!Number.isFinite(measured)) {
    const copies = channels.map((x) => Float32Array.from(x));
    return { channels: copies, gainDb: 0, limited: false, integratedLufs: measured, truePeakDbtp: measureTruePeak(copies, sampleRate) };
  }

  let gainDb = target - measured;
  const envelope = truePeakEnvelope(channels, sampleRate);
  let inputPeak = 0;
  for (let i = 0; i < envelope.length; i++) if (envelope[i] > inputPeak) inputPeak = envelope[i];

  let output: Float32Array[];
  let limited = false;
  let loudness: number;
  if (Math.pow(10, gainDb / 20) * inputPeak <= ceiling) {
    output = applyGain(channels, Math.pow(10, gainDb / 20));
    loudness = measureIntegratedLoudness(output, sampleRate);
  } else {
    limited = true;
    const lookahead = Math.max(1, Math.round((options.lookaheadSeconds ?? DEFAULT_LOOKAHEAD_SECONDS) * sampleRate));
    const release = 1 - Math.exp(-1 / (Math.max(1e-4, options.releaseSeconds ?? DEFAULT_RELEASE_SECONDS) * sampleRate));
    const threshold = ceiling * Math.pow(10, -LIMITER_MARGIN_DB / 20);
    // Memory matters here (a 5-minute channel is 53 MB): the limiter's gain curve is written into the
    // first channel's output buffer and turned into that channel's output in place, after the other
    // channels have used it; every iteration rewrites the same buffers.
    const gainCurve = new Float32Array(envelope.length);
    output = channels.map((x, c) => (c === 0 ? gainCurve : new Float32Array(x.length)));
    loudness = measured;
    const maxGainDb = gainDb + MAX_MAKEUP_DB;
    let previous = -Infinity;
    for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
      const gain = Math.pow(10, gainDb / 20);
      limiterGain(envelope, gain, threshold, lookahead, release, gainCurve);
      for (let c = channels.length - 1; c >= 0; c--) applyGainInto(channels[c], gain, gainCurve, output[c]);
      loudness = measureIntegratedLoudness(output, sampleRate);
      // Stop on target, at the make-up cap, or when more gain no longer buys loudness (the limiter
      // then only levels the signal: its loudness is capped by its peak-to-loudness ratio).
      if (Math.abs(loudness - target) <= LOUDNESS_TOLERANCE_LU || gainDb >= maxGainDb || loudness - previous < LOUDNESS_TOLERANCE_LU) break;
      previous = loudness;
      gainDb = Math.min(maxGainDb, gainDb + target - loudness);
    }
  }

  let truePeak = measureTruePeak(output, sampleRate);
  if (truePeak > ceilingDb) {
    // Final trim: the limiter's gain modulation (or Float32 rounding) left a hair over the ceiling.
    limited = true;
    output = applyGain(output, Math.pow(10, (ceilingDb - truePeak) / 20) * (1 - 1e-6), output);
    loudness = measureIntegratedLoudness(output, sampleRate);
    truePeak = measureTruePeak(output, sampleRate);
  }
  return { channels: output, gainDb, limited, integratedLufs: loudness, truePeakDbtp: truePeak };
}

/** out[i] = x[i] · gain · curve[i]; `out` may be `curve` itself. */
function applyGainInto(x: Float32Array, gain: number, curve: Float32Array, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) out[i] = x[i] * gain * curve[i];
}

/** out_c[i] = x_c[i] · gain, into `into` (may be `channels` itself) or new arrays. */
function applyGain(channels: Float32Array[], gain: number, into?: Float32Array[]): Float32Array[] {
  return channels.map((x, c) => {
    const out = into ? into[c] : new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] * gain;
    return out;
  });
}

/**
 * Writes the limiter's gain curve (0..1) into `out` for the linked true-peak `envelope` under a static
 * `gain`: required gain → look-ahead minimum → instant attack / exponential release → moving average
 * (see the module comment for why the result never exceeds the required gain at any peak).
 */
function limiterGain(
  envelope: Float32Array,
  gain: number,
  threshold: number,
  lookahead: number,
  release: number,
  out: Float32Array,
): void {
  const n = envelope.length;
  if (n === 0) return;
  const required = (i: number): number => {
    const level = gain * envelope[i];
    return level > threshold ? threshold / level : 1;
  };
  // Look-ahead minimum over [i, i + lookahead − 1] with a monotonic deque of indices (O(n)). The
  // deque never holds more than `lookahead` indices, so it lives in a ring of that size; head and
  // tail count pushes and pops and are reduced modulo the ring size on access.
  const size = lookahead + 1;
  const deque = new Int32Array(size);
  let head = 0;
  let tail = 0;
  let next = 0; // next index to push
  for (let i = 0; i < n; i++) {
    const end = Math.min(n - 1, i + lookahead - 1);
    for (; next <= end; next++) {
      const r = required(next);
      while (tail > head && required(deque[(tail - 1) % size]) >= r) tail--;
      deque[tail++ % size] = next;
    }
    while (deque[head % size] < i) head++;
    out[i] = required(deque[head % size]);
  }
  // Instant attack, exponential release.
  let held = out[0];
  for (let i = 0; i < n; i++) {
    held = Math.min(out[i], held + (1 - held) * release);
    out[i] = held;
  }
  // Moving average over `lookahead` samples ending at i; the window starts filled with out[0].
  const ring = new Float64Array(lookahead).fill(out[0]);
  let sum = out[0] * lookahead;
  for (let i = 0; i < n; i++) {
    const slot = i % lookahead;
    sum += out[i] - ring[slot];
    ring[slot] = out[i];
    out[i] = Math.min(1, sum / lookahead);
  }
}
