/**
 * Integrated loudness per ITU-R BS.1770-4 (= EBU R 128 "programme loudness"), plus the level figures
 * of the {@link LoudnessReport}: sample peak, true peak, mean level and share of clipped samples.
 *
 * Steps (BS.1770-4 §2 and Annex 1):
 * 1. K-weight every channel ({@link accumulateKWeightedEnergy}).
 * 2. Gating blocks of 400 ms overlapping by 75 % (a new block every 100 ms). Each block's mean square
 *    z_i per channel is weighted by G_i and summed; its loudness is l_j = −0.691 + 10·log10(Σ G_i·z_ij).
 *    We accumulate energy per 100 ms step once and add four consecutive steps per block.
 * 3. Absolute gate: keep blocks with l_j > −70 LUFS.
 * 4. Relative gate: Γr = (loudness of the mean energy of the kept blocks) − 10 LU; keep blocks above it.
 * 5. Integrated loudness = −0.691 + 10·log10(mean of Σ G_i·z_ij over the blocks that pass both gates).
 *
 * Extensions the standard leaves open:
 * - The step is round(0.1·fs) samples and a block is four steps; exact for 8, 16, 22.05, 32, 44.1,
 *   48, 88.2, 96 kHz…, within half a sample elsewhere.
 * - A signal shorter than one block is measured as a single block of its own length (the standard would
 *   have no block and no value); an empty or silent signal reads −Infinity.
 */
import type { LoudnessReport } from '../types.js';
import { createKWeightedEnergyAccumulator } from './k-weighting.js';
import { measureLevelsSliced, toDb, type LevelStats } from './levels.js';
import { truePeakAmplitudeSliced } from './true-peak.js';
import { runSliced, SLICE_SAMPLES, type Sliced } from '../sliced.js';

/** BS.1770-4 absolute gating threshold, LUFS. */
export const ABSOLUTE_GATE_LUFS = -70;
/** BS.1770-4 relative gating threshold, LU below the absolute-gated loudness. */
export const RELATIVE_GATE_LU = -10;
/** Gating block length in seconds. */
export const BLOCK_SECONDS = 0.4;
/** Hop between gating blocks in seconds (75 % overlap). */
export const STEP_SECONDS = 0.1;

const STEPS_PER_BLOCK = 4;
/** −0.691 dB: makes a 1 kHz sine read its own level once K-weighted (BS.1770-4 eq. 2). */
const LOUDNESS_OFFSET = -0.691;

export interface LoudnessOptions {
  /** Samples at or above this level count as clipped, dBFS; default -0.1. */
  clipThresholdDbfs?: number;
  /**
   * The {@link measureLevels} figures of these same channels at this same clip threshold, when the
   * caller has them (validation measures them first): used instead of scanning the samples again.
   */
  levels?: LevelStats;
}

/**
 * Channel weights G_i of BS.1770-4 Table 3, by channel position. The standard weights channels by
 * loudspeaker position, which a bare array of samples does not carry, so we assume the usual WAVE /
 * SMPTE orders:
 * - 1 or 2 channels (mono, L R): all 1.0;
 * - 3 channels: L R C, all 1.0;
 * - 4 channels: L R Ls Rs (quad): 1.0 1.0 1.41 1.41;
 * - 5 channels: L R C Ls Rs: 1.0 1.0 1.0 1.41 1.41;
 * - 6 or more: L R C LFE Ls Rs, then any further channels at 1.0; LFE excluded (weight 0).
 */
export function channelWeights(channelCount: number): number[] {
  const weights = new Array<number>(channelCount).fill(1);
  if (channelCount === 4) {
    weights[2] = 1.41;
    weights[3] = 1.41;
  } else if (channelCount === 5) {
    weights[3] = 1.41;
    weights[4] = 1.41;
  } else if (channelCount >= 6) {
    weights[3] = 0;
    weights[4] = 1.41;
    weights[5] = 1.41;
  }
  return weights;
}

/** Loudness (LUFS) of a weighted mean square, −Infinity for zero. */
export function energyToLufs(energy: number): number {
  return energy > 0 ? LOUDNESS_OFFSET + 10 * Math.log10(energy) : -Infinity;
}

/**
 * Integrated (gated) loudness in LUFS of one programme; −Infinity for silence or no samples.
 * @param channels one Float32Array per channel, all the same length; order as in {@link channelWeights}.
 * @param sampleRate in Hz (any rate; the K-weighting is derived for it).
 */
export function measureIntegratedLoudness(channels: Float32Array[], sampleRate: number): number {
  return runSliced(measureIntegratedLoudnessSliced(channels, sampleRate));
}

/**
 * K-weights `x` into `energies` as accumulateKWeightedEnergy does, pushing it to the streaming
 * accumulator a slice at a time: the same numbers to the last bit.
 */
function* accumulateSliced(
  x: Float32Array,
  sampleRate: number,
  segmentLength: number,
  weight: number,
  energies: Float64Array,
): Sliced<void> {
  // Only whole segments count, as in accumulateKWeightedEnergy.
  const whole = Math.floor(x.length / segmentLength) * segmentLength;
  const accumulator = createKWeightedEnergyAccumulator(sampleRate, segmentLength, weight, energies);
  for (let from = 0; from < whole; from += SLICE_SAMPLES) {
    accumulator.push(x.subarray(from, Math.min(whole, from + SLICE_SAMPLES)));
    yield;
  }
}

/** {@link measureIntegratedLoudness} as a sliced computation (see sliced.ts); same result. */
export function* measureIntegratedLoudnessSliced(channels: Float32Array[], sampleRate: number): Sliced<number> {
  const length = channels.length ? channels[0].length : 0;
  if (length === 0) return -Infinity;
  const step = Math.max(1, Math.round(STEP_SECONDS * sampleRate));
  const blockLength = STEPS_PER_BLOCK * step;
  const weights = channelWeights(channels.length);

  if (length < blockLength) {
    // Shorter than one block: the whole signal is the only block (no gating beyond the absolute gate).
    const energy = new Float64Array(1);
    for (let c = 0; c < channels.length; c++) {
      if (weights[c] > 0) yield* accumulateSliced(channels[c], sampleRate, length, weights[c], energy);
    }
    const loudness = energyToLufs(energy[0] / length);
    return loudness > ABSOLUTE_GATE_LUFS ? loudness : -Infinity;
  }

  const steps = Math.floor(length / step);
  const stepEnergy = new Float64Array(steps);
  for (let c = 0; c < channels.length; c++) {
    if (weights[c] > 0) yield* accumulateSliced(channels[c], sampleRate, step, weights[c], stepEnergy);
  }

  return gatedLoudness(stepEnergy, STEPS_PER_BLOCK, blockLength);
}

/**
 * Measures integrated loudness (BS.1770-4), sample peak, true peak (4× oversampled, BS.1770-4 Annex 2),
 * mean (RMS) level and the share of clipped samples.
 * @param channels one Float32Array per channel, same length, samples in [-1, 1]; channel order for more
 *   than two channels as in {@link channelWeights}.
 * @param sampleRate in Hz.
 * @returns integratedLufs −Infinity for silence; peaks and mean −Infinity for digital silence.
 */
export function measureLoudness(channels: Float32Array[], sampleRate: number, options: LoudnessOptions = {}): LoudnessReport {
  return runSliced(measureLoudnessSliced(channels, sampleRate, options));
}

/** {@link measureLoudness} as a sliced computation (see sliced.ts); same result. */
export function* measureLoudnessSliced(
  channels: Float32Array[],
  sampleRate: number,
  options: LoudnessOptions = {},
): Sliced<LoudnessReport> {
  const levels = options.levels ?? (yield* measureLevelsSliced(channels, options.clipThresholdDbfs ?? -0.1));
  const integratedLufs = yield* measureIntegratedLoudnessSliced(channels, sampleRate);
  const truePeak = yield* truePeakAmplitudeSliced(channels, sampleRate);
  return {
    integratedLufs,
    samplePeakDbfs: levels.samplePeakDbfs,
    truePeakDbtp: toDb(truePeak),
    meanDbfs: levels.meanDbfs,
    clippedRatio: levels.clippedRatio,
  };
}

/**
 * BS.1770-4 gating over per-step energies: blocks of `stepsPerBlock` steps, absolute gate at
 * {@link ABSOLUTE_GATE_LUFS}, relative gate {@link RELATIVE_GATE_LU} under the absolute-gated
 * loudness. Shared by measureIntegratedLoudness and the streaming measurement in normalize.ts.
 */
export function gatedLoudness(stepEnergy: Float64Array, stepsPerBlock: number, blockLength: number): number {
  const blocks = stepEnergy.length - stepsPerBlock + 1;
  const blockEnergy = new Float64Array(blocks);
  for (let j = 0; j < blocks; j++) {
    let sum = 0;
    for (let s = 0; s < stepsPerBlock; s++) sum += stepEnergy[j + s];
    blockEnergy[j] = sum / blockLength;
  }
  const absoluteGate = Math.pow(10, (ABSOLUTE_GATE_LUFS - LOUDNESS_OFFSET) / 10);
  let sum = 0;
  let count = 0;
  for (let j = 0; j < blocks; j++) {
    if (blockEnergy[j] > absoluteGate) {
      sum += blockEnergy[j];
      count++;
    }
  }
  if (count === 0) return -Infinity;
  const relativeGate = (sum / count) * Math.pow(10, RELATIVE_GATE_LU / 10);
  const gate = Math.max(absoluteGate, relativeGate);
  sum = 0;
  count = 0;
  for (let j = 0; j < blocks; j++) {
    if (blockEnergy[j] > gate) {
      sum += blockEnergy[j];
      count++;
    }
  }
  return count ? energyToLufs(sum / count) : -Infinity;
}
