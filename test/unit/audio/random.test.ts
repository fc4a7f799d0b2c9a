import { createRandom } from '../../../src/audio/random.js';

describe('createRandom', () => {
  // mulberry32's own sequences (the first value for seed 1 is the reference implementation's 0.6270739405881613):
  // the same seed must give the same lyrics, noise and breath from release to release, whatever the
  // state is kept in. Seeds 2^32 − 1 and 0x9e3779b9 run the state through values above 2^31 at once.
  it.each([
    [1, [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741, 0.9683778982143849], 499865.1160909175],
    [0xffffffff, [0.8964226141106337, 0.189478256739676, 0.7156526781618595, 0.9440599093213677, 0.8452364315744489], 500054.37387720775],
    [0x9e3779b9, [0.3588899802416563, 0.10590326134115458, 0.675290479324758, 0.9179345588199794, 0.10157715040259063], 499335.68754626415],
  ])('gives mulberry32 sequence for seed %i exactly (first five values, and the sum of the next million)', (seed, first, sum) => {
    const random = createRandom(seed);
    expect(Array.from({ length: 5 }, () => random())).toEqual(first);
    let total = 0;
    for (let i = 0; i < 1e6; i++) total += random();
    expect(total).toBe(sum);
  });
});
