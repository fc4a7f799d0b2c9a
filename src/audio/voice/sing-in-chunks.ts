/**
 * Sings a score in pieces split at rests, yielding between pieces, so that a long song reports
 * progress and an abort lands within one piece's rendering time instead of after the whole song.
 *
 * Pitch snapping and octave transposition are decided once for the whole melody (so every piece
 * agrees with the exported score); each piece is rendered by {@link singScore} with a lead-in before
 * its first note for the breath and onset consonants, and mixed into the output at its place.
 * Pieces only break at rests of at least `minGapSeconds`, where the voice is silent anyway.
 */
import { AbortedError } from '../errors.js';
import type { Score, SungNote } from '../types.js';
import { PEAK, TAIL_SECONDS, normalizePeakSliced, prepareScore, singScoreSliced, type SingOptions, type SingResult } from './voice.js';
import { driveSliced } from '../sliced.js';

export interface ChunkControl {
  /** Checked before each piece; an aborted signal rejects with AbortedError. */
  signal?: AbortSignal;
  /** Awaited between pieces so pending events (an abort) can run. */
  yieldControl: () => Promise<void>;
  /**
   * Awaited between slices of one piece's rendering (see sliced.ts), so that a long piece (a melody
   * without rests) can be interrupted too; it may reject to stop. Default: none (a piece renders at once).
   */
  pause?: () => Promise<void>;
  /** Share of the notes rendered so far, 0..1. */
  onProgress?: (fraction: number) => void;
  /** Rests at least this long may separate pieces; default 0.25 s, the rest after which the voice breathes anyway. */
  minGapSeconds?: number;
}

/**
 * Room before a piece's first note for the inhale and the onset consonants, seconds: the longest inhale
 * singScore plans (0.45 s, with 0.06 s of silence either side) plus the longest onset cluster (0.24 s),
 * so that a piece breathes exactly as the whole score rendered at once would.
 */
const LEAD_SECONDS = 0.82;
const HOP = 0.01;

/** Groups sorted notes into runs separated by rests of at least `minGap` seconds. */
function splitAtRests(notes: readonly SungNote[], minGap: number): SungNote[][] {
  const pieces: SungNote[][] = [];
  let current: SungNote[] = [];
  for (const note of notes) {
    const previous = current[current.length - 1];
    if (previous && note.start - previous.end >= minGap) {
      pieces.push(current);
      current = [];
    }
    current.push(note);
  }
  if (current.length) pieces.push(current);
  return pieces;
}

/** Same contract as {@link singScore}, rendered piece by piece. */
export async function singInChunks(score: Score, options: SingOptions, control: ChunkControl): Promise<SingResult> {
  const { voiceId, sampleRate, notes: snapped, semitones, outOfRange } = prepareScore(score, options);
  const seed = options.seed ?? 1;

  const duration = snapped.length ? snapped[snapped.length - 1].end + TAIL_SECONDS : 0;
  const samples = new Float32Array(Math.ceil(duration * sampleRate));
  const frames = snapped.length ? Math.floor(duration / HOP) + 1 : 0;
  const times = new Float64Array(frames);
  for (let f = 0; f < frames; f++) times[f] = f * HOP;
  const midi = new Float32Array(frames);
  const phonemes: SingResult['phonemes'] = [];

  const pieces = splitAtRests(snapped, control.minGapSeconds ?? 0.25);
  let done = 0;
  for (let index = 0; index < pieces.length; index++) {
    if (control.signal?.aborted) throw new AbortedError();
    const piece = pieces[index];
    const before = index > 0 ? pieces[index - 1][pieces[index - 1].length - 1] : null;
    // The piece starts no earlier than the previous piece's last note ends: singScore measures the rest
    // before a phrase from the start of its rendering, so an earlier start would put the inhale over the
    // end of the previous word.
    const offset = Math.max(0, before ? before.end : 0, piece[0].start - LEAD_SECONDS);
    const shifted = piece.map((n) => ({ ...n, start: n.start - offset, end: n.end - offset }));
    // A piece that continues the previous piece's phrase (a rest inside a lyric line) takes no breath, as
    // the whole score rendered at once would not. (Rests inside a piece are shorter than minGapSeconds,
    // by default the 0.25 s below which singScore never breathes, so no other breath is lost.)
    const breath = (options.breath ?? true) && (before === null || before.phraseIndex !== piece[0].phraseIndex);
    const rendering = singScoreSliced(
      { ...score, notes: shifted },
      {
        ...options,
        voice: voiceId,
        sampleRate,
        pitch: 'exact',
        transpose: semitones,
        peakNormalize: false,
        breath,
        seed: (seed + index * 7919) >>> 0,
      },
    );
    const sung = await driveSliced(rendering, control.pause);
    const at = Math.round(offset * sampleRate);
    mixInto(samples, sung.samples, at);
    const frameShift = Math.round(offset / HOP);
    for (let f = 0; f < sung.intendedPitch.midi.length; f++) {
      const value = sung.intendedPitch.midi[f];
      if (value > 0 && f + frameShift < frames) midi[f + frameShift] = value;
    }
    for (const p of sung.phonemes) phonemes.push({ phoneme: p.phoneme, start: p.start + offset, end: p.end + offset });
    done += piece.length;
    control.onProgress?.(done / snapped.length);
    await control.yieldControl();
  }
  if (control.signal?.aborted) throw new AbortedError();
  if (options.peakNormalize ?? true) await driveSliced(normalizePeakSliced(samples, PEAK), control.pause);
  return {
    samples,
    sampleRate,
    voice: voiceId,
    engine: options.engine ?? 'formant',
    transposeSemitones: semitones,
    outOfRange,
    intendedPitch: { times, midi },
    phonemes,
  };
}

/**
 * Adds `piece` into `samples` from index `at` on (as far as `samples` reaches). A plain function, not a
 * loop in the async function above: there V8 boxed a heap number per sample (~4 MB of garbage a 30 s song).
 */
function mixInto(samples: Float32Array, piece: Float32Array, at: number): void {
  const end = Math.min(samples.length, at + piece.length);
  for (let i = at; i < end; i++) samples[i] += piece[i - at];
}
