/**
 * Long pure computations cut into slices, so that an asynchronous caller can let an abort (or any
 * other pending event) run between them while the code itself stays pure: no clock, no promises.
 *
 * A sliced computation is a generator that yields (nothing) after each bounded piece of work (a few
 * milliseconds: a block of frames or of samples) and returns its result. {@link runSliced} runs one
 * straight through, which is what the synchronous APIs (`trackPitch`, `measureLoudness`…) do; the
 * conversion pipeline drives it instead and yields to the event loop when its time slice is used up.
 * Slicing only splits loops into consecutive ranges: the same operations run in the same order, so
 * the results are identical to the last bit whichever way a computation is driven.
 *
 * The loops stay in the generator functions themselves, with a `yield` between blocks, rather than
 * moving into closures called per block: a closure reads the loop's arrays and constants from its
 * context on every access, which cost 10–60 % in the per-sample loops.
 */

/** A computation returning `T` that yields `undefined` between slices of its work. */
export type Sliced<T> = Generator<undefined, T, void>;

/**
 * Samples per slice of a per-sample loop (filters, peaks, gains). 2^16 samples take 0.1–1 ms in the
 * cheapest loops and a few ms in the oversampling ones on a 2020s core: fine enough for a 10 ms time
 * slice, coarse enough that the yields cost nothing measurable.
 */
export const SLICE_SAMPLES = 1 << 16;

/** Runs a sliced computation to its end synchronously and returns its result. */
export function runSliced<T>(work: Sliced<T>): T {
  for (;;) {
    const next = work.next();
    if (next.done) return next.value;
  }
}

/**
 * Runs a sliced computation, awaiting `pause` between its slices (it may reject to stop the work), or
 * straight through without one. For pure async code that is handed the caller's pause.
 */
export async function driveSliced<T>(work: Sliced<T>, pause?: () => Promise<void>): Promise<T> {
  if (!pause) return runSliced(work);
  for (;;) {
    const next = work.next();
    if (next.done) return next.value;
    await pause();
  }
}
