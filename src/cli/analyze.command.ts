/**
 * `melody-vocals analyze FILE [--json] [--spectrogram OUT.png]`: the CLI shell around validateAndDecode +
 * analyzeMelody; optionally writes the input's spectrogram with the detected notes outlined.
 */
import { parseArgs } from 'node:util';
import { basename } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { analyzeMelody, reuseValidationLevels } from '../audio/analyze.js';
import { toAnalysisJson } from '../audio/analysis-json.js';
import { validateAndDecode } from '../audio/validate/validate.js';
import { mixdown } from '../audio/dsp/mixdown.js';
import { createFfmpegDecoder } from '../platform/ffmpeg-decoder.js';
import { formatAnalysisSummary } from './format-summary.js';
import { readInputFile, limitsFromFlags, LIMIT_FLAGS } from './input-file.js';
import { EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io.js';

export async function analyzeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, spectrogram: { type: 'string' }, ...LIMIT_FLAGS },
  });
  if (positionals.length !== 1) {
    io.stderr.write('error USAGE: analyze takes exactly one FILE\n');
    return EXIT_USAGE;
  }
  const path = positionals[0];
  const limits = limitsFromFlags(values);
  const bytes = await readInputFile(path, limits.maxFileBytes);
  const { audio, report, levels } = await validateAndDecode(bytes, { decoder: createFfmpegDecoder(), limits, fileName: basename(path) });
  const analysis = analyzeMelody(audio, reuseValidationLevels(levels));
  const json = toAnalysisJson(audio, report, analysis);
  if (values.spectrogram !== undefined) {
    // Loaded only when asked for: the drawing brings the voice modules (semitone snapping) and the PNG
    // encoder, ~15 modules and ~20 ms of a plain `analyze`'s start-up (issue 16).
    const { spectrogramPng } = await import('./spectrogram-output.js');
    await writeFile(values.spectrogram, spectrogramPng(mixdown(audio.channels), audio.sampleRate, analysis.notes));
  }
  io.stdout.write(values.json ? `${JSON.stringify(json)}\n` : `${formatAnalysisSummary(basename(path), json)}\n`);
  return EXIT_OK;
}
