/**
 * PNG encoding of in-memory images with `pngjs` (synchronous, no file access: callers write the bytes).
 */
import { PNG } from 'pngjs';
import type { RgbaImage } from '../audio/spectrogram/spectrogram.js';

export interface PngOptions {
  /**
   * Keep the alpha channel (8-bit RGBA). Default false: the image is written as 8-bit RGB, a quarter
   * smaller, and alpha is dropped (every pixel treated as opaque).
   */
  alpha?: boolean;
  /** zlib level 0–9; default 9 (these images are written once and kept). */
  deflateLevel?: number;
}

/**
 * The PNG file of an RGBA image (PNG spec, ISO/IEC 15948; adaptive row filters).
 * @throws RangeError when `rgba` does not hold width × height × 4 bytes.
 */
export function encodePng(image: RgbaImage, options: PngOptions = {}): Uint8Array {
  const { width, height, rgba } = image;
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`an RGBA image of ${width}×${height} needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const bytes = PNG.sync.write(png, {
    colorType: options.alpha ? 6 : 2,
    inputColorType: 6,
    inputHasAlpha: true,
    deflateLevel: options.deflateLevel ?? 9,
  });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
