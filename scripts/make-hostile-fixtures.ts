/**
 * Writes the committed files of test/fixtures/hostile/ (see its README): the first bytes of the corpus
 * melody in every format (from test/support/hostile-inputs.ts, with the ffmpeg of
 * `@ffmpeg-installer/ffmpeg`), a ZIP archive and a PNG image, the last two to be named `.wav` by the
 * tests. Run `npm run build && node dist/scripts/make-hostile-fixtures.js`.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { encodePng } from '../src/platform/png.js';
import { HOSTILE_FIXTURES_DIR, committedMakers } from '../test/support/hostile-inputs.js';

/** A ZIP archive (PKWARE APPNOTE 6.3.10, method 0 "stored") holding one text file. */
function storedZip(name: string, content: Uint8Array): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const crc = crc32(content);
  const local = Buffer.alloc(30 + nameBytes.length);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4); // version needed
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  local.set(nameBytes, 30);
  const central = Buffer.alloc(46 + nameBytes.length);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  central.set(nameBytes, 46);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length, 12);
  end.writeUInt32LE(local.length + content.length, 16);
  return Buffer.concat([local, content, central, end]);
}

/** A 32 × 32 gradient. */
function gradientPng(): Uint8Array {
  const size = 32;
  const rgba = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) rgba.set([x * 8, y * 8, 128, 255], (y * size + x) * 4);
  }
  return encodePng({ width: size, height: size, rgba });
}

const files: Record<string, () => Promise<Uint8Array>> = {
  ...committedMakers(),
  'archive-named.wav': async () => storedZip('melody.txt', new TextEncoder().encode('la la la, not a recording\n'.repeat(20))),
  'image-named.wav': async () => gradientPng(),
};
for (const [name, make] of Object.entries(files)) {
  const bytes = await make();
  await writeFile(join(HOSTILE_FIXTURES_DIR, name), bytes);
  console.log(`${name}: ${bytes.length} bytes`);
}
