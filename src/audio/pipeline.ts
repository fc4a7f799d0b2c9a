/**
 * The whole conversion: validate → analyse → write (or align) lyrics → sing → quality checks → encode.
 *
 * Pure apart from its two injected ports: a {@link CompressedDecoder} for compressed uploads and an
 * {@link AudioEncoder} for the compressed output (the platform's ffmpeg adapters in production). The
 * clock used for stage timings and the way the pipeline yields to the event loop (so that an abort can
 * land between steps) are injected too. The CLI and the service's worker both call {@link convertMelody}.
 * Steps whose length grows with the recording (decoding WAV, loudness, pitch tracking, note finding,
 * singing, normalisation, WAV encoding) run as sliced computations (sliced.ts) that the pipeline
 * drives, yielding between their slices every {@link SLICE_MS} ms: an abort lands within that plus one
 * slice (a few ms) wherever it comes, on a 5-minute recording as on a short one.
 *
 * Remote providers (`ports.providers`, see providers.ts) may write the lyrics and sing the vocals:
 * - Lyrics: asked only when the request has no user lyrics. The reply is repaired, aligned and checked
 *   like the embedded writer's (rules in lyrics/provider-lyrics.ts); a rejected reply gives
 *   `LYRICS_PROVIDER_REJECTED` with the reason, and the embedded writer writes the lyrics.
 * - Vocals: the engine gets the score as the embedded voice would sing it; its WAV is decoded,
 *   resampled and must be in tune and audible (voice/remote-take.ts), else `VOCALS_PROVIDER_REJECTED`
 *   and the embedded voice sings. An accepted take goes through the same loudness check,
 *   normalisation and encoding as the embedded voice's.
 * A provider that fails with a remote error (AI_SERVICE_ERROR or TIMEOUT_ERROR: breaker open, retries
 * spent, timeout) gives `LYRICS_PROVIDER_FALLBACK` / `VOCALS_PROVIDER_FALLBACK` naming the provider and
 * the error's reason, and the embedded engine is used, unless `providers.fallback` is false: then the
 * conversion fails with the provider's error. Any other error from a provider is a bug and fails the
 * conversion. An abort always rejects with AbortedError, also while a provider call is pending (the
 * call's own signal is aborted too; the pipeline does not wait for the provider to notice).
 * The report names who wrote (`lyrics.source`, `lyrics.provider`) and who sang (`voice.engine`).
 */
import type { MelodyAnalysis, Score } from './types.js';
import { AbortedError, AppError, ValidationError } from './errors.js';
import { validateAndDecode, type ValidationLimits } from './validate/validate.js';
import type { CompressedDecoder } from './decode/decode.js';
import { encodeWav16OverSliced } from './decode/wav.js';
import { analysisSteps, type AnalysisStep } from './analyze.js';
import {
  alignLyrics,
  buildLyricsRequest,
  checkLyrics,
  extractPromptWords,
  fitProviderLyrics,
  sanitizeText,
  writeLyricsSliced,
  type LyricsResult,
} from './lyrics/lyrics.js';
import { prepareScore, type SingingEngine } from './voice/voice.js';
import type { FliteProgram } from './voice/flite/flite-run.js';
import { releaseFlite } from './voice/flite/flite-run.js';
import { vowelClarity, type ClarityEstimate } from './quality/clarity.js';
import { buildVocalRequest, checkTake, intendedPitchOf, transposedNotes } from './voice/remote-take.js';
import type { LyricsProvider, ProviderCallOptions, Providers, VocalEngine } from './providers.js';
import { singInChunks } from './voice/sing-in-chunks.js';
import { checkVocalsSliced, sungPitchAccuracySliced } from './quality/quality.js';
import { driveSliced, type Sliced } from './sliced.js';
import { writeMidi } from './score/midi.js';
import { writeMusicXml } from './score/musicxml.js';
import type { MelodyFile } from './score/melody-file.js';
import { toAnalysisJson, type AnalysisJson } from './analysis-json.js';
import { LOW_CONFIDENCE } from './notes/notes.js';
import { estimateKey } from './key/key.js';
import { estimateTempo } from './tempo/tempo.js';
import { findPhrases } from './phrases/phrases.js';
import { validateRequest, type CleanRequest } from './validate/request.js';
import { buildReport, lyricsText, type CheckedVocals, type ConversionReport, type ReportWarning } from './quality/report.js';

/** The report's types are part of what the pipeline returns (ConversionOutputs.report). */
export type { ConversionReport, ReportWarning } from './quality/report.js';

/** Stages in the order they run, with the progress range (percent) each covers. */
export const STAGES = {
  validation: [0, 5],
  pitch_extraction: [15, 30],
  lyrics: [40, 60],
  synthesis: [70, 90],
  quality_check: [90, 95],
  finalization: [95, 100],
} as const satisfies Record<string, readonly [number, number]>;

export type ConversionStage = keyof typeof STAGES;

export interface ProgressEvent {
  stage: ConversionStage;
  /** 0..100, never decreasing within one run. */
  percent: number;
  message: string;
}

/** Compressed output formats the encoder port must support. */
export type CompressedFormat = 'mp3' | 'opus';

/** The port that turns a WAV file (any PCM layout) into a compressed file. */
export interface AudioEncoder {
  encode(wav: Uint8Array, format: CompressedFormat, options?: { signal?: AbortSignal }): Promise<Uint8Array>;
}

export interface ConvertRequest {
  /** The uploaded recording, any supported format (detected from the bytes). */
  audio: Uint8Array;
  /** The upload's original name, used only for the extension-mismatch warning. */
  fileName?: string;
  /** What the song is about: 10–500 characters after trimming. */
  prompt: string;
  /** e.g. `pop`, `ballad`, `folk`, `hip-hop`; 1–40 characters. */
  genre: string;
  /** e.g. `happy`, `romantic`, `sad`; 1–40 characters. */
  mood: string;
  /** User lyrics (≤ 5,000 characters) to align to the notes instead of writing new ones. */
  lyrics?: string | null;
  /** A key of VOICES (`low`, `high`); default `high`. */
  voice?: string | null;
  /** Integer seed for the lyrics and the voice; default 1. */
  seed?: number | null;
  /**
   * Notes to sing instead of the transcription (the user's correction, read from a MIDI or MusicXML
   * file by score/melody-file.ts), times in seconds. The recording is still validated and analysed;
   * key and phrases are then recomputed from these notes, and the tempo is the file's own (estimated
   * from the notes when the file states none).
   */
  melody?: MelodyFile | null;
}

export interface ConvertPorts {
  decoder: CompressedDecoder;
  encoder: AudioEncoder;
  /** Milliseconds from any origin, for stage timings (e.g. `performance.now`). Default: no timings (all 0). */
  clock?: () => number;
  /**
   * Lets pending events (an abort) run between steps. Default: a turn of the event loop via
   * setImmediate (due timers and I/O callbacks run before it resolves).
   */
  yieldControl?: () => Promise<void>;
  /** Remote lyrics provider and vocal engine with their fallback rule (see the module comment). Default: embedded engines only. */
  providers?: Providers;
  /** The compiled Flite program (src/platform/flite-program.ts) the default `flite` singing engine runs. */
  flite?: FliteProgram;
}

export interface ConvertOptions {
  limits?: Partial<ValidationLimits>;
  /** Target integrated loudness of the vocals, LUFS; default -14. */
  targetLufs?: number;
  /** True-peak ceiling, dBTP; default -1. */
  maxTruePeakDbtp?: number;
  /** Compressed companion of the WAV; default `mp3`. */
  compressedFormat?: CompressedFormat;
  /**
   * The embedded singing engine: `flite` (default when `ports.flite` is given) or `formant` (default
   * without it). `flite` without the port is a VALIDATION_ERROR (`ENGINE_UNAVAILABLE`).
   */
  engine?: SingingEngine;
  vibrato?: boolean;
  portamento?: boolean;
  breath?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface ConversionOutputs {
  /** 44.1 kHz 16-bit mono WAV. */
  vocalsWav: Uint8Array;
  vocalsCompressed: { format: CompressedFormat; extension: string; mimeType: string; bytes: Uint8Array };
  /** Standard MIDI File with one lyric event per note. */
  midi: Uint8Array;
  /** MusicXML 4.0 with lyrics. */
  musicXml: string;
  report: ConversionReport;
  lyrics: LyricsResult;
  analysis: MelodyAnalysis;
}

const OUTPUT_RATE = 44100;
const COMPRESSED: Record<CompressedFormat, { extension: string; mimeType: string }> = {
  mp3: { extension: 'mp3', mimeType: 'audio/mpeg' },
  opus: { extension: 'opus', mimeType: 'audio/ogg; codecs=opus' },
};

/** Runs the whole conversion. Rejects with ValidationError for bad input and AbortedError when aborted. */
/** The bookkeeping one conversion run shares between its stages. */
interface Run {
  options: ConvertOptions;
  ports: ConvertPorts;
  warnings: ReportWarning[];
  timings: Record<ConversionStage, number>;
  yieldControl: () => Promise<void>;
  /** Throws AbortedError if aborted, lets pending events run, and checks again. */
  checkpoint(): Promise<void>;
  /**
   * Between two slices of sliced work (see sliced.ts): a checkpoint once {@link SLICE_MS} have passed
   * since the last one; at every call when there is no clock.
   */
  pause(): Promise<void>;
  /** Runs a sliced pure computation, pausing between its slices. */
  drive<T>(work: Sliced<T>): Promise<T>;
  progress(stage: ConversionStage, fraction: number, message: string): void;
  /** Runs one stage's work after a checkpoint, adding its time to the stage. */
  timed<T>(stage: ConversionStage, work: () => T | Promise<T>): Promise<T>;
}

/**
 * Longest stretch (ms) of sliced work between two checkpoints. An abort waits for at most this plus
 * one slice; each checkpoint costs one event-loop turn (a few µs with setImmediate), so 10 ms keeps
 * the cost of yielding far below 1 % of the run.
 */
const SLICE_MS = 10;

function startRun(ports: ConvertPorts, options: ConvertOptions): Run {
  const clock = ports.clock ?? (() => 0);
  // setImmediate, not setTimeout(0): Node clamps the latter to 1 ms, which the frequent checkpoints
  // between slices of long steps would pay every time.
  const yieldControl = ports.yieldControl ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
  const { signal } = options;
  let lastPercent = 0;
  let sliceStart = clock();
  const run: Run = {
    options,
    ports,
    warnings: [],
    timings: Object.fromEntries(Object.keys(STAGES).map((s) => [s, 0])) as Record<ConversionStage, number>,
    yieldControl,
    async checkpoint() {
      if (signal?.aborted) throw new AbortedError();
      await yieldControl();
      sliceStart = clock();
      if (signal?.aborted) throw new AbortedError();
    },
    async pause() {
      if (!ports.clock || clock() - sliceStart >= SLICE_MS) await run.checkpoint();
    },
    drive: (work) => driveSliced(work, run.pause),
    progress(stage, fraction, message) {
      const [from, to] = STAGES[stage];
      const percent = Math.max(lastPercent, Math.round(from + (to - from) * Math.min(1, Math.max(0, fraction))));
      lastPercent = percent;
      options.onProgress?.({ stage, percent, message });
    },
    async timed(stage, work) {
      await run.checkpoint();
      const start = clock();
      try {
        return await work();
      } finally {
        run.timings[stage] += clock() - start;
      }
    },
  };
  return run;
}

/** Runs the whole conversion. Rejects with ValidationError for bad input and AbortedError when aborted. */
export async function convertMelody(
  request: ConvertRequest,
  ports: ConvertPorts,
  options: ConvertOptions = {},
): Promise<ConversionOutputs> {
  const run = startRun(ports, options);
  run.progress('validation', 0, 'Checking the request and the recording');
  const clean = validateRequest(request);
  // Each step below lives in its own function so the large buffers it makes (decoded PCM, raw
  // voice) can be collected as soon as it returns: a 5-minute mono channel is 53 MB.
  const { analysis, analysisJson } = await decodeAndAnalyse(run, request);
  const { lyrics, provider } = await lyricsFor(run, clean, analysis);
  const score: Score = { notes: lyrics.sungNotes, tempo: analysis.tempo, key: analysis.key, title: titleFrom(clean.prompt) };
  const vocals = await singAndCheck(run, score, clean, request, lyricsText(lyrics));

  run.progress('finalization', 0, 'Encoding the outputs');
  const format = options.compressedFormat ?? 'mp3';
  const outputs = await run.timed('finalization', async () => ({
    compressed: await ports.encoder.encode(vocals.wav, format, { signal: options.signal }),
    midi: writeMidi(score),
    musicXml: writeMusicXml(score),
  }));
  if (options.signal?.aborted) throw new AbortedError();

  const report = buildReport({
    request,
    clean,
    analysisJson,
    lyrics,
    lyricsProvider: provider,
    vocals,
    targetLufs: options.targetLufs ?? -14,
    warnings: run.warnings,
    timings: run.timings,
  });
  run.progress('finalization', 1, 'Done');
  return {
    vocalsWav: vocals.wav,
    vocalsCompressed: { format, ...COMPRESSED[format], bytes: outputs.compressed },
    midi: outputs.midi,
    musicXml: outputs.musicXml,
    report,
    lyrics,
    analysis,
  };
}

/** Stages 1 and 2: decode and validate the upload, then find the notes. */
async function decodeAndAnalyse(run: Run, request: ConvertRequest): Promise<{ analysis: MelodyAnalysis; analysisJson: AnalysisJson }> {
  const { options, ports } = run;
  const { audio, report: validation } = await run.timed('validation', () =>
    validateAndDecode(request.audio, {
      decoder: ports.decoder,
      limits: options.limits,
      fileName: request.fileName,
      signal: options.signal,
      pause: run.pause,
    }),
  );
  for (const w of validation.warnings) run.warnings.push({ code: w.code, message: w.message, stage: 'validation' });
  run.progress('validation', 1, 'The recording is valid');

  run.progress('pitch_extraction', 0, 'Finding the notes');
  const stepFraction: Record<AnalysisStep, number> = { loudness: 0.05, pitch: 0.1, notes: 0.7, key: 0.85, tempo: 0.9, phrases: 0.95 };
  let analysis = await run.timed('pitch_extraction', async () => {
    const steps = analysisSteps(audio);
    for (let next = steps.next(); ; next = steps.next()) {
      if (next.done) return next.value;
      if (next.value === undefined) {
        // Between two slices of a long step.
        await run.pause();
        continue;
      }
      run.progress('pitch_extraction', stepFraction[next.value], `Analysing: ${next.value}`);
      await run.checkpoint();
    }
  });
  if (request.melody?.notes.length) {
    const { notes, bpm } = request.melody;
    const tempo = bpm ? { bpm, confidence: 1 } : estimateTempo(notes);
    analysis = { ...analysis, notes, key: estimateKey(notes), tempo, phrases: findPhrases(notes, tempo) };
  }
  if (analysis.notes.length === 0) {
    throw new ValidationError([{ code: 'NO_NOTES', message: 'No sung or played notes were found in the recording.', value: 0 }]);
  }
  const unsure = analysis.notes.filter((note) => note.confidence < LOW_CONFIDENCE);
  if (unsure.length) {
    const at = unsure
      .slice(0, 5)
      .map((note) => `${note.start.toFixed(2)} s`)
      .join(', ');
    run.warnings.push({
      code: 'LOW_CONFIDENCE_NOTES',
      message: `${unsure.length} of ${analysis.notes.length} notes are unsure (at ${at}${unsure.length > 5 ? ', …' : ''}; lowConfidence in melody.notes): check them, and correct the melody with a MIDI or MusicXML file if needed.`,
      stage: 'pitch_extraction',
    });
  }
  run.progress('pitch_extraction', 1, `Found ${analysis.notes.length} notes in ${analysis.phrases.length} phrases`);
  return { analysis, analysisJson: toAnalysisJson(audio, validation, analysis) };
}

/** What a provider error leaves: the embedded engine (with a warning), or the error itself. */
function fallBackOrThrow(run: Run, error: unknown, stage: ConversionStage, code: string, what: string, instead: string): void {
  // An abort while the call was pending, whatever the provider made of it, is an abort.
  if (run.options.signal?.aborted || error instanceof AbortedError) throw new AbortedError();
  const remote = error instanceof AppError && (error.code === 'AI_SERVICE_ERROR' || error.code === 'TIMEOUT_ERROR');
  if (!remote || run.ports.providers?.fallback === false) throw error;
  const detail = error.message.length > 200 ? `${error.message.slice(0, 200)}…` : error.message;
  run.warnings.push({ code, message: `${what} failed (${error.code}, ${error.reason}): ${detail} ${instead}`, stage });
}

/**
 * Calls a provider with the run's signal, after a checkpoint. Rejects with AbortedError as soon as
 * the run is aborted, without waiting for the provider to notice its signal.
 */
async function callProvider<T>(run: Run, call: (options: ProviderCallOptions) => Promise<T>): Promise<T> {
  await run.checkpoint();
  const { signal } = run.options;
  if (!signal) return call({});
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    call({ signal })
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** A label from outside (a provider's `source`) made safe to show: sanitised, one line, ≤ 80 characters. */
function label(raw: unknown, fallback: string): string {
  const clean = sanitizeText(typeof raw === 'string' ? raw : '', 200)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  return clean || fallback;
}

/** Stage 3 with a provider: its lyrics when they pass the checks (maybe repaired), else null (warnings say why). */
async function providerLyrics(
  run: Run,
  provider: LyricsProvider,
  clean: CleanRequest,
  analysis: MelodyAnalysis,
  promptWords: string[],
): Promise<{ lyrics: LyricsResult; provider: string } | null> {
  run.progress('lyrics', 0, `Asking the ${provider.name} lyrics provider`);
  const what = `The lyrics provider "${provider.name}"`;
  let draft;
  try {
    const request = buildLyricsRequest(clean, analysis);
    draft = await run.timed('lyrics', () => callProvider(run, (options) => provider.writeLyrics(request, options)));
  } catch (error) {
    fallBackOrThrow(run, error, 'lyrics', 'LYRICS_PROVIDER_FALLBACK', what, 'The embedded writer wrote the lyrics instead.');
    return null;
  }
  run.progress('lyrics', 0.5, "Checking the provider's lyrics");
  const verdict = await run.timed('lyrics', () => fitProviderLyrics(draft, analysis, { prompt: clean.prompt, promptWords }));
  if (!verdict.accepted) {
    run.warnings.push({
      code: 'LYRICS_PROVIDER_REJECTED',
      message: `${what} wrote lyrics that were not used (${verdict.reason}): ${verdict.message} The embedded writer wrote the lyrics instead.`,
      stage: 'lyrics',
    });
    return null;
  }
  if (verdict.repairs.length)
    run.warnings.push({
      code: 'LYRICS_PROVIDER_REPAIRED',
      message: `${what}'s lyrics were repaired: ${verdict.repairs.join('; ')}.`,
      stage: 'lyrics',
    });
  for (const w of verdict.result.warnings) run.warnings.push({ code: w.code, message: w.message, stage: 'lyrics' });
  for (const issue of verdict.issues) run.warnings.push({ code: `LYRICS_${issue.code}`, message: issue.message, stage: 'lyrics' });
  return { lyrics: verdict.result, provider: label(draft?.source, provider.name) };
}

/** Stage 3: align the user's lyrics, or have the provider write them, or write them with the embedded writer. */
async function lyricsFor(
  run: Run,
  clean: CleanRequest,
  analysis: MelodyAnalysis,
): Promise<{ lyrics: LyricsResult; provider: string | null }> {
  const promptWords = extractPromptWords(clean.prompt);
  const provider = run.ports.providers?.lyrics;
  if (!clean.lyrics && provider) {
    const fromProvider = await providerLyrics(run, provider, clean, analysis, promptWords);
    if (fromProvider) {
      run.progress(
        'lyrics',
        1,
        `Lyrics by ${fromProvider.provider}: ${fromProvider.lyrics.sections.reduce((n, s) => n + s.lines.length, 0)} lines`,
      );
      return fromProvider;
    }
  }
  run.progress('lyrics', 0, clean.lyrics ? 'Fitting your lyrics to the notes' : 'Writing lyrics');
  const lyrics = await run.timed('lyrics', () =>
    clean.lyrics
      ? alignLyrics(clean.lyrics, analysis.notes, analysis.phrases, { tempo: analysis.tempo, promptWords })
      : run.drive(
          writeLyricsSliced({
            prompt: clean.prompt,
            genre: clean.genre,
            mood: clean.mood,
            notes: analysis.notes,
            phrases: analysis.phrases,
            tempo: analysis.tempo,
            seed: clean.seed,
          }),
        ),
  );
  for (const w of lyrics.warnings) run.warnings.push({ code: w.code, message: w.message, stage: 'lyrics' });
  if (lyrics.source === 'writer') {
    const verdict = checkLyrics(lyrics, { prompt: clean.prompt, promptWords, noteCount: analysis.notes.length });
    for (const issue of verdict.issues) run.warnings.push({ code: `LYRICS_${issue.code}`, message: issue.message, stage: 'lyrics' });
  }
  run.progress('lyrics', 1, `Lyrics: ${lyrics.sections.reduce((n, s) => n + s.lines.length, 0)} lines`);
  return { lyrics, provider: null };
}

/** Mono vocals before normalisation, with the pitch accuracy when it is already measured. */
interface RawVocals {
  samples: Float32Array;
  sampleRate: number;
  engine: string;
  synthesizer?: SingingEngine;
  clarity?: ClarityEstimate;
  intendedPitch: { times: Float64Array; midi: Float32Array };
  pitchAccuracy?: number;
}

/** Stage 4 with a remote engine: its take when it is in tune and audible, else null (warnings say why). */
async function remoteVocals(
  run: Run,
  engine: VocalEngine,
  score: Score,
  clean: CleanRequest,
  request: ConvertRequest,
  lyrics: string,
): Promise<RawVocals | null> {
  run.progress('synthesis', 0, `Singing with the ${engine.name} engine`);
  const what = `The vocal engine "${engine.name}"`;
  const prepared = prepareScore(score, { voice: clean.voice, sampleRate: OUTPUT_RATE });
  let take;
  try {
    const vocalRequest = buildVocalRequest(score, prepared, {
      melody: request.audio,
      fileName: request.fileName ?? null,
      lyrics,
      voice: clean.voice,
      seed: clean.seed,
      prompt: clean.prompt,
      genre: clean.genre,
      mood: clean.mood,
      sampleRate: OUTPUT_RATE,
    });
    take = await run.timed('synthesis', () => callProvider(run, (options) => engine.sing(vocalRequest, options)));
  } catch (error) {
    fallBackOrThrow(run, error, 'synthesis', 'VOCALS_PROVIDER_FALLBACK', what, 'The embedded voice sang instead.');
    return null;
  }
  run.progress('synthesis', 0.8, "Checking the engine's take");
  const intendedPitch = intendedPitchOf(transposedNotes(prepared));
  const bytes = take?.wav instanceof Uint8Array ? take.wav : new Uint8Array(0);
  const checked = await run.timed('synthesis', () => checkTake(bytes, intendedPitch, OUTPUT_RATE));
  if (!checked.ok) {
    run.warnings.push({
      code: 'VOCALS_PROVIDER_REJECTED',
      message: `${what} sang a take that was not used (${checked.reason}): ${checked.message} The embedded voice sang instead.`,
      stage: 'synthesis',
    });
    return null;
  }
  return {
    samples: checked.samples,
    sampleRate: checked.sampleRate,
    engine: label(take.source, engine.name),
    intendedPitch,
    pitchAccuracy: checked.pitchAccuracy,
  };
}

/** Stages 4 and 5: sing the score (remote engine or embedded voice), then normalise and measure the result. */
async function singAndCheck(run: Run, score: Score, clean: CleanRequest, request: ConvertRequest, lyrics: string): Promise<CheckedVocals> {
  const { options } = run;
  const engine = run.ports.providers?.vocals;
  let raw = engine ? await remoteVocals(run, engine, score, clean, request, lyrics) : null;
  // The same preparation decides the transposition for either engine.
  const prepared = prepareScore(score, { voice: clean.voice, sampleRate: OUTPUT_RATE });
  if (!raw) {
    let synthesizer: SingingEngine = options.engine ?? (run.ports.flite ? 'flite' : 'formant');
    const sing = (engine: SingingEngine) =>
      run.timed('synthesis', () =>
        singInChunks(
          score,
          {
            voice: clean.voice,
            engine,
            flite: run.ports.flite,
            sampleRate: OUTPUT_RATE,
            seed: clean.seed,
            vibrato: options.vibrato === false ? false : undefined,
            portamento: options.portamento ?? true,
            breath: options.breath ?? true,
          },
          {
            signal: options.signal,
            yieldControl: run.yieldControl,
            pause: run.pause,
            onProgress: (fraction) => run.progress('synthesis', fraction * 0.95, 'Singing'),
          },
        ),
      );
    run.progress('synthesis', 0, `Singing with the ${clean.voice} voice (${synthesizer})`);
    let sung;
    try {
      sung = await sing(synthesizer);
    } catch (error) {
      // The Flite program misbehaving (it answered other phones than asked) must not cost the song.
      if (synthesizer !== 'flite' || !(error instanceof AppError) || error.reason !== 'FLITE_FAILED') throw error;
      run.warnings.push({
        code: 'VOICE_ENGINE_FALLBACK',
        message: `The flite engine failed (${error.message}); the formant engine sang instead.`,
        stage: 'synthesis',
      });
      synthesizer = 'formant';
      sung = await sing(synthesizer);
    }
    if (run.ports.flite) releaseFlite(run.ports.flite);
    const clarity = vowelClarity(sung.samples, sung.sampleRate, sung.phonemes);
    raw = {
      samples: sung.samples,
      sampleRate: sung.sampleRate,
      engine: 'embedded',
      synthesizer,
      clarity,
      intendedPitch: sung.intendedPitch,
    };
  }
  if (prepared.outOfRange > 0) {
    run.warnings.push({
      code: 'OUT_OF_VOICE_RANGE',
      message: `${prepared.outOfRange} note${prepared.outOfRange === 1 ? '' : 's'} lie outside the ${clean.voice} voice's range even after transposition.`,
      stage: 'synthesis',
    });
  }
  run.progress('synthesis', 1, 'Vocals rendered');

  const vocals = raw;
  run.progress('quality_check', 0, 'Checking pitch and loudness');
  const { samples, ...quality } = await run.timed('quality_check', async () => {
    const pitchAccuracy =
      vocals.pitchAccuracy ?? (await run.drive(sungPitchAccuracySliced(vocals.samples, vocals.sampleRate, vocals.intendedPitch)));
    run.progress('quality_check', 0.4, 'Checking loudness');
    await run.checkpoint();
    // The raw voice is ours and not needed afterwards: normalise over it.
    return run.drive(
      checkVocalsSliced(vocals.samples, vocals.sampleRate, {
        targetLufs: options.targetLufs ?? -14,
        maxTruePeakDbtp: options.maxTruePeakDbtp ?? -1,
        pitchAccuracy,
        inPlace: true,
      }),
    );
  });
  for (const w of quality.warnings) run.warnings.push({ code: w.code, message: w.message, stage: 'quality_check' });
  await run.checkpoint();
  // The normalised floats are not needed once written: the WAV takes their memory (encodeWav16OverSliced).
  const wav = await run.drive(encodeWav16OverSliced(samples, vocals.sampleRate));
  run.progress(
    'quality_check',
    1,
    `Pitch accuracy ${Number.isFinite(quality.pitchAccuracy) ? (quality.pitchAccuracy * 100).toFixed(0) : '–'} %`,
  );
  return {
    wav,
    voice: prepared.voiceId,
    engine: vocals.engine,
    synthesizer: vocals.synthesizer ?? null,
    clarity: vocals.clarity ?? null,
    transposeSemitones: prepared.semitones,
    outOfRange: prepared.outOfRange,
    quality,
  };
}

/** A short score title from the prompt: its first words, capitalised. */
function titleFrom(prompt: string): string {
  const words = prompt.split(' ').slice(0, 6).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
