/**
 * Quantization of a sung {@link Score} (times in seconds) onto a metric grid (ticks), shared by
 * the Standard MIDI File and MusicXML writers so both files carry exactly the same notes.
 *
 * Choices (see the doc comment of each constant):
 * - beats come from the score's tempo estimate; without one, 120 BPM;
 * - the grid is a sixteenth note by default; onsets and ends are rounded to the nearest grid line;
 * - every note is kept: two notes never merge (the syllable count must survive), a note shorter
 *   than the grid lasts one grid step, and a note whose onset would land on or before the previous
 *   note's onset is pushed one grid step after it;
 * - overlaps are cut: a note ends at the latest where the next begins (the voice is monophonic);
 * - silence between notes stays as rests, including before the first note, so tick 0 is the start
 *   of the recording and the MIDI file lines up with the audio in an editor;
 * - the time signature is always 4/4: the tempo estimator gives a beat, not a metre, and 4/4 is the
 *   least surprising default for a notation program (the user re-bars there if needed).
 */
import { ValidationError } from '../errors.js';
import type { KeyEstimate, Score, Syllabic } from '../types.js';

/** Ticks per quarter note (SMF "division"); 480 is divisible by every grid we offer and by 3. */
export const TICKS_PER_QUARTER = 480;

/** Tempo used when the score has no usable tempo estimate, in quarter notes per minute. */
export const DEFAULT_BPM = 120;

/** Tempo estimates outside this range (BPM) are treated as missing. */
export const BPM_RANGE = { min: 10, max: 600 } as const;

/** Grid step as a note value: 16 = sixteenth note. Only powers of two, so every grid is notatable. */
export type GridDivision = 1 | 2 | 4 | 8 | 16 | 32 | 64;

export interface QuantizeOptions {
  /** Grid step as a fraction of a whole note (16 → sixteenth, 120 ticks). Default 16. */
  gridDivision?: GridDivision;
  /** Tempo (BPM, quarter notes per minute) when `score.tempo` is null or unusable. Default 120. */
  defaultBpm?: number;
}

/** One source note placed on the grid. Ticks are absolute from the start of the recording. */
export interface QuantizedNote {
  /** Index of this note in `score.notes`. */
  sourceIndex: number;
  /** Onset in ticks, a multiple of `gridTicks`. */
  startTick: number;
  /** End in ticks (exclusive), > startTick, ≤ the next note's startTick. */
  endTick: number;
  /** Unrounded onset in ticks, for measuring how far quantization moved the note. */
  sourceStartTick: number;
  /** MIDI note number 0..127: the sung centre pitch rounded to the nearest semitone. */
  midi: number;
  /** 0..1, copied from the source note (0.5 when not finite). */
  confidence: number;
  syllable: string;
  syllabic: Syllabic;
  continuation: boolean;
  phraseIndex: number;
}

/** A piece of a note or a rest inside one measure. Ticks are absolute. */
export type MeasureEvent =
  | {
      kind: 'note';
      /** Index into {@link QuantizedScore.notes}. */
      noteIndex: number;
      startTick: number;
      durationTicks: number;
      /** True when this piece continues a note begun in an earlier measure (tie stop). */
      tiedFromPrevious: boolean;
      /** True when the note goes on into the next measure (tie start). */
      tiedToNext: boolean;
    }
  | { kind: 'rest'; startTick: number; durationTicks: number };

export interface QuantizedMeasure {
  /** 1-based measure number. */
  number: number;
  startTick: number;
  /** Notes and rests in time order; their durations add up to `measureTicks`. */
  events: MeasureEvent[];
}

export interface QuantizedScore {
  ticksPerQuarter: number;
  /** Grid step in ticks (120 for sixteenths at 480 PPQ). */
  gridTicks: number;
  /** Tempo used, BPM (quarter notes per minute). */
  bpm: number;
  /** Whether `bpm` came from the score's estimate or the default. */
  bpmSource: 'estimate' | 'default';
  timeSignature: { beats: 4; beatType: 4 };
  measureTicks: number;
  /** Notes in time order (sorted by onset, ties broken by source order); never fewer than the source. */
  notes: QuantizedNote[];
  /** At least one measure; the last one is filled with a rest to its end. */
  measures: QuantizedMeasure[];
  /** End of the last measure in ticks. */
  endTick: number;
  key: KeyEstimate | null;
  title?: string;
}

const GRID_DIVISIONS: readonly number[] = [1, 2, 4, 8, 16, 32, 64];

/**
 * Put a score on the grid. Pure and deterministic.
 * @throws {ValidationError} `INVALID_SCORE` for a non-finite time or pitch or a bad option,
 *   `PITCH_OUT_OF_RANGE` for a pitch that rounds outside MIDI 0..127.
 */
export function quantizeScore(score: Score, options: QuantizeOptions = {}): QuantizedScore {
  const gridDivision = options.gridDivision ?? 16;
  if (!GRID_DIVISIONS.includes(gridDivision)) {
    throw invalid('INVALID_SCORE', `Grid division must be one of ${GRID_DIVISIONS.join(', ')}.`, gridDivision);
  }
  const defaultBpm = options.defaultBpm ?? DEFAULT_BPM;
  if (!usableBpm(defaultBpm)) {
    throw invalid('INVALID_SCORE', `Default tempo must be between ${BPM_RANGE.min} and ${BPM_RANGE.max} BPM.`, defaultBpm);
  }
  const estimated = score.tempo?.bpm;
  const fromEstimate = estimated !== undefined && usableBpm(estimated);
  const bpm = fromEstimate ? estimated : defaultBpm;

  const ppq = TICKS_PER_QUARTER;
  const gridTicks = (ppq * 4) / gridDivision;
  const measureTicks = 4 * ppq;
  const ticksPerSecond = (bpm / 60) * ppq;

  score.notes.forEach((note, i) => {
    if (!Number.isFinite(note.start) || !Number.isFinite(note.end) || !Number.isFinite(note.midi)) {
      throw invalid('INVALID_SCORE', `Note ${i} has a non-finite start, end or pitch.`, i);
    }
    const midi = Math.round(note.midi);
    if (midi < 0 || midi > 127) {
      throw invalid('PITCH_OUT_OF_RANGE', `Note ${i} has pitch ${note.midi}, outside MIDI 0..127.`, note.midi);
    }
  });

  const order = score.notes.map((_, i) => i).sort((a, b) => score.notes[a].start - score.notes[b].start || a - b);
  const toGrid = (seconds: number): number => Math.round((Math.max(0, seconds) * ticksPerSecond) / gridTicks) * gridTicks;

  // Onsets: nearest grid line, but strictly after the previous onset so no two notes merge.
  const starts: number[] = [];
  for (const i of order) {
    const previous = starts.length > 0 ? starts[starts.length - 1] : -Infinity;
    starts.push(Math.max(toGrid(score.notes[i].start), previous + gridTicks));
  }
  const notes: QuantizedNote[] = order.map((i, k) => {
    const source = score.notes[i];
    const start = starts[k];
    const next = k + 1 < starts.length ? starts[k + 1] : Infinity;
    // Cut overlaps at the next onset, then give a too-short note one grid step (next ≥ start + grid).
    const end = Math.max(start + gridTicks, Math.min(toGrid(source.end), next));
    return {
      sourceIndex: i,
      startTick: start,
      endTick: end,
      sourceStartTick: Math.max(0, source.start) * ticksPerSecond,
      midi: Math.round(source.midi),
      confidence: Number.isFinite(source.confidence) ? Math.min(1, Math.max(0, source.confidence)) : 0.5,
      syllable: source.syllable,
      syllabic: source.syllabic,
      continuation: source.continuation,
      phraseIndex: source.phraseIndex,
    };
  });

  const lastEnd = notes.length > 0 ? notes[notes.length - 1].endTick : 0;
  const measureCount = Math.max(1, Math.ceil(lastEnd / measureTicks));
  const endTick = measureCount * measureTicks;
  const measures = splitIntoMeasures(notes, measureCount, measureTicks);

  return {
    ticksPerQuarter: ppq,
    gridTicks,
    bpm,
    bpmSource: fromEstimate ? 'estimate' : 'default',
    timeSignature: { beats: 4, beatType: 4 },
    measureTicks,
    notes,
    measures,
    endTick,
    key: score.key,
    ...(score.title !== undefined ? { title: score.title } : {}),
  };
}

/** Lay notes and the rests between them into measures, splitting anything that crosses a barline. */
function splitIntoMeasures(notes: QuantizedNote[], measureCount: number, measureTicks: number): QuantizedMeasure[] {
  const measures: QuantizedMeasure[] = [];
  for (let m = 0; m < measureCount; m++) measures.push({ number: m + 1, startTick: m * measureTicks, events: [] });

  const place = (start: number, end: number, noteIndex: number | null): void => {
    let t = start;
    while (t < end) {
      const m = Math.floor(t / measureTicks);
      const pieceEnd = Math.min(end, (m + 1) * measureTicks);
      const durationTicks = pieceEnd - t;
      measures[m].events.push(
        noteIndex === null
          ? { kind: 'rest', startTick: t, durationTicks }
          : { kind: 'note', noteIndex, startTick: t, durationTicks, tiedFromPrevious: t > start, tiedToNext: pieceEnd < end },
      );
      t = pieceEnd;
    }
  };

  let cursor = 0;
  notes.forEach((note, k) => {
    place(cursor, note.startTick, null);
    place(note.startTick, note.endTick, k);
    cursor = note.endTick;
  });
  place(cursor, measureCount * measureTicks, null);
  return measures;
}

function usableBpm(bpm: number): boolean {
  return Number.isFinite(bpm) && bpm >= BPM_RANGE.min && bpm <= BPM_RANGE.max;
}

function invalid(code: string, message: string, value: number): ValidationError {
  return new ValidationError([{ code, message, value }]);
}
