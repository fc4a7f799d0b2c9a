import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadComparedClip, medianOffsetOnTimes } from '../../../bench/compare-notes.js';

describe('compare-notes (accuracy bench --compare-notes)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    while (dirs.length) fs.rmSync(dirs.pop()!, { recursive: true, force: true });
  });
  const folder = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compare-notes-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    return dir;
  };

  it('reads onset, offset and pitch from the first three columns, sorted by onset, skipping other lines', () => {
    const dir = folder({ 'a.notes.tsv': '# basic-pitch\n1.5\t2.0\t62\t0.7\t0.33\n\n0.25\t0.5\t60.5\nbad line\n' });
    expect(loadComparedClip(dir, 'a')).toEqual({
      notes: [
        { start: 0.25, end: 0.5, midi: 60.5 },
        { start: 1.5, end: 2, midi: 62 },
      ],
      f0: null,
    });
  });

  it('gives a clip without a note list no notes, and reads its f0 track when there is one', () => {
    const dir = folder({ 'b.f0.tsv': '0.0\t0\n0.0116\t440\n' });
    const clip = loadComparedClip(dir, 'b');
    expect(clip.notes).toEqual([]);
    expect(Array.from(clip.f0!.times)).toEqual([0, 0.0116]);
    expect(Array.from(clip.f0!.hz)).toEqual([0, 440]);
  });

  it('measures the median offset of voiced frames inside each annotated note, ignoring frames over two semitones off', () => {
    const hz = (midi: number): number => 440 * 2 ** ((midi - 69) / 12);
    // Frames every 0.1 s: three inside the note at 69.2, one unvoiced, one an octave off, one outside every note.
    const track = { times: [0, 0.1, 0.2, 0.3, 0.4, 0.9], hz: [hz(69.1), hz(69.2), hz(69.3), 0, hz(81), hz(60)] };
    expect(medianOffsetOnTimes([{ start: 0, end: 0.5, midi: 69 }], track)).toBeCloseTo(0.2, 9);
    expect(medianOffsetOnTimes([{ start: 2, end: 3, midi: 69 }], track)).toBe(0);
  });
});
