/**
 * Score export: the MIDI and MusicXML files are read back with independent parsers from npm
 * (midi-file, @tonejs/midi, fast-xml-parser) and must carry the same notes and lyric syllables
 * as the hand-built scores they were written from.
 */
import { Midi } from '@tonejs/midi';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { parseMidi } from 'midi-file';
import { ValidationError } from '../../../src/audio/errors.js';
import { keySignatureAlters, keyToFifths, spellPitch } from '../../../src/audio/score/key-signature.js';
import { midiLyricText, writeMidi } from '../../../src/audio/score/midi.js';
import { chooseClef, writeMusicXml } from '../../../src/audio/score/musicxml.js';
import { quantizeScore } from '../../../src/audio/score/quantize.js';
import type { KeyEstimate, PitchClassName, Score, SungNote, Syllabic } from '../../../src/audio/types.js';

// ---------------------------------------------------------------------------------------------
// Hand-built scores

const PCS: PitchClassName[] = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

function key(tonicPitchClass: number, mode: 'major' | 'minor'): KeyEstimate {
  const tonic = PCS[tonicPitchClass];
  return { tonic, tonicPitchClass, mode, confidence: 0.8, label: `${tonic} ${mode}` };
}

function sung(start: number, end: number, midi: number, syllable: string, syllabic: Syllabic = 'single', confidence = 0.9): SungNote {
  return { start, end, midi, confidence, syllable, continuation: false, syllabic, phonemes: [], stressed: false, phraseIndex: 0 };
}

/** A melisma note holding the previous syllable. */
function held(start: number, end: number, midi: number): SungNote {
  return {
    start,
    end,
    midi,
    confidence: 0.7,
    syllable: '',
    continuation: true,
    syllabic: 'single',
    phonemes: [],
    stressed: false,
    phraseIndex: 0,
  };
}

/**
 * "Summer love is a ev-er-y day" at 100 BPM in E minor, times in beats with ±20 ms of human
 * jitter: a leading rest, a two-syllable and a three-syllable word, a three-note melisma whose
 * last note crosses the first barline, a rest, a chromatic D♯ and A♯, a 30 ms note, pitches off
 * the semitone, and a six-beat note crossing two barlines.
 */
function summerScore(): Score {
  const beat = 60 / 100;
  const at = (b: number, jitter = 0): number => b * beat + jitter;
  return {
    title: 'Summer love',
    tempo: { bpm: 100, confidence: 0.9 },
    key: key(4, 'minor'),
    notes: [
      sung(at(0.5, 0.012), at(1.5, -0.015), 63.8, 'sum', 'begin'),
      sung(at(1.5, -0.01), at(2.5), 66.2, 'mer', 'end'),
      sung(at(2.5, 0.018), at(3, -0.02), 67, 'love', 'single', 0.2),
      held(at(3), at(3.5), 69.3),
      held(at(3.5, -0.005), at(4.5, 0.01), 67),
      sung(at(5), at(5.25), 63, 'is'),
      sung(at(5.25), at(5.25) + 0.03, 72, 'a'),
      sung(at(5.5), at(6), 70, 'ev', 'begin'),
      sung(at(6), at(6.5), 71.4, 'er', 'middle'),
      sung(at(6.5, 0.01), at(7), 62, 'y', 'end'),
      sung(at(7), at(13), 64, 'day', 'single', 1),
    ],
  };
}
const SUMMER_PITCHES = [64, 66, 67, 69, 67, 63, 72, 70, 71, 62, 64];
const SUMMER_MIDI_LYRICS = ['sum-', 'mer', 'love', '+', '+', 'is', 'a', 'ev-', 'er-', 'y', 'day'];
const SUMMER_SYLLABLES = ['sum', 'mer', 'love', 'is', 'a', 'ev', 'er', 'y', 'day'];

/**
 * F minor at 90 BPM with hostile lyric text: markup, entities, quotes, control characters, a
 * CDATA terminator, accents and an emoji. Pitches include D♭, G♭ (chromatic, spelled flat) and
 * B natural (needs a natural sign against the key's B♭).
 */
function hostileScore(): Score {
  const beat = 60 / 90 / 2; // eighth notes, all in the first bar
  return {
    title: 'Tom & "Jerry" <live>',
    tempo: { bpm: 90, confidence: 0.6 },
    key: key(5, 'minor'),
    notes: [
      sung(0, beat, 65, '<b>&"'),
      sung(beat, 2 * beat, 61, "it's\u0000\u0007", 'begin'),
      sung(2 * beat, 3 * beat, 66, ']]>', 'end'),
      sung(3 * beat, 4 * beat, 71, 'été\n'),
      sung(4 * beat, 5 * beat, 70, '  🎵  '),
      sung(5 * beat, 6 * beat, 71, 'B'),
    ],
  };
}
const HOSTILE_PITCHES = [65, 61, 66, 71, 70, 71];
const HOSTILE_SYLLABLES = ['<b>&"', "it's", ']]>', 'été', '🎵', 'B'];

// ---------------------------------------------------------------------------------------------
// Reading the files back

const STEP_PC: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** midi-file hands text over byte per char (latin-1); our lyrics are UTF-8. */
function utf8(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

interface MidiFileEvent {
  deltaTime: number;
  type: string;
  absolute: number;
  [field: string]: unknown;
}

function readWithMidiFile(bytes: Uint8Array): { header: ReturnType<typeof parseMidi>['header']; events: MidiFileEvent[] } {
  const parsed = parseMidi(bytes);
  expect(parsed.tracks).toHaveLength(1);
  let tick = 0;
  const events = parsed.tracks[0].map((e) => {
    tick += e.deltaTime;
    return { ...(e as unknown as MidiFileEvent), absolute: tick };
  });
  return { header: parsed.header, events };
}

type XmlNode = Record<string, unknown>;
const ARRAYS = new Set(['measure', 'note', 'lyric', 'tie', 'tied', 'dot', 'extend']);
const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  isArray: (name) => ARRAYS.has(name),
});

interface ReadNote {
  measure: number;
  rest: boolean;
  measureRest: boolean;
  midi: number | null;
  duration: number;
  type: string | undefined;
  dots: number;
  tieStop: boolean;
  tieStart: boolean;
  accidental: string | undefined;
  lyric: XmlNode | undefined;
}

function readMusicXml(xml: string): { doc: XmlNode; divisions: number; notes: ReadNote[]; measures: ReadNote[][] } {
  expect(XMLValidator.validate(xml)).toBe(true);
  const doc = xmlParser.parse(xml) as XmlNode;
  const part = (doc['score-partwise'] as XmlNode).part as XmlNode;
  const measures = part.measure as XmlNode[];
  const divisions = Number(((measures[0].attributes as XmlNode).divisions as string) ?? NaN);
  const byMeasure = measures.map((m, i) => {
    expect(m['@_number']).toBe(String(i + 1));
    return ((m.note as XmlNode[] | undefined) ?? []).map((n): ReadNote => {
      const pitch = n.pitch as XmlNode | undefined;
      const ties = ((n.tie as XmlNode[] | undefined) ?? []).map((t) => t['@_type']);
      const rest = n.rest as XmlNode | string | undefined;
      return {
        measure: i + 1,
        rest: rest !== undefined,
        measureRest: typeof rest === 'object' && rest['@_measure'] === 'yes',
        midi: pitch ? STEP_PC[pitch.step as string] + Number(pitch.alter ?? 0) + 12 * (Number(pitch.octave) + 1) : null,
        duration: Number(n.duration),
        type: n.type as string | undefined,
        dots: ((n.dot as unknown[] | undefined) ?? []).length,
        tieStop: ties.includes('stop'),
        tieStart: ties.includes('start'),
        accidental: n.accidental as string | undefined,
        lyric: (n.lyric as XmlNode[] | undefined)?.[0],
      };
    });
  });
  return { doc, divisions, notes: byMeasure.flat(), measures: byMeasure };
}

/** Length of a written note value in quarters. */
function valueInQuarters(type: string, dots: number): number {
  const base: Record<string, number> = { whole: 4, half: 2, quarter: 1, eighth: 0.5, '16th': 0.25, '32nd': 0.125, '64th': 0.0625 };
  let length = base[type];
  let add = length / 2;
  for (let d = 0; d < dots; d++, add /= 2) length += add;
  return length;
}

/** The checks every MusicXML file we write must pass; returns the parsed file for more. */
function expectSoundMusicXml(xml: string, pitches: number[], syllables: string[]) {
  const read = readMusicXml(xml);
  const { divisions, measures, notes } = read;
  expect(divisions).toBeGreaterThan(0);
  for (const measure of measures) {
    // Every measure is full 4/4.
    expect(measure.reduce((sum, n) => sum + n.duration, 0)).toBe(4 * divisions);
    for (const n of measure) {
      expect(Number.isInteger(n.duration)).toBe(true);
      if (n.measureRest) continue;
      // The written value matches the duration.
      expect(n.type).toBeDefined();
      expect(valueInQuarters(n.type as string, n.dots) * divisions).toBe(n.duration);
    }
  }
  const onsets = notes.filter((n) => !n.rest && !n.tieStop);
  expect(onsets.map((n) => n.midi)).toEqual(pitches);
  // Lyrics sit only on onsets, and those with text spell the syllables in order.
  expect(notes.filter((n) => n.lyric !== undefined && (n.rest || n.tieStop))).toEqual([]);
  const texts = onsets.filter((n) => n.lyric?.text !== undefined).map((n) => String(n.lyric?.text));
  expect(texts).toEqual(syllables);
  // Ties pair up: every tie start is followed by a tie stop on the same pitch.
  const sounding = notes.filter((n) => !n.rest);
  sounding.forEach((n, i) => {
    if (n.tieStart) {
      expect(sounding[i + 1].tieStop).toBe(true);
      expect(sounding[i + 1].midi).toBe(n.midi);
    }
  });
  return read;
}

// ---------------------------------------------------------------------------------------------

describe('quantizeScore', () => {
  it('puts notes on a sixteenth grid at the score tempo and keeps the leading rest', () => {
    const q = quantizeScore(summerScore());
    expect(q.ticksPerQuarter).toBe(480);
    expect(q.gridTicks).toBe(120);
    expect(q.bpm).toBe(100);
    expect(q.bpmSource).toBe('estimate');
    expect(q.notes.map((n) => n.startTick / 480)).toEqual([0.5, 1.5, 2.5, 3, 3.5, 5, 5.25, 5.5, 6, 6.5, 7]);
    expect(q.measures[0].events[0]).toEqual({ kind: 'rest', startTick: 0, durationTicks: 240 });
    for (const n of q.notes) expect(Math.abs(n.startTick - n.sourceStartTick)).toBeLessThanOrEqual(q.gridTicks / 2);
  });

  it('gives a note shorter than the grid one grid step instead of dropping it', () => {
    const q = quantizeScore(summerScore());
    const a = q.notes.find((n) => n.syllable === 'a');
    expect(a).toBeDefined();
    expect((a?.endTick ?? 0) - (a?.startTick ?? 0)).toBe(q.gridTicks);
  });

  it('keeps every note of a passage denser than the grid, pushing each onto its own grid step', () => {
    const notes = [0, 0.02, 0.04, 0.06].map((t, i) => sung(1 + t, 1 + t + 0.02, 60 + i, `s${i}`));
    const q = quantizeScore({ notes, tempo: null, key: null });
    expect(q.bpm).toBe(120);
    expect(q.bpmSource).toBe('default');
    expect(q.notes.map((n) => n.syllable)).toEqual(['s0', 's1', 's2', 's3']);
    expect(q.notes.map((n) => n.startTick)).toEqual([960, 1080, 1200, 1320]);
    expect(q.notes.map((n) => n.endTick - n.startTick)).toEqual([120, 120, 120, 120]);
  });

  it('cuts overlapping notes at the next onset and sorts notes given out of order', () => {
    const notes = [sung(1, 1.6, 62, 'two'), sung(0, 1.2, 60, 'one')];
    const q = quantizeScore({ notes, tempo: { bpm: 120, confidence: 1 }, key: null });
    expect(q.notes.map((n) => [n.sourceIndex, n.startTick, n.endTick])).toEqual([
      [1, 0, 960],
      [0, 960, 1560],
    ]);
  });

  it('fills every measure exactly and ties a note across each barline it crosses', () => {
    const q = quantizeScore(summerScore());
    expect(q.measures).toHaveLength(4);
    for (const m of q.measures) expect(m.events.reduce((s, e) => s + e.durationTicks, 0)).toBe(q.measureTicks);
    const day = q.notes.findIndex((n) => n.syllable === 'day');
    const pieces = q.measures.flatMap((m) => m.events).filter((e) => e.kind === 'note' && e.noteIndex === day);
    expect(pieces.map((p) => p.durationTicks / 480)).toEqual([1, 4, 1]);
    expect(pieces.map((p) => p.kind === 'note' && [p.tiedFromPrevious, p.tiedToNext])).toEqual([
      [false, true],
      [true, true],
      [true, false],
    ]);
  });

  it('gives an empty score one measure of rest', () => {
    const q = quantizeScore({ notes: [], tempo: null, key: null });
    expect(q.measures).toEqual([{ number: 1, startTick: 0, events: [{ kind: 'rest', startTick: 0, durationTicks: 1920 }] }]);
  });

  it('rejects non-finite times and pitches outside MIDI with stable reasons', () => {
    const bad = (n: SungNote) => () => quantizeScore({ notes: [n], tempo: null, key: null });
    expect(bad(sung(NaN, 1, 60, 'x'))).toThrow(ValidationError);
    expect(bad(sung(0, 1, Infinity, 'x'))).toThrow(expect.objectContaining({ reason: 'INVALID_SCORE' }));
    expect(bad(sung(0, 1, 128, 'x'))).toThrow(expect.objectContaining({ reason: 'PITCH_OUT_OF_RANGE' }));
  });
});

describe('key signatures and spelling', () => {
  it('counts fifths for major and minor keys, preferring fewer accidentals', () => {
    expect(keyToFifths(null)).toBe(0);
    expect(keyToFifths(key(4, 'minor'))).toBe(1); // E minor
    expect(keyToFifths(key(5, 'minor'))).toBe(-4); // F minor
    expect(keyToFifths(key(1, 'major'))).toBe(-5); // D♭ major, not C♯
    expect(keyToFifths(key(6, 'major'))).toBe(6); // F♯ major
    expect(keyToFifths(key(10, 'major'))).toBe(-2); // B♭ major
    expect(keyToFifths(key(8, 'minor'))).toBe(5); // G♯ minor, not A♭ minor
  });

  it('spells pitches by the key: scale notes as the key has them, chromatic ones by its direction', () => {
    expect(spellPitch(65, 6)).toEqual({ step: 'E', alter: 1, octave: 4 }); // E♯4 in F♯ major
    expect(spellPitch(60, 6)).toEqual({ step: 'C', alter: 0, octave: 4 }); // C♮4 in F♯ major
    expect(spellPitch(60, 7)).toEqual({ step: 'B', alter: 1, octave: 3 }); // B♯3 in C♯ major is C4
    expect(spellPitch(70, -4)).toEqual({ step: 'B', alter: -1, octave: 4 });
    expect(spellPitch(71, -4)).toEqual({ step: 'B', alter: 0, octave: 4 }); // B♮ in F minor
    expect(spellPitch(66, -4)).toEqual({ step: 'G', alter: -1, octave: 4 });
    expect(spellPitch(63, 1)).toEqual({ step: 'D', alter: 1, octave: 4 });
    expect(spellPitch(65, 2)).toEqual({ step: 'F', alter: 0, octave: 4 }); // F♮ in D major
    expect(keySignatureAlters(-2)).toEqual({ C: 0, D: 0, E: -1, F: 0, G: 0, A: 0, B: -1 });
  });
});

describe('writeMidi', () => {
  it('writes a format-0 file of one track at 480 ticks per quarter (header bytes checked by hand)', () => {
    const bytes = writeMidi(summerScore());
    expect(Array.from(bytes.subarray(0, 14))).toEqual([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xe0]);
    expect(String.fromCharCode(...bytes.subarray(14, 18))).toBe('MTrk');
    const trackLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(18);
    expect(22 + trackLength).toBe(bytes.length);
    expect(Array.from(bytes.subarray(bytes.length - 3))).toEqual([0xff, 0x2f, 0x00]);
  });

  it('reads back with midi-file: same notes in order, one lyric per note at its onset, tempo, metre and key', () => {
    const score = summerScore();
    const { header, events } = readWithMidiFile(writeMidi(score));
    expect(header).toMatchObject({ format: 0, numTracks: 1, ticksPerBeat: 480 });
    const ons = events.filter((e) => e.type === 'noteOn');
    const offs = events.filter((e) => e.type === 'noteOff');
    expect(ons.map((e) => e.noteNumber)).toEqual(SUMMER_PITCHES);
    expect(offs).toHaveLength(SUMMER_PITCHES.length);
    const lyrics = events.filter((e) => e.type === 'lyrics');
    expect(lyrics.map((e) => utf8(e.text as string))).toEqual(SUMMER_MIDI_LYRICS);
    // Each Note On comes right after its lyric, at the same tick.
    for (const on of ons) {
      const before = events[events.indexOf(on) - 1];
      expect(before.type).toBe('lyrics');
      expect(before.absolute).toBe(on.absolute);
    }
    // Onsets within half a grid step (60 ticks) of the sung times.
    const beatSeconds = 60 / 100;
    ons.forEach((on, i) => expect(Math.abs(on.absolute - (score.notes[i].start / beatSeconds) * 480)).toBeLessThanOrEqual(60));
    // Velocity follows confidence within 64..110.
    expect(ons[2].velocity).toBe(64 + Math.round(0.2 * 46));
    expect(ons[10].velocity).toBe(110);
    expect(events.find((e) => e.type === 'setTempo')?.microsecondsPerBeat).toBe(600000);
    expect(events.find((e) => e.type === 'timeSignature')).toMatchObject({ numerator: 4, denominator: 4 });
    expect(events.find((e) => e.type === 'keySignature')).toMatchObject({ key: 1, scale: 1 });
    expect(events.find((e) => e.type === 'trackName')?.text).toBe('Summer love');
  });

  it('reads back with @tonejs/midi: same pitches, onsets within a grid step, lyrics, tempo and key', () => {
    const score = summerScore();
    const midi = new Midi(writeMidi(score));
    expect(midi.tracks).toHaveLength(1);
    const notes = midi.tracks[0].notes;
    expect(notes.map((n) => n.midi)).toEqual(SUMMER_PITCHES);
    const gridSeconds = 60 / 100 / 4;
    notes.forEach((n, i) => expect(Math.abs(n.time - score.notes[i].start)).toBeLessThanOrEqual(gridSeconds / 2 + 1e-9));
    const lyrics = midi.header.meta.filter((m) => m.type === 'lyrics');
    expect(lyrics.map((m) => utf8(m.text))).toEqual(SUMMER_MIDI_LYRICS);
    expect(lyrics.map((m) => m.ticks)).toEqual(notes.map((n) => n.ticks));
    expect(midi.header.tempos[0].bpm).toBeCloseTo(100, 6);
    expect(midi.header.timeSignatures[0].timeSignature).toEqual([4, 4]);
    // @tonejs/midi names a key signature by its major key: one sharp = "G", minor mode → E minor.
    expect(midi.header.keySignatures[0]).toMatchObject({ key: 'G', scale: 'minor' });
    expect(midi.name).toBe('Summer love');
    // The 30 ms note lasts one sixteenth; the six-beat note is whole.
    expect(notes[6].durationTicks).toBe(120);
    expect(notes[10].durationTicks).toBe(6 * 480);
  });

  it('writes hostile lyric text as clean UTF-8, one event per note', () => {
    const bytes = writeMidi(hostileScore());
    const midi = new Midi(bytes);
    expect(midi.tracks[0].notes.map((n) => n.midi)).toEqual(HOSTILE_PITCHES);
    const lyrics = midi.header.meta.filter((m) => m.type === 'lyrics').map((m) => utf8(m.text));
    expect(lyrics).toEqual(['<b>&"', "it's-", ']]>', 'été', '🎵', 'B']);
    const { events } = readWithMidiFile(bytes);
    expect(events.find((e) => e.type === 'keySignature')).toMatchObject({ key: -4, scale: 1 });
    expect(events.find((e) => e.type === 'setTempo')?.microsecondsPerBeat).toBe(Math.round(60e6 / 90));
  });

  it('uses 120 BPM and no key signature when the score has neither', () => {
    const { events } = readWithMidiFile(writeMidi({ notes: [sung(0, 0.5, 60, 'la')], tempo: null, key: null }));
    expect(events.find((e) => e.type === 'setTempo')?.microsecondsPerBeat).toBe(500000);
    expect(events.some((e) => e.type === 'keySignature')).toBe(false);
    expect(events.find((e) => e.type === 'trackName')?.text).toBe('Voice');
  });

  it('writes an empty score as a valid file of one silent 4/4 bar', () => {
    const bytes = writeMidi({ notes: [], tempo: null, key: null });
    const { events } = readWithMidiFile(bytes);
    expect(events.filter((e) => e.type === 'noteOn' || e.type === 'lyrics')).toEqual([]);
    expect(events[events.length - 1]).toMatchObject({ type: 'endOfTrack', absolute: 1920 });
    expect(new Midi(bytes).tracks.flatMap((t) => t.notes)).toEqual([]);
  });

  it('marks hyphenation and melisma in lyric text the karaoke way', () => {
    expect(midiLyricText({ syllable: 'sum', syllabic: 'begin', continuation: false })).toBe('sum-');
    expect(midiLyricText({ syllable: 'er', syllabic: 'middle', continuation: false })).toBe('er-');
    expect(midiLyricText({ syllable: 'mer', syllabic: 'end', continuation: false })).toBe('mer');
    expect(midiLyricText({ syllable: '', syllabic: 'single', continuation: true })).toBe('+');
  });
});

describe('writeMusicXml', () => {
  it('reads back with fast-xml-parser: same pitches, syllables in order, every measure full', () => {
    const xml = writeMusicXml(summerScore());
    const { doc, divisions, measures } = expectSoundMusicXml(xml, SUMMER_PITCHES, SUMMER_SYLLABLES);
    expect(divisions).toBe(4);
    expect(measures).toHaveLength(4);
    const root = doc['score-partwise'] as XmlNode;
    expect(root['@_version']).toBe('4.0');
    expect((root.work as XmlNode)['work-title'] as string).toBe('Summer love');
    expect(((root['part-list'] as XmlNode)['score-part'] as XmlNode)['part-name']).toBe('Voice');
  });

  it('writes key, metre, clef and tempo in the first measure', () => {
    const { doc } = readMusicXml(writeMusicXml(summerScore()));
    const first = (((doc['score-partwise'] as XmlNode).part as XmlNode).measure as XmlNode[])[0];
    const attributes = first.attributes as XmlNode;
    expect(attributes.key).toEqual({ fifths: '1', mode: 'minor' });
    expect(attributes.time).toEqual({ beats: '4', 'beat-type': '4' });
    expect(attributes.clef).toEqual({ sign: 'G', line: '2' });
    const direction = first.direction as XmlNode;
    expect(((direction['direction-type'] as XmlNode).metronome as XmlNode)['per-minute']).toBe('100');
    expect((direction.sound as XmlNode)['@_tempo']).toBe('100');
  });

  it('carries syllabic marks and shows a melisma as an extension without new text', () => {
    const { notes } = readMusicXml(writeMusicXml(summerScore()));
    const onsets = notes.filter((n) => !n.rest && !n.tieStop);
    expect(onsets.map((n) => n.lyric?.syllabic ?? null)).toEqual([
      'begin',
      'end',
      'single',
      null,
      null,
      'single',
      'single',
      'begin',
      'middle',
      'end',
      'single',
    ]);
    const extendTypes = onsets.map((n) => ((n.lyric?.extend as XmlNode[] | undefined) ?? []).map((e) => e['@_type']).join());
    expect(extendTypes.slice(2, 5)).toEqual(['start', 'continue', 'stop']);
    expect(onsets[3].lyric?.text).toBeUndefined();
    expect(onsets[4].lyric?.text).toBeUndefined();
  });

  it('splits notes at barlines into tied notes whose only lyric is on the first', () => {
    const { notes } = readMusicXml(writeMusicXml(summerScore()));
    // The melisma's last G4 runs from beat 3.5 over the barline to 4.5: eighth | eighth.
    const g = notes.filter((n) => n.midi === 67 && (n.measure === 1 || n.measure === 2) && !n.rest);
    expect(g.slice(-2).map((n) => [n.measure, n.type, n.tieStart, n.tieStop])).toEqual([
      [1, 'eighth', true, false],
      [2, 'eighth', false, true],
    ]);
    // "day": one quarter in bar 2, a whole bar 3, a quarter in bar 4, all tied, lyric on the first.
    const day = notes.filter((n) => n.midi === 64 && n.measure >= 2);
    expect(day.map((n) => [n.measure, n.type])).toEqual([
      [2, 'quarter'],
      [3, 'whole'],
      [4, 'quarter'],
    ]);
    expect(day.map((n) => n.lyric?.text)).toEqual(['day', undefined, undefined]);
  });

  it('writes rests undotted and on the beat, keeping the silence before the first note', () => {
    const { measures } = readMusicXml(writeMusicXml(summerScore()));
    expect(measures[0][0]).toMatchObject({ rest: true, type: 'eighth', duration: 2 });
    // Bar 4: the tied quarter of "day", then beats 2–4 silent: quarter rest + half rest.
    expect(measures[3].map((n) => [n.rest, n.type, n.dots])).toEqual([
      [false, 'quarter', 0],
      [true, 'quarter', 0],
      [true, 'half', 0],
    ]);
  });

  it('writes accidentals against the key signature and earlier notes in the measure', () => {
    const summer = readMusicXml(writeMusicXml(summerScore())).notes.filter((n) => !n.rest && !n.tieStop);
    // E minor: D♯4 and A♯4 need sharps (F♯, G, B follow the key); the D4 later in the same bar
    // as the D♯4 needs a natural.
    expect(summer.map((n) => n.accidental ?? null)).toEqual([null, null, null, null, null, 'sharp', null, 'sharp', null, 'natural', null]);
    const hostile = readMusicXml(writeMusicXml(hostileScore())).notes.filter((n) => !n.rest);
    // F minor, one bar: D♭ is in the key; G♭ is chromatic; B♮ needs a natural, the B♭ after it
    // needs its flat back, and the B♮ after that a natural again.
    expect(hostile.map((n) => n.accidental ?? null)).toEqual([null, null, 'flat', 'natural', 'flat', 'natural']);
  });

  it('escapes hostile lyric and title text and drops control characters', () => {
    const xml = writeMusicXml(hostileScore());
    expect(xml).not.toContain('<b>');
    expect(xml).not.toContain('\u0000');
    expect(xml).not.toContain('\u0007');
    const { doc } = expectSoundMusicXml(xml, HOSTILE_PITCHES, HOSTILE_SYLLABLES);
    expect(((doc['score-partwise'] as XmlNode).work as XmlNode)['work-title']).toBe('Tom & "Jerry" <live>');
  });

  it('chooses the clef from the median pitch', () => {
    expect(chooseClef([60, 64, 67])).toBe('treble');
    expect(chooseClef([48, 55, 57, 59, 72])).toBe('treble-8');
    expect(chooseClef([40, 45, 50])).toBe('bass');
    const low: Score = { notes: [sung(0, 0.5, 45, 'low'), sung(0.5, 1, 47, 'voice')], tempo: null, key: null };
    const { doc } = expectSoundMusicXml(writeMusicXml(low), [45, 47], ['low', 'voice']);
    const first = (((doc['score-partwise'] as XmlNode).part as XmlNode).measure as XmlNode[])[0];
    expect((first.attributes as XmlNode).clef).toEqual({ sign: 'F', line: '4' });
  });

  it('writes an empty score as a valid document with one whole-measure rest', () => {
    const { notes, divisions } = expectSoundMusicXml(writeMusicXml({ notes: [], tempo: null, key: null }), [], []);
    expect(notes).toEqual([expect.objectContaining({ measure: 1, rest: true, measureRest: true, duration: 4 * divisions })]);
  });

  it('writes the same notes as the MIDI file for the same score', () => {
    for (const score of [summerScore(), hostileScore()]) {
      const fromMidi = new Midi(writeMidi(score)).tracks[0].notes.map((n) => [n.ticks, n.midi]);
      const { notes, divisions } = readMusicXml(writeMusicXml(score));
      let position = 0;
      const fromXml: number[][] = [];
      for (const n of notes) {
        if (!n.rest && !n.tieStop) fromXml.push([(position / divisions) * 480, n.midi as number]);
        position += n.duration;
      }
      expect(fromXml).toEqual(fromMidi);
    }
  });
});
