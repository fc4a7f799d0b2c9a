import { getRealFft, nextPowerOfTwo } from '../../../src/audio/dsp/fft.js';
import { createRandom } from '../../../src/audio/random.js';

/** Direct O(N²) DFT, the reference the fast transform must match. */
function directDft(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n + 2);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const angle = (-2 * Math.PI * k * t) / n;
      re += x[t] * Math.cos(angle);
      im += x[t] * Math.sin(angle);
    }
    out[2 * k] = re;
    out[2 * k + 1] = im;
  }
  return out;
}

function randomSignal(n: number, seed: number): Float64Array {
  const random = createRandom(seed);
  return Float64Array.from({ length: n }, () => random() * 2 - 1);
}

describe('real FFT wrapper', () => {
  it.each([4, 8, 64, 512])('matches a direct DFT for size %i to 1e-9', (size) => {
    const x = randomSignal(size, size);
    const fft = getRealFft(size);
    const spectrum = fft.createSpectrum();
    fft.forward(x, spectrum);
    const expected = directDft(x);
    for (let i = 0; i < size + 2; i++) expect(Math.abs(spectrum[i] - expected[i])).toBeLessThan(1e-9);
  });

  it.each([4, 16, 1024])('inverts its own forward transform exactly for size %i', (size) => {
    const x = randomSignal(size, 7);
    const fft = getRealFft(size);
    const spectrum = fft.createSpectrum();
    fft.forward(x, spectrum);
    const back = new Float64Array(size);
    fft.inverse(spectrum, back);
    for (let i = 0; i < size; i++) expect(Math.abs(back[i] - x[i])).toBeLessThan(1e-12);
  });

  it('zero-pads short input and reads Float32Array input', () => {
    const fft = getRealFft(8);
    const spectrum = fft.createSpectrum();
    fft.forward(Float32Array.from([1, 1]), spectrum);
    const expected = directDft(Float64Array.from([1, 1, 0, 0, 0, 0, 0, 0]));
    for (let i = 0; i < 10; i++) expect(spectrum[i]).toBeCloseTo(expected[i], 6);
  });

  it('caches one transform per size and rejects sizes that are not powers of two', () => {
    expect(getRealFft(256)).toBe(getRealFft(256));
    expect(() => getRealFft(100)).toThrow(RangeError);
    expect(() => getRealFft(2)).toThrow(RangeError);
    expect(nextPowerOfTwo(513)).toBe(1024);
    expect(nextPowerOfTwo(1)).toBe(4);
  });
});
