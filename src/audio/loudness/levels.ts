/** Simple level statistics over all channels: what validation needs before the full loudness model. */
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

/** Running figures of {@link scanLevels}. */
interface LevelSums {
  high: number;
  low: number;
  sumSquares: number;
  clipped: number;
}

/**
 * Adds samples [from, to) of `channel` to `sums`. A plain function, not a loop in the generator: V8
 * runs loops inside generators about three times slower.
 */
function scanLevels(channel: Float32Array, from: number, to: number, clip: number, sums: LevelSums): void {
  // Highest and lowest values rather than |x|: the sign test of |x| is an unpredictable branch on
  // real audio (about 2x slower in V8); the remaining branches are rarely taken. The running figures
  // are in locals for the hot loop, written back at the end.
  let { high, low, sumSquares, clipped } = sums;
  for (let i = from; i < to; i++) {
    const x = channel[i];
    if (x > high) high = x;
    if (x < low) low = x;
    if (x >= clip || x <= -clip) clipped++;
    sumSquares += x * x;
  }
  Object.assign(sums, { high, low, sumSquares, clipped });
}

export interface LevelStats {
  /** Highest absolute sample value in dBFS (-Infinity for digital silence). */
  samplePeakDbfs: number;
  /** RMS over all samples of all channels in dBFS (a full-scale sine reads -3.01). */
  meanDbfs: number;
  /** Share (0..1) of samples whose magnitude reaches `clipThreshold`. */
  clippedRatio: number;
}

/** Converts a linear amplitude to dB (20·log10), -Infinity for 0. */
export function toDb(amplitude: number): number {
  return amplitude > 0 ? 20 * Math.log10(amplitude) : -Infinity;
}

/**
 * Measures peak, RMS and the share of clipped samples.
 * @param clipThresholdDbfs samples at or above this level count as clipped; default -0.1 dBFS.
 */
export function measureLevels(channels: Float32Array[], clipThresholdDbfs = -0.1): LevelStats {
  return runSliced(measureLevelsSliced(channels, clipThresholdDbfs));
}

/** {@link measureLevels} as a sliced computation (see sliced.ts); same result. */
export function* measureLevelsSliced(channels: Float32Array[], clipThresholdDbfs = -0.1): Sliced<LevelStats> {
  const clip = Math.pow(10, clipThresholdDbfs / 20);
  let count = 0;
  const sums = { high: 0, low: 0, sumSquares: 0, clipped: 0 };
  for (const channel of channels) {
    for (let from = 0; from < channel.length; from += SLICE_SAMPLES) {
      scanLevels(channel, from, Math.min(channel.length, from + SLICE_SAMPLES), clip, sums);
      yield;
    }
    count += channel.length;
  }
  const { high, low, sumSquares, clipped } = sums;
  const peak = high > -low ? high : -low;
  return {
    samplePeakDbfs: toDb(peak),
    meanDbfs: count ? 10 * Math.log10(sumSquares / count || 0) : -Infinity,
    clippedRatio: count ? clipped / count : 0,
  };
}
