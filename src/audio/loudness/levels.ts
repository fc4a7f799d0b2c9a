/** Simple level statistics over all channels: what validation needs before the full loudness model. */
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

/**
 * Running figures over the samples scanned so far: highest and lowest value, sum of squares and count
 * of clipped samples, in a Float64Array that {@link scanLevels} reads into locals and writes back.
 */
function createLevelScanner(clip: number): {
  scan(channel: Float32Array, from: number, to: number): void;
  sums(): { high: number; low: number; sumSquares: number; clipped: number };
} {
  const figures = new Float64Array(4);
  return {
    scan: (channel, from, to) => scanLevels(channel, from, to, clip, figures),
    sums: () => ({ high: figures[0], low: figures[1], sumSquares: figures[2], clipped: figures[3] }),
  };
}

/**
 * Adds samples [from, to) of `channel` to `figures` (high, low, sum of squares, clipped count). A plain
 * function over typed arrays, not a loop in the generator (V8 runs loops inside generators about three
 * times slower) nor a closure over the running figures: with the figures in closure variables the loop
 * ran about twice as slow and boxed a number per sample (V8 11.3, Node 20), as the K-weighting loop did
 * (k-weighting.ts). Highest and lowest values rather than |x|: the sign test of |x| is an unpredictable
 * branch on real audio (about 2x slower in V8); the remaining branches are rarely taken.
 */
function scanLevels(channel: Float32Array, from: number, to: number, clip: number, figures: Float64Array): void {
  let h = figures[0];
  let l = figures[1];
  let squares = figures[2];
  let c = figures[3];
  for (let i = from; i < to; i++) {
    const x = channel[i];
    if (x > h) h = x;
    if (x < l) l = x;
    if (x >= clip || x <= -clip) c++;
    squares += x * x;
  }
  figures[0] = h;
  figures[1] = l;
  figures[2] = squares;
  figures[3] = c;
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
  const scanner = createLevelScanner(clip);
  for (const channel of channels) {
    for (let from = 0; from < channel.length; from += SLICE_SAMPLES) {
      scanner.scan(channel, from, Math.min(channel.length, from + SLICE_SAMPLES));
      yield;
    }
    count += channel.length;
  }
  const { high, low, sumSquares, clipped } = scanner.sums();
  const peak = high > -low ? high : -low;
  return {
    samplePeakDbfs: toDb(peak),
    meanDbfs: count ? 10 * Math.log10(sumSquares / count || 0) : -Infinity,
    clippedRatio: count ? clipped / count : 0,
  };
}
