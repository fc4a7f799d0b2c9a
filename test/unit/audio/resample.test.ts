import { resample } from '../../../src/audio/dsp/resample.js';
import { sine } from '../../support/signals.js';

/** RMS of the middle of a signal (edges hold the filter's start-up and are skipped). */
function middleRms(x: Float32Array): number {
  const from = Math.floor(x.length * 0.2);
  const to = Math.floor(x.length * 0.8);
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / (to - from));
}

/** Frequency of a clean tone from its positive-going zero crossings (sub-sample interpolated). */
function toneHz(x: Float32Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = Math.floor(x.length * 0.1); i < x.length * 0.9; i++) {
    if (x[i - 1] < 0 && x[i] >= 0) crossings.push(i - 1 + x[i - 1] / (x[i - 1] - x[i]));
  }
  return ((crossings.length - 1) * rate) / (crossings[crossings.length - 1] - crossings[0]);
}

const dB = (ratio: number): number => 20 * Math.log10(ratio);

describe('resample', () => {
  it('keeps a 1 kHz tone at 1 kHz and at its level from 44.1 kHz to 16 kHz (±0.01 Hz, ±0.05 dB)', () => {
    const input = sine(1000, 1, 44100, 0.5);
    const output = resample(input, 44100, 16000);
    expect(Math.abs(toneHz(output, 16000) - 1000)).toBeLessThan(0.01);
    expect(Math.abs(dB(middleRms(output) / middleRms(input)))).toBeLessThan(0.05);
  });

  it('keeps a 3 kHz tone when upsampling 16 kHz to 44.1 kHz (±0.01 Hz, ±0.05 dB)', () => {
    const input = sine(3000, 1, 16000, 0.5);
    const output = resample(input, 16000, 44100);
    expect(Math.abs(toneHz(output, 44100) - 3000)).toBeLessThan(0.01);
    expect(Math.abs(dB(middleRms(output) / middleRms(input)))).toBeLessThan(0.05);
  });

  it.each([8100, 9000, 12000, 20000])('attenuates a %i Hz tone (above the new 8 kHz Nyquist) by at least 60 dB', (hz) => {
    const input = sine(hz, 1, 44100, 0.5);
    const output = resample(input, 44100, 16000);
    expect(dB(middleRms(output) / middleRms(input))).toBeLessThan(-60);
  });

  it("with stopband 'passband', attenuates by at least 60 dB everything that would alias into the passband", () => {
    // Passband edge 0.85 × 8 kHz = 6.8 kHz; content from 16 − 6.8 = 9.2 kHz up would land below 6.8 kHz.
    for (const hz of [9300, 11000, 15000]) {
      const input = sine(hz, 1, 44100, 0.5);
      const output = resample(input, 44100, 16000, { stopband: 'passband' });
      expect(dB(middleRms(output) / middleRms(input))).toBeLessThan(-60);
    }
  });

  it('returns ⌈length × to / from⌉ samples, the input itself at equal rates, and keeps a constant constant', () => {
    const input = new Float32Array(44101).fill(0.25);
    const output = resample(input, 44100, 16000);
    expect(output.length).toBe(Math.ceil((44101 * 16000) / 44100));
    expect(resample(input, 44100, 44100)).toBe(input);
    expect(resample(new Float32Array(0), 44100, 16000).length).toBe(0);
    expect(resample(new Float32Array(480), 48000, 16000).length).toBe(160);
    for (let i = 100; i < output.length - 100; i++) expect(Math.abs(output[i] - 0.25)).toBeLessThan(1e-6);
  });

  it('places output sample n at input time n·from/to (no delay)', () => {
    const input = sine(200, 0.5, 48000, 0.5);
    const output = resample(input, 48000, 16000);
    for (let n = 2000; n < 2100; n++) {
      expect(Math.abs(output[n] - 0.5 * Math.sin((2 * Math.PI * 200 * n) / 16000))).toBeLessThan(1e-3);
    }
  });

  it('rejects non-integer rates and out-of-range options', () => {
    expect(() => resample(new Float32Array(10), 44100.5, 16000)).toThrow(RangeError);
    expect(() => resample(new Float32Array(10), 44100, 0)).toThrow(RangeError);
    expect(() => resample(new Float32Array(10), 44100, 16000, { passband: 1 })).toThrow(RangeError);
    expect(() => resample(new Float32Array(10), 44100, 16000, { attenuationDb: 10 })).toThrow(RangeError);
  });
});
