/**
 * The bookkeeping of one conversion run (pipeline.ts): progress, stage timings, warnings, and the
 * checkpoints where an abort lands; plus the provider calls the lyrics and vocals stages make through it.
 */
import { AbortedError, AppError } from './errors.js';
import { sanitizeText } from './lyrics/lyrics.js';
import type { ProviderCallOptions } from './providers.js';
import { driveSliced, type Sliced } from './sliced.js';
import type { ReportWarning } from './quality/report.js';
import { STAGES, type ConversionStage } from './stages.js';
import type { ConvertOptions, ConvertPorts } from './pipeline.types.js';

/** The bookkeeping one conversion run shares between its stages. */
export interface Run {
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

export function startRun(ports: ConvertPorts, options: ConvertOptions): Run {
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

/** What a provider error leaves: the embedded engine (with a warning), or the error itself. */
export function fallBackOrThrow(run: Run, error: unknown, stage: ConversionStage, code: string, what: string, instead: string): void {
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
export async function callProvider<T>(run: Run, call: (options: ProviderCallOptions) => Promise<T>): Promise<T> {
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
export function label(raw: unknown, fallback: string): string {
  const clean = sanitizeText(typeof raw === 'string' ? raw : '', 200)
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
  return clean || fallback;
}
