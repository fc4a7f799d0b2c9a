/**
 * Frequency of a steady tone from its upward zero crossings: the time between the first and last
 * crossing (each placed by linear interpolation) divided by the number of periods between them.
 * Accurate to well under 0.1 Hz for a clean sine of a second or more; meant for checking decoders.
 */
export function toneFrequencyHz(
  samples: Float32Array,
  sampleRate: number,
  fromSeconds = 0,
  toSeconds = samples.length / sampleRate,
): number {
  const start = Math.max(1, Math.floor(fromSeconds * sampleRate));
  const end = Math.min(samples.length, Math.floor(toSeconds * sampleRate));
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = start; i < end; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (a < 0 && b >= 0) {
      const t = i - 1 + a / (a - b);
      if (first < 0) first = t;
      last = t;
      count++;
    }
  }
  return count < 2 ? 0 : ((count - 1) * sampleRate) / (last - first);
}
