/**
 * Quality checks on the sung output: loudness normalisation to a target with a true-peak ceiling,
 * pitch accuracy measured by running our own pitch tracker on the rendered voice, and flags for silent
 * or clipped output. Pure.
 */
import { trackPitchSliced } from '../pitch/pitch.js';
import { hzToMidi } from '../pitch-math.js';
import { measureLevelsSliced } from '../loudness/levels.js';
import { normalizeLoudnessSliced, DEFAULT_MAX_TRUE_PEAK_DBTP, DEFAULT_TARGET_LUFS } from '../loudness/normalize.js';
import { runSliced, type Sliced } from '../sliced.js';

export interface QualityOptions {
  /** Target integrated loudness, LUFS; default -14. */
  targetLufs?: number;
  /** True-peak ceiling, dBTP; default -1. */
  maxTruePeakDbtp?: number;
  /** A frame counts as on pitch within this many cents of the intended note; default 50. */
  toleranceCents?: number;
  /** Mean level (dBFS) under which the output counts as silent; default -60. */
  silenceDbfs?: number;
  /** Pitch accuracy from {@link sungPitchAccuracy}, when measured before (as the pipeline does, to yield in between). */
  pitchAccuracy?: number;
  /** Normalise over `samples` itself (the caller owns them and needs only the result). Default false. */
  inPlace?: boolean;
}

export interface QualityIssue {
  code: string;
  message: string;
}

export interface QualityResult {
  /** The normalised mono signal. */
  samples: Float32Array;
  /** Share (0..1) of frames with an intended note whose tracked pitch is within tolerance; NaN when nothing was sung. */
  pitchAccuracy: number;
  integratedLufs: number;
  truePeakDbtp: number;
  /** Static gain applied by the normalisation, dB. */
  gainDb: number;
  /** True when the true-peak limiter had to act. */
  limited: boolean;
  silent: boolean;
  clipped: boolean;
  /** Non-blocking findings for the report. */
  warnings: QualityIssue[];
}

/**
 * Share of the frames where the voice should hold a note (intended MIDI > 0) whose tracked f0 lies
 * within `toleranceCents` of it. Both grids are 10 ms with frame k at k·0.01 s.
 */
export function sungPitchAccuracy(
  samples: Float32Array,
  sampleRate: number,
  intended: { times: Float64Array; midi: Float32Array },
  toleranceCents = 50,
): number {
  return runSliced(sungPitchAccuracySliced(samples, sampleRate, intended, toleranceCents));
}

/** {@link sungPitchAccuracy} as a sliced computation (see sliced.ts); same result. */
export function* sungPitchAccuracySliced(
  samples: Float32Array,
  sampleRate: number,
  intended: { times: Float64Array; midi: Float32Array },
  toleranceCents = 50,
): Sliced<number> {
  const track = yield* trackPitchSliced({ samples, sampleRate });
  let frames = 0;
  let onPitch = 0;
  for (let k = 0; k < intended.midi.length; k++) {
    const target = intended.midi[k];
    if (!(target > 0)) continue;
    frames++;
    const index = Math.round(intended.times[k] / track.hopSeconds);
    const hz = index < track.hz.length ? track.hz[index] : 0;
    if (hz > 0 && Math.abs(hzToMidi(hz) - target) * 100 <= toleranceCents) onPitch++;
  }
  return frames ? onPitch / frames : Number.NaN;
}

/**
 * Normalises the voice and measures it. Pitch accuracy is measured against `intended` unless
 * `options.pitchAccuracy` already holds it.
 */
export function checkVocals(
  samples: Float32Array,
  sampleRate: number,
  options: QualityOptions & { intended?: { times: Float64Array; midi: Float32Array } } = {},
): QualityResult {
  return runSliced(checkVocalsSliced(samples, sampleRate, options));
}

/** {@link checkVocals} as a sliced computation (see sliced.ts); same result. */
export function* checkVocalsSliced(
  samples: Float32Array,
  sampleRate: number,
  options: QualityOptions & { intended?: { times: Float64Array; midi: Float32Array } } = {},
): Sliced<QualityResult> {
  const targetLufs = options.targetLufs ?? DEFAULT_TARGET_LUFS;
  const maxTruePeakDbtp = options.maxTruePeakDbtp ?? DEFAULT_MAX_TRUE_PEAK_DBTP;
  const warnings: QualityIssue[] = [];

  const pitchAccuracy =
    options.pitchAccuracy ??
    (options.intended ? yield* sungPitchAccuracySliced(samples, sampleRate, options.intended, options.toleranceCents ?? 50) : Number.NaN);
  const normalized = yield* normalizeLoudnessSliced([samples], sampleRate, { targetLufs, maxTruePeakDbtp, inPlace: options.inPlace });
  const out = normalized.channels[0];
  const levels = yield* measureLevelsSliced([out]);
  const silent = !(levels.meanDbfs >= (options.silenceDbfs ?? -60));
  const clipped = levels.samplePeakDbfs >= -0.1 || levels.clippedRatio > 0;

  if (silent) warnings.push({ code: 'SILENT_OUTPUT', message: 'The rendered vocals are silent.' });
  if (clipped)
    warnings.push({ code: 'CLIPPED_OUTPUT', message: `The rendered vocals clip (peak ${levels.samplePeakDbfs.toFixed(2)} dBFS).` });
  if (Number.isFinite(normalized.integratedLufs) && Math.abs(normalized.integratedLufs - targetLufs) > 0.5) {
    warnings.push({
      code: 'LOUDNESS_TARGET_MISSED',
      message: `The vocals reach ${normalized.integratedLufs.toFixed(1)} LUFS instead of ${targetLufs} LUFS without exceeding ${maxTruePeakDbtp} dBTP.`,
    });
  }
  if (Number.isFinite(pitchAccuracy) && pitchAccuracy < 0.9) {
    warnings.push({
      code: 'LOW_PITCH_ACCURACY',
      message: `Only ${(pitchAccuracy * 100).toFixed(0)} % of the sung frames are within 50 cents of their note.`,
    });
  }
  return {
    samples: out,
    pitchAccuracy,
    integratedLufs: normalized.integratedLufs,
    truePeakDbtp: normalized.truePeakDbtp,
    gainDb: normalized.gainDb,
    limited: normalized.limited,
    silent,
    clipped,
    warnings,
  };
}
