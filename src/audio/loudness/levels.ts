/** Simple level statistics over all channels: what validation needs before the full loudness model. */

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
  const clip = Math.pow(10, clipThresholdDbfs / 20);
  // Highest and lowest values rather than |x|: the sign test of |x| is an unpredictable branch on
  // real audio (about 2x slower in V8); the remaining branches are rarely taken.
  let high = 0;
  let low = 0;
  let sumSquares = 0;
  let clipped = 0;
  let count = 0;
  for (const channel of channels) {
    for (let i = 0; i < channel.length; i++) {
      const x = channel[i];
      if (x > high) high = x;
      if (x < low) low = x;
      if (x >= clip || x <= -clip) clipped++;
      sumSquares += x * x;
    }
    count += channel.length;
  }
  const peak = high > -low ? high : -low;
  return {
    samplePeakDbfs: toDb(peak),
    meanDbfs: count ? 10 * Math.log10(sumSquares / count || 0) : -Infinity,
    clippedRatio: count ? clipped / count : 0,
  };
}
