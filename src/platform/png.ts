/**
 * PNG encoding of in-memory images with `pngjs` (synchronous, no file access: callers write the bytes).
 */
import { crc32 } from 'node:zlib';
import { PNG } from 'pngjs';
import type { RgbaImage } from '../audio/spectrogram/spectrogram.js';

export interface PngOptions {
  /**
   * Keep the alpha channel (8-bit RGBA). Default false: alpha is dropped (every pixel treated as opaque)
   * and the image is written with a palette when it has at most 256 colours, else as 8-bit RGB.
   */
  alpha?: boolean;
  /** zlib level 0–9; default 9 (these images are written once and kept). */
  deflateLevel?: number;
}

/**
 * The PNG file of an RGBA image (PNG spec, ISO/IEC 15948; adaptive row filters). An opaque image of at
 * most 256 distinct colours is written as indexed colour (colour type 3), a third of the RGB size
 * before compression; a spectrogram drawn with 64 levels is ~3× smaller than as RGB.
 * @throws RangeError when `rgba` does not hold width × height × 4 bytes.
 */
export function encodePng(image: RgbaImage, options: PngOptions = {}): Uint8Array {
  const { width, height, rgba } = image;
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`an RGBA image of ${width}×${height} needs ${width * height * 4} bytes, got ${rgba.length}`);
  }
  const deflateLevel = options.deflateLevel ?? 9;
  if (!options.alpha) {
    const indexed = toIndexed(rgba);
    if (indexed) return writeIndexed(width, height, indexed.indices, indexed.palette, deflateLevel);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  const bytes = PNG.sync.write(png, { colorType: options.alpha ? 6 : 2, inputColorType: 6, inputHasAlpha: true, deflateLevel });
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * One palette index per pixel, or null when there are more than 256 colours. The palette is sorted by
 * luma (Rec. 709 weights) so that neighbouring levels get neighbouring indices and the row filters,
 * which see the indices as numbers, still find smooth runs.
 */
function toIndexed(rgba: Uint8Array): { indices: Uint8Array; palette: number[] } | null {
  const seen = new Set<number>();
  for (let p = 0; p < rgba.length; p += 4) {
    seen.add((rgba[p] << 16) | (rgba[p + 1] << 8) | rgba[p + 2]);
    if (seen.size > 256) return null;
  }
  const luma = (c: number) => 0.2126 * (c >> 16) + 0.7152 * ((c >> 8) & 255) + 0.0722 * (c & 255);
  const palette = [...seen].sort((a, b) => luma(a) - luma(b) || a - b);
  const indexOf = new Map(palette.map((c, i) => [c, i]));
  const indices = new Uint8Array(rgba.length / 4);
  for (let p = 0, i = 0; p < rgba.length; p += 4, i++)
    indices[i] = indexOf.get((rgba[p] << 16) | (rgba[p + 1] << 8) | rgba[p + 2]) as number;
  return { indices, palette };
}

/**
 * pngjs writes greyscale and colour but no palette images; an 8-bit greyscale PNG has exactly the pixel
 * layout of an 8-bit indexed one, so we let pngjs write the indices as grey, then mark the header as
 * colour type 3 and add the PLTE chunk after it (chunk layout: length, type, data, CRC-32 of type + data).
 */
function writeIndexed(width: number, height: number, indices: Uint8Array, palette: number[], deflateLevel: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, bitDepth: 8 });
  png.data = Buffer.from(indices.buffer, indices.byteOffset, indices.byteLength);
  const grey = PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, deflateLevel });
  const IHDR_END = 8 + 8 + 13 + 4; // signature, length + type, data, CRC
  const header = Buffer.from(grey.subarray(0, IHDR_END));
  header[8 + 8 + 9] = 3; // IHDR data byte 9: colour type
  header.writeUInt32BE(crc32(header.subarray(12, 12 + 4 + 13)), 12 + 4 + 13);
  const plte = Buffer.alloc(12 + 3 * palette.length);
  plte.writeUInt32BE(3 * palette.length, 0);
  plte.write('PLTE', 4, 'latin1');
  palette.forEach((c, i) => {
    plte[8 + 3 * i] = c >> 16;
    plte[9 + 3 * i] = (c >> 8) & 255;
    plte[10 + 3 * i] = c & 255;
  });
  plte.writeUInt32BE(crc32(plte.subarray(4, 8 + 3 * palette.length)), 8 + 3 * palette.length);
  const out = Buffer.concat([header, plte, grey.subarray(IHDR_END)]);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
