/**
 * Seeded pseudo-random numbers (mulberry32): the audio core never uses Math.random, so the same
 * seed always gives the same lyrics, noise and test signals.
 * @returns a function giving uniform floats in [0, 1).
 */
export function createRandom(seed: number): () => number {
  // The state lives in a typed array, not a captured variable: a uint32 above 2^30 is no small integer
  // to V8, so a captured `let` was boxed in a new heap number at every call (a 30 s song's breath band
  // draws 2.6 million numbers: ~19 MB of garbage). The same numbers either way.
  const state = new Uint32Array([seed >>> 0]);
  return () => {
    state[0] = state[0] + 0x6d2b79f5;
    let t = state[0];
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal deviate from a uniform source (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
