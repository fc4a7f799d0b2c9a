/**
 * Warm pipeline threads for the worker. A fresh thread starts with cold code: V8 compiles the
 * pipeline again in every new isolate, which on the 10.7 s voice-la fixture made a run in a new
 * thread take about 0.9 s longer than a warm one (see docs/benchmarks.md). The pool keeps threads
 * whose run ended (including a run stopped by an abort the thread obeyed) for the next run; it makes a
 * new one whenever all are busy, so it never limits concurrency (Bee-Queue's `concurrency` does).
 *
 * A thread is retired (closed) after `maxRunsPerThread` runs or `idleTimeoutMs` without work, which
 * bounds the memory a long-lived isolate may keep; a thread that crashed or had to be terminated is
 * never reused. Idle threads do not keep the process alive.
 *
 * `providers` (the worker's ProviderHost) answers every run's provider calls, so one set of circuit
 * breakers sees all the jobs of the process; a run's own `providers` option overrides it.
 */
import { AbortedError } from '../audio/errors.js';
import type { Providers } from '../audio/providers.js';
import { DEFAULT_ABORT_GRACE_MS, PipelineThread, type RunOptions, type RunPipeline, type ThreadStartOptions } from './run-in-thread.js';
import type { ThreadOutputs, ThreadPipelineOptions, ThreadRequest } from './thread-protocol.js';

export interface ThreadPoolOptions extends ThreadStartOptions {
  /** Runs one thread serves before it is retired; default 50. */
  maxRunsPerThread?: number;
  /** An idle thread is retired after this long, ms; default 60 000. */
  idleTimeoutMs?: number;
  /** Default grace after an abort before a thread is terminated, ms; default 2000. */
  abortGraceMs?: number;
  /** Called with each new thread's id (observability and tests). */
  onThreadStart?: (threadId: number) => void;
  /** Remote providers for every run (see {@link RunOptions.providers}); default none. Not closed by the pool. */
  providers?: Providers | null;
}

export interface ThreadPool {
  /** Converts in a warm idle thread, or a new one. Same contract as {@link PipelineThread.run}. */
  run: RunPipeline;
  /** Threads alive now: busy and idle. */
  size(): { busy: number; idle: number };
  /** Closes every idle thread and, once their runs end (terminated after the grace), every busy one. */
  close(): Promise<void>;
}

export function createThreadPool(options: ThreadPoolOptions = {}): ThreadPool {
  const maxRuns = options.maxRunsPerThread ?? 50;
  const idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  const graceMs = options.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
  const idle: { thread: PipelineThread; timer: NodeJS.Timeout }[] = [];
  const busy = new Set<PipelineThread>();
  let closed = false;

  const take = (): PipelineThread => {
    while (idle.length > 0) {
      const { thread, timer } = idle.pop()!;
      clearTimeout(timer);
      if (thread.isAlive) return thread;
    }
    const thread = new PipelineThread({ threadScript: options.threadScript, maxHeapMb: options.maxHeapMb });
    options.onThreadStart?.(thread.threadId);
    return thread;
  };

  const giveBack = (thread: PipelineThread): void => {
    if (closed || !thread.isAlive || thread.runs >= maxRuns) {
      void thread.close(graceMs);
      return;
    }
    thread.setRef(false);
    const entry = {
      thread,
      timer: setTimeout(() => {
        const at = idle.indexOf(entry);
        if (at >= 0) idle.splice(at, 1);
        void thread.close(graceMs);
      }, idleTimeoutMs),
    };
    entry.timer.unref();
    idle.push(entry);
  };

  return {
    async run(
      audio: Uint8Array,
      request: ThreadRequest,
      pipelineOptions: ThreadPipelineOptions = {},
      runOptions: RunOptions = {},
    ): Promise<ThreadOutputs> {
      if (closed) throw new AbortedError('The thread pool is closed.');
      const thread = take();
      thread.setRef(true);
      busy.add(thread);
      try {
        return await thread.run(audio, request, pipelineOptions, { abortGraceMs: graceMs, providers: options.providers, ...runOptions });
      } finally {
        busy.delete(thread);
        giveBack(thread);
      }
    },
    size: () => ({ busy: busy.size, idle: idle.length }),
    async close() {
      closed = true;
      const threads = [...idle.splice(0).map(({ thread, timer }) => (clearTimeout(timer), thread)), ...busy];
      await Promise.all(threads.map((thread) => thread.close(graceMs)));
    },
  };
}
