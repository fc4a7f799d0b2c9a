/**
 * Melody analysis: decoded PCM in, notes and measurements out. Pure and synchronous; the caller
 * (CLI, worker) decodes, validates and times it.
 */
import type { DecodedAudio, MelodyAnalysis, MonoAudio } from './types.js';
import { mixdown } from './dsp/mixdown.js';
import { trackPitch, type PitchOptions } from './pitch/pitch.js';
import { segmentNotes } from './notes/notes.js';
import { computeOnsetEnvelope } from './notes/onsets.js';
import { estimateKey } from './key/key.js';
import { estimateTempo } from './tempo/tempo.js';
import { findPhrases } from './phrases/phrases.js';
import { measureLoudness } from './loudness/loudness.js';
import { throwIfAborted } from '../platform/errors.js';

/** The analysis steps, in order, as reported to `onStep`. */
export type AnalysisStep = 'loudness' | 'pitch' | 'notes' | 'key' | 'tempo' | 'phrases';

export interface AnalyzeOptions {
  pitch?: PitchOptions;
  /** Level at or above which a sample counts as clipped, dBFS; default -0.1. */
  clipThresholdDbfs?: number;
  /** Called before each step starts (used for progress bars and stage timing). */
  onStep?: (step: AnalysisStep) => void;
  /** Checked between steps; an aborted signal throws `AbortedError`. */
  signal?: AbortSignal;
}

/** Analyses a decoded recording: loudness on all channels, everything else on the mono mix. */
export function analyzeMelody(audio: DecodedAudio, options: AnalyzeOptions = {}): MelodyAnalysis {
  const step = (name: AnalysisStep): void => {
    throwIfAborted(options.signal);
    options.onStep?.(name);
  };
  const durationSeconds = audio.channels.length ? audio.channels[0].length / audio.sampleRate : 0;

  step('loudness');
  const loudness = measureLoudness(audio.channels, audio.sampleRate, { clipThresholdDbfs: options.clipThresholdDbfs });

  step('pitch');
  const mono: MonoAudio = { sampleRate: audio.sampleRate, samples: mixdown(audio.channels) };
  const pitch = trackPitch(mono, options.pitch);

  step('notes');
  // One onset envelope serves both note splitting (repeated notes) and tempo.
  const onsetEnvelope = computeOnsetEnvelope(mono);
  const notes = segmentNotes(pitch, mono, { onsetEnvelope });

  step('key');
  const key = estimateKey(notes);

  step('tempo');
  const tempo = estimateTempo(notes, onsetEnvelope);

  step('phrases');
  const phrases = findPhrases(notes, tempo);
  throwIfAborted(options.signal);

  return { durationSeconds, pitch, notes, key, tempo, phrases, loudness };
}
