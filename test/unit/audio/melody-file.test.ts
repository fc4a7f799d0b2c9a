/**
 * The user's melody file (convert --melody): MIDI and MusicXML read back into notes. The score files
 * the product exports must round-trip (same pitches, onsets and ends on the quantized grid), files
 * from elsewhere (format 1, running status, tempo changes, chords, ties, rests, a second voice) read
 * as the melody a singer would sing, and anything else is refused with a stable code.
 */
import { readMelodyFile, readMidiMelody, readMusicXmlMelody } from '../../../src/audio/score/melody-file.js';
import { writeMidi } from '../../../src/audio/score/midi.js';
import { writeMusicXml } from '../../../src/audio/score/musicxml.js';
import { quantizeScore } from '../../../src/audio/score/quantize.js';
import { ValidationError } from '../../../src/audio/errors.js';
import type { Score, SungNote } from '../../../src/audio/types.js';

function sung(start: number, end: number, midi: number, syllable: string): SungNote {
  return {
    start,
    end,
    midi,
    confidence: 0.8,
    syllable,
    continuation: false,
    syllabic: 'single',
    phonemes: [],
    stressed: false,
    phraseIndex: 0,
  };
}

/** A sung line at 96 BPM with a rest, a long note over the barline and sharps, times a little off the grid. */
function score(): Score {
  const beat = 60 / 96;
  const spec: [number, number, number][] = [
    [0, 1, 64],
    [1, 1.5, 66],
    [1.5, 2, 68],
    [2, 4, 69],
    [5, 5.5, 71],
    [5.5, 6, 69],
    [6, 9, 68],
    [9, 10, 64],
  ];
  const notes = spec.map(([from, to, midi], i) =>
    sung(0.5 + from * beat + (i % 2 ? 0.012 : -0.008), 0.5 + to * beat - 0.03, midi + (i % 3 ? 0.2 : -0.1), `la${i}`),
  );
  return {
    notes,
    tempo: { bpm: 96, confidence: 0.9 },
    key: { tonic: 'E', tonicPitchClass: 4, mode: 'major', confidence: 0.8, label: 'E major' },
  };
}

/** The exported notes in seconds: quantized ticks at the score's tempo. */
function expectedNotes(s: Score): { start: number; end: number; midi: number }[] {
  const q = quantizeScore(s);
  const secondsPerTick = 60 / q.bpm / q.ticksPerQuarter;
  return q.notes.map((note) => ({ start: note.startTick * secondsPerTick, end: note.endTick * secondsPerTick, midi: note.midi }));
}

function expectSameNotes(
  actual: { start: number; end: number; midi: number }[],
  expected: { start: number; end: number; midi: number }[],
): void {
  expect(actual.map((n) => n.midi)).toEqual(expected.map((n) => n.midi));
  actual.forEach((note, i) => {
    expect(note.start).toBeCloseTo(expected[i].start, 4);
    expect(note.end).toBeCloseTo(expected[i].end, 4);
  });
}

describe('readMelodyFile', () => {
  it('reads back the exported score.mid: same pitches, onsets and ends as the quantized score, and its tempo', () => {
    const s = score();
    const { notes, bpm } = readMelodyFile(writeMidi(s));
    expectSameNotes(notes, expectedNotes(s));
    for (const note of notes) expect(note.confidence).toBe(1);
    expect(bpm).toBeCloseTo(96, 3);
  });

  it('reads back the exported score.musicxml the same way, with its tempo', () => {
    const s = score();
    const { notes, bpm } = readMelodyFile(new TextEncoder().encode(writeMusicXml(s)));
    expectSameNotes(notes, expectedNotes(s));
    expect(bpm).toBeCloseTo(96, 3);
  });

  it('reads a format-1 MIDI file with a tempo change, running status, Note On velocity 0 as Note Off, drums ignored and a chord reduced to its top note', () => {
    const vlq = (v: number): number[] => (v < 128 ? [v] : [0x80 | (v >> 7), v & 0x7f]);
    const chunk = (type: string, data: number[]): number[] =>
      [...type]
        .map((c) => c.charCodeAt(0))
        .concat([(data.length >> 24) & 255, (data.length >> 16) & 255, (data.length >> 8) & 255, data.length & 255], data);
    // Track 1: 120 BPM, then 60 BPM from tick 960 (beat 2).
    const tempo = [0, 0xff, 0x51, 3, 0x07, 0xa1, 0x20, ...vlq(960), 0xff, 0x51, 3, 0x0f, 0x42, 0x40, 0, 0xff, 0x2f, 0];
    // Track 2: C4 for a beat (running status, velocity-0 off), a chord E4+G4 for a beat, drums, A4 for a beat at 60 BPM.
    const voice = [
      0,
      0x90,
      60,
      90,
      ...vlq(480),
      60,
      0,
      0,
      64,
      90,
      0,
      67,
      90,
      0,
      0x99,
      36,
      100,
      ...vlq(480),
      0x80,
      64,
      0,
      0,
      67,
      0,
      0,
      0x89,
      36,
      0,
      0,
      0x90,
      69,
      90,
      ...vlq(480),
      0x80,
      69,
      0,
      0,
      0xff,
      0x2f,
      0,
    ];
    const file = new Uint8Array([...chunk('MThd', [0, 1, 0, 2, 0x01, 0xe0]), ...chunk('MTrk', tempo), ...chunk('MTrk', voice)]);
    const { notes, bpm } = readMidiMelody(file);
    expect(bpm).toBe(120);
    expect(notes.map((n) => n.midi)).toEqual([60, 67, 69]);
    expect(notes.map((n) => n.start)).toEqual([0, 0.5, 1]);
    expect(notes[2].end).toBeCloseTo(2, 6);
  });

  it('reads MusicXML with divisions, a tempo, a rest, a tie, a chord, a grace note and a second voice as the first voice’s melody', () => {
    const note = (step: string, octave: number, duration: number, extra = ''): string =>
      `<note>${extra.includes('<grace') ? '<grace/>' : ''}${extra.includes('<chord') ? '<chord/>' : ''}<pitch><step>${step}</step>${extra.includes('alter') ? '<alter>1</alter>' : ''}<octave>${octave}</octave></pitch><duration>${duration}</duration>${extra.includes('tie-stop') ? '<tie type="stop"/>' : ''}${extra.includes('tie-start') ? '<tie type="start"/>' : ''}<voice>${extra.includes('v2') ? 2 : 1}</voice></note>`;
    const xml = `<?xml version="1.0"?><score-partwise version="4.0"><part-list><score-part id="P1"><part-name>V</part-name></score-part></part-list>
      <part id="P1"><measure number="1"><attributes><divisions>2</divisions></attributes><direction><sound tempo="60"/></direction>
      ${note('D', 4, 0, '<grace')}${note('C', 4, 2)}${note('E', 4, 2)}${note('G', 4, 2, '<chord')}<note><rest/><duration>2</duration><voice>1</voice></note>${note('F', 4, 2, 'alter tie-start')}
      <backup><duration>8</duration></backup>${note('C', 3, 8, 'v2')}</measure>
      <measure number="2">${note('F', 4, 2, 'alter tie-stop')}${note('A', 4, 4)}</measure></part></score-partwise>`;
    const { notes, bpm } = readMusicXmlMelody(xml);
    expect(bpm).toBe(60);
    expect(notes.map((n) => [n.start, n.end, n.midi])).toEqual([
      [0, 1, 60],
      [1, 2, 64],
      [3, 5, 66],
      [5, 7, 69],
    ]);
  });

  it('refuses a file that is neither MIDI nor MusicXML, a truncated MIDI file and a file without notes, with stable codes', () => {
    const codeOf = (bytes: Uint8Array): string | undefined => {
      try {
        readMelodyFile(bytes);
      } catch (error) {
        return error instanceof ValidationError ? error.issues[0].code : 'not a ValidationError';
      }
      return undefined;
    };
    expect(codeOf(new TextEncoder().encode('ID3 not a score'))).toBe('INVALID_MELODY_FILE');
    expect(codeOf(writeMidi(score()).subarray(0, 40))).toBe('INVALID_MELODY_FILE');
    expect(codeOf(new TextEncoder().encode('<score-partwise><part id="P1"><measure number="1"></measure></part></score-partwise>'))).toBe(
      'EMPTY_MELODY',
    );
  });
});
