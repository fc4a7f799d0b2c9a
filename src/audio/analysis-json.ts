/**
 * The JSON form of an analysis, as `melody-vocals analyze --json` prints it and the service stores it.
 * Numbers are rounded to what is meaningful (ms for times, 0.01 Hz, 0.01 dB) to keep it compact;
 * non-finite levels (silence) become null.
 */
import { formatSummary } from './decode/decode.js';
import { LOW_CONFIDENCE } from './notes/notes.js';
import type { DecodedAudio, LoudnessReport, MelodyAnalysis, ValidationReport } from './types.js';

export interface AnalysisJson {
  format: string;
  codec: string;
  sampleRate: number;
  channels: number;
  bitrate: number | null;
  durationSeconds: number;
  validation: ValidationReport;
  key: MelodyAnalysis['key'];
  tempo: MelodyAnalysis['tempo'];
  phrases: MelodyAnalysis['phrases'];
  /** `lowConfidence`: confidence below notes.ts LOW_CONFIDENCE, worth checking (and correcting with a melody file). */
  notes: { start: number; end: number; midi: number; confidence: number; lowConfidence: boolean }[];
  pitch: { hopSeconds: number; times: number[]; hz: number[] };
  loudness: { [K in keyof LoudnessReport]: number | null };
}

const round = (value: number, digits: number): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};

/** Finite numbers rounded; -Infinity/NaN (silence) as null. */
const level = (value: number): number | null => (Number.isFinite(value) ? round(value, 2) : null);

export function toAnalysisJson(audio: DecodedAudio, validation: ValidationReport, analysis: MelodyAnalysis): AnalysisJson {
  const { pitch, loudness } = analysis;
  const times: number[] = new Array(pitch.times.length);
  const hz: number[] = new Array(pitch.hz.length);
  for (let i = 0; i < pitch.times.length; i++) {
    times[i] = round(pitch.times[i], 3);
    hz[i] = round(pitch.hz[i], 2);
  }
  return {
    ...formatSummary(audio),
    durationSeconds: round(analysis.durationSeconds, 3),
    validation,
    key: analysis.key && { ...analysis.key, confidence: round(analysis.key.confidence, 3) },
    tempo: analysis.tempo && { bpm: round(analysis.tempo.bpm, 1), confidence: round(analysis.tempo.confidence, 3) },
    phrases: analysis.phrases.map((p) => ({ ...p, start: round(p.start, 3), end: round(p.end, 3) })),
    notes: analysis.notes.map((n) => ({
      start: round(n.start, 3),
      end: round(n.end, 3),
      midi: round(n.midi, 2),
      confidence: round(n.confidence, 3),
      lowConfidence: n.confidence < LOW_CONFIDENCE,
    })),
    pitch: { hopSeconds: pitch.hopSeconds, times, hz },
    loudness: {
      integratedLufs: level(loudness.integratedLufs),
      samplePeakDbfs: level(loudness.samplePeakDbfs),
      truePeakDbtp: level(loudness.truePeakDbtp),
      meanDbfs: level(loudness.meanDbfs),
      clippedRatio: round(loudness.clippedRatio, 6),
    },
  };
}
