/** encodeWav16OverSliced: the pipeline's WAV written over the normalised floats' own memory. */
import { encodeWav } from '../../../src/audio/decode/wav.js';
import { encodeWav16OverSliced } from '../../../src/audio/decode/wav-over.js';
import { createRandom } from '../../../src/audio/random.js';
import { runSliced, SLICE_SAMPLES } from '../../../src/audio/sliced.js';

function signal(length: number, seed: number): Float32Array {
  const random = createRandom(seed);
  const x = new Float32Array(length);
  for (let i = 0; i < length; i++) x[i] = (random() * 2 - 1) * 1.2; // some beyond full scale, to clip
  if (length > 30) {
    x[5] = Number.NaN;
    x[29] = 1;
    x[30] = -1;
  }
  return x;
}

describe('encodeWav16OverSliced', () => {
  it.each([0, 1, 22, 23, 24, 25, 100, SLICE_SAMPLES + 7, 3 * SLICE_SAMPLES])('writes the same bytes as encodeWav, %i samples', (length) => {
    const samples = signal(length, length + 1);
    const expected = encodeWav([samples], 44100, { bitDepth: 16 });
    const written = runSliced(encodeWav16OverSliced(samples, 44100));
    expect(Buffer.from(written).equals(Buffer.from(expected))).toBe(true);
  });

  it('takes the floats memory (no new array) once there are 23 samples or more', () => {
    const samples = signal(1000, 7);
    const written = runSliced(encodeWav16OverSliced(samples, 48000));
    expect(written.buffer).toBe(samples.buffer);
    expect(written.byteOffset).toBe(samples.byteOffset);
    expect(written.length).toBe(44 + 2 * 1000);
  });

  it('works on a view that starts inside a larger buffer', () => {
    const whole = signal(600, 9);
    const samples = whole.subarray(100, 500);
    const expected = encodeWav([Float32Array.from(samples)], 22050, { bitDepth: 16 });
    const written = runSliced(encodeWav16OverSliced(samples, 22050));
    expect(written.byteOffset).toBe(400);
    expect(Buffer.from(written).equals(Buffer.from(expected))).toBe(true);
  });
});
