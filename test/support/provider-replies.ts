/**
 * What test providers answer: lyric lines that fit a {@link LyricsRequest}'s phrases, and WAV takes
 * that sing a VocalRequest's notes (in tune, off pitch, noise or silence), rendered in code.
 * The local HTTP servers of the integration tests and the in-process providers of the pipeline tests
 * both use them, so every test agrees on what a good and a bad reply are.
 */
import { encodeWav } from '../../src/audio/decode/wav.js';
import { createRandom, gaussian } from '../../src/audio/random.js';
import type { LyricsRequest, VocalNote } from '../../src/audio/providers.js';
import { renderMelody } from './signals.js';

/** One-syllable dictionary words, cycled to build lines of an exact syllable count. */
const MONOSYLLABLES = [
  'we',
  'sing',
  'of',
  'warm',
  'nights',
  'by',
  'the',
  'sea',
  'and',
  'dream',
  'in',
  'light',
  'so',
  'bright',
  'the',
  'waves',
  'come',
  'home',
];

/** A line of exactly `syllables` one-syllable words, starting `offset` words into the cycle. */
export function lineOfSyllables(syllables: number, offset = 0): string {
  const words: string[] = [];
  for (let i = 0; i < syllables; i++) words.push(MONOSYLLABLES[(offset + i) % MONOSYLLABLES.length]);
  const line = words.join(' ');
  return line.charAt(0).toUpperCase() + line.slice(1);
}

/** One line per phrase, each with exactly as many syllables as the phrase has notes. */
export function fittingLines(request: LyricsRequest): string[] {
  return request.phrases.map((slot, i) => lineOfSyllables(slot.syllables, i * 3));
}

export interface TakeOptions {
  /** Semitones added to every note (0: in tune). */
  shiftSemitones?: number;
  /** Rate of the WAV, Hz; default 48 000 (the pipeline must resample it). */
  sampleRate?: number;
  /** Channels of the WAV (the same signal in each); default 2 (the pipeline must mix it down). */
  channels?: number;
  /** `sung` (default): the notes on a voice-like timbre; `noise`: white noise; `silence`: zeros. */
  kind?: 'sung' | 'noise' | 'silence';
}

/** A 24-bit WAV take of the request's notes (see {@link TakeOptions}). */
export function renderTake(
  request: { notes: readonly Pick<VocalNote, 'midi' | 'start' | 'duration'>[] },
  options: TakeOptions = {},
): Uint8Array {
  const rate = options.sampleRate ?? 48_000;
  const notes = request.notes.map((n) => ({ start: n.start, end: n.start + n.duration, midi: n.midi + (options.shiftSemitones ?? 0) }));
  let samples: Float32Array;
  if ((options.kind ?? 'sung') === 'sung') {
    samples = renderMelody(notes, { sampleRate: rate, timbre: 'voice', amplitude: 0.6 }).samples;
  } else {
    const seconds = notes.length ? notes[notes.length - 1].end + 0.5 : 1;
    samples = new Float32Array(Math.round(seconds * rate));
    if (options.kind === 'noise') {
      const random = createRandom(3);
      for (let i = 0; i < samples.length; i++) samples[i] = Math.max(-1, Math.min(1, 0.2 * gaussian(random)));
    }
  }
  return encodeWav(
    Array.from({ length: options.channels ?? 2 }, () => samples),
    rate,
    { bitDepth: 24 },
  );
}
