/**
 * `melody-vocals convert FILE --prompt "..." --out DIR [...]`: the whole job on this machine.
 * Writes vocals.wav, vocals.mp3 (or .opus), score.mid, score.musicxml, lyrics.txt and report.json
 * (and spectrogram.png with --spectrogram).
 * Nothing is written unless the conversion succeeds: the files are prepared in a temporary folder
 * beside DIR and moved into place at the end.
 */
import { parseArgs } from 'node:util';
import { basename, dirname, join, resolve } from 'node:path';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { convertMelody, type CompressedFormat, type ConversionOutputs } from '../audio/pipeline.js';
import { createFfmpegDecoder } from '../platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../platform/ffmpeg-encoder.js';
import { loadFliteProgram } from '../platform/flite-program.js';
import { ValidationError } from '../audio/errors.js';
import { readMelodyFile, type MelodyFile } from '../audio/score/melody-file.js';
import { readInputFile, limitsFromFlags, LIMIT_FLAGS } from './input-file.js';
import { createProgressDisplay } from './progress-bar.js';
import { vocalsSpectrogramPng } from './spectrogram-output.js';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io.js';
import { CONVERT_USAGE } from './convert-usage.js';

function usage(io: CliIo, message: string): number {
  io.stderr.write(`error USAGE: ${message}\nUsage:\n${CONVERT_USAGE}`);
  return EXIT_USAGE;
}

export async function convertCommand(args: string[], io: CliIo, signal?: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      prompt: { type: 'string' },
      genre: { type: 'string', default: 'pop' },
      mood: { type: 'string', default: 'happy' },
      lyrics: { type: 'string' },
      melody: { type: 'string' },
      voice: { type: 'string' },
      engine: { type: 'string', default: 'flite' },
      seed: { type: 'string' },
      format: { type: 'string', default: 'mp3' },
      'target-lufs': { type: 'string' },
      out: { type: 'string' },
      'no-vibrato': { type: 'boolean', default: false },
      'no-portamento': { type: 'boolean', default: false },
      'no-breath': { type: 'boolean', default: false },
      spectrogram: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      ...LIMIT_FLAGS,
    },
  });
  if (positionals.length !== 1) return usage(io, 'convert takes exactly one FILE');
  if (values.prompt === undefined) return usage(io, '--prompt is required');
  if (values.out === undefined) return usage(io, '--out DIR is required');
  if (values.format !== 'mp3' && values.format !== 'opus') return usage(io, '--format must be mp3 or opus');
  if (values.engine !== 'flite' && values.engine !== 'formant') return usage(io, '--engine must be flite or formant');
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  const targetLufs = values['target-lufs'] === undefined ? undefined : Number(values['target-lufs']);
  if (targetLufs !== undefined && !(Number.isFinite(targetLufs) && targetLufs < 0 && targetLufs >= -60)) {
    throw new ValidationError([
      { code: 'INVALID_OPTION', message: '--target-lufs must be a number from -60 to 0 (exclusive).', value: values['target-lufs'] },
    ]);
  }

  const input = positionals[0];
  const limits = limitsFromFlags(values);
  const audio = await readInputFile(input, limits.maxFileBytes);
  let lyrics: string | undefined;
  if (values.lyrics !== undefined) {
    try {
      lyrics = await readFile(values.lyrics, 'utf8');
    } catch {
      throw new ValidationError([
        { code: 'FILE_NOT_FOUND', message: `Cannot read the lyrics file ${values.lyrics}.`, value: values.lyrics },
      ]);
    }
  }

  let melody: MelodyFile | undefined;
  if (values.melody !== undefined) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(values.melody));
    } catch {
      throw new ValidationError([
        { code: 'FILE_NOT_FOUND', message: `Cannot read the melody file ${values.melody}.`, value: values.melody },
      ]);
    }
    melody = readMelodyFile(bytes);
  }

  const display = values.quiet ? null : createProgressDisplay(io.stderr, () => performance.now());
  let outputs: ConversionOutputs;
  try {
    outputs = await convertMelody(
      {
        audio,
        fileName: basename(input),
        prompt: values.prompt,
        genre: values.genre,
        mood: values.mood,
        lyrics,
        voice: values.voice,
        seed,
        melody,
      },
      {
        decoder: createFfmpegDecoder(),
        encoder: createFfmpegEncoder(),
        clock: () => performance.now(),
        flite: values.engine === 'flite' ? loadFliteProgram() : undefined,
      },
      {
        limits,
        engine: values.engine,
        targetLufs,
        compressedFormat: values.format as CompressedFormat,
        vibrato: !values['no-vibrato'],
        portamento: !values['no-portamento'],
        breath: !values['no-breath'],
        onProgress: (event) => display?.update(event),
        signal,
      },
    );
  } finally {
    display?.finish();
  }

  const files = await writeOutputs(resolve(values.out), outputs, values.spectrogram);
  io.stdout.write(`${formatConvertSummary(outputs, files)}\n`);
  return EXIT_OK;
}

/** Writes every output into a temporary folder beside `dir`, then moves them into `dir`. */
async function writeOutputs(dir: string, outputs: ConversionOutputs, spectrogram: boolean): Promise<string[]> {
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(dir)}.partial-`));
  const contents: Record<string, Uint8Array | string> = {
    'vocals.wav': outputs.vocalsWav,
    [`vocals.${outputs.vocalsCompressed.extension}`]: outputs.vocalsCompressed.bytes,
    'score.mid': outputs.midi,
    'score.musicxml': outputs.musicXml,
    'lyrics.txt': `${outputs.report.lyrics.text}\n`,
    'report.json': `${JSON.stringify(outputs.report, null, 2)}\n`,
    ...(spectrogram ? { 'spectrogram.png': vocalsSpectrogramPng(outputs) } : {}),
  };
  try {
    for (const [name, data] of Object.entries(contents)) await writeFile(join(staging, name), data);
    await mkdir(dir, { recursive: true });
    for (const name of Object.keys(contents)) await rename(join(staging, name), join(dir, name));
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return Object.keys(contents).map((name) => join(dir, name));
}

export function formatConvertSummary(outputs: ConversionOutputs, files: string[]): string {
  const r = outputs.report;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`);
  const lines = [
    `Melody   ${r.melody.noteCount} notes in ${r.melody.phraseCount} phrases, ${r.melody.key?.label ?? 'key unknown'}, ${r.melody.tempo ? `${r.melody.tempo.bpm.toFixed(0)} BPM` : 'tempo unknown'}, ${r.melody.durationSeconds.toFixed(1)} s`,
    `Lyrics   ${r.lyrics.lineCount} lines, ${r.lyrics.syllableCount} syllables (${r.lyrics.source === 'user' ? 'your lyrics' : `${r.lyrics.genre}, ${r.lyrics.mood}`}), quality ${r.lyrics.qualityScore.toFixed(2)}`,
    `Voice    ${r.voice.id}${r.voice.synthesizer ? ` (${r.voice.synthesizer} engine)` : ` (${r.voice.engine})`}${r.voice.transposeSemitones ? `, transposed ${r.voice.transposeSemitones > 0 ? '+' : ''}${r.voice.transposeSemitones} semitones` : ''}`,
    `Quality  pitch accuracy ${pct(r.quality.pitchAccuracy)}, ${r.quality.clarity ? `vowel clarity ${pct(r.quality.clarity.vowelSeparation)}, consonant contrast ${r.quality.clarity.consonantContrastDb ?? 'n/a'} dB, ` : ''}${r.quality.integratedLufs ?? 'n/a'} LUFS, true peak ${r.quality.truePeakDbtp ?? 'n/a'} dBTP`,
    '',
    ...r.lyrics.text.split('\n').map((l) => (l ? `  ${l}` : '')),
    '',
    ...r.warnings.map((w) => `warning  ${w.code}: ${w.message}`),
    ...files.map((f) => `wrote    ${f}`),
  ];
  return lines.join('\n');
}
