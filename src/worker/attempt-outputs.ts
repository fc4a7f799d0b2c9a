/**
 * What a conversion attempt stores and how its row maps to the pipeline and back: the storage keys of
 * its outputs (`conversions/<id>/<attemptId>/<name>`, so two attempts never overwrite or delete each
 * other's files), writing the thread's outputs there, the row's result from them, and the pipeline
 * request from the row.
 */
import type { ConvertRequest } from '../audio/pipeline.js';
import { stageName } from '../audio/stages.js';
import type { Storage } from '../platform/storage.js';
import type { Conversion, QualityData, ResultData, WarningData } from '../modules/conversion/conversion.entity.js';
import { storageKeys } from '../modules/conversion/conversion-job.js';
import type { ThreadOutputs, ThreadRequest } from './thread-protocol.js';

/** Output files a conversion may have, by storage name (the compressed one in either format). */
export const OUTPUT_NAMES = ['vocals.wav', 'vocals.mp3', 'vocals.opus', 'score.mid', 'score.musicxml', 'report.json'] as const;

/** Storage keys of one attempt's outputs: `conversions/<id>/<attemptId>/<name>`. */
export const attemptKeys = {
  dir: (conversionId: string, attemptId: string) => `${storageKeys.dir(conversionId)}/${attemptId}`,
  output: (conversionId: string, attemptId: string, name: string) => `${storageKeys.dir(conversionId)}/${attemptId}/${name}`,
};

/**
 * Writes the thread's outputs under the attempt's keys; `onWritten` gets each file's size, bytes (for
 * `melody_storage_written_bytes_total`). @returns the keys, as the row's `result.files`.
 */
export async function writeOutputs(
  storage: Storage,
  conversionId: string,
  attemptId: string,
  outputs: ThreadOutputs,
  onWritten: (bytes: number) => void = () => undefined,
): Promise<ResultData['files']> {
  const files: ResultData['files'] = {
    vocalsWav: attemptKeys.output(conversionId, attemptId, 'vocals.wav'),
    vocalsCompressed: attemptKeys.output(conversionId, attemptId, `vocals.${outputs.vocalsCompressed.extension}`),
    midi: attemptKeys.output(conversionId, attemptId, 'score.mid'),
    musicXml: attemptKeys.output(conversionId, attemptId, 'score.musicxml'),
    report: attemptKeys.output(conversionId, attemptId, 'report.json'),
  };
  const write = async (key: string, bytes: Uint8Array) => {
    await storage.write(key, bytes);
    onWritten(bytes.byteLength);
  };
  await write(files.vocalsWav, outputs.vocalsWav);
  await write(files.vocalsCompressed, outputs.vocalsCompressed.bytes);
  await write(files.midi, outputs.midi);
  await write(files.musicXml, new TextEncoder().encode(outputs.musicXml));
  await write(files.report, new TextEncoder().encode(`${JSON.stringify(outputs.report, null, 2)}\n`));
  return files;
}

function finiteOrNull(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The row's result, quality and warnings from the thread's outputs. */
export function resultOf(
  outputs: ThreadOutputs,
  files: ResultData['files'],
): { result: ResultData; quality: QualityData; warnings: WarningData[] } {
  const { report } = outputs;
  return {
    result: {
      files,
      compressedFormat: outputs.vocalsCompressed.format,
      lyrics: report.lyrics.text,
      melody: {
        noteCount: report.melody.noteCount,
        phraseCount: report.melody.phraseCount,
        key: report.melody.key?.label ?? null,
        tempoBpm: finiteOrNull(report.melody.tempo?.bpm),
        durationSeconds: report.melody.durationSeconds,
      },
      lyricsInfo: {
        lineCount: report.lyrics.lineCount,
        syllableCount: report.lyrics.syllableCount,
        genre: report.lyrics.genre,
        mood: report.lyrics.mood,
        qualityScore: report.lyrics.qualityScore,
        source: report.lyrics.source,
      },
      timedLines: report.lyrics.timedLines,
      notes: report.melody.notes.map((n) => ({ start: n.start, end: n.end, midi: n.midi, lowConfidence: n.lowConfidence })),
    },
    quality: {
      pitchAccuracy: finiteOrNull(report.quality.pitchAccuracy),
      lyricsQuality: report.lyrics.qualityScore,
      integratedLufs: finiteOrNull(report.quality.integratedLufs),
      truePeakDbtp: finiteOrNull(report.quality.truePeakDbtp),
    },
    warnings: report.warnings.map((w) => ({ code: w.code, message: w.message, stage: stageName(w.stage) })),
  };
}

/** The pipeline request stored in the row (the seed column is a bigint, which the driver may hand back as a string). */
export function requestOf(conversion: Conversion): ThreadRequest {
  return {
    fileName: conversion.input?.fileName,
    prompt: conversion.prompt,
    genre: conversion.genre,
    mood: conversion.mood,
    lyrics: conversion.lyrics,
    voice: conversion.voice,
    seed: conversion.seed === null || conversion.seed === undefined ? null : Number(conversion.seed),
  } satisfies Omit<ConvertRequest, 'audio'>;
}
