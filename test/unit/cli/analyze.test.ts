import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { encodeWav } from '../../../src/audio/decode/wav.js';
import { renderMelody, twinkle } from '../../support/signals.js';
import { captureIo } from '../../support/capture-io.js';

describe('melody-vocals analyze', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mv-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeMelody(name: string, notes = twinkle(60)): Promise<string> {
    const melody = renderMelody(notes, { timbre: 'voice', sampleRate: 44100, seed: 3 });
    const path = join(dir, name);
    await writeFile(path, encodeWav([melody.samples], melody.sampleRate, { bitDepth: 16 }));
    return path;
  }

  it('prints one JSON object with the format, validation, key, tempo, phrases, notes, pitch and loudness', async () => {
    const path = await writeMelody('twinkle.wav');
    const io = captureIo();
    expect(await main(['analyze', path, '--json'], io)).toBe(0);
    const json = JSON.parse(io.out());
    expect(json).toMatchObject({ format: 'wav', sampleRate: 44100, channels: 1 });
    expect(json.durationSeconds).toBeCloseTo(twinkle(60).at(-1)!.end + 0.5, 1);
    expect(json.validation).toEqual({ ok: true, errors: [], warnings: [] });
    expect(json.key).toMatchObject({ tonic: 'C', mode: 'major' });
    expect(json.tempo.bpm).toBeGreaterThan(90);
    expect(json.tempo.bpm).toBeLessThan(110);
    // Twinkle: 14 notes, C C G G A A G | F F E E D D C, in two phrases split at the rest.
    expect(json.notes.map((n: { midi: number }) => Math.round(n.midi))).toEqual([60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60]);
    expect(json.phrases.map((p: { noteCount: number }) => p.noteCount)).toEqual([7, 7]);
    expect(json.pitch.times.length).toBe(json.pitch.hz.length);
    expect(json.pitch.hz.some((hz: number) => hz === 0)).toBe(true);
    expect(json.loudness.integratedLufs).toBeLessThan(0);
    expect(json.loudness.truePeakDbtp).toBeGreaterThanOrEqual(json.loudness.samplePeakDbfs - 0.01);
  });

  it('prints a readable summary naming the key, tempo and the notes of each phrase', async () => {
    const path = await writeMelody('summary.wav');
    const io = captureIo();
    expect(await main(['analyze', path], io)).toBe(0);
    expect(io.out()).toContain('C major');
    expect(io.out()).toMatch(/notes\s+14 in 2 phrases/);
    expect(io.out()).toContain('C4 C4 G4 G4 A4 A4 G4');
  });

  it('rejects a text file named .mp3 with exit code 2 and the error code on stderr', async () => {
    const path = join(dir, 'notes.mp3');
    await writeFile(path, 'these are not the notes you are looking for\n'.repeat(20));
    const io = captureIo();
    expect(await main(['analyze', path], io)).toBe(2);
    expect(io.err()).toMatch(/^error UNSUPPORTED_FORMAT: /);
    expect(io.out()).toBe('');
  });

  it('rejects a recording shorter than the minimum with TOO_SHORT', async () => {
    const path = await writeMelody('short.wav', [{ start: 0.05, end: 0.4, midi: 60 }]);
    const io = captureIo();
    expect(await main(['analyze', path, '--max-duration', '300'], io)).toBe(2);
    expect(io.err()).toMatch(/^error TOO_SHORT: /);
  });

  it('refuses a file over --max-size-mb before reading it', async () => {
    const path = await writeMelody('big.wav');
    const io = captureIo();
    expect(await main(['analyze', path, '--max-size-mb', '0.1'], io)).toBe(2);
    expect(io.err()).toMatch(/^error FILE_TOO_LARGE: /);
  });

  it('reports a missing file and bad usage clearly', async () => {
    const io = captureIo();
    expect(await main(['analyze', join(dir, 'nope.wav')], io)).toBe(2);
    expect(io.err()).toMatch(/^error FILE_NOT_FOUND: /);
    const usage = captureIo();
    expect(await main(['analyze'], usage)).toBe(64);
    expect(await main(['frobnicate'], usage)).toBe(64);
    expect(await main(['analyze', 'x.wav', '--bogus'], usage)).toBe(64);
  });
});
