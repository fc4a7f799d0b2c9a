/**
 * Stages 4 and 5 of the pipeline (pipeline.ts): sing the score (a remote engine or the embedded voice),
 * then normalise and measure the vocals.
 */
import type { Score } from './types.js';
import { AppError } from './errors.js';
import { encodeWav16OverSliced } from './decode/wav-over.js';
import { releaseFlite } from './voice/flite/flite-run.js';
import { prepareScore, type SingingEngine } from './voice/voice.js';
import { vowelClarity, type ClarityEstimate } from './quality/clarity.js';
import { buildVocalRequest, checkTake, intendedPitchOf, transposedNotes } from './voice/remote-take.js';
import type { VocalEngine } from './providers.js';
import { singInChunks } from './voice/sing-in-chunks.js';
import { checkVocalsSliced, sungPitchAccuracySliced } from './quality/quality.js';
import type { CheckedVocals } from './quality/report.js';
import type { CleanRequest } from './validate/request.js';
import type { ConvertRequest } from './pipeline.types.js';
import { callProvider, fallBackOrThrow, label, type Run } from './pipeline-run.js';

const OUTPUT_RATE = 44100;

/**
 * Longest song (s) after which the thread keeps Flite's instance for its next song. Building a new
 * instance costs 50–300 ms of CPU per conversion (more in the worker's threads than alone); keeping
 * it holds its 35–60 MB until the next song. Memory was the reason to let go (the 5-minute song's peak,
 * docs/decisions.md "memory of a 5-minute conversion"), and a short song's own buffers are a tenth of a
 * 5-minute song's, so its peak stays far below that one's with the instance kept.
 */
export const KEEP_FLITE_UP_TO_SECONDS = 60;

/** Whether a song `seconds` long leaves Flite's instance to the thread's next song ({@link KEEP_FLITE_UP_TO_SECONDS}). */
export function keepsFlite(seconds: number): boolean {
  return seconds <= KEEP_FLITE_UP_TO_SECONDS;
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
export async function singAndCheck(
  run: Run,
  score: Score,
  clean: CleanRequest,
  request: ConvertRequest,
  lyrics: string,
): Promise<CheckedVocals> {
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
    // The song is sung: a long song lets go of Flite's instance (35–60 MB) before the quality check and
    // the encoding; a short one leaves it to the thread's next song (see keepsFlite).
    if (run.ports.flite && !keepsFlite(sung.samples.length / sung.sampleRate)) releaseFlite(run.ports.flite);
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
      message: `${prepared.outOfRange} ${prepared.outOfRange === 1 ? 'note lies' : 'notes lie'} outside the ${clean.voice} voice's range even after transposition.`,
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
