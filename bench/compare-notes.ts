/**
 * Another system's transcriptions of the sung clips, for bench/accuracy.bench.ts `--compare-notes DIR`: the
 * benchmark scores them with the code that scores ours. The other system runs outside this repository and
 * leaves one plain-text file per clip in DIR:
 * - `<clip>.notes.tsv`: one note per line, `onset<TAB>offset<TAB>midi` (seconds, seconds, MIDI number, a float
 *   allowed); further columns are ignored, and so are blank lines and lines that do not start with three numbers.
 * - `<clip>.f0.tsv` (optional): its frame pitch, one frame per line, `time<TAB>hz` (0 = unvoiced), on any grid.
 * A clip without a notes file has no notes (it scores 0, as a system that found nothing would).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NoteLike } from '../src/audio/eval/note-metrics.js';
import { median } from './bench-process.js';

/** A frame pitch track on any grid: frame times in seconds and f0 in Hz (0 where unvoiced). */
export interface FrameTrack {
  times: ArrayLike<number>;
  hz: ArrayLike<number>;
}

export interface ComparedClip {
  notes: NoteLike[];
  f0: FrameTrack | null;
}

function numberRows(text: string, columns: number): number[][] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim().split(/\s+/).slice(0, columns).map(Number))
    .filter((row) => row.length === columns && row.every(Number.isFinite));
}

/** Reads `<clip>.notes.tsv` and `<clip>.f0.tsv` from `dir` (see the file comment); notes sorted by onset. */
export function loadComparedClip(dir: string, clip: string): ComparedClip {
  const read = (file: string): string | null => {
    const full = path.join(dir, file);
    return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : null;
  };
  const notesText = read(`${clip}.notes.tsv`);
  const notes = notesText
    ? numberRows(notesText, 3)
        .map(([start, end, midi]) => ({ start, end, midi }))
        .sort((a, b) => a.start - b.start)
    : [];
  const f0Text = read(`${clip}.f0.tsv`);
  if (!f0Text) return { notes, f0: null };
  const rows = numberRows(f0Text, 2);
  return { notes, f0: { times: Float64Array.from(rows, (row) => row[0]), hz: Float64Array.from(rows, (row) => row[1]) } };
}

/**
 * The median semitone offset of a track's voiced frames from the annotated note they fall in (onset ≤ time <
 * offset, within ±2 semitones): accuracy.bench.ts's per-clip offset, measured on another system's frames.
 */
export function medianOffsetOnTimes(reference: NoteLike[], track: FrameTrack): number {
  const diffs: number[] = [];
  for (const note of reference) {
    for (let j = lowerBound(track.times, note.start); j < track.times.length && track.times[j] < note.end; j++) {
      if (!(track.hz[j] > 0)) continue;
      const d = 69 + 12 * Math.log2(track.hz[j] / 440) - note.midi;
      if (Math.abs(d) <= 2) diffs.push(d);
    }
  }
  return diffs.length ? median(diffs) : 0;
}

/** First index whose time is ≥ t (times ascending). */
function lowerBound(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
