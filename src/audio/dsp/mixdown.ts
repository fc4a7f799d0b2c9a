/**
 * Averages channels into one mono signal (equal weights), the representation every analysis stage takes.
 * A single channel is returned as is, not copied.
 */
export function mixdown(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  if (channels.length === 1) return channels[0];
  const length = channels[0].length;
  const out = new Float32Array(length);
  for (const channel of channels) {
    for (let i = 0; i < length; i++) out[i] += channel[i];
  }
  const gain = 1 / channels.length;
  for (let i = 0; i < length; i++) out[i] *= gain;
  return out;
}
