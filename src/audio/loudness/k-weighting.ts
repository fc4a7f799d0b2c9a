/**
 * The K-weighting of ITU-R BS.1770-4 (§2.1, Annex 1): a high-shelf "pre-filter" (+4 dB above ~1.7 kHz,
 * modelling the acoustic effect of the head) followed by the "RLB" high-pass (~38 Hz), for any
 * sample rate.
 *
 * The standard publishes the two biquads only for 48 kHz (Tables 1 and 2). To get them at any other
 * rate we recover the analog prototype those coefficients came from and transform it again:
 *
 * 1. Each 48 kHz biquad is read as the bilinear transform, pre-warped at its own corner frequency f0,
 *    of a normalised analog biquad
 *        H(p) = (n2·p² + n1·p + n0) / (p² + p/Q + 1),   p = s / (2π·f0).
 *    With K = tan(π·f0/fs) and p = (1/K)·(1 − z⁻¹)/(1 + z⁻¹) this gives
 *        den = [1 + K/Q + K²,  2(K² − 1),  1 − K/Q + K²]
 *        num = [n2 + n1·K + n0·K²,  2(n0·K² − n2),  n2 − n1·K + n0·K²]
 *    and both maps invert in closed form (see {@link analogPrototypeOf}), so f0, Q, n0, n1, n2 are
 *    recovered from the published numbers without any fitting.
 * 2. {@link biquadFor} applies the same pre-warped bilinear transform at the requested rate.
 *
 * At 48 kHz the round trip reproduces the published coefficients to floating-point round-off
 * (the unit test checks 1e-12), and the recovered prototypes are the familiar ones: a shelf at
 * f0 ≈ 1681.97 Hz, Q ≈ 0.7072, +4.0 dB; a high-pass at f0 ≈ 38.135 Hz, Q ≈ 0.5003.
 *
 * The RLB numerator is published un-normalised as [1, −2, 1]; we keep that convention (its pass-band
 * gain is part of what the −0.691 dB constant of the loudness formula compensates), so the prototype's
 * pass-band gain n2 is slightly above 1 and is carried over to every other rate unchanged.
 */

/** Biquad coefficients with a0 normalised to 1: y = b0·x + b1·x₋₁ + b2·x₋₂ − a1·y₋₁ − a2·y₋₂. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** A normalised analog biquad H(p) = (n2·p² + n1·p + n0)/(p² + p/Q + 1) with p = s/(2π·f0). */
export interface AnalogBiquad {
  /** Corner (pre-warping) frequency in Hz. */
  f0: number;
  q: number;
  n0: number;
  n1: number;
  n2: number;
}

/** BS.1770-4 Table 1: stage 1 (pre-filter, high shelf) at 48 kHz. */
export const BS1770_PREFILTER_48K: Readonly<Biquad> = {
  b0: 1.53512485958697,
  b1: -2.69169618940638,
  b2: 1.19839281085285,
  a1: -1.69065929318241,
  a2: 0.73248077421585,
};

/** BS.1770-4 Table 2: stage 2 (RLB high-pass) at 48 kHz. */
export const BS1770_RLB_48K: Readonly<Biquad> = {
  b0: 1.0,
  b1: -2.0,
  b2: 1.0,
  a1: -1.99004745483398,
  a2: 0.99007225036621,
};

/** Inverts the pre-warped bilinear transform: the analog prototype that yields `digital` at `sampleRate`. */
export function analogPrototypeOf(digital: Biquad, sampleRate: number): AnalogBiquad {
  const { b0, b1, b2, a1, a2 } = digital;
  // From the denominator: 1 + a1 + a2 = 4K²/D and 1 − a1 + a2 = 4/D, with D = 1 + K/Q + K².
  const d = 4 / (1 - a1 + a2);
  const k = Math.sqrt((1 + a1 + a2) / (1 - a1 + a2));
  const kOverQ = ((1 - a2) * d) / 2;
  // Numerator scaled back by D: B0 + B1 + B2 = 4·n0·K², B0 − B1 + B2 = 4·n2, B0 − B2 = 2·n1·K.
  const B0 = b0 * d;
  const B1 = b1 * d;
  const B2 = b2 * d;
  return {
    f0: (sampleRate / Math.PI) * Math.atan(k),
    q: k / kOverQ,
    n0: (B0 + B1 + B2) / (4 * k * k),
    n1: (B0 - B2) / (2 * k),
    n2: (B0 - B1 + B2) / 4,
  };
}

/** Bilinear transform of `analog`, pre-warped at its corner frequency, at `sampleRate` (Hz, > 2·f0). */
export function biquadFor(analog: AnalogBiquad, sampleRate: number): Biquad {
  const k = Math.tan((Math.PI * analog.f0) / sampleRate);
  const kk = k * k;
  const kq = k / analog.q;
  const d = 1 + kq + kk;
  return {
    b0: (analog.n2 + analog.n1 * k + analog.n0 * kk) / d,
    b1: (2 * (analog.n0 * kk - analog.n2)) / d,
    b2: (analog.n2 - analog.n1 * k + analog.n0 * kk) / d,
    a1: (2 * (kk - 1)) / d,
    a2: (1 - kq + kk) / d,
  };
}

const PREFILTER_PROTOTYPE = analogPrototypeOf(BS1770_PREFILTER_48K, 48000);
const RLB_PROTOTYPE = analogPrototypeOf(BS1770_RLB_48K, 48000);

/** The two K-weighting stages at `sampleRate` (Hz): [pre-filter, RLB high-pass]. */
export function kWeightingFilters(sampleRate: number): [Biquad, Biquad] {
  return [biquadFor(PREFILTER_PROTOTYPE, sampleRate), biquadFor(RLB_PROTOTYPE, sampleRate)];
}

/** The analog prototypes recovered from the standard's 48 kHz tables (exposed for tests and docs). */
export const K_WEIGHTING_PROTOTYPES: Readonly<{ prefilter: AnalogBiquad; rlb: AnalogBiquad }> = {
  prefilter: PREFILTER_PROTOTYPE,
  rlb: RLB_PROTOTYPE,
};

/** Below this a filter state is flushed to zero so long silences never run on subnormal numbers. */
const DENORMAL_FLOOR = 1e-30;

/**
 * K-weights one channel and adds the energy (sum of squares) of the filtered signal, times `weight`,
 * into consecutive segments of `segmentLength` samples: `energies[s] += weight · Σ y²` over segment s.
 * Samples after the last whole segment are not counted (BS.1770 blocks only whole steps).
 */
export function accumulateKWeightedEnergy(
  samples: Float32Array,
  sampleRate: number,
  segmentLength: number,
  weight: number,
  energies: Float64Array,
): void {
  // The whole channel in one piece: the streaming accumulator runs the same filter loop.
  const whole = Math.floor(samples.length / segmentLength) * segmentLength;
  createKWeightedEnergyAccumulator(sampleRate, segmentLength, weight, energies).push(samples.subarray(0, whole));
}

/** Streaming form of {@link accumulateKWeightedEnergy} for one channel fed in consecutive pieces. */
export interface KWeightedEnergyAccumulator {
  /**
   * K-weights the next `samples` of the channel, continuing the filters from the previous call, and
   * adds the energy of every segment they complete into `energies`.
   */
  push(samples: Float32Array): void;
}

/**
 * A K-weighting energy accumulator that carries the filter state and the partly filled segment across
 * calls, so that pushing a channel in pieces of any sizes adds exactly what
 * {@link accumulateKWeightedEnergy} adds for the whole channel at once: the same operations in the
 * same order, so the same numbers to the last bit. Lets a caller measure a signal it computes piece by
 * piece (e.g. a gain curve applied to an input) without materialising it.
 * @param sampleRate in Hz.
 * @param segmentLength samples per energy segment (≥ 1).
 * @param weight channel weight G_i applied to the energy.
 * @param energies receives `weight · Σ y²` per whole segment; must hold ⌊total samples / segmentLength⌋
 *   entries. A trailing partial segment is not counted.
 */
export function createKWeightedEnergyAccumulator(
  sampleRate: number,
  segmentLength: number,
  weight: number,
  energies: Float64Array,
): KWeightedEnergyAccumulator {
  const [pre, rlb] = kWeightingFilters(sampleRate);
  const g = rlb.b0;
  const coefficients = new Float64Array([pre.b0, pre.b1, pre.b2, pre.a1, pre.a2, rlb.a1, rlb.a2, weight * g * g, segmentLength]);
  const state = new Float64Array(STATE_SLOTS);
  return { push: (samples) => kWeightInto(samples, coefficients, state, energies) };
}

/** Slots of an accumulator's state: the two filters' x, y and z histories, then the open segment's sum, fill and index. */
const STATE_SLOTS = 9;

/**
 * The accumulator's work, as a plain function over typed arrays: the coefficients (pre-filter b0, b1,
 * b2, a1, a2, RLB a1, a2, the energy scale weight·g², the segment length) and the state between calls
 * (x1, x2, y1, y2, z1, z2, sum, filled, segment) are read into locals for the hot loop and the state
 * written back at the end. Written as a closure over the coefficients and over the state in closure
 * variables, the loop ran 3–4× slower and boxed a number per operation (≈ 30 MB of garbage per pass
 * over 30 s at 44.1 kHz; measured in V8 11.3, Node 20): reading captured numbers and writing captured
 * state kept TurboFan from optimising it as it does this form. Same operations in the same order.
 */
function kWeightInto(samples: Float32Array, coefficients: Float64Array, state: Float64Array, energies: Float64Array): void {
  const b0 = coefficients[0];
  const b1 = coefficients[1];
  const b2 = coefficients[2];
  const a1 = coefficients[3];
  const a2 = coefficients[4];
  const c1 = coefficients[5];
  const c2 = coefficients[6];
  const scale = coefficients[7];
  const segmentLength = coefficients[8];
  let x1 = state[0];
  let x2 = state[1];
  let y1 = state[2];
  let y2 = state[3];
  let z1 = state[4];
  let z2 = state[5];
  let sum = state[6];
  let filled = state[7];
  let segment = state[8];
  const n = samples.length;
  let i = 0;
  while (i < n) {
    const end = Math.min(n, i + segmentLength - filled);
    filled += end - i;
    for (; i < end; i++) {
      const x = samples[i];
      const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      const z = y - 2 * y1 + y2 - c1 * z1 - c2 * z2;
      y2 = y1;
      y1 = y;
      z2 = z1;
      z1 = z;
      sum += z * z;
    }
    if (filled === segmentLength) {
      energies[segment++] += scale * sum;
      sum = 0;
      filled = 0;
      if (Math.abs(y1) < DENORMAL_FLOOR && Math.abs(y2) < DENORMAL_FLOOR) {
        y1 = 0;
        y2 = 0;
      }
      if (Math.abs(z1) < DENORMAL_FLOOR && Math.abs(z2) < DENORMAL_FLOOR) {
        z1 = 0;
        z2 = 0;
      }
    }
  }
  state[0] = x1;
  state[1] = x2;
  state[2] = y1;
  state[3] = y2;
  state[4] = z1;
  state[5] = z2;
  state[6] = sum;
  state[7] = filled;
  state[8] = segment;
}
