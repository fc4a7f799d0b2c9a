/**
 * Note transcription of singing (issue 12), one difficulty per test, end to end (trackPitch →
 * segmentNotes) on takes from a seeded singing synthesizer (test/support/singer.ts) whose notes are
 * known. Score: onsets within 100 ms and pitch within 50 cents (note F-measure, offsets ignored), held
 * pitch within the stated cents.
 */
import { sing, type SingOptions, type SungNote, type Vowel } from '../../support/singer.js';
import { LOW_CONFIDENCE, segmentNotes } from '../../../src/audio/notes/notes.js';
import { trackPitch } from '../../../src/audio/pitch/pitch.js';
import { noteFMeasure } from '../../../src/audio/eval/note-metrics.js';
import type { NoteEvent, PitchTrack } from '../../../src/audio/types.js';

/** A phrase of syllables: [midi, seconds, vowel, consonant]. */
function phrase(start: number, spec: [number, number, Vowel, SungNote['consonant']][], extra: Partial<SungNote> = {}): SungNote[] {
  let t = start;
  return spec.map(([midi, seconds, vowel, consonant]) => {
    const note: SungNote = { start: t, end: t + seconds, midi, vowel, consonant, ...extra };
    t += seconds;
    return note;
  });
}

function transcribe(
  notes: SungNote[],
  options: SingOptions = {},
): { notes: NoteEvent[]; truth: { start: number; end: number; midi: number }[] } {
  const take = sing(notes, options);
  return { notes: segmentNotes(trackPitch(take), take), truth: take.truth };
}

describe('segmentNotes on sung takes', () => {
  it('keeps a note whole across a short unvoiced gap inside its syllable (the tracker loses a breathy stretch)', () => {
    // Two sung notes at the tracker's output: 62 with a 40 ms unvoiced gap in its middle, then 65 with
    // a 30 ms gap; the audio's level holds (no re-attack), so only the contour is given.
    const frames = 220;
    const hz = new Float32Array(frames);
    for (let k = 30; k < 110; k++) if (k < 68 || k >= 72) hz[k] = 440 * 2 ** ((62 - 69) / 12);
    for (let k = 110; k < 190; k++) if (k < 150 || k >= 153) hz[k] = 440 * 2 ** ((65 - 69) / 12);
    const track: PitchTrack = {
      hopSeconds: 0.01,
      times: Float64Array.from({ length: frames }, (_, k) => k * 0.01),
      hz,
      voicedProbability: Float32Array.from(hz, (f) => (f > 0 ? 0.9 : 0.1)),
    };
    const notes = segmentNotes(track, null);
    expect(notes.map((note) => Math.round(note.midi))).toEqual([62, 65]);
    expect(notes[0].end).toBeGreaterThan(1.0);
  });

  it('splits repeated notes sung on different syllables (consonant and vowel change, same pitch)', () => {
    const notes = phrase(0.3, [
      [64, 0.4, 'a', null],
      [64, 0.4, 'i', 'voiced'],
      [64, 0.4, 'u', 'voiced'],
      [67, 0.4, 'e', 'unvoiced'],
      [67, 0.4, 'o', 'unvoiced'],
      [67, 0.6, 'a', 'voiced'],
    ]);
    const result = transcribe(notes);
    expect(noteFMeasure(result.truth, result.notes).f).toBeGreaterThanOrEqual(0.99);
  });

  it('does not split a held note whose level swells and fades by ±6 dB (tremolo)', () => {
    const notes = phrase(0.3, [
      [60, 1.5, 'a', null],
      [64, 1.5, 'o', 'voiced'],
    ]);
    const result = transcribe(notes, { tremolo: { depthDb: 6, rateHz: 5 } });
    expect(result.notes).toHaveLength(2);
    expect(noteFMeasure(result.truth, result.notes).f).toBe(1);
  });

  it('reads a note scooped into and falling out of as its held pitch, with its onset where the scoop starts', () => {
    const notes = phrase(
      0.3,
      [
        [62, 0.5, 'a', 'voiced'],
        [66, 0.5, 'e', 'voiced'],
        [69, 0.7, 'a', 'voiced'],
        [64, 0.6, 'o', 'voiced'],
      ],
      { scoopSemitones: 1.5, scoopSeconds: 0.12, fallSemitones: 2, fallSeconds: 0.1 },
    );
    const result = transcribe(notes);
    const match = noteFMeasure(result.truth, result.notes);
    expect(match.f).toBe(1);
    for (const [r, e] of match.pairs) expect(Math.abs(result.notes[e].midi - result.truth[r].midi) * 100).toBeLessThanOrEqual(20);
  });

  it('keeps ±100-cent vibrato inside each note and centres it within 20 cents', () => {
    const notes = phrase(0.3, [
      [57, 0.9, 'a', null],
      [60, 0.9, 'o', 'voiced'],
      [64, 1.2, 'a', 'unvoiced'],
    ]);
    const result = transcribe(notes, { vibrato: { depthCents: 100, rateHz: 5.5 } });
    const match = noteFMeasure(result.truth, result.notes);
    expect(result.notes).toHaveLength(3);
    expect(match.f).toBe(1);
    for (const [r, e] of match.pairs) expect(Math.abs(result.notes[e].midi - result.truth[r].midi) * 100).toBeLessThanOrEqual(20);
  });

  it('never makes a note of the breaths between phrases', () => {
    const notes = [
      ...phrase(0.3, [
        [62, 0.4, 'a', null],
        [64, 0.4, 'e', 'voiced'],
        [66, 0.6, 'a', 'voiced'],
      ]),
      ...phrase(2.3, [
        [66, 0.4, 'o', 'unvoiced'],
        [64, 0.4, 'a', 'voiced'],
        [62, 0.8, 'u', 'voiced'],
      ]),
    ];
    const result = transcribe(notes, { breaths: [[1.8, 2.2]], breathDb: -12, seed: 3 });
    expect(result.notes.filter((note) => note.start > 1.75 && note.end < 2.25)).toEqual([]);
    expect(noteFMeasure(result.truth, result.notes).f).toBe(1);
  });

  it('follows a singer whose tuning drifts by +60 cents over the take instead of snapping to a fixed grid', () => {
    const notes = phrase(
      0.3,
      [60, 62, 64, 65, 67, 65, 64, 62, 60].map((midi, i): [number, number, Vowel, SungNote['consonant']] => [
        midi,
        0.45,
        (['a', 'e', 'o'] as const)[i % 3],
        'voiced',
      ]),
    );
    const result = transcribe(notes, { driftCents: 60 });
    const match = noteFMeasure(result.truth, result.notes, { pitchToleranceCents: 20 });
    expect(match.f).toBe(1);
    // The last notes sit more than a quarter tone above the grid, as sung.
    expect(result.notes[result.notes.length - 1].midi - 60).toBeGreaterThan(0.4);
  });

  it('joins an octave (or twelfth) jump of the tracker at the breathy end of a note back into the note', () => {
    // The tracker's contour: 0.5 s at 55 (G3), then 0.15 s read at 2× f0, a gap, 0.5 s at 57 whose last
    // 0.12 s are read at 3× f0.
    const hop = 0.01;
    const frames = 200;
    const hz = new Float32Array(frames);
    const midiAt = (k: number): number =>
      k >= 30 && k < 80 ? 55 : k >= 80 && k < 95 ? 67 : k >= 110 && k < 148 ? 57 : k >= 148 && k < 160 ? 57 + 19.02 : NaN;
    for (let k = 0; k < frames; k++) {
      const midi = midiAt(k);
      hz[k] = Number.isNaN(midi) ? 0 : 440 * 2 ** ((midi - 69) / 12);
    }
    const track: PitchTrack = {
      hopSeconds: hop,
      times: Float64Array.from({ length: frames }, (_, k) => k * hop),
      hz,
      voicedProbability: Float32Array.from(hz, (f) => (f > 0 ? 0.9 : 0.05)),
    };
    const notes = segmentNotes(track, null);
    expect(notes.map((note) => Math.round(note.midi))).toEqual([55, 57]);
    expect(notes[0].end).toBeCloseTo(0.945, 2);
  });

  it('gives clean sung notes confidence above LOW_CONFIDENCE and flags a wavering, creaky note below it', () => {
    const take = sing(
      phrase(0.3, [
        [60, 0.6, 'a', null],
        [64, 0.6, 'o', 'voiced'],
        [67, 0.8, 'a', 'voiced'],
      ]),
    );
    const clean = segmentNotes(trackPitch(take), take);
    expect(clean).toHaveLength(3);
    for (const note of clean) expect(note.confidence).toBeGreaterThanOrEqual(LOW_CONFIDENCE);
    // A creaky note: the tracker's contour jumps by ±40 cents from frame to frame and pYIN is unsure.
    const frames = 100;
    const hz = new Float32Array(frames);
    for (let k = 20; k < 60; k++) hz[k] = 220 * 2 ** (((k % 2 ? 40 : -40) + (k % 3) * 10) / 1200);
    const creaky = segmentNotes(
      {
        hopSeconds: 0.01,
        times: Float64Array.from({ length: frames }, (_, k) => k * 0.01),
        hz,
        voicedProbability: Float32Array.from(hz, (f) => (f > 0 ? 0.6 : 0.05)),
      },
      null,
    );
    expect(creaky).toHaveLength(1);
    expect(creaky[0].confidence).toBeLessThan(LOW_CONFIDENCE);
  });
});
