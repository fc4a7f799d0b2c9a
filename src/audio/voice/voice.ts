/**
 * The singing voice: renders a {@link Score} as a sung mono track.
 *
 * Pipeline: note pitches snapped to the equal-tempered grid (after removing the melody's overall
 * tuning offset) → whole-octave transposition into the voice's range → phoneme timing (onset
 * consonants before the beat, vowel on the note, coda at its end) → f0 contour (portamento,
 * vibrato, flutter) → articulatory control tracks → formant synthesis → gentle peak normalisation.
 *
 * Pitch accuracy is by construction: the glottal source runs at exactly the contour's f0, and the
 * vocal tract filter cannot move it. Everything is seeded, so the same score, options and seed give
 * bit-identical samples.
 */
import { ValidationError } from '../errors.js';
import type { Score, SungNote } from '../types.js';
import { buildControlTracks, CONTROL_BLOCK, renderFormantsSliced } from './formant-synth.js';
import { runSliced, type Sliced } from '../sliced.js';
import { buildPitchContour, type VibratoSettings } from './pitch-contour.js';
import { planTimeline } from './timeline.js';
import { DEFAULT_VOICE, transposeToRange, VOICES, type VoiceProfile } from './voices.js';
import type { FliteProgram } from './flite/flite-run.js';
import { singWithFliteSliced } from './flite/flite-singer.js';

export { VOICES, transposeToRange, DEFAULT_VOICE, type VoiceProfile } from './voices.js';
export type { VibratoSettings } from './pitch-contour.js';

/** The singing engines: `flite` (Flite speech re-timed and re-pitched by PSOLA) or `formant` (the formant synthesizer). */
export type SingingEngine = 'flite' | 'formant';
export const SINGING_ENGINES: readonly SingingEngine[] = ['flite', 'formant'];

export interface SingOptions {
  /**
   * `formant` (default here, needs no port) or `flite`, which needs {@link SingOptions.flite}. The
   * pipeline and the CLI default to `flite`.
   */
  engine?: SingingEngine;
  /** The compiled Flite program (the `flite` engine's port, see src/platform/flite-program.ts). */
  flite?: FliteProgram;
  /** Key of {@link VOICES}: `low` (baritone, MIDI 45–64) or `high` (soprano, MIDI 53–74). Default `high`. */
  voice?: string;
  /** Output rate in Hz, 8000–192000. Default 44100. */
  sampleRate?: number;
  /**
   * Vibrato, or `false` for none. Fields left out take the voice's defaults (`high`: 5.6 Hz, 35 cents
   * peak, 0.25 s delay; `low`: 5.3 Hz, 30 cents, 0.25 s). Notes shorter than the delay get none.
   */
  vibrato?: Partial<VibratoSettings> | false;
  /**
   * Glide between legato notes (no rest between them, or a melisma): `true` = 0.08 s, `{ seconds }`
   * for another length (capped at 40 % of either note), `false` = a 20 ms move. Default true.
   */
  portamento?: boolean | { seconds: number };
  /** Audible inhale before each phrase when the rest before it is ≥ 0.25 s. Default true. */
  breath?: boolean;
  /**
   * `rounded` (default): sing each note on the nearest equal-tempered semitone (A4 = 440 Hz) after
   * removing the melody's overall tuning offset, so a consistently sharp or flat hum keeps its
   * intervals and matches the exported score. `exact`: sing the float `midi` as given.
   */
  pitch?: 'rounded' | 'exact';
  /** `auto` (default): whole-octave shift into the voice's range; a number: this many semitones. */
  transpose?: 'auto' | number;
  /** Seed of jitter, shimmer, noise and vibrato-rate variation. Default 1. */
  seed?: number;
  /** Scale the result to a −3 dBFS peak. Default true; false leaves the synthesizer's own level. */
  peakNormalize?: boolean;
}

export interface SingResult {
  /** Mono samples in [-1, 1], peak −3 dBFS (silence stays 0). Length: last note end + 0.35 s. */
  samples: Float32Array;
  sampleRate: number;
  /** Id of the voice that sang. */
  voice: string;
  /** The engine that sang. */
  engine: SingingEngine;
  /** Semitones added to every note before singing (the octave transposition). */
  transposeSemitones: number;
  /** Notes still outside the voice's range after the transposition. */
  outOfRange: number;
  /**
   * The pitch the voice holds, on a 10 ms grid (frame k at k · 0.01 s): the sung note's MIDI number
   * (rounded/transposed, without vibrato) where a voiced, non-fricative sound sits on a note for the
   * whole ±15 ms around the frame; 0 in silence, unvoiced and fricative consonants, and glides.
   */
  intendedPitch: { times: Float64Array; midi: Float32Array };
  /**
   * When each phoneme sounds (silences left out). Formant engine: plosives appear as `P:closure`,
   * `P:burst`, `P:aspiration`; flite engine: one entry per phone, with the times it was sung at.
   */
  phonemes: { phoneme: string; start: number; end: number }[];
}

/** Samples after the last note's end (release and reverberation-free decay). */
export const TAIL_SECONDS = 0.35;
export const PEAK = Math.pow(10, -3 / 20);
const INTENDED_HOP = 0.01;

/**
 * Sings a score. Notes are sorted by start; overlapping notes are trimmed; notes without phonemes
 * sing `AH`. Throws {@link ValidationError} (`UNKNOWN_VOICE`, `BAD_SAMPLE_RATE`) for bad options.
 */
/** What both {@link singScore} and the piecewise renderer decide before any sound is made. */
export interface PreparedScore {
  voiceId: string;
  voice: VoiceProfile;
  sampleRate: number;
  /** Valid notes, sorted, snapped to semitones unless `pitch: 'exact'`, not yet transposed. */
  notes: SungNote[];
  semitones: number;
  outOfRange: number;
}

/**
 * Checks the options (UNKNOWN_VOICE, BAD_SAMPLE_RATE), drops notes with non-finite or empty spans,
 * sorts them, snaps them to semitones and chooses the transposition for the whole melody.
 */
export function prepareScore(score: Score, options: SingOptions = {}): PreparedScore {
  const voiceId = options.voice ?? DEFAULT_VOICE;
  const voice = VOICES[voiceId];
  if (!voice) {
    throw new ValidationError([
      { code: 'UNKNOWN_VOICE', message: `Unknown voice "${voiceId}"; choose one of ${Object.keys(VOICES).join(', ')}.`, value: voiceId },
    ]);
  }
  const sampleRate = options.sampleRate ?? 44100;
  if (!(sampleRate >= 8000 && sampleRate <= 192000)) {
    throw new ValidationError([
      { code: 'BAD_SAMPLE_RATE', message: 'The sample rate must be between 8000 and 192000 Hz.', value: sampleRate },
    ]);
  }
  const valid = score.notes
    .filter((n) => Number.isFinite(n.start) && Number.isFinite(n.end) && Number.isFinite(n.midi) && n.end > n.start && n.start >= 0)
    .sort((a, b) => a.start - b.start);
  const notes = options.pitch === 'exact' ? valid : snapToSemitones(valid);
  if (typeof options.transpose === 'number') {
    return {
      voiceId,
      voice,
      sampleRate,
      notes,
      semitones: options.transpose,
      outOfRange: countOutOfRange(notes, options.transpose, voice.range),
    };
  }
  const { semitones, outOfRange } = transposeToRange(notes, voice);
  return { voiceId, voice, sampleRate, notes, semitones, outOfRange };
}

export function singScore(score: Score, options: SingOptions = {}): SingResult {
  return runSliced(singScoreSliced(score, options));
}

/** {@link singScore} as a sliced computation (see sliced.ts); same result. */
export function* singScoreSliced(score: Score, options: SingOptions = {}): Sliced<SingResult> {
  const prepared = prepareScore(score, options);
  const { voice, sampleRate } = prepared;
  const seed = options.seed ?? 1;
  const transposition = { semitones: prepared.semitones, outOfRange: prepared.outOfRange };
  const notes = prepared.notes.map((n) => ({ ...n, midi: n.midi + prepared.semitones }));

  const duration = notes.length ? notes[notes.length - 1].end + TAIL_SECONDS : 0;
  const length = Math.ceil(duration * sampleRate);
  const timeline = planTimeline(notes, { breath: options.breath ?? true, duration });

  const step = CONTROL_BLOCK / sampleRate;
  const count = Math.ceil(length / CONTROL_BLOCK) + 1;
  const vibrato = options.vibrato === false ? null : { ...voice.vibrato, ...(options.vibrato ?? {}) };
  const contour = buildPitchContour(timeline.notes, count, step, { vibrato, ...glideOptions(voice, options), flutterCents: 4, seed });
  yield;
  let samples: Float32Array;
  /** Whether the voice holds a steady voiced sound at control step `k` (where the intended pitch counts). */
  let steadyVoiceAt: (k: number) => boolean;
  let phonemes = timeline.segments.filter((s) => s.kind !== 'silence').map((s) => ({ phoneme: s.phoneme, start: s.start, end: s.end }));
  if (options.engine === 'flite') {
    if (!options.flite)
      throw new ValidationError([
        { code: 'ENGINE_UNAVAILABLE', message: 'The flite engine needs the Flite program; none was given.', value: 'flite' },
      ]);
    const sung = yield* singWithFliteSliced(timeline, {
      program: options.flite,
      voice: voice.fliteVoice,
      sampleRate,
      length,
      seed,
      contour: contour.midi,
      step,
      highNoteBreath: voice.fliteHighNoteBreath,
      formantStretch: voice.fliteFormantStretch,
    });
    samples = sung.samples;
    steadyVoiceAt = (k) => sung.voicedFrames(k * step);
    phonemes = sung.phonemes;
  } else {
    // Only the formant engine needs the control tracks (17 tracks on a 32-sample grid: ~28 MB for 5 minutes).
    const tracks = buildControlTracks(timeline.segments, contour.midi, voice, step);
    samples = yield* renderFormantsSliced(tracks, voice, { sampleRate, length, seed, jitter: 0.002, shimmer: 0.03 });
    steadyVoiceAt = (k) => tracks.voicing[k] >= 0.3 && tracks.frication[k] < 0.05;
  }

  if (options.peakNormalize ?? true) normalizePeak(samples, PEAK);

  // Intended pitch: the held note wherever voicing is on and steady on one note for ±15 ms.
  const frames = notes.length ? Math.floor(duration / INTENDED_HOP) + 1 : 0;
  const times = new Float64Array(frames);
  const midi = new Float32Array(frames);
  const reach = Math.max(1, Math.round(0.015 / step));
  for (let f = 0; f < frames; f++) {
    const t = f * INTENDED_HOP;
    times[f] = t;
    const centre = Math.round(t / step);
    const note = contour.target[Math.min(centre, count - 1)];
    if (note <= 0) continue;
    let steady = true;
    for (let k = Math.max(0, centre - reach); k <= Math.min(count - 1, centre + reach) && steady; k++) {
      steady = contour.target[k] === note && steadyVoiceAt(k);
    }
    if (steady) midi[f] = note;
  }

  return {
    samples,
    sampleRate,
    voice: voice.id,
    engine: options.engine ?? 'formant',
    transposeSemitones: transposition.semitones,
    outOfRange: transposition.outOfRange,
    intendedPitch: { times, midi },
    phonemes,
  };
}

/**
 * Scales `samples` in place so the peak is `target` (silence stays silent). Works in chunks: a small
 * function called many times is optimised by V8 at once, one long loop would wait for on-stack
 * replacement.
 */
export function normalizePeak(samples: Float32Array, target: number): void {
  runSliced(normalizePeakSliced(samples, target));
}

/** {@link normalizePeak} as a sliced computation (see sliced.ts), yielding every 8 chunks; same samples. */
/**
 * The glides of the sung pitch: 0.08 s between syllables (0.02 with portamento off, or the caller's
 * length), and the flite engine's own glide into a melisma note where the voice has one (the formant
 * engine's samples stay as they were). Portamento off or a caller's length turns that one off too, so
 * `--no-portamento` sings every note change as a step.
 */
export function glideOptions(
  voice: VoiceProfile,
  options: Pick<SingOptions, 'portamento' | 'engine'>,
): { glideSeconds: number; melismaGlideSeconds?: number } {
  const portamento = options.portamento ?? true;
  const glideSeconds = portamento === false ? 0.02 : portamento === true ? 0.08 : Math.max(0.02, portamento.seconds);
  const melismaGlideSeconds = options.engine === 'flite' && portamento === true ? voice.fliteMelismaGlideSeconds : undefined;
  return melismaGlideSeconds === undefined ? { glideSeconds } : { glideSeconds, melismaGlideSeconds };
}

export function* normalizePeakSliced(samples: Float32Array, target: number): Sliced<void> {
  const chunk = 8192;
  let peak = 0;
  for (let i = 0; i < samples.length; i += chunk) {
    peak = Math.max(peak, chunkPeak(samples, i, Math.min(samples.length, i + chunk)));
    if ((i / chunk) % 8 === 7) yield;
  }
  if (peak <= 0) return;
  const gain = target / peak;
  for (let i = 0; i < samples.length; i += chunk) {
    scaleChunk(samples, i, Math.min(samples.length, i + chunk), gain);
    if ((i / chunk) % 8 === 7) yield;
  }
}

function chunkPeak(samples: Float32Array, from: number, to: number): number {
  let peak = 0;
  for (let i = from; i < to; i++) {
    const a = Math.abs(samples[i]);
    if (a > peak) peak = a;
  }
  return peak;
}

function scaleChunk(samples: Float32Array, from: number, to: number, gain: number): void {
  for (let i = from; i < to; i++) samples[i] *= gain;
}

/**
 * Rounds every note to the semitone grid after removing the melody's tuning offset: the
 * duration-weighted circular mean of the notes' deviations from their nearest semitone.
 */
export function snapToSemitones(notes: SungNote[]): SungNote[] {
  let x = 0;
  let y = 0;
  for (const n of notes) {
    const angle = 2 * Math.PI * (n.midi - Math.round(n.midi));
    const w = n.end - n.start;
    x += w * Math.cos(angle);
    y += w * Math.sin(angle);
  }
  const offset = x === 0 && y === 0 ? 0 : Math.atan2(y, x) / (2 * Math.PI);
  return notes.map((n) => ({ ...n, midi: Math.round(n.midi - offset) }));
}

function countOutOfRange(notes: readonly SungNote[], shift: number, range: { low: number; high: number }): number {
  return notes.filter((n) => n.midi + shift < range.low - 0.5 || n.midi + shift > range.high + 0.5).length;
}
