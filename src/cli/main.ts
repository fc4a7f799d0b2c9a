/**
 * The `melody-vocals` command. Everything runs in this process: no server, no database.
 *   melody-vocals analyze FILE [--json]
 * Exit codes: 0 ok, 1 internal failure, 2 bad input (validation), 64 bad usage, 130 interrupted.
 */
import { analyzeCommand } from './analyze.command.js';
import { CONVERT_USAGE } from './convert-usage.js';
import { AppError } from '../audio/errors.js';
import { EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, type CliIo } from './cli-io.js';

export type { CliIo } from './cli-io.js';

const USAGE = () => `Usage:
  melody-vocals analyze FILE [--json] [--spectrogram OUT.png] [--max-size-mb N] [--min-duration S] [--max-duration S]
      Find the notes, key, tempo, phrases and loudness of a melody recording
      (WAV, MP3, M4A, AAC, OGG, FLAC, WebM); --spectrogram also draws its spectrogram
      with the notes found outlined.
${CONVERT_USAGE}  melody-vocals --help | --version
`;

/** Writes an error as `error CODE: message` (one line, no stack) and returns the matching exit code. */
export function reportError(error: unknown, io: CliIo): number {
  if (error instanceof AppError) {
    io.stderr.write(`error ${error.reason}: ${error.message}\n`);
    if (error.code === 'ABORTED') return EXIT_INTERRUPTED;
    return error.code === 'VALIDATION_ERROR' ? EXIT_BAD_INPUT : EXIT_FAILURE;
  }
  const message = error instanceof Error ? error.message : String(error);
  io.stderr.write(`error UNKNOWN_ERROR: ${message}\n`);
  return EXIT_FAILURE;
}

/** node:util parseArgs failures (unknown flag, missing value) are usage errors, not crashes. */
function isParseArgsError(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS');
}

/** Runs the CLI with the given arguments (without `node` and the script path); resolves to the exit code. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
  signal?: AbortSignal,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'analyze':
        return await analyzeCommand(rest, io);
      case 'convert': {
        // Loaded only when used: the conversion's modules cost `analyze` and `--help` ~0.5 s to import.
        const { convertCommand } = await import('./convert.command.js');
        return await convertCommand(rest, io, signal);
      }
      case '--version':
      case '-v':
        io.stdout.write('melody-vocals 0.1.0\n');
        return EXIT_OK;
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.stdout.write(USAGE());
        return command === undefined ? EXIT_USAGE : EXIT_OK;
      default:
        io.stderr.write(`error USAGE: unknown command "${command}"\n${USAGE()}`);
        return EXIT_USAGE;
    }
  } catch (error) {
    if (isParseArgsError(error)) {
      io.stderr.write(`error USAGE: ${error.message}\n${USAGE()}`);
      return EXIT_USAGE;
    }
    return reportError(error, io);
  }
}
