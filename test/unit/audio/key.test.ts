import { estimateKey, keyCorrelations } from '../../../src/audio/key/key.js';
import type { NoteEvent } from '../../../src/audio/types.js';

/** Notes from MIDI numbers and lengths in beats (0.5 s per beat), back to back. */
function line(midis: number[], beats?: number[]): NoteEvent[] {
  let t = 0;
  return midis.map((midi, i) => {
    const d = 0.5 * (beats?.[i] ?? 1);
    const note = { start: t, end: t + d * 0.95, midi, confidence: 0.9 };
    t += d;
    return note;
  });
}

const MAJOR_SCALE = [0, 2, 4, 5, 7, 9, 11, 12];
const transpose = (steps: number[], tonic: number) => steps.map((s) => tonic + s);

describe('estimateKey', () => {
  it('names the key of ascending-and-descending major scales on every tonic', () => {
    const names = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
    for (let tonic = 0; tonic < 12; tonic++) {
      const up = transpose(MAJOR_SCALE, 60 + tonic);
      // Tonic held at the end, as scales are played.
      const key = estimateKey(line([...up, ...up.slice(0, -1).reverse()], [...up.map(() => 1), 1, 1, 1, 1, 1, 1, 4]))!;
      expect(key.label).toBe(`${names[tonic]} major`);
      expect(key.tonicPitchClass).toBe(tonic);
    }
  });

  it('names the key of natural and harmonic minor scales with a held tonic on every tonic', () => {
    const names = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
    for (const steps of [
      [0, 2, 3, 5, 7, 8, 10, 12],
      [0, 2, 3, 5, 7, 8, 11, 12],
    ]) {
      for (let tonic = 0; tonic < 12; tonic++) {
        const up = transpose(steps, 57 + tonic);
        const key = estimateKey(line([...up, ...up.slice(0, -1).reverse()], [...up.map(() => 1), 1, 1, 1, 1, 1, 1, 4]))!;
        expect(key.label).toBe(`${names[(9 + tonic) % 12]} minor`);
      }
    }
  });

  it('finds F# major for a melody in F# major', () => {
    // F# A# C# F# | E# F# G# A# | B A# G# F# (long).
    const key = estimateKey(line([66, 70, 73, 78, 77, 78, 80, 82, 83, 82, 80, 78], [1, 1, 1, 2, 0.5, 0.5, 1, 2, 1, 1, 1, 4]))!;
    expect(key).toMatchObject({ tonic: 'F#', mode: 'major', label: 'F# major' });
  });

  it('finds A minor for a melody in A minor (natural minor pitches, tonic triad emphasised)', () => {
    // A C E A | G F E D | C B (G#) A — the relative major C shares all but G#.
    const key = estimateKey(line([57, 60, 64, 69, 67, 65, 64, 62, 60, 59, 56, 57], [2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 4]))!;
    expect(key).toMatchObject({ tonic: 'A', mode: 'minor' });
  });

  it('finds C major for the twinkle melody and D minor for a D minor arpeggio line', () => {
    const twinkle = [60, 60, 67, 67, 69, 69, 67, 65, 65, 64, 64, 62, 62, 60];
    expect(estimateKey(line(twinkle, [1, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2]))!.label).toBe('C major');
    expect(estimateKey(line([62, 65, 69, 74, 72, 70, 69, 67, 65, 64, 61, 62], [2, 1, 1, 2, 1, 1, 2, 1, 1, 1, 1, 4]))!.label).toBe(
      'D minor',
    );
  });

  it('gives the same key to a melody sung 40 cents sharp (tuning offset removed)', () => {
    const notes = line([66, 70, 73, 78, 77, 78, 80, 82, 83, 82, 80, 78], [1, 1, 1, 2, 0.5, 0.5, 1, 2, 1, 1, 1, 4]);
    const sharp = notes.map((n) => ({ ...n, midi: n.midi + 0.4 }));
    expect(estimateKey(sharp)!.label).toBe('F# major');
  });

  it('supports Temperley profiles with the same answers on clear cases', () => {
    const cMajor = transpose(MAJOR_SCALE, 60);
    expect(estimateKey(line([...cMajor, ...cMajor.slice(0, -1).reverse()]), { profile: 'temperley' })!.label).toBe('C major');
  });

  it('is more confident about a full diatonic melody than about two notes', () => {
    const full = estimateKey(line([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60], [1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 4]))!;
    const sparse = estimateKey(line([60, 67]))!;
    expect(full.confidence).toBeGreaterThan(sparse.confidence);
    expect(full.confidence).toBeGreaterThan(0.3);
    for (const k of [full, sparse]) {
      expect(k.confidence).toBeGreaterThanOrEqual(0);
      expect(k.confidence).toBeLessThanOrEqual(1);
    }
  });

  it('returns null without notes or when every pitch class weighs the same', () => {
    expect(estimateKey([])).toBeNull();
    expect(estimateKey(line(Array.from({ length: 12 }, (_, i) => 60 + i)))).toBeNull();
  });

  it('correlates a profile-shaped histogram perfectly with its own key', () => {
    // Rotate the KK minor profile so its tonic sits on G (pitch class 7).
    const minor = [6.33, 2.68, 3.52, 5.38, 2.6, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17];
    const histogram = minor.map((_, pc) => minor[(pc - 7 + 12) % 12]);
    expect(keyCorrelations(histogram)[12 + 7]).toBeCloseTo(1, 10);
  });
});
