/**
 * Phrase finding: groups consecutive notes into the units a lyric line is fitted to.
 *
 * A phrase ends (Lerdahl & Jackendoff 1983, grouping preference rule GPR 2: boundaries at rests and
 * at long notes relative to their neighbours):
 * - at a rest (gap between one note's end and the next note's start) of at least `restSeconds`,
 *   by default ¾ of a beat clamped to 0.2–0.8 s when a tempo is known, else 0.3 s;
 * - after a long note — at least `longNoteSeconds` (by default 2 beats, or 1.0 s without a tempo)
 *   and at least 1.75× the melody's median note duration — once the phrase holds 3 notes or more.
 * Then phrases longer than `maxNotes` (16) notes or `maxSeconds` (8 s) are split, recursively,
 * at their largest internal gap (ties: the longer preceding note, then nearer the middle), keeping
 * at least 2 notes and a quarter of the phrase on each side, so every line stays singable.
 * Every note belongs to exactly one phrase, in order.
 */
import type { NoteEvent, Phrase, TempoEstimate } from '../types.js';

export interface PhraseOptions {
  /** Rest that ends a phrase, seconds; default ¾ beat (clamped to 0.2–0.8 s) or 0.3 s without tempo. */
  restSeconds?: number;
  /** A note at least this long ends its phrase, seconds; default 2 beats or 1.0 s without tempo. */
  longNoteSeconds?: number;
  /** Most notes in one phrase; default 16. */
  maxNotes?: number;
  /** Longest phrase in seconds (first onset to last offset); default 8 s. */
  maxSeconds?: number;
}

/**
 * Splits notes (sorted by start, non-overlapping, as segmentNotes returns them) into phrases.
 * @returns phrases in order; empty for no notes.
 */
export function findPhrases(notes: NoteEvent[], tempo?: TempoEstimate | null, options: PhraseOptions = {}): Phrase[] {
  if (notes.length === 0) return [];
  const beat = tempo && tempo.bpm > 0 ? 60 / tempo.bpm : null;
  const restSeconds = options.restSeconds ?? (beat ? Math.min(0.8, Math.max(0.2, 0.75 * beat)) : 0.3);
  const longNoteSeconds = options.longNoteSeconds ?? (beat ? 2 * beat : 1.0);
  const maxNotes = Math.max(2, options.maxNotes ?? 16);
  const maxSeconds = options.maxSeconds ?? 8;

  const durations = notes.map((n) => n.end - n.start).sort((a, b) => a - b);
  const medianDuration = durations[durations.length >> 1];
  const longNote = Math.max(longNoteSeconds, 1.75 * medianDuration);

  // Boundaries by rests and long notes: ranges [first, last] (inclusive note indices).
  const groups: [number, number][] = [];
  let first = 0;
  for (let i = 0; i < notes.length - 1; i++) {
    const gap = notes[i + 1].start - notes[i].end;
    const long = notes[i].end - notes[i].start >= longNote && i - first + 1 >= 3;
    if (gap >= restSeconds || long) {
      groups.push([first, i]);
      first = i + 1;
    }
  }
  groups.push([first, notes.length - 1]);

  const phrases: Phrase[] = [];
  const emit = (from: number, to: number): void => {
    const count = to - from + 1;
    const seconds = notes[to].end - notes[from].start;
    if (count >= 4 && (count > maxNotes || seconds > maxSeconds)) {
      const cut = bestCut(notes, from, to);
      emit(from, cut);
      emit(cut + 1, to);
      return;
    }
    phrases.push({ start: notes[from].start, end: notes[to].end, firstNote: from, noteCount: count });
  };
  for (const [from, to] of groups) emit(from, to);
  return phrases;
}

/** The note index after which to split notes[from..to]: the largest gap, keeping both sides ≥ max(2, n/4) notes. */
function bestCut(notes: NoteEvent[], from: number, to: number): number {
  const count = to - from + 1;
  const margin = Math.max(2, Math.floor(count / 4));
  const middle = (from + to) / 2;
  let best = -1;
  let bestKey: [number, number, number] = [-Infinity, -Infinity, -Infinity];
  for (let i = from + margin - 1; i <= to - margin; i++) {
    // Gaps within 10 ms count as equal, so a legato line is cut after its longest note, then mid-way.
    const key: [number, number, number] = [
      Math.round((notes[i + 1].start - notes[i].end) * 100),
      Math.round((notes[i].end - notes[i].start) * 100),
      -Math.abs(i + 0.5 - middle),
    ];
    if (key[0] > bestKey[0] || (key[0] === bestKey[0] && (key[1] > bestKey[1] || (key[1] === bestKey[1] && key[2] > bestKey[2])))) {
      bestKey = key;
      best = i;
    }
  }
  return best >= 0 ? best : Math.floor(middle);
}
