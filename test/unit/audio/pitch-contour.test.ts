/**
 * The sung f0 contour inside a melisma (one vowel over several notes): the option that gives the flite
 * engine's `high` voice a longer glide there, and that without it the contour is exactly the one
 * between syllables.
 */
import { buildPitchContour, type ContourOptions } from '../../../src/audio/voice/pitch-contour.js';
import type { TimedNote } from '../../../src/audio/voice/timeline.js';
import { glideOptions, VOICES } from '../../../src/audio/voice/voice.js';

const STEP = 0.005;
const COUNT = 400;

/** A syllable on C5 held on over B4 (a melisma), then a new syllable on D5 (legato). */
const notes: TimedNote[] = [
  { start: 0.1, end: 0.7, midi: 72, attack: 0.05, legato: false, melisma: false },
  { start: 0.7, end: 1.3, midi: 71, attack: 0.7, legato: true, melisma: true },
  { start: 1.3, end: 1.9, midi: 74, attack: 1.25, legato: true, melisma: false },
];
const base: ContourOptions = { vibrato: { rateHz: 5.5, depthCents: 30, delaySeconds: 0.25 }, glideSeconds: 0.08, flutterCents: 0, seed: 3 };
const at = (midi: Float32Array, t: number) => midi[Math.round(t / STEP)];

describe('buildPitchContour in a melisma', () => {
  it('without the melisma option gives the contour it gives between syllables', () => {
    const plain = buildPitchContour(
      notes.map((n) => ({ ...n, melisma: false })),
      COUNT,
      STEP,
      base,
    );
    const marked = buildPitchContour(notes, COUNT, STEP, base);
    expect(marked.midi).toEqual(plain.midi);
    expect(marked.target).toEqual(plain.target);
  });

  it('glides into a melisma note over melismaGlideSeconds, and into the next syllable as before', () => {
    const options = { ...base, vibrato: null, melismaGlideSeconds: 0.2 };
    const { midi, target } = buildPitchContour(notes, COUNT, STEP, options);
    const before = buildPitchContour(notes, COUNT, STEP, { ...base, vibrato: null });
    // 60 ms after the melisma note's onset the 0.2 s glide is still moving; the 0.08 s one has arrived.
    expect(at(midi, 0.76)).toBeGreaterThan(71.05);
    expect(at(midi, 0.76)).toBeLessThan(71.5);
    expect(at(before.midi, 0.76)).toBeCloseTo(71, 5);
    expect(at(target, 0.76)).toBe(0);
    expect(at(midi, 0.85)).toBeCloseTo(71, 5);
    // Between syllables nothing changes.
    for (let t = 1.0; t < 1.9; t += STEP) expect(at(midi, t)).toBeCloseTo(at(before.midi, t), 5);
  });
});

describe('glideOptions', () => {
  const high = VOICES.high;
  it("gives the flite engine's high voice its melisma glide with portamento on", () => {
    expect(glideOptions(high, { engine: 'flite' })).toEqual({ glideSeconds: 0.08, melismaGlideSeconds: high.fliteMelismaGlideSeconds });
    expect(high.fliteMelismaGlideSeconds).toBeGreaterThan(0.08);
  });

  it('turns the melisma glide off with portamento off, with a caller-set glide, for the formant engine and for low', () => {
    expect(glideOptions(high, { engine: 'flite', portamento: false })).toEqual({ glideSeconds: 0.02 });
    expect(glideOptions(high, { engine: 'flite', portamento: { seconds: 0.05 } })).toEqual({ glideSeconds: 0.05 });
    expect(glideOptions(high, { engine: 'formant' })).toEqual({ glideSeconds: 0.08 });
    expect(glideOptions(VOICES.low, { engine: 'flite' })).toEqual({ glideSeconds: 0.08 });
  });
});
