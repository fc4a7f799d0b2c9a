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
  const { b0, b1, b2, a1, a2 } = pre;
  const g = rlb.b0;
  const c1 = rlb.a1;
  const c2 = rlb.a2;
  const scale = weight * g * g;
  // The state between calls lives in closure variables rather than an object: a property store after
  // the hot loop has no type feedback when V8 compiles the loop on stack replacement, so the loop's
  // optimised code deoptimised at the end of a call (`--trace-deopt`, "Insufficient type feedback for
  // generic named access"). Closure variables are written without type feedback; an object literal
  // would not help (each of its fields is a store that uses feedback).
  let savedX1 = 0;
  let savedX2 = 0;
  let savedY1 = 0;
  let savedY2 = 0;
  let savedZ1 = 0;
  let savedZ2 = 0;
  let savedSum = 0;
  let savedFilled = 0;
  let savedSegment = 0;
  return {
    push(samples: Float32Array): void {
      // State in locals for the hot loop (V8 keeps them in registers), written back at the end.
      let x1 = savedX1;
      let x2 = savedX2;
      let y1 = savedY1;
      let y2 = savedY2;
      let z1 = savedZ1;
      let z2 = savedZ2;
      let sum = savedSum;
      let filled = savedFilled;
      let segment = savedSegment;
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
      savedX1 = x1;
      savedX2 = x2;
      savedY1 = y1;
      savedY2 = y2;
      savedZ1 = z1;
      savedZ2 = z2;
      savedSum = sum;
      savedFilled = filled;
      savedSegment = segment;
    },
  };
}
