import { rawChromaAccuracy, rawPitchAccuracy, voicingFalseAlarm, voicingRecall } from '../../../src/audio/eval/pitch-metrics.js';

const grid = (n: number, offset = 0): Float64Array => Float64Array.from({ length: n }, (_, i) => offset + i * 0.01);
const cents = (hz: number, c: number): number => hz * Math.pow(2, c / 1200);

describe('pitch metrics', () => {
  const refTimes = grid(6);
  const refHz = Float32Array.from([0, 220, 220, 220, 220, 0]);

  it('counts voiced reference frames whose estimate lies within 50 cents; an unvoiced estimate is a miss', () => {
    const est = Float32Array.from([0, cents(220, 49), cents(220, -51), 0, 440, 0]);
    expect(rawPitchAccuracy(refTimes, refHz, refTimes, est)).toBeCloseTo(1 / 4, 12);
    expect(rawPitchAccuracy(refTimes, refHz, refTimes, est, 60)).toBeCloseTo(2 / 4, 12);
  });

  it('forgives octave errors in raw chroma accuracy only', () => {
    const est = Float32Array.from([0, 110, 440, cents(880, 30), 220, 0]);
    expect(rawPitchAccuracy(refTimes, refHz, refTimes, est)).toBeCloseTo(1 / 4, 12);
    expect(rawChromaAccuracy(refTimes, refHz, refTimes, est)).toBe(1);
  });

  it('measures voicing recall over voiced and false alarm over unvoiced reference frames', () => {
    const est = Float32Array.from([300, 220, 0, 100, 0, 0]);
    expect(voicingRecall(refTimes, refHz, refTimes, est)).toBeCloseTo(2 / 4, 12);
    expect(voicingFalseAlarm(refTimes, refHz, refTimes, est)).toBeCloseTo(1 / 2, 12);
  });

  it('pairs each reference frame with the estimate frame nearest in time', () => {
    // Estimate grid shifted by 4 ms and one frame longer: frame i still pairs with estimate i.
    const estTimes = grid(7, 0.004);
    const est = Float32Array.from([0, 220, 220, 220, 220, 0, 500]);
    expect(rawPitchAccuracy(refTimes, refHz, estTimes, est)).toBe(1);
    // A 20 ms estimate grid: reference frames halfway between two estimates pair with the later one.
    const coarseTimes = grid(3).map((t) => t * 2);
    const coarse = Float32Array.from([0, 220, 220]);
    expect(rawPitchAccuracy(refTimes, refHz, coarseTimes, coarse)).toBe(1);
  });

  it('returns NaN when the reference has no frames of the kind measured', () => {
    const silent = new Float32Array(6);
    expect(rawPitchAccuracy(refTimes, silent, refTimes, silent)).toBeNaN();
    expect(voicingFalseAlarm(refTimes, Float32Array.from([1, 1, 1, 1, 1, 1]), refTimes, silent)).toBeNaN();
  });
});
