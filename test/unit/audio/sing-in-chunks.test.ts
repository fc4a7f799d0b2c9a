/**
 * Singing in pieces split at rests must sound like singing the whole score at once: the same phonemes at
 * the same times (breaths included), and silence where the pieces meet.
 */
import { singInChunks } from '../../../src/audio/voice/sing-in-chunks.js';
import { singScore } from '../../../src/audio/voice/voice.js';
import type { Score, SungNote } from '../../../src/audio/types.js';
import { sungNote } from '../../support/sung-note.js';

const RATE = 22050;

const note = (start: number, end: number, midi: number, phonemes: string[], phraseIndex: number): SungNote =>
  sungNote(start, end, midi, phonemes, { phraseIndex });

/**
 * Three pieces: 0.9 s of silence, "la la ro-" | 0.3 s rest inside the line | "man-tic" (same phrase) |
 * 0.4 s rest | "sing the sea" (a new phrase). The first and third pieces breathe (the third only after
 * the previous word has ended), the second must not.
 */
const SCORE: Score = {
  tempo: null,
  key: null,
  notes: [
    note(0.9, 1.1, 67, ['L', 'AA'], 0),
    note(1.1, 1.35, 69, ['L', 'AA'], 0),
    note(1.35, 1.6, 71, ['R', 'OW'], 0),
    note(1.9, 2.3, 72, ['M', 'AE', 'N'], 0),
    note(2.3, 2.8, 71, ['T', 'IH', 'K'], 0),
    note(3.2, 3.6, 69, ['S', 'IH', 'NG'], 1),
    note(3.6, 3.9, 67, ['DH', 'AH'], 1),
    note(3.9, 4.6, 67, ['S', 'IY'], 1),
  ],
};

const noYield = async (): Promise<void> => {};

describe('singInChunks', () => {
  it('plans the same phonemes at the same times as singing the whole score at once, breaths included', async () => {
    const chunked = await singInChunks(SCORE, { voice: 'high', sampleRate: RATE, seed: 5 }, { yieldControl: noYield });
    const whole = singScore(SCORE, { voice: 'high', sampleRate: RATE, seed: 5 });
    expect(chunked.phonemes.map((p) => p.phoneme)).toEqual(whole.phonemes.map((p) => p.phoneme));
    chunked.phonemes.forEach((p, i) => {
      expect(p.start).toBeCloseTo(whole.phonemes[i].start, 6);
      expect(p.end).toBeCloseTo(whole.phonemes[i].end, 6);
    });
  });

  it('breathes only before a new phrase, and only after the previous word has ended', async () => {
    const { phonemes } = await singInChunks(SCORE, { voice: 'high', sampleRate: RATE, seed: 5 }, { yieldControl: noYield });
    const breaths = phonemes.filter((p) => p.phoneme === 'breath');
    // One before the first phrase, one in the 0.4 s rest before the second; none in the rest inside the line.
    expect(breaths).toHaveLength(2);
    expect(breaths[0].end).toBeLessThanOrEqual(0.9);
    expect(breaths[1].start).toBeGreaterThanOrEqual(2.8);
    expect(breaths[1].end).toBeLessThanOrEqual(3.2);
    for (const breath of breaths) {
      const overlapping = phonemes.filter((p) => p.phoneme !== 'breath' && p.start < breath.end && p.end > breath.start);
      expect(overlapping).toEqual([]);
    }
  });

  it('leaves the rest inside a line silent (below −60 dB of the peak) between the release and the next consonant', async () => {
    const { samples, phonemes } = await singInChunks(SCORE, { voice: 'high', sampleRate: RATE, seed: 5 }, { yieldControl: noYield });
    let peak = 0;
    for (const x of samples) peak = Math.max(peak, Math.abs(x));
    // "ro-" ends at 1.6 s (its release fades within 0.1 s); the M of "man" starts before 1.9 s and its
    // amplitude ramp begins ~30 ms before that.
    const next = phonemes.find((p) => p.start > 1.6)!;
    expect(next.phoneme).toBe('M');
    const from = 1.7;
    const to = next.start - 0.05;
    expect(to - from).toBeGreaterThan(0.05);
    let rest = 0;
    for (let i = Math.round(from * RATE); i < Math.round(to * RATE); i++) rest = Math.max(rest, Math.abs(samples[i]));
    expect(20 * Math.log10(rest / peak + 1e-12)).toBeLessThan(-60);
  });
});
