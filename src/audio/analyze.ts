/**
 * Melody analysis: decoded PCM in, notes and measurements out. Pure and synchronous; the caller
 * (CLI, worker) decodes, validates and times it.
 */
import type { DecodedAudio, MelodyAnalysis, MonoAudio } from './types.js';
import { mixdown } from './dsp/mixdown.js';
import { trackPitchSliced, type PitchOptions } from './pitch/pitch.js';
import { segmentNotesSliced } from './notes/notes.js';
import { computeOnsetEnvelopeSliced } from './notes/onsets.js';
import { estimateKey } from './key/key.js';
import { estimateTempo } from './tempo/tempo.js';
import { findPhrases } from './phrases/phrases.js';
import { measureLoudnessSliced } from './loudness/loudness.js';
import type { LevelStats } from './loudness/levels.js';
import { throwIfAborted } from './errors.js';

/** Level at or above which the analysis counts a sample as clipped, dBFS (AnalyzeOptions.clipThresholdDbfs). */
export const DEFAULT_CLIP_THRESHOLD_DBFS = -0.1;

/**
 * The analysis option that reuses validation's level scan of the same decoded samples
 * (`validateAndDecode`'s `levels`) when it counted clipping at the analysis' default threshold; none
 * otherwise (the analysis then scans at its own). Spares one pass over the input.
 */
export function reuseValidationLevels(levels: { clipDbfs: number; stats: LevelStats }): Pick<AnalyzeOptions, 'levels'> {
  return levels.clipDbfs === DEFAULT_CLIP_THRESHOLD_DBFS ? { levels: levels.stats } : {};
}

/** The analysis steps, in order, as reported to `onStep`. */
export type AnalysisStep = 'loudness' | 'pitch' | 'notes' | 'key' | 'tempo' | 'phrases';

export interface AnalyzeOptions {
  pitch?: PitchOptions;
  /** Level at or above which a sample counts as clipped, dBFS; default -0.1. */
  clipThresholdDbfs?: number;
  /** The input's level figures at `clipThresholdDbfs`, when already measured (see {@link reuseValidationLevels}). */
  levels?: LevelStats;
  /** Called before each step starts (used for progress bars and stage timing); analyzeMelody only. */
  onStep?: (step: AnalysisStep) => void;
  /** Checked between steps; an aborted signal throws `AbortedError`; analyzeMelody only. */
  signal?: AbortSignal;
}

/**
 * The analysis as a sequence of steps: the generator yields the name of each step before running it,
 * `undefined` between slices of the long steps' work (see sliced.ts), and returns the result.
 * {@link analyzeMelody} runs it straight through; the conversion pipeline awaits between steps (and,
 * when its time slice is used up, between slices) so an abort can land and progress can be reported.
 */
export function* analysisSteps(
  audio: DecodedAudio,
  options: AnalyzeOptions = {},
): Generator<AnalysisStep | undefined, MelodyAnalysis, void> {
  const durationSeconds = audio.channels.length ? audio.channels[0].length / audio.sampleRate : 0;

  yield 'loudness';
  const loudness = yield* measureLoudnessSliced(audio.channels, audio.sampleRate, {
    clipThresholdDbfs: options.clipThresholdDbfs ?? DEFAULT_CLIP_THRESHOLD_DBFS,
    levels: options.levels,
  });

  yield 'pitch';
  const mono: MonoAudio = { sampleRate: audio.sampleRate, samples: mixdown(audio.channels) };
  yield;
  const pitch = yield* trackPitchSliced(mono, options.pitch);

  yield 'notes';
  // One onset envelope serves both note splitting (repeated notes) and tempo.
  const onsetEnvelope = yield* computeOnsetEnvelopeSliced(mono);
  const notes = yield* segmentNotesSliced(pitch, mono, { onsetEnvelope });

  yield 'key';
  const key = estimateKey(notes);

  yield 'tempo';
  const tempo = estimateTempo(notes, onsetEnvelope);

  yield 'phrases';
  const phrases = findPhrases(notes, tempo);

  return { durationSeconds, pitch, notes, key, tempo, phrases, loudness };
}

/** Analyses a decoded recording: loudness on all channels, everything else on the mono mix. */
export function analyzeMelody(audio: DecodedAudio, options: AnalyzeOptions = {}): MelodyAnalysis {
  const steps = analysisSteps(audio, options);
  for (let next = steps.next(); ; next = steps.next()) {
    throwIfAborted(options.signal);
    if (next.done) return next.value;
    if (next.value !== undefined) options.onStep?.(next.value);
  }
}
