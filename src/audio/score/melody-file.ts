/**
 * Reads a melody the user supplies to replace the transcription (`convert --melody FILE`): a
 * Standard MIDI File or an uncompressed MusicXML score (partwise). Pure: bytes in, notes out.
 *
 * MIDI (Standard MIDI Files 1.0, MMA RP-001): formats 0 and 1, any division in ticks per quarter
 * (SMPTE divisions are refused), the tempo map (FF 51) applied across all tracks, running status,
 * Note On with velocity 0 read as Note Off; channel 10 (drums) is ignored.
 * MusicXML (score-partwise, www.musicxml.com): the first part, `<divisions>`, `<sound tempo>`,
 * `<note>` with `<pitch>` (step, alter, octave) or `<rest/>`, `<duration>`, ties (a note tied from the
 * previous one extends it), `<chord/>` and `<grace/>` notes skipped, `<backup>`/`<forward>` honoured
 * (only the first voice is read). Without a tempo, 120 quarter notes per minute.
 * Either way the result is made monophonic: notes sorted by onset, simultaneous onsets keep the
 * highest pitch, and a note is cut where the next one starts. Every note gets confidence 1.
 * Errors: a ValidationError with code INVALID_MELODY_FILE (not MIDI or MusicXML, truncated,
 * unsupported) or EMPTY_MELODY (no notes).
 */
import { ValidationError } from '../errors.js';
import type { NoteEvent } from '../types.js';

/** A melody read from a file: its notes and the tempo the file states. */
export interface MelodyFile {
  /** Monophonic notes, times in seconds, confidence 1. */
  notes: NoteEvent[];
  /**
   * Quarter notes per minute of the file's first tempo mark (MIDI FF 51, MusicXML `<sound tempo>`),
   * or null when it states none. The score is exported on this tempo, so an exported score.mid fed
   * back in is quantized on the same grid and round-trips.
   */
  bpm: number | null;
}

/** Reads a MIDI or MusicXML melody, detected from its first bytes. */
export function readMelodyFile(bytes: Uint8Array): MelodyFile {
  if (bytes.length >= 4 && bytes[0] === 0x4d && bytes[1] === 0x54 && bytes[2] === 0x68 && bytes[3] === 0x64) return readMidiMelody(bytes);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  if (/<score-partwise[\s>]/.test(text)) return readMusicXmlMelody(new TextDecoder().decode(bytes));
  throw invalid('The melody file is neither a MIDI file nor an uncompressed MusicXML (score-partwise) file.');
}

/** Notes of a Standard MIDI File, in seconds, and its first tempo. */
export function readMidiMelody(bytes: Uint8Array): MelodyFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (offset: number, length: number): void => {
    if (offset + length > bytes.length) throw invalid('The MIDI file is truncated.');
  };
  need(0, 14);
  const headerLength = view.getUint32(4);
  const trackCount = view.getUint16(10);
  const division = view.getUint16(12);
  if (division & 0x8000) throw invalid('MIDI files with SMPTE time division are not supported.');
  const ticksPerQuarter = division;
  if (ticksPerQuarter === 0) throw invalid('The MIDI file has a time division of 0.');

  type Raw = { tick: number; on: boolean; key: number; channel: number };
  const raws: Raw[] = [];
  const tempos: { tick: number; microsPerQuarter: number }[] = [];
  let offset = 8 + headerLength;
  for (let track = 0; track < trackCount; track++) {
    need(offset, 8);
    const length = view.getUint32(offset + 4);
    const isTrack = bytes[offset] === 0x4d && bytes[offset + 1] === 0x54 && bytes[offset + 2] === 0x72 && bytes[offset + 3] === 0x6b;
    let p = offset + 8;
    const end = p + length;
    need(p, length);
    offset = end;
    if (!isTrack) continue;
    let tick = 0;
    let status = 0;
    const readVlq = (): number => {
      let value = 0;
      for (let i = 0; i < 4; i++) {
        need(p, 1);
        const byte = bytes[p++];
        value = value * 128 + (byte & 0x7f);
        if (!(byte & 0x80)) return value;
      }
      throw invalid('The MIDI file has a malformed variable-length number.');
    };
    while (p < end) {
      tick += readVlq();
      need(p, 1);
      let byte = bytes[p];
      if (byte & 0x80) {
        p++;
        if (byte < 0xf0) status = byte;
      } else {
        if (!status) throw invalid('The MIDI file uses running status before any status byte.');
        byte = status;
      }
      if (byte === 0xff) {
        need(p, 1);
        const type = bytes[p++];
        const size = readVlq();
        need(p, size);
        if (type === 0x51 && size === 3) tempos.push({ tick, microsPerQuarter: (bytes[p] << 16) | (bytes[p + 1] << 8) | bytes[p + 2] });
        p += size;
        if (type === 0x2f) break;
        continue;
      }
      if (byte === 0xf0 || byte === 0xf7) {
        p += readVlq();
        continue;
      }
      const kind = byte & 0xf0;
      const channel = byte & 0x0f;
      const dataBytes = kind === 0xc0 || kind === 0xd0 ? 1 : 2;
      need(p, dataBytes);
      if (kind === 0x90 || kind === 0x80) {
        const key = bytes[p];
        const velocity = bytes[p + 1];
        if (channel !== 9) raws.push({ tick, on: kind === 0x90 && velocity > 0, key, channel });
      }
      p += dataBytes;
    }
  }

  // Ticks to seconds through the tempo map (120 BPM until the first tempo event).
  tempos.sort((a, b) => a.tick - b.tick);
  const seconds = (tick: number): number => {
    let time = 0;
    let lastTick = 0;
    let micros = 500_000;
    for (const change of tempos) {
      if (change.tick >= tick) break;
      time += ((change.tick - lastTick) * micros) / ticksPerQuarter / 1e6;
      lastTick = change.tick;
      micros = change.microsPerQuarter;
    }
    return time + ((tick - lastTick) * micros) / ticksPerQuarter / 1e6;
  };

  raws.sort((a, b) => a.tick - b.tick || Number(a.on) - Number(b.on));
  const open = new Map<string, number>();
  const notes: NoteEvent[] = [];
  for (const raw of raws) {
    const id = `${raw.channel}:${raw.key}`;
    const started = open.get(id);
    if (started !== undefined) {
      if (raw.tick > started) notes.push({ start: seconds(started), end: seconds(raw.tick), midi: raw.key, confidence: 1 });
      open.delete(id);
    }
    if (raw.on) open.set(id, raw.tick);
  }
  const first = tempos.find((change) => change.microsPerQuarter > 0);
  return { notes: monophonic(notes), bpm: first ? 60e6 / first.microsPerQuarter : null };
}

/** Notes of the first part of an uncompressed score-partwise MusicXML document, in seconds, and its first tempo. */
export function readMusicXmlMelody(xml: string): MelodyFile {
  const part = /<part\s[^>]*>([\s\S]*?)<\/part>/.exec(xml);
  if (!part) throw invalid('The MusicXML file has no <part>.');
  const STEPS: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
  let divisions = 1;
  let secondsPerQuarter = 0.5;
  let time = 0;
  let firstVoice: string | null = null;
  let bpm: number | null = null;
  const notes: NoteEvent[] = [];
  const tag = (body: string, name: string): string | null => {
    const match = new RegExp(`<${name}(?:\\s[^>]*)?>([^<]*)</${name}>`).exec(body);
    return match ? match[1].trim() : null;
  };
  const element = /<(divisions|sound|note|backup|forward)(\s[^>]*)?(?:\/>|>([\s\S]*?)<\/\1>)/g;
  for (let match = element.exec(part[1]); match; match = element.exec(part[1])) {
    const [, name, attributes = '', body = ''] = match;
    const toSeconds = (duration: number): number => (duration / divisions) * secondsPerQuarter;
    if (name === 'divisions') {
      divisions = Number(body.trim()) || 1;
    } else if (name === 'sound') {
      const tempo = /tempo="([\d.]+)"/.exec(attributes);
      if (tempo && Number(tempo[1]) > 0) {
        secondsPerQuarter = 60 / Number(tempo[1]);
        bpm ??= Number(tempo[1]);
      }
    } else if (name === 'backup') {
      time -= toSeconds(Number(tag(body, 'duration') ?? 0));
    } else if (name === 'forward') {
      time += toSeconds(Number(tag(body, 'duration') ?? 0));
    } else {
      if (/<grace[\s/>]/.test(body) || /<chord[\s/>]/.test(body)) continue;
      const voice = tag(body, 'voice') ?? '1';
      firstVoice ??= voice;
      const duration = toSeconds(Number(tag(body, 'duration') ?? 0));
      if (voice !== firstVoice) {
        time += duration;
        continue;
      }
      const step = tag(body, 'step');
      const octave = tag(body, 'octave');
      if (!/<rest[\s/>]/.test(body) && step && octave && step in STEPS) {
        const midi = 12 * (Number(octave) + 1) + STEPS[step] + Number(tag(body, 'alter') ?? 0);
        const previous = notes[notes.length - 1];
        const tiedFromPrevious =
          /<tie\s[^>]*type="stop"/.test(body) && previous && previous.midi === midi && Math.abs(previous.end - time) < 1e-6;
        if (tiedFromPrevious) previous.end = time + duration;
        else if (duration > 0) notes.push({ start: time, end: time + duration, midi, confidence: 1 });
      }
      time += duration;
    }
  }
  return { notes: monophonic(notes), bpm };
}

/** Sorted by onset; simultaneous onsets keep the highest pitch; each note ends by the next onset. */
function monophonic(notes: NoteEvent[]): NoteEvent[] {
  const sorted = [...notes].sort((a, b) => a.start - b.start || b.midi - a.midi);
  const out: NoteEvent[] = [];
  for (const note of sorted) {
    const previous = out[out.length - 1];
    if (previous && Math.abs(previous.start - note.start) < 1e-6) continue;
    if (previous && previous.end > note.start) previous.end = note.start;
    out.push({ ...note });
  }
  if (out.length === 0) throw new ValidationError([{ code: 'EMPTY_MELODY', message: 'The melody file holds no notes.', value: 0 }]);
  return out;
}

function invalid(message: string): ValidationError {
  return new ValidationError([{ code: 'INVALID_MELODY_FILE', message }]);
}
