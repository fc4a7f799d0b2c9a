/**
 * PNG encoding: every file must decode (with pngjs, an independent reader of the format) to exactly the
 * pixels we encoded, whichever colour type the encoder picks.
 */
import { PNG } from 'pngjs';
import { encodePng } from '../../../src/platform/png.js';
import type { RgbaImage } from '../../../src/audio/spectrogram/spectrogram.js';
import { createRandom } from '../../../src/audio/random.js';

/** An opaque image whose pixels take `colours` distinct values, deterministically scattered. */
function image(width: number, height: number, colours: number, seed = 1): RgbaImage {
  const random = createRandom(seed);
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const c = Math.floor(random() * colours);
    rgba[4 * i] = c & 255;
    rgba[4 * i + 1] = (c * 7) & 255;
    rgba[4 * i + 2] = c >> 8;
    rgba[4 * i + 3] = 255;
  }
  return { width, height, rgba };
}

function decode(bytes: Uint8Array): { png: PNG; colorType: number } {
  const buffer = Buffer.from(bytes);
  return { png: PNG.sync.read(buffer), colorType: buffer[25] };
}

describe('encodePng', () => {
  it('writes an image of at most 256 colours as indexed colour that decodes to the same pixels', () => {
    const source = image(37, 23, 256);
    const { png, colorType } = decode(encodePng(source));
    expect(colorType).toBe(3);
    expect([png.width, png.height]).toEqual([37, 23]);
    expect(Buffer.compare(png.data, Buffer.from(source.rgba))).toBe(0);
  });

  it('writes an image of more colours as RGB that decodes to the same pixels', () => {
    const source = image(40, 30, 1000);
    const { png, colorType } = decode(encodePng(source));
    expect(colorType).toBe(2);
    expect(Buffer.compare(png.data, Buffer.from(source.rgba))).toBe(0);
  });

  it('keeps alpha as RGBA when asked', () => {
    const source = image(8, 8, 4);
    source.rgba[3] = 10;
    const { png, colorType } = decode(encodePng(source, { alpha: true }));
    expect(colorType).toBe(6);
    expect(png.data[3]).toBe(10);
    expect(Buffer.compare(png.data, Buffer.from(source.rgba))).toBe(0);
  });

  it('rejects pixel data of the wrong length', () => {
    expect(() => encodePng({ width: 2, height: 2, rgba: new Uint8Array(15) })).toThrow(RangeError);
  });
});
