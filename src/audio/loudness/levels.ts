/** Simple level statistics over all channels: what validation needs before the full loudness model. */
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

/**
 * Running figures over the samples scanned so far. The figures live in the closure, not in an object:
 * a property store after the hot loop has no type feedback when V8 compiles the loop on stack
 * replacement (the store has never run), so the loop's optimised code deoptimised at the end of every
 * call (`--trace-deopt`: "Insufficient type feedback for generic named access", once per 64 k
 * samples). Closure variables are written without type feedback.
 */
function createLevelScanner(clip: number): {
  scan(channel: Float32Array, from: number, to: number): void;
  sums(): { high: number; low: number; sumSquares: number; clipped: number };
} {
  let high = 0;
  let low = 0;
  let sumSquares = 0;
  let clipped = 0;
  return {
    /**
     * Adds samples [from, to) of `channel`. A plain function, not a loop in the generator: V8 runs
     * loops inside generators about three times slower.
     */
    scan(channel, from, to) {
      // Highest and lowest values rather than |x|: the sign test of |x| is an unpredictable branch on
      // real audio (about 2x slower in V8); the remaining branches are rarely taken. The running
      // figures are in locals for the hot loop, written back at the end.
      let h = high;
      let l = low;
      let squares = sumSquares;
      let c = clipped;
      for (let i = from; i < to; i++) {
        const x = channel[i];
        if (x > h) h = x;
        if (x < l) l = x;
        if (x >= clip || x <= -clip) c++;
        squares += x * x;
      }
      high = h;
      low = l;
      sumSquares = squares;
      clipped = c;
    },
    sums: () => ({ high, low, sumSquares, clipped }),
  };
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
