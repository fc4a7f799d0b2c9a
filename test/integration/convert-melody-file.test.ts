/**
 * `melody-vocals convert FILE --melody score.mid`: the notes of the given file are sung instead of
 * the transcription, through the real CLI command, ffmpeg decoder and encoder. The score.mid the
 * product exports round-trips: fed back with --melody, the same notes are sung and exported again.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { convertCommand } from '../../src/cli/convert.command.js';
import { EXIT_OK } from '../../src/cli/cli-io.js';
import { readMelodyFile } from '../../src/audio/score/melody-file.js';
import { writeMidi } from '../../src/audio/score/midi.js';
import type { ConversionReport } from '../../src/audio/pipeline.js';
import { MELODY_FIXTURE_DIR } from '../support/melody-fixtures.js';

const PROMPT = 'a romantic ballad about summer nights by the sea';

async function convert(out: string, extra: string[] = []): Promise<{ report: ConversionReport; midi: Uint8Array }> {
  const io = { stdout: new PassThrough(), stderr: new PassThrough() };
  const code = await convertCommand(
    [join(MELODY_FIXTURE_DIR, 'voice-la.flac'), '--prompt', PROMPT, '--out', out, '--seed', '7', '--quiet', ...extra],
    io,
  );
  expect(code).toBe(EXIT_OK);
  return {
    report: JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as ConversionReport,
    midi: new Uint8Array(await readFile(join(out, 'score.mid'))),
  };
}

describe('convert --melody', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'melody-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sings the notes of the given MIDI file instead of the transcription, and its score.mid round-trips', async () => {
    const first = await convert(join(dir, 'first'));
    expect(first.report.melody.source).toBe('transcription');
    // The user corrects the melody: every note a whole tone higher, written as a MIDI file.
    const exported = readMelodyFile(first.midi).notes;
    const corrected = exported.map((note) => ({ ...note, midi: note.midi + 2 }));
    const file = join(dir, 'corrected.mid');
    await writeFile(
      file,
      writeMidi({
        notes: corrected.map((n) => ({
          ...n,
          syllable: 'la',
          continuation: false,
          syllabic: 'single' as const,
          phonemes: [],
          stressed: false,
          phraseIndex: 0,
        })),
        tempo: first.report.melody.tempo,
        key: null,
      }),
    );

    const second = await convert(join(dir, 'second'), ['--melody', file]);
    expect(second.report.melody.source).toBe('file');
    // Sung and exported on the file's own tempo, not one estimated again from the notes.
    expect(second.report.melody.tempo?.bpm).toBeCloseTo(first.report.melody.tempo!.bpm, 3);
    expect(second.report.melody.notes.map((n) => n.midi)).toEqual(corrected.map((n) => n.midi));
    second.report.melody.notes.forEach((note, i) => expect(note.start).toBeCloseTo(corrected[i].start, 2));
    // What was exported is what was given: reading the new score.mid gives the same notes again.
    const again = readMelodyFile(second.midi).notes;
    expect(again.map((n) => n.midi)).toEqual(corrected.map((n) => n.midi));
    again.forEach((note, i) => expect(note.start).toBeCloseTo(corrected[i].start, 2));
  });
});
