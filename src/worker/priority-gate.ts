/**
 * The worker's in-process gate: `slots` (WORKER_CONCURRENCY) conversions run at once, whichever of the
 * three queues their jobs came from. Jobs that Bee-Queue handed to this worker wait here for a slot;
 * a free slot goes to the waiting job of the highest priority (HIGH, then NORMAL, then LOW; first come
 * first served within a level), and only after the shared start limiter allowed one more start.
 *
 * The limiter is asked on behalf of the slot, not of a job: while the permit is awaited a HIGH job
 * that arrives meanwhile still overtakes the LOW one that was waiting first.
 *
 * Trade-off: each queue's Bee-Queue consumer fetches up to `slots + 1` jobs (worker.ts), so every
 * level has a job here whenever one is queued and the gate can really choose; while the slots are
 * busy a worker may hold up to `2 × slots + 3` fetched jobs that another, idle worker could have run.
 * They keep their stall locks while held (Bee-Queue renews them from the moment it hands the job
 * over), and are handed back to their queue at shutdown.
 */
import { ConversionPriority } from '../modules/conversion/conversion.entity.js';
import { PRIORITY_ORDER } from './conversion-queues.js';

/** Rejection of the jobs still waiting when the gate closes. */
export class GateClosedError extends Error {
  constructor() {
    super('The worker is shutting down.');
    this.name = 'GateClosedError';
  }
}

interface Waiter {
  resolve(release: () => void): void;
  reject(error: Error): void;
}

export interface PriorityGate {
  /**
   * Waits for a slot for a job of `priority`, then for the start limiter; resolves with the function
   * that frees the slot again (call it once, when the job is over). Rejects with
   * {@link GateClosedError} when the gate closes first.
   */
  enter(priority: ConversionPriority): Promise<() => void>;
  /** Jobs running (holding a slot). */
  active(): number;
  /** Jobs waiting for a slot. */
  waiting(): number;
  /**
   * Grants nothing more. Running jobs keep their slots; waiting ones keep waiting until
   * {@link PriorityGate.rejectWaiting} (the worker first closes its queues, so that Bee-Queue records
   * nothing for them, and hands their jobs back).
   */
  close(): void;
  /** Rejects every waiting job with {@link GateClosedError}. */
  rejectWaiting(): void;
}

/**
 * @param slots jobs at once (≥ 1)
 * @param acquireStart the start limiter's `acquire` (resolves when one more job may start; rejects
 *   with the signal's reason when the signal aborts)
 */
export function createPriorityGate(slots: number, acquireStart: (signal: AbortSignal) => Promise<void>): PriorityGate {
  const queues: Record<ConversionPriority, Waiter[]> = { HIGH: [], NORMAL: [], LOW: [] };
  const closing = new AbortController();
  let running = 0;
  let pumping = false;

  const waitingCount = () => PRIORITY_ORDER.reduce((sum, priority) => sum + queues[priority].length, 0);
  const next = (): Waiter | undefined => {
    for (const priority of PRIORITY_ORDER) if (queues[priority].length > 0) return queues[priority].shift();
    return undefined;
  };

  /** Hands free slots to waiting jobs, one limiter permit at a time. */
  async function pump(): Promise<void> {
    if (pumping) return;
    pumping = true;
    try {
      while (!closing.signal.aborted && running < slots && waitingCount() > 0) {
        try {
          await acquireStart(closing.signal);
        } catch {
          return; // closed while waiting for the permit
        }
        const waiter = next();
        if (!waiter) return; // only at close: the permit is wasted
        running += 1;
        let released = false;
        waiter.resolve(() => {
          if (released) return;
          released = true;
          running -= 1;
          void pump();
        });
      }
    } finally {
      pumping = false;
    }
  }

  return {
    enter(priority) {
      if (closing.signal.aborted) return Promise.reject(new GateClosedError());
      return new Promise((resolve, reject) => {
        queues[priority].push({ resolve, reject });
        void pump();
      });
    },
    active: () => running,
    waiting: waitingCount,
    close() {
      closing.abort(new GateClosedError());
    },
    rejectWaiting() {
      for (const priority of PRIORITY_ORDER) for (const waiter of queues[priority].splice(0)) waiter.reject(new GateClosedError());
    },
  };
}
