import { noteFMeasure, noteSequenceAccuracy } from '../../../src/audio/eval/note-metrics.js';

const note = (start: number, midi: number) => ({ start, end: start + 0.3, midi });

describe('noteFMeasure', () => {
  it('scores identical note lists as perfect', () => {
    const ref = [note(0, 60), note(0.5, 62), note(1, 64)];
    expect(noteFMeasure(ref, ref)).toMatchObject({ precision: 1, recall: 1, f: 1, matched: 3 });
  });

  it('accepts onsets within 100 ms and pitches within 50 cents by default, and ignores offsets', () => {
    const ref = [note(0, 60), note(0.5, 62)];
    const est = [
      { start: 0.1, end: 5, midi: 60.5 },
      { start: 0.4, end: 0.41, midi: 61.5 },
    ];
    expect(noteFMeasure(ref, est).f).toBe(1);
  });

  it('rejects onsets beyond the tolerance and pitches beyond 50 cents', () => {
    const ref = [note(0, 60), note(1, 62)];
    const est = [note(0.11, 60), note(1, 62.51)];
    expect(noteFMeasure(ref, est)).toMatchObject({ matched: 0, f: 0 });
  });

  it('supports the 50 ms mir_eval onset tolerance', () => {
    const ref = [note(0, 60), note(1, 62)];
    const est = [note(0.05, 60), note(1.07, 62)];
    expect(noteFMeasure(ref, est, { onsetToleranceSeconds: 0.05 }).matched).toBe(1);
    expect(noteFMeasure(ref, est).matched).toBe(2);
  });

  it('matches one to one: a single estimate cannot serve two references', () => {
    const ref = [note(0, 60), note(0.05, 60)];
    const est = [note(0.02, 60)];
    const result = noteFMeasure(ref, est);
    expect(result.matched).toBe(1);
    expect(result.precision).toBe(1);
    expect(result.recall).toBe(0.5);
    expect(result.f).toBeCloseTo(2 / 3, 10);
  });

  it('finds the maximum matching where greedy nearest-onset matching would lose a pair', () => {
    // Greedy by onset distance pairs ref 0.00 with est 0.04 (closest), leaving est -0.08 too far
    // from ref 0.09; the maximum matching pairs ref 0 ↔ est -0.08 and ref 0.09 ↔ est 0.04.
    const ref = [note(0, 60), note(0.09, 60)];
    const est = [note(-0.08, 60), note(0.04, 60)];
    const result = noteFMeasure(ref, est);
    expect(result.matched).toBe(2);
    expect(result.pairs).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });

  it('gives zeros rather than NaN for empty inputs', () => {
    expect(noteFMeasure([], [note(0, 60)])).toMatchObject({ precision: 0, recall: 0, f: 0 });
    expect(noteFMeasure([note(0, 60)], [])).toMatchObject({ precision: 0, recall: 0, f: 0 });
    expect(noteFMeasure([], [])).toMatchObject({ precision: 0, recall: 0, f: 0, matched: 0 });
  });

  it('counts every estimate once in precision', () => {
    const ref = [note(0, 60), note(1, 62)];
    const est = [note(0, 60), note(0.5, 61), note(1, 62), note(1.5, 65)];
    const result = noteFMeasure(ref, est);
    expect(result.precision).toBe(0.5);
    expect(result.recall).toBe(1);
  });
});

describe('noteSequenceAccuracy', () => {
  const seq = (...midis: number[]) => midis.map((midi, i) => ({ start: i, end: i + 0.5, midi }));

  it('is 1 for the same pitch sequence (within 50 cents, timing ignored) and counts each insertion, deletion and substitution once', () => {
    expect(noteSequenceAccuracy(seq(60, 62, 64, 65), seq(60.4, 61.6, 64, 65))).toBe(1);
    expect(noteSequenceAccuracy(seq(60, 62, 64, 65), seq(60, 62, 62, 64, 65))).toBeCloseTo(0.75, 10);
    expect(noteSequenceAccuracy(seq(60, 62, 64, 65), seq(60, 64, 65))).toBeCloseTo(0.75, 10);
    expect(noteSequenceAccuracy(seq(60, 62, 64, 65), seq(60, 63, 64, 65))).toBeCloseTo(0.75, 10);
  });

  it('floors at 0 when the estimate has far more notes than the reference, and is NaN without reference notes', () => {
    expect(noteSequenceAccuracy(seq(60, 62), seq(50, 51, 52, 53, 54, 55))).toBe(0);
    expect(noteSequenceAccuracy([], seq(60))).toBeNaN();
  });
});
