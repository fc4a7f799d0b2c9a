import { centsBetween, hzToMidi, midiToHz, midiToName } from '../../../src/audio/pitch-math.js';
import { createRandom } from '../../../src/audio/random.js';

describe('pitch math', () => {
  it('maps A4 to MIDI 69 and back', () => {
    expect(hzToMidi(440)).toBeCloseTo(69, 10);
    expect(midiToHz(60)).toBeCloseTo(261.6256, 3);
  });

  it('measures an octave as 1200 cents', () => {
    expect(centsBetween(880, 440)).toBeCloseTo(1200, 10);
  });

  it('names notes with their octave', () => {
    expect(midiToName(60)).toBe('C4');
    expect(midiToName(69.4)).toBe('A4');
  });
});

describe('seeded random', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const c = createRandom(43);
    const sa = [a(), a(), a()];
    expect([b(), b(), b()]).toEqual(sa);
    expect([c(), c(), c()]).not.toEqual(sa);
    for (const x of sa) expect(x >= 0 && x < 1).toBe(true);
  });
});
