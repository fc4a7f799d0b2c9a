/**
 * Vocals from a remote engine: what it is asked to sing, and whether what it sent back may be
 * delivered instead of the embedded voice.
 *
 * The request ({@link buildVocalRequest}) carries the score as the embedded voice would sing it: the
 * same {@link prepareScore} (note cleaning, semitone snapping, whole-octave transposition into the
 * voice's range), so a remote take and an embedded one agree with each other and with the exported
 * score's transposition.
 *
 * The take ({@link checkTake}) is decoded with the pure WAV decoder (any PCM layout and rate), mixed
 * down to mono, resampled to the output rate, and measured against the intended pitch built from the
 * prepared notes ({@link intendedPitchOf}). It is rejected when it does not decode (`BAD_WAV`), is
 * silent (`SILENT`, mean level under -60 dBFS, the quality check's own silence threshold) or sings
 * out of tune (`PITCH`, accuracy under {@link MIN_TAKE_PITCH_ACCURACY}).
 */
import { ValidationError } from '../errors.js';
import type { Score } from '../types.js';
import type { VocalNote, VocalRequest } from '../providers.js';
import { decodeWav } from '../decode/wav.js';
import { mixdown } from '../dsp/mixdown.js';
import { resample } from '../dsp/resample.js';
import { measureLevels } from '../loudness/levels.js';
import { sungPitchAccuracy } from '../quality/quality.js';
import { TAIL_SECONDS, type PreparedScore } from './voice.js';

/** Lowest share of on-pitch frames (within 50 cents) of an accepted take. */
export const MIN_TAKE_PITCH_ACCURACY = 0.5;
/** Mean level under which a take counts as silent, dBFS (as in `checkVocals`). */
const SILENCE_DBFS = -60;
const HOP = 0.01;
/**
 * Frames this close to a note's start or end are left out of the intended pitch: the embedded voice
 * places onset consonants and an 80 ms portamento there, and a remote engine is free to do the same.
 */
const ONSET_MARGIN = 0.08;
const RELEASE_MARGIN = 0.04;
/** A take may be this much longer than the score before the rest is not decoded, s. */
const MAX_EXTRA_SECONDS = 30;

/** The request's context besides the score: the request without what the score gives (notes, tempo, key). */
export type VocalRequestContext = Omit<VocalRequest, 'notes' | 'tempoBpm' | 'key'>;

/** The prepared notes moved by the chosen transposition: what is to be sung. */
export function transposedNotes(prepared: PreparedScore): PreparedScore['notes'] {
  return prepared.notes.map((n) => ({ ...n, midi: n.midi + prepared.semitones }));
}

/** What a vocal engine is asked to sing: the prepared, transposed notes with their syllables. */
export function buildVocalRequest(score: Score, prepared: PreparedScore, context: VocalRequestContext): VocalRequest {
  const notes: VocalNote[] = transposedNotes(prepared).map((n) => ({
    midi: n.midi,
    start: n.start,
    duration: n.end - n.start,
    syllable: n.continuation ? '' : n.syllable,
    phonemes: n.continuation ? [] : [...n.phonemes],
    continuation: n.continuation,
    stressed: n.stressed,
    phrase: n.phraseIndex,
  }));
  return {
    melody: context.melody,
    fileName: context.fileName,
    notes,
    lyrics: context.lyrics,
    voice: context.voice,
    seed: context.seed,
    prompt: context.prompt,
    genre: context.genre,
    mood: context.mood,
    tempoBpm: score.tempo && Number.isFinite(score.tempo.bpm) ? score.tempo.bpm : null,
    key: score.key?.label ?? null,
    sampleRate: context.sampleRate,
  };
}

/**
 * The pitch a take should hold on the 10 ms grid (frame k at k · 0.01 s), as `SingResult.intendedPitch`
 * is defined: the note's MIDI number inside each note, away from its onset and release (see the margins
 * above), 0 elsewhere. Covers the last note's end plus the voice's release tail.
 */
export function intendedPitchOf(notes: readonly { start: number; end: number; midi: number }[]): {
  times: Float64Array;
  midi: Float32Array;
} {
  const duration = notes.length ? Math.max(...notes.map((n) => n.end)) + TAIL_SECONDS : 0;
  const frames = notes.length ? Math.floor(duration / HOP) + 1 : 0;
  const times = new Float64Array(frames);
  const midi = new Float32Array(frames);
  for (let f = 0; f < frames; f++) times[f] = f * HOP;
  for (const note of notes) {
    const from = Math.ceil((note.start + ONSET_MARGIN) / HOP - 1e-9);
    const to = Math.floor((note.end - RELEASE_MARGIN) / HOP + 1e-9);
    for (let f = Math.max(0, from); f <= to && f < frames; f++) midi[f] = note.midi;
  }
  return { times, midi };
}

export interface AcceptedTake {
  ok: true;
  /** Mono samples at `sampleRate` (the caller's to normalise in place). */
  samples: Float32Array;
  sampleRate: number;
  /** Share of intended frames on pitch (see `sungPitchAccuracy`). */
  pitchAccuracy: number;
}

export interface RejectedTake {
  ok: false;
  reason: 'BAD_WAV' | 'SILENT' | 'PITCH';
  message: string;
}

/**
 * Decodes and judges a remote take (rules in the module comment). Pure; never throws for bad bytes.
 * @param sampleRate the output rate the take is resampled to, Hz.
 */
export function checkTake(
  wav: Uint8Array,
  intended: { times: Float64Array; midi: Float32Array },
  sampleRate: number,
): AcceptedTake | RejectedTake {
  let decoded;
  try {
    decoded = decodeWav(wav, { maxSeconds: intended.times.length * HOP + MAX_EXTRA_SECONDS });
  } catch (error) {
    if (error instanceof ValidationError)
      return { ok: false, reason: 'BAD_WAV', message: `The take is not a readable WAV file: ${error.message}` };
    throw error;
  }
  if (decoded.channels.length === 0 || decoded.channels[0].length === 0)
    return { ok: false, reason: 'SILENT', message: 'The take has no samples.' };
  const mono = mixdown(decoded.channels);
  const samples = resample(mono, decoded.sampleRate, sampleRate);
  const levels = measureLevels([samples]);
  if (!(levels.meanDbfs >= SILENCE_DBFS))
    return {
      ok: false,
      reason: 'SILENT',
      message: `The take is silent (mean level ${Number.isFinite(levels.meanDbfs) ? levels.meanDbfs.toFixed(1) : '-∞'} dBFS).`,
    };
  const pitchAccuracy = sungPitchAccuracy(samples, sampleRate, intended);
  if (!(pitchAccuracy >= MIN_TAKE_PITCH_ACCURACY)) {
    return {
      ok: false,
      reason: 'PITCH',
      message: `Only ${Number.isFinite(pitchAccuracy) ? (pitchAccuracy * 100).toFixed(0) : 0} % of the take's frames are within 50 cents of the score (at least ${MIN_TAKE_PITCH_ACCURACY * 100} % are needed).`,
    };
  }
  return { ok: true, samples, sampleRate, pitchAccuracy };
}
