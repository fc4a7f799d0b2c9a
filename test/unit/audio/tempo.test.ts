import { estimateTempo } from '../../../src/audio/tempo/tempo.js';
import { computeOnsetEnvelope } from '../../../src/audio/notes/onsets.js';
import { segmentNotes } from '../../../src/audio/notes/notes.js';
import { createRandom, gaussian } from '../../../src/audio/random.js';
import { renderMelody, twinkle } from '../../support/signals.js';
import { trackFromTruth } from '../../support/pitch-tracks.js';
import type { NoteEvent } from '../../../src/audio/types.js';

/** Notes at the given onsets (seconds), each lasting 80 % of the gap to the next (0.3 s for the last). */
function notesAt(onsets: number[]): NoteEvent[] {
  return onsets.map((start, i) => ({
    start,
    end: start + 0.8 * ((onsets[i + 1] ?? start + 0.375) - start),
    midi: 60 + (i % 5),
    confidence: 0.9,
  }));
}

/** Onsets of a rhythm given in beats, at `bpm`, starting at 0.5 s, optionally with Gaussian timing jitter. */
function rhythm(beats: number[], bpm: number, jitterSeconds = 0, seed = 1): number[] {
  const random = createRandom(seed);
  const onsets: number[] = [];
  let beat = 0;
  for (const length of beats) {
    onsets.push(0.5 + (beat * 60) / bpm + jitterSeconds * gaussian(random));
    beat += length;
  }
  return onsets;
}

describe('estimateTempo', () => {
  for (const bpm of [90, 120, 150]) {
    it(`finds ${bpm} BPM within ±2 % for isochronous quarter notes`, () => {
      const tempo = estimateTempo(notesAt(rhythm(new Array(24).fill(1), bpm)))!;
      expect(Math.abs(tempo.bpm / bpm - 1)).toBeLessThanOrEqual(0.02);
      expect(tempo.confidence).toBeGreaterThan(0.9);
    });

    it(`finds ${bpm} BPM within ±2 % for a mixed rhythm (quarters, eighths, halves, a rest) with 15 ms timing jitter`, () => {
      // Two bars of 4/4 repeated four times: q q e e q | h q (q rest).
      const bar = [1, 1, 0.5, 0.5, 1, 2, 2];
      const tempo = estimateTempo(notesAt(rhythm([...bar, ...bar, ...bar, ...bar], bpm, 0.015)))!;
      expect(Math.abs(tempo.bpm / bpm - 1)).toBeLessThanOrEqual(0.02);
    });
  }

  it('finds 90, 120 and 150 BPM within ±2 % from rendered isochronous melodies (audio → notes → tempo)', () => {
    for (const bpm of [90, 120, 150]) {
      const beat = 60 / bpm;
      const truth = Array.from({ length: 16 }, (_, i) => ({
        start: 0.3 + i * beat,
        end: 0.3 + i * beat + 0.85 * beat,
        midi: 60 + [0, 2, 4, 5, 7, 5, 4, 2][i % 8],
      }));
      const rendered = renderMelody(truth, { sampleRate: 16000, timbre: 'hum' });
      const envelope = computeOnsetEnvelope(rendered);
      const tempo = estimateTempo(
        segmentNotes(trackFromTruth(rendered, { jitterCents: 10 }), rendered, { onsetEnvelope: envelope }),
        envelope,
      )!;
      expect(Math.abs(tempo.bpm / bpm - 1)).toBeLessThanOrEqual(0.02);
    }
  });

  it('folds a 50 BPM pulse into the 60–180 BPM range as 100 BPM', () => {
    const tempo = estimateTempo(notesAt(rhythm(new Array(16).fill(1), 50)))!;
    expect(Math.abs(tempo.bpm - 100)).toBeLessThanOrEqual(2);
  });

  it('honours a custom range', () => {
    const tempo = estimateTempo(notesAt(rhythm(new Array(16).fill(1), 50)), null, { minBpm: 40, maxBpm: 80 })!;
    expect(Math.abs(tempo.bpm - 50)).toBeLessThanOrEqual(1);
  });

  it('reads twinkle (100 BPM, 0.6 s beats) from segmented notes of rendered audio, with the onset envelope', () => {
    const rendered = renderMelody(twinkle(), { sampleRate: 16000, timbre: 'voice' });
    const envelope = computeOnsetEnvelope(rendered);
    const notes = segmentNotes(trackFromTruth(rendered), rendered, { onsetEnvelope: envelope });
    const tempo = estimateTempo(notes, envelope)!;
    expect(Math.abs(tempo.bpm / 100 - 1)).toBeLessThanOrEqual(0.02);
  });

  it('is less confident about random onsets than about a steady beat', () => {
    const random = createRandom(5);
    let t = 0.5;
    const onsets = Array.from({ length: 30 }, () => (t += 0.15 + random() * 0.6));
    const steady = estimateTempo(notesAt(rhythm(new Array(30).fill(1), 120)))!;
    const loose = estimateTempo(notesAt(onsets))!;
    expect(loose.confidence).toBeLessThan(steady.confidence - 0.3);
    expect(loose.bpm).toBeGreaterThanOrEqual(60);
    expect(loose.bpm).toBeLessThanOrEqual(180);
  });

  it('returns null for fewer than 3 notes', () => {
    expect(estimateTempo([])).toBeNull();
    expect(estimateTempo(notesAt([0.5, 1.0]))).toBeNull();
  });
});
