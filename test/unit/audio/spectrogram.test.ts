/**
 * Spectrograms: levels and peak positions against signals whose spectrum is known (sines, a chirp, an
 * impulse), picture geometry, the note overlay and the colour map.
 */
import {
  COLOUR_MAP,
  OVERLAY_COLOUR,
  computeSpectrogram,
  frequencyToY,
  renderSpectrogramImage,
  timeToX,
  type RgbaImage,
  type Spectrogram,
} from '../../../src/audio/spectrogram/spectrogram.js';
import { midiToHz } from '../../../src/audio/pitch-math.js';
import { sine } from '../../support/signals.js';

const RATE = 44100;

function peakBin(spec: Spectrogram, frame: number): number {
  let best = 0;
  for (let k = 1; k < spec.bins; k++) if (spec.db[frame * spec.bins + k] > spec.db[frame * spec.bins + best]) best = k;
  return best;
}

function pixel(image: RgbaImage, x: number, y: number): [number, number, number] {
  const p = (y * image.width + x) * 4;
  return [image.rgba[p], image.rgba[p + 1], image.rgba[p + 2]];
}

const isOverlay = (c: [number, number, number]) => c[0] === OVERLAY_COLOUR[0] && c[1] === OVERLAY_COLOUR[1] && c[2] === OVERLAY_COLOUR[2];
const brightness = (c: ArrayLike<number>) => 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];

describe('computeSpectrogram', () => {
  it('puts a 1 kHz sine in bin round(1000 / binHz) of every frame, with the 10 ms hop and 8 kHz ceiling by default', () => {
    const spec = computeSpectrogram(sine(1000, 1, RATE, 0.5), RATE);
    expect(spec.binHz).toBeCloseTo(RATE / 2048, 9);
    expect(spec.hopSeconds).toBeCloseTo(441 / RATE, 12);
    expect(spec.frames).toBe(Math.floor((RATE - 1) / 441) + 1);
    expect(spec.bins).toBe(Math.floor(8000 / spec.binHz) + 1);
    expect(spec.db.length).toBe(spec.frames * spec.bins);
    for (let f = 3; f < spec.frames - 3; f++) expect(peakBin(spec, f)).toBe(Math.round(1000 / spec.binHz));
  });

  it('reads a sine centred on a bin at its amplitude in dB re full scale (±0.05 dB) and silence at the floor', () => {
    const hz = 43 * (RATE / 2048);
    const signal = new Float32Array(RATE);
    signal.set(sine(hz, 0.5, RATE, 0.5));
    const spec = computeSpectrogram(signal, RATE, { minDb: -100 });
    const middle = Math.round(0.25 / spec.hopSeconds);
    expect(spec.db[middle * spec.bins + 43]).toBeCloseTo(20 * Math.log10(0.5), 1);
    expect(Math.abs(spec.db[middle * spec.bins + 43] - 20 * Math.log10(0.5))).toBeLessThan(0.05);
    const silent = Math.round(0.9 / spec.hopSeconds);
    for (let k = 0; k < spec.bins; k++) expect(spec.db[silent * spec.bins + k]).toBe(-100);
  });

  it('follows a linear chirp from 200 Hz to 4 kHz: the peak rises frame by frame and stays within 1.5 bins of the instantaneous frequency', () => {
    const seconds = 2;
    const f0 = 200;
    const f1 = 4000;
    const chirp = new Float32Array(seconds * RATE);
    for (let i = 0; i < chirp.length; i++) {
      const t = i / RATE;
      chirp[i] = 0.5 * Math.sin(2 * Math.PI * (f0 * t + ((f1 - f0) / (2 * seconds)) * t * t));
    }
    const spec = computeSpectrogram(chirp, RATE);
    let previous = -1;
    for (let f = 5; f < spec.frames - 5; f++) {
      const k = peakBin(spec, f);
      const expected = f0 + ((f1 - f0) * (f * spec.hopSeconds)) / seconds;
      expect(Math.abs(k * spec.binHz - expected)).toBeLessThan(1.5 * spec.binHz);
      expect(k).toBeGreaterThanOrEqual(previous);
      previous = k;
    }
    expect(previous * spec.binHz).toBeGreaterThan(3800);
  });

  it('lowers the ceiling to the Nyquist frequency and honours fftSize and hopSeconds', () => {
    const spec = computeSpectrogram(sine(440, 1, 16000), 16000, { fftSize: 512, hopSeconds: 0.02 });
    expect(spec.maxHz).toBe(8000);
    expect(spec.bins).toBe(257);
    expect(spec.hopSeconds).toBeCloseTo(0.02, 12);
    expect(spec.frames).toBe(50);
  });

  it('returns no frames for no samples and rejects a non-power-of-two FFT size', () => {
    expect(computeSpectrogram(new Float32Array(0), RATE).frames).toBe(0);
    expect(() => computeSpectrogram(new Float32Array(100), RATE, { fftSize: 1000 })).toThrow(RangeError);
  });
});

describe('renderSpectrogramImage', () => {
  it('is one column per frame and 256 rows by default, opaque RGBA, or the size asked for', () => {
    const spec = computeSpectrogram(sine(440, 0.5, RATE), RATE);
    const image = renderSpectrogramImage(spec);
    expect(image.width).toBe(spec.frames);
    expect(image.height).toBe(256);
    expect(image.rgba.length).toBe(spec.frames * 256 * 4);
    let translucent = 0;
    for (let p = 3; p < image.rgba.length; p += 4) if (image.rgba[p] !== 255) translucent++;
    expect(translucent).toBe(0);
    const sized = renderSpectrogramImage(spec, { width: 300, height: 120 });
    expect([sized.width, sized.height, sized.rgba.length]).toEqual([300, 120, 300 * 120 * 4]);
  });

  it('draws a 1 kHz sine as the brightest row at frequencyToY(1000), on the log and the linear axis', () => {
    const spec = computeSpectrogram(sine(1000, 1, RATE, 0.5), RATE);
    for (const logFrequency of [true, false]) {
      const image = renderSpectrogramImage(spec, { logFrequency, ticks: false });
      const expectedRow = Math.floor(frequencyToY(1000, spec, { logFrequency }));
      const x = Math.floor(image.width / 2);
      let brightest = 0;
      for (let y = 0; y < image.height; y++) if (brightness(pixel(image, x, y)) > brightness(pixel(image, x, brightest))) brightest = y;
      expect(Math.abs(brightest - expectedRow)).toBeLessThanOrEqual(1);
      // The loudest bin gets the brightest colour of the map.
      expect(pixel(image, x, brightest)).toEqual([COLOUR_MAP[765], COLOUR_MAP[766], COLOUR_MAP[767]]);
    }
    // On the linear axis 4 kHz is half way up an 8 kHz picture; on the log axis an octave is a fixed height.
    expect(frequencyToY(4000, spec, { logFrequency: false })).toBeCloseTo(128, 9);
    expect(frequencyToY(500, spec) - frequencyToY(1000, spec)).toBeCloseTo(frequencyToY(2000, spec) - frequencyToY(4000, spec), 9);
  });

  it('shows a one-sample click as a bright column even when 10 frames share a column', () => {
    const signal = new Float32Array(2 * RATE);
    signal[RATE] = 0.5;
    const spec = computeSpectrogram(signal, RATE);
    const image = renderSpectrogramImage(spec, { width: Math.ceil(spec.frames / 10), ticks: false });
    const x = Math.floor(timeToX(1, spec, image.width));
    const dark = [COLOUR_MAP[0], COLOUR_MAP[1], COLOUR_MAP[2]];
    for (let y = 0; y < image.height; y++) {
      expect(brightness(pixel(image, x, y))).toBeGreaterThan(brightness(dark) + 50);
      expect(pixel(image, x - 3, y)).toEqual(dark);
    }
  });

  it('outlines each note in the overlay colour around its f0, from its start to its end, and nowhere else', () => {
    const spec = computeSpectrogram(new Float32Array(3 * RATE), RATE);
    const notes = [
      { start: 0.5, end: 1.2, midi: 60 },
      { start: 1.5, end: 2.5, midi: 72 },
    ];
    const image = renderSpectrogramImage(spec, { notes, ticks: false });
    const boxes = notes.map((n) => {
      const centre = frequencyToY(midiToHz(n.midi), spec);
      return { x0: Math.floor(timeToX(n.start, spec, image.width)), x1: Math.floor(timeToX(n.end, spec, image.width)), centre };
    });
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        if (!isOverlay(pixel(image, x, y))) continue;
        const inside = boxes.some((b) => x >= b.x0 && x <= b.x1 && Math.abs(y - b.centre) <= 4);
        expect({ x, y, inside }).toEqual({ x, y, inside: true });
      }
    }
    for (const b of boxes) {
      const row = Math.floor(b.centre);
      // The f0 row itself stays clear inside the box, with a line above and one below in every column.
      for (let x = b.x0 + 1; x < b.x1 - 1; x++) {
        expect(isOverlay(pixel(image, x, row))).toBe(false);
        let above = false;
        let below = false;
        for (let d = 1; d <= 4; d++) {
          above ||= isOverlay(pixel(image, x, row - d));
          below ||= isOverlay(pixel(image, x, row + d));
        }
        expect([above, below]).toEqual([true, true]);
      }
      expect(isOverlay(pixel(image, b.x0, row))).toBe(true);
    }
  });

  it('draws with exactly `levels` colours of the map when asked, plus the overlay and tick colours', () => {
    const spec = computeSpectrogram(sine(440, 1, RATE, 0.5), RATE);
    const image = renderSpectrogramImage(spec, { levels: 16, notes: [{ start: 0.2, end: 0.8, midi: 69 }] });
    const colours = new Set<number>();
    for (let p = 0; p < image.rgba.length; p += 4) colours.add((image.rgba[p] << 16) | (image.rgba[p + 1] << 8) | image.rgba[p + 2]);
    const allowed = new Set<number>([(OVERLAY_COLOUR[0] << 16) | (OVERLAY_COLOUR[1] << 8) | OVERLAY_COLOUR[2], 0xffffff]);
    for (let i = 0; i < 16; i++) {
      const e = 3 * Math.round((i * 255) / 15);
      allowed.add((COLOUR_MAP[e] << 16) | (COLOUR_MAP[e + 1] << 8) | COLOUR_MAP[e + 2]);
    }
    for (const c of colours) expect(allowed.has(c)).toBe(true);
    expect(colours.size).toBeGreaterThan(10);
    expect(() => renderSpectrogramImage(spec, { levels: 300 })).toThrow(RangeError);
  });

  it('uses a colour map whose brightness rises with level, from near black', () => {
    for (let i = 1; i < 256; i++) {
      expect(brightness(COLOUR_MAP.subarray(3 * i, 3 * i + 3))).toBeGreaterThan(brightness(COLOUR_MAP.subarray(3 * i - 3, 3 * i)));
    }
    expect(brightness(COLOUR_MAP.subarray(0, 3))).toBeLessThan(5);
    expect(brightness(COLOUR_MAP.subarray(765, 768))).toBeGreaterThan(230);
  });
});
