/**
 * A `pause` for the pure code's sliced computations (audio/sliced.ts) on a server's event loop: it
 * resolves at once while the current time slice lasts, and after `sliceMs` of work it lets the event
 * loop run (other requests, timers, I/O) before the next slice. Sliced work driven with it blocks the
 * loop for at most one slice plus one slice of the computation (~1 ms).
 */
import { performance } from 'node:perf_hooks';

/** Longest run of sliced work between two turns of the event loop, ms. */
export const DEFAULT_SLICE_MS = 10;

export function timeSlicedPause(sliceMs = DEFAULT_SLICE_MS, now: () => number = () => performance.now()): () => Promise<void> {
  let sliceStart = now();
  return async () => {
    if (now() - sliceStart < sliceMs) return;
    // setImmediate, not setTimeout(0): the latter is clamped to 1 ms.
    await new Promise<void>((resolve) => setImmediate(resolve));
    sliceStart = now();
  };
}
