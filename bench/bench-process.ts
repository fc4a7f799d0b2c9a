/**
 * What the benches read about a child process and their samples: its CPU time from /proc (robust to a
 * busy machine, unlike wall time), when its HTTP server answers, and medians and percentiles.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 when it cannot be read). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Fields 3 onwards of /proc/`pid`/stat (stat(5)): index 0 is field 3, the process state. */
function statFields(pid: number | undefined): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

/** Sum of two stat(5) clock-tick fields (counted from 1) of `pid`, ms; NaN where /proc cannot be read. */
function statTicksMs(pid: number | undefined, first: number, second: number): number {
  try {
    const fields = statFields(pid);
    return ((Number(fields[first - 3]) + Number(fields[second - 3])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** CPU time (user + system) process `pid` has used, ms (Linux /proc, stat(5) `utime` + `stime`; NaN elsewhere). */
export function processCpuMs(pid: number | undefined): number {
  return statTicksMs(pid, 14, 15);
}

/**
 * CPU time (user + system) of the children process `pid` has waited for, ms (stat(5)'s `cutime` and
 * `cstime`: e.g. the ffmpeg processes a worker spawned and reaped); NaN where /proc cannot be read.
 */
export function processChildrenCpuMs(pid: number | undefined): number {
  return statTicksMs(pid, 16, 17);
}

/** The `p`-th percentile (nearest rank) of ascending `sorted`; NaN when empty. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** The median of `values` (the mean of the middle two for an even count); NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface WaitForHttpOptions {
  timeoutMs: number;
  /** Time between two requests, ms (100 unless given). */
  intervalMs?: number;
  /** True once the process serving `url` has exited: stop waiting at once. */
  exited?: () => boolean;
}

/** Resolves at the first 2xx answer of `url`; rejects if the server's process exits or time runs out. */
export async function waitForHttp(url: string, { timeoutMs, intervalMs = 100, exited }: WaitForHttpOptions): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (exited?.()) throw new Error(`the process serving ${url} exited before it answered`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > end) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
