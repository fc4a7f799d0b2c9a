/**
 * `--spectrogram` on analyze and convert: the PNG decodes, has the documented size, and outlines the
 * notes where they are (checked against the melody we rendered).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { main } from '../../../src/cli/main.js';
import { encodeWav } from '../../../src/audio/decode/wav.js';
import { OVERLAY_COLOUR, frequencyToY, timeToX } from '../../../src/audio/spectrogram/spectrogram.js';
import { midiToHz } from '../../../src/audio/pitch-math.js';
import { SPECTROGRAM_HEIGHT, SPECTROGRAM_MAX_WIDTH } from '../../../src/cli/spectrogram-output.js';
import { renderMelody, twinkle } from '../../support/signals.js';
import { captureIo } from '../../support/capture-io.js';

const RATE = 44100;
const isOverlay = (png: PNG, x: number, y: number) => {
  const p = (y * png.width + x) * 4;
  return png.data[p] === OVERLAY_COLOUR[0] && png.data[p + 1] === OVERLAY_COLOUR[1] && png.data[p + 2] === OVERLAY_COLOUR[2];
};

/** True when some pixel within ±4 rows of `hz`'s row, at the time `seconds`, is an outline. */
function outlinedAt(png: PNG, frames: number, seconds: number, hz: number): boolean {
  const x = Math.floor(timeToX(seconds, { frames, hopSeconds: 0.01 }, png.width));
  const y = Math.floor(frequencyToY(hz, { maxHz: 8000 }, { height: png.height }));
  for (let d = -4; d <= 4; d++) if (isOverlay(png, x, y + d)) return true;
  return false;
}

describe('melody-vocals --spectrogram', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mv-spec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeTwinkle(name: string): Promise<{ path: string; seconds: number }> {
    const melody = renderMelody(twinkle(60), { timbre: 'voice', sampleRate: RATE, seed: 3 });
    const path = join(dir, name);
    await writeFile(path, encodeWav([melody.samples], melody.sampleRate, { bitDepth: 16 }));
    return { path, seconds: melody.samples.length / RATE };
  }

  it('analyze writes the input’s spectrogram: one column per 10 ms (at most 1200), 256 rows, the notes found outlined at their pitch', async () => {
    const { path, seconds } = await writeTwinkle('twinkle.wav');
    const out = join(dir, 'twinkle.png');
    const io = captureIo();
    expect(await main(['analyze', path, '--spectrogram', out], io)).toBe(0);
    expect(io.out()).toContain('C major');
    const png = PNG.sync.read(await readFile(out));
    const frames = Math.floor((Math.round(seconds * RATE) - 1) / 441) + 1;
    expect(png.width).toBe(Math.min(frames, SPECTROGRAM_MAX_WIDTH));
    expect(png.height).toBe(SPECTROGRAM_HEIGHT);
    // Every note of the melody is outlined at its own pitch in its middle, and not an octave up.
    for (const note of twinkle(60)) {
      const middle = (note.start + note.end) / 2;
      expect({ note, outlined: outlinedAt(png, frames, middle, midiToHz(note.midi)) }).toEqual({ note, outlined: true });
      expect(outlinedAt(png, frames, middle, midiToHz(note.midi + 12))).toBe(false);
    }
  });

  it('treats --spectrogram without a file name as bad usage', async () => {
    const usage = captureIo();
    expect(await main(['analyze', join(dir, 'any.wav'), '--spectrogram'], usage)).toBe(64);
    expect(usage.err()).toMatch(/^error USAGE: .*spectrogram/);
  });

  it('convert --spectrogram adds spectrogram.png of the vocals with the sung notes outlined', async () => {
    const { path } = await writeTwinkle('song.wav');
    const out = join(dir, 'song');
    const io = captureIo();
    const code = await main(
      [
        'convert',
        path,
        '--prompt',
        'a little star in the night sky',
        '--voice',
        'high',
        '--seed',
        '2',
        '--spectrogram',
        '--quiet',
        '--out',
        out,
      ],
      io,
    );
    expect(io.err()).toBe('');
    expect(code).toBe(0);
    expect(io.out()).toContain(join(out, 'spectrogram.png'));
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    const png = PNG.sync.read(await readFile(join(out, 'spectrogram.png')));
    expect(png.height).toBe(SPECTROGRAM_HEIGHT);
    expect(png.width).toBeGreaterThan(800);
    expect(png.width).toBeLessThanOrEqual(SPECTROGRAM_MAX_WIDTH);
    // The high voice sings twinkle in C (C4–A4, within its range) or an octave up: the outlines sit at the
    // sung pitch, i.e. at the melody's notes shifted by the report's transposition.
    const frames = png.width; // one column per frame: the vocals are shorter than 12 s
    const shift = report.voice.transposeSemitones;
    expect(shift % 12).toBe(0);
    for (const note of twinkle(60)) {
      const middle = (note.start + note.end) / 2;
      expect(outlinedAt(png, frames, middle, midiToHz(note.midi + shift))).toBe(true);
    }
  });
});
