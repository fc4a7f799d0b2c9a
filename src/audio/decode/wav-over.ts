/**
 * A 16-bit WAV written over the float samples it is made from, for the pipeline's vocals (see
 * {@link encodeWav16OverSliced}).
 */
import { SLICE_SAMPLES, type Sliced } from '../sliced.js';
import { encodeWavSliced, writeSamples } from './wav.js';

/**
 * The same bytes as `encodeWav([samples], sampleRate, { bitDepth: 16 })`, written over `samples`' own
 * memory instead of a new array: the result is a view on `samples.buffer`, and `samples` is destroyed.
 * For a caller that no longer needs the float samples (the pipeline's normalised vocals): a 5-minute
 * song's WAV then costs no memory beside its 53 MB of floats, instead of 26 MB more.
 *
 * Safe in one forward pass: sample i's two bytes land at 44 + 2i, below the float it came from (4i)
 * once i ≥ 23, so only floats already read are overwritten; the first 23 samples (and the floats under
 * the 44-byte header) are read before anything is written. Shorter input gets a new array.
 */
export function* encodeWav16OverSliced(samples: Float32Array, sampleRate: number): Sliced<Uint8Array> {
  const frames = samples.length;
  if (frames < OVERWRITE_HEAD) return yield* encodeWavSliced([samples], sampleRate, { bitDepth: 16 });
  const header = yield* encodeWavSliced([samples.subarray(0, OVERWRITE_HEAD)], sampleRate, { bitDepth: 16 });
  const out = new Uint8Array(samples.buffer, samples.byteOffset, 44 + 2 * frames);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(header);
  view.setUint32(4, out.length - 8, true);
  view.setUint32(40, 2 * frames, true);
  for (let from = OVERWRITE_HEAD; from < frames; from += SLICE_SAMPLES) {
    writeSamples(view, samples, from, Math.min(frames, from + SLICE_SAMPLES), 44 + 2 * from, 2, 16);
    yield;
  }
  return out;
}

/** Samples read into a separate array before {@link encodeWav16OverSliced} writes over the rest. */
const OVERWRITE_HEAD = 23;
