/**
 * Standard MIDI File writer for a sung score, with one lyric per note, so a singing editor
 * (Synthesizer V, OpenUtau, VOCALOID, …) or a DAW can take the melody and its words over.
 *
 * Layout (Standard MIDI Files 1.0, MMA RP-001):
 * - format 0: a single track holding the tempo map and the voice. Format 0 is read by every
 *   sequencer, and one track keeps each lyric next to its note (some readers, e.g. @tonejs/midi,
 *   look for lyrics only in the first track);
 * - division 480 ticks per quarter note ({@link TICKS_PER_QUARTER});
 * - at tick 0: track name (FF 03), time signature 4/4 (FF 58), key signature (FF 59, omitted when
 *   the key is unknown), tempo (FF 51, µs per quarter from the score's tempo), program change;
 * - per note, at its onset: exactly one Lyric meta event (FF 05) and then the Note On; at its end
 *   the Note Off (9n with velocity 0 is not used: an explicit 8n is unambiguous). At equal ticks the
 *   order is Note Off, Lyric, Note On, so a repeated pitch is released before it is struck again;
 * - lyric text is UTF-8. A syllable that is followed by more of its word (syllabic begin/middle)
 *   gets a trailing `-` (`sum-`, `mer`), the karaoke and singing-editor hyphenation convention;
 *   a melisma continuation note carries `+`, the mark vocal-synth editors use for "hold the
 *   previous vowel";
 * - running status is not used; every event has its own status byte.
 */
import type { Score } from '../types.js';
import { keyToFifths } from './key-signature.js';
import { quantizeScore, type QuantizedNote, type QuantizeOptions } from './quantize.js';
import { cleanScoreText } from './score-text.js';

export interface MidiOptions extends QuantizeOptions {
  /** Name of the track (FF 03). Default: `score.title`, else `Voice`. */
  trackName?: string;
  /**
   * General MIDI program (0-based) sent at tick 0 so a plain player sounds vocal-ish; null sends
   * none. Default 53 ("Voice Oohs").
   */
  program?: number | null;
  /** MIDI channel 0..15. Default 0. */
  channel?: number;
}

/** Lowest and highest Note On velocity, mapped linearly from note confidence 0..1. */
export const VELOCITY_RANGE = { min: 64, max: 110 } as const;

/** The lyric text a note carries in the MIDI file: `sum-` / `mer` / `+` (see the module comment). */
export function midiLyricText(note: Pick<QuantizedNote, 'syllable' | 'syllabic' | 'continuation'>): string {
  if (note.continuation) return '+';
  const text = cleanScoreText(note.syllable);
  const hyphen = (note.syllabic === 'begin' || note.syllabic === 'middle') && !text.endsWith('-');
  return hyphen ? `${text}-` : text;
}

/**
 * Write the score as a format-0 Standard MIDI File.
 * @returns the file's bytes
 * @throws {ValidationError} as {@link quantizeScore} does
 */
export function writeMidi(score: Score, options: MidiOptions = {}): Uint8Array {
  const q = quantizeScore(score, options);
  const channel = clampInt(options.channel ?? 0, 0, 15);
  const program = options.program === undefined ? 53 : options.program;
  const encoder = new TextEncoder();

  // Events as (tick, rank, bytes); rank orders events that share a tick.
  const events: { tick: number; rank: number; seq: number; bytes: number[] }[] = [];
  const add = (tick: number, rank: number, bytes: number[]): void => {
    events.push({ tick, rank, seq: events.length, bytes });
  };
  const meta = (type: number, data: number[] | Uint8Array): number[] => [0xff, type, ...vlq(data.length), ...data];

  add(0, 0, meta(0x03, encoder.encode(cleanScoreText(options.trackName ?? score.title ?? 'Voice'))));
  // 4/4; 24 MIDI clocks per metronome click (one per quarter); 8 notated 32nds per MIDI quarter.
  add(0, 0, meta(0x58, [4, 2, 24, 8]));
  if (q.key !== null) add(0, 0, meta(0x59, [keyToFifths(q.key) & 0xff, q.key.mode === 'minor' ? 1 : 0]));
  const microsPerQuarter = clampInt(Math.round(60_000_000 / q.bpm), 1, 0xffffff);
  add(0, 0, meta(0x51, [(microsPerQuarter >> 16) & 0xff, (microsPerQuarter >> 8) & 0xff, microsPerQuarter & 0xff]));
  if (program !== null) add(0, 0, [0xc0 | channel, clampInt(program, 0, 127)]);

  const span = VELOCITY_RANGE.max - VELOCITY_RANGE.min;
  for (const note of q.notes) {
    const velocity = VELOCITY_RANGE.min + Math.round(note.confidence * span);
    add(note.endTick, 1, [0x80 | channel, note.midi, 0x40]);
    add(note.startTick, 2, meta(0x05, encoder.encode(midiLyricText(note))));
    add(note.startTick, 3, [0x90 | channel, note.midi, velocity]);
  }
  add(q.endTick, 4, [0xff, 0x2f, 0x00]);
  events.sort((a, b) => a.tick - b.tick || a.rank - b.rank || a.seq - b.seq);

  const track: number[] = [];
  let previousTick = 0;
  for (const event of events) {
    track.push(...vlq(event.tick - previousTick), ...event.bytes);
    previousTick = event.tick;
  }

  const out = new Uint8Array(14 + 8 + track.length);
  const view = new DataView(out.buffer);
  out.set([0x4d, 0x54, 0x68, 0x64], 0); // "MThd"
  view.setUint32(4, 6);
  view.setUint16(8, 0); // format 0
  view.setUint16(10, 1); // one track
  view.setUint16(12, q.ticksPerQuarter);
  out.set([0x4d, 0x54, 0x72, 0x6b], 14); // "MTrk"
  view.setUint32(18, track.length);
  out.set(track, 22);
  return out;
}

/** Variable-length quantity: 7 bits per byte, most significant first, high bit set on all but the last. */
function vlq(value: number): number[] {
  let v = Math.max(0, Math.floor(value));
  const bytes = [v & 0x7f];
  v = Math.floor(v / 128);
  while (v > 0) {
    bytes.unshift((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  return bytes;
}

function clampInt(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.round(value)));
}
