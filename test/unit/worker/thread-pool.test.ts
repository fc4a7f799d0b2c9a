/**
 * The pool of pipeline threads: a thread whose run ended serves the next one (warm code), a thread
 * that had to be terminated is never reused, threads retire after their run budget, and a warm run
 * is faster than a cold one.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AbortedError, ValidationError } from '../../../src/audio/errors.js';
import { createThreadPool, type ThreadPool } from '../../../src/worker/thread-pool.js';
import { MELODY_FIXTURE_DIR } from '../../support/melody-fixtures.js';

const REQUEST = {
  fileName: 'voice-la.flac',
  prompt: 'a romantic ballad about summer nights by the sea',
  genre: 'ballad',
  mood: 'romantic',
  seed: 7,
};
const NOT_AUDIO = new TextEncoder().encode('not audio; '.repeat(100));

async function fixture(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(MELODY_FIXTURE_DIR, 'voice-la.flac')));
}

const pools: ThreadPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function pool(options: Parameters<typeof createThreadPool>[0] = {}): { pool: ThreadPool; started: number[] } {
  const started: number[] = [];
  const made = createThreadPool({ ...options, onThreadStart: (id) => started.push(id) });
  pools.push(made);
  return { pool: made, started };
}

describe('the pipeline thread pool', () => {
  it('serves consecutive runs, failed or aborted ones included, from the same thread', async () => {
    const { pool: threads, started } = pool();
    await expect(threads.run(NOT_AUDIO, REQUEST)).rejects.toBeInstanceOf(ValidationError);
    const controller = new AbortController();
    const aborted = threads.run(
      await fixture(),
      REQUEST,
      {},
      { signal: controller.signal, onProgress: (e) => e.stage === 'pitch_extraction' && controller.abort() },
    );
    await expect(aborted).rejects.toBeInstanceOf(AbortedError);
    const out = await threads.run(await fixture(), REQUEST);
    expect(out.report.melody.noteCount).toBeGreaterThan(10);
    expect(started).toHaveLength(1);
    expect(threads.size()).toEqual({ busy: 0, idle: 1 });
  });

  it('starts another thread when all are busy', async () => {
    const { pool: threads, started } = pool();
    const results = await Promise.allSettled([threads.run(NOT_AUDIO, REQUEST), threads.run(NOT_AUDIO, REQUEST)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(started).toHaveLength(2);
    expect(threads.size()).toEqual({ busy: 0, idle: 2 });
  });

  it('never reuses a thread it had to terminate', async () => {
    // A thread that never reads its messages: only terminate() stops it.
    const stuck = new URL('data:text/javascript,' + encodeURIComponent('const end = Date.now() + 60000; while (Date.now() < end) {}'));
    const { pool: threads, started } = pool({ threadScript: stuck, abortGraceMs: 200 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await expect(threads.run(NOT_AUDIO, REQUEST, {}, { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(threads.size()).toEqual({ busy: 0, idle: 0 });
    expect(started).toHaveLength(1);
  });

  it('retires a thread after its run budget', async () => {
    const { pool: threads, started } = pool({ maxRunsPerThread: 2 });
    for (let i = 0; i < 3; i++) await threads.run(NOT_AUDIO, REQUEST).catch(() => undefined);
    expect(started).toHaveLength(2);
  });

  it('converts faster in a warm thread than in a new one', async () => {
    const { pool: threads } = pool();
    const timings: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = performance.now();
      await threads.run(await fixture(), REQUEST);
      timings.push(performance.now() - start);
    }
    const warm = Math.min(timings[1], timings[2]);
    process.stdout.write(
      `pool: first run ${timings[0].toFixed(0)} ms (new thread), then ${timings[1].toFixed(0)} and ${timings[2].toFixed(0)} ms (warm)\n`,
    );
    expect(warm).toBeLessThan(timings[0]);
  });
});
