/**
 * The one way tests wait: for a condition, never for a length of time.
 *
 * A test that sleeps "long enough" passes on a quiet machine and fails on a busy one (issue 18);
 * a test that polls until what it needs is true passes on both, and only spends the time it must.
 */
import { inspect } from 'node:util';

export interface EventuallyOptions<T> {
  /** Give up after this long, in ms (default 30 000). A deadline for a broken test, not a pace. */
  timeoutMs?: number;
  /** Pause between two probes, in ms (default 50). */
  intervalMs?: number;
  /** When the probed value is good enough (default: when it is truthy). */
  until?: (value: T) => boolean;
}

/**
 * Calls `probe` until `until(value)` holds (by default: until it returns a truthy value) and resolves
 * with that value. A probe that throws counts as "not yet" (a server still restarting, a row not yet
 * written). After `timeoutMs` it rejects with an error naming `what` and the last value or error seen,
 * so a failure says what was waited for and how far it got.
 * @param what the condition in words, read as "waiting until <what>"; a function is called only on failure.
 */
export async function eventually<T>(
  what: string | (() => string),
  probe: () => T | Promise<T>,
  options: EventuallyOptions<T> = {},
): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 50, until = Boolean } = options;
  const started = Date.now();
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await probe();
      if (until(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() - started >= timeoutMs) break;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const seen =
    last === undefined
      ? 'nothing'
      : 'error' in last
        ? `error ${describe(last.error)}`
        : `value ${inspect(last.value, { depth: 2, maxArrayLength: 20, maxStringLength: 500, breakLength: Infinity })}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting until ${typeof what === 'string' ? what : what()}; last ${seen}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : inspect(error);
}
