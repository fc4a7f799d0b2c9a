/** Reading the user's input file for the CLI, with the size cap applied before any byte is read. */
import { readFile, stat } from 'node:fs/promises';
import { ValidationError } from '../audio/errors.js';
import { DEFAULT_VALIDATION_LIMITS, type ValidationLimits } from '../audio/validate/validate.js';

/** parseArgs options for the validation limits every command that takes audio accepts. */
export const LIMIT_FLAGS = {
  'max-size-mb': { type: 'string' },
  'min-duration': { type: 'string' },
  'max-duration': { type: 'string' },
} as const;

function positiveNumber(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ValidationError([{ code: 'INVALID_OPTION', message: `--${flag} must be a positive number, got "${raw}".`, value: raw }]);
  }
  return value;
}

/** Turns the limit flags into validation limits (defaults from DEFAULT_VALIDATION_LIMITS). */
export function limitsFromFlags(values: { 'max-size-mb'?: string; 'min-duration'?: string; 'max-duration'?: string }): ValidationLimits {
  const d = DEFAULT_VALIDATION_LIMITS;
  return {
    ...d,
    maxFileBytes: Math.round(positiveNumber('max-size-mb', values['max-size-mb'], d.maxFileBytes / (1024 * 1024)) * 1024 * 1024),
    minDurationSeconds: positiveNumber('min-duration', values['min-duration'], d.minDurationSeconds),
    maxDurationSeconds: positiveNumber('max-duration', values['max-duration'], d.maxDurationSeconds),
  };
}

/**
 * Reads a file into memory after checking it exists, is a regular file and is not larger than
 * `maxBytes` (so a huge file is refused without being read).
 */
export async function readInputFile(path: string, maxBytes: number): Promise<Uint8Array> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ValidationError([{ code: 'NOT_A_FILE', message: `${path} is not a regular file.`, value: path }]);
    size = info.size;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    throw new ValidationError([{ code: 'FILE_NOT_FOUND', message: `Cannot read ${path}: no such file.`, value: path }]);
  }
  if (size > maxBytes) {
    const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
    throw new ValidationError([
      { code: 'FILE_TOO_LARGE', message: `The file is ${mb(size)} MB; the limit is ${mb(maxBytes)} MB.`, value: size, limit: maxBytes },
    ]);
  }
  return new Uint8Array(await readFile(path));
}
