/**
 * The recorded melody fixtures (test/fixtures/melodies: fluidsynth instruments, Festival singing, a synthetic
 * whistle) through the real decoder, pitch tracker and note segmenter, scored against their known truth with
 * the standard definitions: raw pitch accuracy (voiced reference frames within 50 cents) and note F-measure
 * (onset within 100 ms, pitch within 50 cents, offsets ignored).
 *
 * The product targets (RPA ≥ 0.97, note F ≥ 0.90) hold for clean played and hummed melodies. Kinds that do not
 * reach them have a lower floor here, with the measured figure and the reason next to it; a floor is a
 * regression guard, not a target (see bench/accuracy.bench.ts for the full table next to aubio).
 */
import { segmentNotes } from '../../../src/audio/notes/notes.js';
import { trackPitch } from '../../../src/audio/pitch/pitch.js';
import type { MonoAudio } from '../../../src/audio/types.js';
import { listMelodyFixtures, loadMelodyAudio, scoreMelody, type MelodyKind, type MelodyScore } from '../../support/melody-fixtures.js';

const TARGET = { rawPitchAccuracy: 0.97, noteF: 0.9 };

/** Minimum figures per kind of source. Anything below the product target says why. */
const FLOORS: Record<MelodyKind, { rawPitchAccuracy: number; noteF: number; why?: string }> = {
  piano: TARGET,
  flute: TARGET,
  violin: TARGET,
  brass: TARGET,
  reed: TARGET,
  bass: TARGET,
  // NOT a real hum: Festival's diphone voice singing "mum/moon", low-passed at 500 Hz (no recorded human
  // hum can be made here). Measured 2026-11-21: RPA 0.904, note F 0.696 (precision 0.55). 12 % of its
  // reference-voiced frames are not periodic (NCCF < 0.9 at the m's, diphone joins and the fade) and ~3 %
  // of the truth is off by more than 50 cents (Festival's rendered f0 differs from its targets); the
  // extra notes are diphone joins (3–7 dB rises) and glide fragments. Code-rendered hums (pitch.test.ts,
  // notes.test.ts) meet the targets; this floor only guards against regressions on the Festival one.
  hum: { rawPitchAccuracy: 0.9, noteF: 0.69, why: 'Festival diphone pseudo-hum; product target not met on it' },
  // Festival's diphone voice (consonant dips between syllables, diphone joins). Measured with the stages at
  // 961c707: RPA 0.889, note F 0.711 (precision 0.59: syllables split in two); at b6509d9 RPA 0.927, note F
  // 0.895 (voiced consonants no longer split from their vowels; the rest is glides and diphone joins).
  voice: { rawPitchAccuracy: 0.9, noteF: 0.85, why: 'sung syllables; product target not met yet' },
  whistle: TARGET,
};

const fixtures = listMelodyFixtures();

describe('recorded melody fixtures', () => {
  it('include every kind of source the issue names', () => {
    const kinds = new Set(fixtures.map((fixture) => fixture.truth.kind));
    for (const kind of Object.keys(FLOORS)) expect(kinds).toContain(kind);
  });

  describe.each(fixtures.map((fixture) => [fixture.name, fixture] as const))('%s', (_name, fixture) => {
    const floor = FLOORS[fixture.truth.kind];
    let audio: MonoAudio;
    let score: MelodyScore;

    beforeAll(async () => {
      audio = await loadMelodyAudio(fixture);
      const pitch = trackPitch(audio);
      score = scoreMelody(fixture.truth, pitch.times, pitch.hz, segmentNotes(pitch, audio));
    });

    it(`decodes to the truth's sample rate and length`, () => {
      expect(audio.sampleRate).toBe(fixture.truth.sampleRate);
      expect(audio.samples.length / audio.sampleRate).toBeCloseTo(fixture.truth.duration, 2);
    });

    it(`is tracked with raw pitch accuracy (50 cents) ≥ ${floor.rawPitchAccuracy}`, () => {
      expect(score.rawPitchAccuracy).toBeGreaterThanOrEqual(floor.rawPitchAccuracy);
    });

    it(`is transcribed with note F (onset 100 ms, pitch 50 cents) ≥ ${floor.noteF}`, () => {
      expect(score.note.f).toBeGreaterThanOrEqual(floor.noteF);
    });
  });
});
