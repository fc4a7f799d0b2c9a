import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.js';
import { captureIo } from '../../support/capture-io.js';
import { MELODY_FIXTURE_DIR } from '../../support/melody-fixtures.js';

describe('melody-vocals convert', () => {
  let dir: string;
  const melody = join(MELODY_FIXTURE_DIR, 'voice-la.flac');
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mv-convert-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the vocals, the score, the lyrics and the report, and prints a summary', async () => {
    const out = join(dir, 'song');
    const io = captureIo();
    const code = await main(
      [
        'convert',
        melody,
        '--prompt',
        'a happy song about a dog on the beach',
        '--genre',
        'pop',
        '--mood',
        'happy',
        '--voice',
        'low',
        '--seed',
        '3',
        '--out',
        out,
      ],
      io,
    );
    expect(io.err()).not.toMatch(/^error/m);
    expect(code).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['lyrics.txt', 'report.json', 'score.mid', 'score.musicxml', 'vocals.mp3', 'vocals.wav']);
    const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(report.voice.id).toBe('low');
    expect(report.voice.synthesizer).toBe('flite');
    expect(io.out()).toContain('Voice    low (flite engine)');
    expect(report.seed).toBe(3);
    expect(report.lyrics.genre).toBe('pop');
    expect(await readFile(join(out, 'lyrics.txt'), 'utf8')).toBe(`${report.lyrics.text}\n`);
    expect(io.out()).toContain('Lyrics   ');
    expect(io.out()).toContain(join(out, 'vocals.wav'));
    // Not a terminal: one plain line per finished stage.
    expect(io.err()).toMatch(/Validation done in \d+ ms[\s\S]*Finalisation done in \d+ ms/);
    // Nothing is left over from staging.
    expect((await readdir(dir)).filter((name) => name.includes('.partial-'))).toEqual([]);
  });

  it('draws one progress bar per stage on a terminal', async () => {
    const io = captureIo(true);
    expect(await main(['convert', melody, '--prompt', 'a happy song about a dog on the beach', '--out', join(dir, 'tty')], io)).toBe(0);
    for (const stage of ['Validation', 'Pitch extraction', 'Lyrics', 'Synthesis', 'Quality checks', 'Finalisation']) {
      expect(io.err()).toMatch(new RegExp(`\\r${stage} +[█░]+ +\\d+%`));
    }
    expect(io.err()).toContain('100%');
  });

  it.each([
    ['a text file named .wav', ['--prompt', 'a happy song about a dog on the beach'], 'UNSUPPORTED_FORMAT', true],
    ['a prompt that is too short', ['--prompt', 'dogs'], 'PROMPT_TOO_SHORT', false],
    ['an unknown voice', ['--prompt', 'a happy song about a dog on the beach', '--voice', 'tenor'], 'UNKNOWN_VOICE', false],
    [
      'a missing lyrics file',
      ['--prompt', 'a happy song about a dog on the beach', '--lyrics', '/nonexistent/lyrics.txt'],
      'FILE_NOT_FOUND',
      false,
    ],
  ])('rejects %s with exit code 2 and writes nothing', async (_what, args, code, textInput) => {
    const input = textInput ? join(dir, 'not-audio.wav') : melody;
    if (textInput) await writeFile(input, 'this is not a recording\n'.repeat(100));
    const out = join(dir, `rejected-${code}`);
    const io = captureIo();
    expect(await main(['convert', input, ...(args as string[]), '--out', out], io)).toBe(2);
    expect(io.err()).toMatch(new RegExp(`^error ${code}: `, 'm'));
    expect((await readdir(dir)).filter((name) => name.startsWith(`rejected-${code}`) || name.includes('.partial-'))).toEqual([]);
  });

  it('sings with the formant engine when asked with --engine formant, and refuses an unknown engine', async () => {
    const out = join(dir, 'formant');
    const io = captureIo();
    const code = await main(
      ['convert', melody, '--prompt', 'a happy song about a dog on the beach', '--engine', 'formant', '--quiet', '--out', out],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(await readFile(join(out, 'report.json'), 'utf8')).voice.synthesizer).toBe('formant');
    const bad = captureIo();
    expect(
      await main(['convert', melody, '--prompt', 'a happy song about a dog on the beach', '--engine', 'espeak', '--out', out], bad),
    ).toBe(64);
    expect(bad.err()).toContain('--engine must be flite or formant');
  });

  it('answers bad usage with exit code 64', async () => {
    const io = captureIo();
    expect(await main(['convert', melody, '--out', join(dir, 'x')], io)).toBe(64);
    expect(io.err()).toContain('--prompt is required');
    expect(await main(['convert', melody, '--prompt', 'a happy song about a dog'], io)).toBe(64);
    expect(await main(['convert', melody, '--prompt', 'a happy song about a dog', '--out', join(dir, 'y'), '--format', 'wma'], io)).toBe(
      64,
    );
  });
});
