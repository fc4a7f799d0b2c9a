/**
 * MusicXML 4.0 (partwise) writer for a sung score: one part, "Voice", with the lyrics under the
 * notes, for notation programs (MuseScore, Finale, Dorico, Sibelius) and singing editors that
 * import MusicXML.
 *
 * What the file holds (element names from the MusicXML 4.0 reference, w3.org/2021/06/musicxml40):
 * - `<divisions>`: grid steps per quarter (4 for the default sixteenth grid), so every duration is
 *   a whole number;
 * - measure 1 `<attributes>`: key (`<fifths>` + `<mode>`, fifths 0 without a mode when the key is
 *   unknown), time 4/4, clef chosen from the median pitch ({@link chooseClef}); then a tempo
 *   `<direction>` with `<metronome>` (shown) and `<sound tempo>` (played);
 * - every measure is full: notes and rests add up to 4/4. A note is split into tied notes where it
 *   crosses a barline or where its length is not a single note value (5 sixteenths → quarter tied
 *   to sixteenth, longest value first); each piece has `<type>` and `<dot/>` matching its
 *   `<duration>`. Rests are undotted and aligned to their own length (quarter + half, not a dotted
 *   half from beat 2). A measure with no note holds one whole-measure rest (`<rest measure="yes"/>`);
 * - pitches are spelled in the key ({@link spellPitch}); `<accidental>` is written where the
 *   pitch differs from the key signature or an earlier accidental in the same measure (tie
 *   continuations show none, as engravers do);
 * - per source note, only its first piece carries a `<lyric number="1">` with `<syllabic>` and
 *   `<text>`; a melisma continuation note carries no text, only `<extend type="continue|stop"/>`,
 *   and the syllable it continues gets `<extend type="start"/>` (the melisma line);
 * - no `<beam>`: vocal engraving traditionally flags notes syllable by syllable;
 * - lyric and title text is cleaned ({@link cleanScoreText}) and XML-escaped.
 */
import type { Score } from '../types.js';
import { keySignatureAlters, keyToFifths, spellPitch, type SpelledPitch } from './key-signature.js';
import { quantizeScore, type QuantizedScore, type QuantizeOptions } from './quantize.js';
import { cleanScoreText } from './score-text.js';

export interface MusicXmlOptions extends QuantizeOptions {
  /** Name of the single part. Default `Voice`. */
  partName?: string;
}

/** A clef for one voice. `treble-8` is the tenor's treble clef sounding an octave lower. */
export type VoiceClef = 'treble' | 'treble-8' | 'bass';

/**
 * Clef by the median MIDI pitch of the notes: treble from C4 (60) up, treble-8 from F3 (53) up to
 * B3, bass below F3. The median keeps the bulk of the melody on the staff whatever a stray note
 * does; an empty score gets treble.
 */
export function chooseClef(midiPitches: readonly number[]): VoiceClef {
  if (midiPitches.length === 0) return 'treble';
  const sorted = [...midiPitches].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  if (median >= 60) return 'treble';
  if (median >= 53) return 'treble-8';
  return 'bass';
}

/** Note values in ticks at 480 per quarter, longest first, with their `<type>` and dot count. */
const NOTE_VALUES: readonly { ticks: number; type: string; dots: number }[] = [
  { ticks: 1920, type: 'whole', dots: 0 },
  { ticks: 1440, type: 'half', dots: 1 },
  { ticks: 960, type: 'half', dots: 0 },
  { ticks: 720, type: 'quarter', dots: 1 },
  { ticks: 480, type: 'quarter', dots: 0 },
  { ticks: 360, type: 'eighth', dots: 1 },
  { ticks: 240, type: 'eighth', dots: 0 },
  { ticks: 180, type: '16th', dots: 1 },
  { ticks: 120, type: '16th', dots: 0 },
  { ticks: 90, type: '32nd', dots: 1 },
  { ticks: 60, type: '32nd', dots: 0 },
  { ticks: 45, type: '64th', dots: 1 },
  { ticks: 30, type: '64th', dots: 0 },
];

const ACCIDENTALS: Readonly<Record<number, string>> = { [-2]: 'flat-flat', [-1]: 'flat', 0: 'natural', 1: 'sharp', 2: 'double-sharp' };

/**
 * Write the score as a MusicXML 4.0 partwise document (UTF-8 text).
 * @throws {ValidationError} as {@link quantizeScore} does
 */
export function writeMusicXml(score: Score, options: MusicXmlOptions = {}): string {
  const q = quantizeScore(score, options);
  const ticksPerDivision = gcd(q.ticksPerQuarter, q.gridTicks);
  const divisions = q.ticksPerQuarter / ticksPerDivision;
  const values = NOTE_VALUES.filter((v) => v.ticks % ticksPerDivision === 0);
  const fifths = keyToFifths(q.key);
  const keyAlters = keySignatureAlters(fifths);
  const spelled: SpelledPitch[] = q.notes.map((n) => spellPitch(n.midi, fifths));
  const clef = chooseClef(q.notes.map((n) => n.midi));
  const partName = cleanScoreText(options.partName ?? 'Voice') || 'Voice';
  const title = q.title === undefined ? '' : cleanScoreText(q.title);

  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>',
    '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" "http://www.musicxml.org/dtds/partwise.dtd">',
    '<score-partwise version="4.0">',
  ];
  if (title !== '') out.push(`  <work><work-title>${escapeXml(title)}</work-title></work>`);
  out.push(
    '  <identification><encoding><software>melody-vocals</software></encoding></identification>',
    '  <part-list>',
    '    <score-part id="P1">',
    `      <part-name>${escapeXml(partName)}</part-name>`,
    `      <score-instrument id="P1-I1"><instrument-name>${escapeXml(partName)}</instrument-name></score-instrument>`,
    // General MIDI "Voice Oohs" (program 54 counted from 1), as in the MIDI writer.
    '      <midi-instrument id="P1-I1"><midi-channel>1</midi-channel><midi-program>54</midi-program></midi-instrument>',
    '    </score-part>',
    '  </part-list>',
    '  <part id="P1">',
  );

  for (const measure of q.measures) {
    out.push(`    <measure number="${measure.number}">`);
    if (measure.number === 1) {
      out.push(...firstMeasureHeader(q, divisions, fifths, clef));
    }
    // Alteration in force per letter+octave in this measure (MusicXML leaves accidentals to us).
    const inForce = new Map<string, number>();
    const onlyRest = measure.events.length === 1 && measure.events[0].kind === 'rest';
    for (const event of measure.events) {
      if (event.kind === 'rest') {
        if (onlyRest) {
          out.push(
            `      <note><rest measure="yes"/><duration>${event.durationTicks / ticksPerDivision}</duration><voice>1</voice></note>`,
          );
          continue;
        }
        for (const piece of splitRest(event.startTick - measure.startTick, event.durationTicks, values)) {
          out.push(`      <note><rest/><duration>${piece.ticks / ticksPerDivision}</duration><voice>1</voice>${typeXml(piece)}</note>`);
        }
        continue;
      }
      const pitch = spelled[event.noteIndex];
      const pieces = splitIntoValues(event.durationTicks, values);
      pieces.forEach((piece, p) => {
        const tieStop = event.tiedFromPrevious || p > 0;
        const tieStart = event.tiedToNext || p < pieces.length - 1;
        const onset = !tieStop;
        let accidental = '';
        if (onset) {
          const slot = `${pitch.step}${pitch.octave}`;
          const current = inForce.get(slot) ?? keyAlters[pitch.step];
          if (pitch.alter !== current) accidental = `<accidental>${ACCIDENTALS[pitch.alter]}</accidental>`;
          inForce.set(slot, pitch.alter);
        }
        const ties = (tieStop ? '<tie type="stop"/>' : '') + (tieStart ? '<tie type="start"/>' : '');
        const tied = (tieStop ? '<tied type="stop"/>' : '') + (tieStart ? '<tied type="start"/>' : '');
        out.push(
          '      <note>' +
            pitchXml(pitch) +
            `<duration>${piece.ticks / ticksPerDivision}</duration>${ties}<voice>1</voice>${typeXml(piece)}${accidental}` +
            (tied === '' ? '' : `<notations>${tied}</notations>`) +
            (onset ? lyricXml(q, event.noteIndex) : '') +
            '</note>',
        );
      });
    }
    if (measure.number === q.measures.length) {
      out.push('      <barline location="right"><bar-style>light-heavy</bar-style></barline>');
    }
    out.push('    </measure>');
  }
  out.push('  </part>', '</score-partwise>', '');
  return out.join('\n');
}

function firstMeasureHeader(q: QuantizedScore, divisions: number, fifths: number, clef: VoiceClef): string[] {
  const mode = q.key === null ? '' : `<mode>${q.key.mode}</mode>`;
  const clefXml =
    clef === 'bass'
      ? '<clef><sign>F</sign><line>4</line></clef>'
      : clef === 'treble-8'
        ? '<clef><sign>G</sign><line>2</line><clef-octave-change>-1</clef-octave-change></clef>'
        : '<clef><sign>G</sign><line>2</line></clef>';
  const bpm = formatNumber(q.bpm);
  return [
    '      <attributes>',
    `        <divisions>${divisions}</divisions>`,
    `        <key><fifths>${fifths}</fifths>${mode}</key>`,
    `        <time><beats>${q.timeSignature.beats}</beats><beat-type>${q.timeSignature.beatType}</beat-type></time>`,
    `        ${clefXml}`,
    '      </attributes>',
    '      <direction placement="above">',
    `        <direction-type><metronome><beat-unit>quarter</beat-unit><per-minute>${bpm}</per-minute></metronome></direction-type>`,
    `        <sound tempo="${bpm}"/>`,
    '      </direction>',
  ];
}

/** The lyric of a note's first piece: syllable text, or the melisma extension for a continuation. */
function lyricXml(q: QuantizedScore, index: number): string {
  const note = q.notes[index];
  const nextIsContinuation = index + 1 < q.notes.length && q.notes[index + 1].continuation;
  if (note.continuation) {
    return `<lyric number="1"><extend type="${nextIsContinuation ? 'continue' : 'stop'}"/></lyric>`;
  }
  const extend = nextIsContinuation ? '<extend type="start"/>' : '';
  return `<lyric number="1"><syllabic>${note.syllabic}</syllabic><text>${escapeXml(cleanScoreText(note.syllable))}</text>${extend}</lyric>`;
}

function pitchXml(pitch: SpelledPitch): string {
  const alter = pitch.alter === 0 ? '' : `<alter>${pitch.alter}</alter>`;
  return `<pitch><step>${pitch.step}</step>${alter}<octave>${pitch.octave}</octave></pitch>`;
}

function typeXml(value: { type: string; dots: number }): string {
  return `<type>${value.type}</type>${'<dot/>'.repeat(value.dots)}`;
}

/**
 * Split a duration into written note values, longest first (greedy). The durations we get are
 * multiples of the grid, which is itself a plain note value, so the split always ends exactly.
 */
function splitIntoValues(ticks: number, values: readonly { ticks: number; type: string; dots: number }[]) {
  const pieces: { ticks: number; type: string; dots: number }[] = [];
  let left = ticks;
  while (left > 0) {
    const value = values.find((v) => v.ticks <= left);
    if (value === undefined) throw new Error(`Duration ${ticks} ticks is not a multiple of the grid.`);
    pieces.push(value);
    left -= value.ticks;
  }
  return pieces;
}

/**
 * Split a rest into undotted values each starting on a multiple of its own length within the
 * measure (a quarter rest on a beat, a half rest on beat 1 or 3), the usual engraving rule that
 * keeps the beats visible: a rest over beats 2–4 is written quarter + half, not dotted half.
 * The grid value is undotted and divides every position, so the split always ends exactly.
 */
function splitRest(offsetTicks: number, ticks: number, values: readonly { ticks: number; type: string; dots: number }[]) {
  const pieces: { ticks: number; type: string; dots: number }[] = [];
  let position = offsetTicks;
  const end = offsetTicks + ticks;
  while (position < end) {
    const value = values.find((v) => v.dots === 0 && v.ticks <= end - position && position % v.ticks === 0);
    if (value === undefined) throw new Error(`Rest at ${position} ticks is not on the grid.`);
    pieces.push(value);
    position += value.ticks;
  }
  return pieces;
}

/** Escape text for XML content and attribute values (XML 1.0 §2.4). */
function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** A tempo for display and `<sound tempo>`: at most two decimals, no trailing zeros. */
function formatNumber(value: number): string {
  return String(Math.round(value * 100) / 100);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
