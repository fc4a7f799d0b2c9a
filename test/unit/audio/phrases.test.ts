import { findPhrases } from '../../../src/audio/phrases/phrases.js';
import { twinkle } from '../../support/signals.js';
import type { NoteEvent, Phrase } from '../../../src/audio/types.js';

const toNotes = (list: { start: number; end: number; midi: number }[]): NoteEvent[] => list.map((n) => ({ ...n, confidence: 0.9 }));

/** Back-to-back notes of `seconds` each from `start`, with `gap` seconds of silence after each. */
function run(count: number, start: number, seconds: number, gap = 0.05): NoteEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    start: start + i * (seconds + gap),
    end: start + i * (seconds + gap) + seconds,
    midi: 60 + (i % 7),
    confidence: 0.9,
  }));
}

function expectPartition(phrases: Phrase[], notes: NoteEvent[]): void {
  let next = 0;
  for (const phrase of phrases) {
    expect(phrase.firstNote).toBe(next);
    expect(phrase.noteCount).toBeGreaterThan(0);
    expect(phrase.start).toBe(notes[phrase.firstNote].start);
    expect(phrase.end).toBe(notes[phrase.firstNote + phrase.noteCount - 1].end);
    next += phrase.noteCount;
  }
  expect(next).toBe(notes.length);
}

describe('findPhrases', () => {
  it('splits twinkle at its two one-beat rests, with and without a tempo', () => {
    const notes = toNotes(twinkle());
    for (const tempo of [{ bpm: 100, confidence: 0.9 }, null]) {
      const phrases = findPhrases(notes, tempo);
      expect(phrases.map((p) => p.noteCount)).toEqual([7, 7]);
      expectPartition(phrases, notes);
    }
  });

  it('splits at a rest of a beat but not at articulation gaps', () => {
    const notes = [...run(5, 0, 0.4), ...run(5, 2.65, 0.4)];
    // Gap between the groups: 2.65 − (4·0.45 + 0.4) = 0.45 s = 0.9 beat at 120 BPM.
    expect(findPhrases(notes, { bpm: 120, confidence: 1 }).map((p) => p.noteCount)).toEqual([5, 5]);
  });

  it('scales the rest threshold with the tempo: a 0.35 s gap ends a phrase at 180 BPM but not at 60 BPM', () => {
    const notes = [...run(4, 0, 0.3), ...run(4, 1.35 + 0.35, 0.3)];
    expect(findPhrases(notes, { bpm: 180, confidence: 1 })).toHaveLength(2);
    expect(findPhrases(notes, { bpm: 60, confidence: 1 })).toHaveLength(1);
  });

  it('ends a phrase after a long note (two beats or more)', () => {
    const notes = run(8, 0, 0.25, 0.02);
    // Make the 4th note a held note of 1.2 s (2.4 beats at 120 BPM) and shift the rest.
    notes[3].end = notes[3].start + 1.2;
    for (let i = 4; i < notes.length; i++) {
      notes[i].start += 1.0;
      notes[i].end += 1.0;
    }
    expect(findPhrases(notes, { bpm: 120, confidence: 1 }).map((p) => p.noteCount)).toEqual([4, 4]);
  });

  it('caps a long unbroken line at 16 notes, cutting at the largest gap', () => {
    const notes = run(24, 0, 0.2, 0.02);
    // One slightly longer breath after note 10 (index 9).
    for (let i = 10; i < notes.length; i++) {
      notes[i].start += 0.1;
      notes[i].end += 0.1;
    }
    const phrases = findPhrases(notes, { bpm: 120, confidence: 1 });
    expect(phrases.map((p) => p.noteCount)).toEqual([10, 14]);
    expectPartition(phrases, notes);
  });

  it('caps a phrase at 8 seconds and keeps every part at two notes or more', () => {
    const notes = run(12, 0, 0.9, 0.05);
    const phrases = findPhrases(notes, null);
    for (const phrase of phrases) {
      expect(phrase.end - phrase.start).toBeLessThanOrEqual(8);
      expect(phrase.noteCount).toBeGreaterThanOrEqual(2);
    }
    expectPartition(phrases, notes);
  });

  it('honours custom limits', () => {
    const notes = run(12, 0, 0.2, 0.02);
    const phrases = findPhrases(notes, null, { maxNotes: 4 });
    expect(phrases.every((p) => p.noteCount <= 4)).toBe(true);
    expectPartition(phrases, notes);
  });

  it('returns no phrases for no notes and one phrase for one note', () => {
    expect(findPhrases([], null)).toEqual([]);
    expect(findPhrases(run(1, 1, 0.5), null)).toEqual([{ start: 1, end: 1.5, firstNote: 0, noteCount: 1 }]);
  });
});
