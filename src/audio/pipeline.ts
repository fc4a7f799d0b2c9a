/**
 * The whole conversion: validate → analyse → write (or align) lyrics → sing → quality checks → encode.
 *
 * Pure apart from its two injected ports: a {@link CompressedDecoder} for compressed uploads and an
 * {@link AudioEncoder} for the compressed output (the platform's ffmpeg adapters in production). The
 * clock used for stage timings and the way the pipeline yields to the event loop (so that an abort can
 * land between steps) are injected too. The CLI and the service's worker both call {@link convertMelody}.
 * Steps whose length grows with the recording (decoding WAV, loudness, pitch tracking, note finding,
 * singing, normalisation, WAV encoding) run as sliced computations (sliced.ts) that the pipeline
 * drives, yielding between their slices every `SLICE_MS` ms (pipeline-run.ts): an abort lands within that plus one
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
import { AbortedError, ValidationError } from './errors.js';
import { validateAndDecode } from './validate/validate.js';
import { analysisSteps, reuseValidationLevels, type AnalysisStep } from './analyze.js';
import { writeMidi } from './score/midi.js';
import { writeMusicXml } from './score/musicxml.js';
import { toAnalysisJson, type AnalysisJson } from './analysis-json.js';
import { LOW_CONFIDENCE } from './notes/notes.js';
import { estimateKey } from './key/key.js';
import { estimateTempo } from './tempo/tempo.js';
import { findPhrases } from './phrases/phrases.js';
import { validateRequest } from './validate/request.js';
import { buildReport, lyricsText } from './quality/report.js';
import type { CompressedFormat, ConversionOutputs, ConvertOptions, ConvertPorts, ConvertRequest } from './pipeline.types.js';
import { startRun, type Run } from './pipeline-run.js';
import { lyricsFor } from './pipeline-lyrics.js';
import { singAndCheck } from './pipeline-vocals.js';

/** The report's types are part of what the pipeline returns (ConversionOutputs.report). */
export type { ConversionReport, ReportWarning } from './quality/report.js';

/** The stages are defined in stages.ts; the pipeline's callers get them from here too. */
export { STAGES, type ConversionStage } from './stages.js';

/** The request, ports, options, events and outputs live in pipeline.types.ts; callers import them from here. */
export type {
  AudioEncoder,
  CompressedFormat,
  ConversionOutputs,
  ConvertOptions,
  ConvertPorts,
  ConvertRequest,
  ProgressEvent,
} from './pipeline.types.js';

const COMPRESSED: Record<CompressedFormat, { extension: string; mimeType: string }> = {
  mp3: { extension: 'mp3', mimeType: 'audio/mpeg' },
  opus: { extension: 'opus', mimeType: 'audio/ogg; codecs=opus' },
};

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
  const {
    audio,
    report: validation,
    levels,
  } = await run.timed('validation', () =>
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
    const steps = analysisSteps(audio, reuseValidationLevels(levels));
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

/** A short score title from the prompt: its first words, capitalised. */
function titleFrom(prompt: string): string {
  const words = prompt.split(' ').slice(0, 6).join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
