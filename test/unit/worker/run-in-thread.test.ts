/**
 * runInThread: the pipeline runs in a worker thread while the caller's event loop stays free; results,
 * progress and errors cross the thread boundary intact; an abort ends the thread.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeWav } from '../../../src/audio/decode/wav.js';
import type { ProgressEvent } from '../../../src/audio/pipeline.js';
import { AbortedError, AppError, ValidationError } from '../../../src/audio/errors.js';
import { runInThread } from '../../../src/worker/run-in-thread.js';
import { MELODY_FIXTURE_DIR } from '../../support/melody-fixtures.js';

const REQUEST = {
  fileName: 'voice-la.flac',
  prompt: 'a romantic ballad about summer nights by the sea',
  genre: 'ballad',
  mood: 'romantic',
  seed: 7,
};

async function fixture(): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(MELODY_FIXTURE_DIR, 'voice-la.flac')));
}

describe('runInThread', () => {
  it('converts a melody in a thread with the default flite voice, reporting every stage in order while the calling event loop keeps ticking', async () => {
    const events: ProgressEvent[] = [];
    // A 20 ms interval on this thread: if the pipeline ran here, gaps would reach hundreds of ms.
    let last = performance.now();
    let worstGap = 0;
    const ticker = setInterval(() => {
      const now = performance.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    }, 20);
    let out;
    try {
      out = await runInThread(await fixture(), REQUEST, {}, { onProgress: (e) => events.push(e) });
    } finally {
      clearInterval(ticker);
    }
    const wav = decodeWav(out.vocalsWav);
    expect(wav.sampleRate).toBe(44100);
    // voice-la lasts 10.7 s; the vocals follow the notes (last note ends ≈ 10.4 s) plus a release tail.
    expect(wav.channels[0].length / wav.sampleRate).toBeGreaterThan(9.5);
    expect(wav.channels[0].length / wav.sampleRate).toBeLessThan(12.5);
    expect(out.vocalsCompressed.extension).toBe('mp3');
    expect(out.vocalsCompressed.bytes.length).toBeGreaterThan(1000);
    expect(Buffer.from(out.midi.subarray(0, 4)).toString('latin1')).toBe('MThd');
    expect(out.musicXml).toContain('<score-partwise');
    expect(out.report.melody.noteCount).toBeGreaterThan(10);
    // The thread loads the Flite program itself: the default engine sings.
    expect(out.report.voice.synthesizer).toBe('flite');
    expect([...new Set(events.map((e) => e.stage))]).toEqual([
      'validation',
      'pitch_extraction',
      'lyrics',
      'synthesis',
      'quality_check',
      'finalization',
    ]);
    for (let i = 1; i < events.length; i++) expect(events[i].percent).toBeGreaterThanOrEqual(events[i - 1].percent);
    expect(events.at(-1)?.percent).toBe(100);
    // Generous for a loaded CI machine; the pipeline on this thread blocks for whole stages (> 300 ms).
    expect(worstGap).toBeLessThan(250);
  });

  it('rebuilds a ValidationError with its reason and issues from the thread', async () => {
    const notAudio = new TextEncoder().encode('this is not audio at all, just some text pretending to be a file'.repeat(20));
    const error = await runInThread(notAudio, REQUEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const validation = error as ValidationError;
    expect(validation.code).toBe('VALIDATION_ERROR');
    expect(validation.retryable).toBe(false);
    expect(validation.issues.length).toBeGreaterThan(0);
    expect(validation.reason).toBe(validation.issues[0].code);
  });

  it('stops the thread on abort and rejects with the AppError given as the abort reason', async () => {
    const controller = new AbortController();
    let threadId = -1;
    const started = performance.now();
    const promise = runInThread(
      await fixture(),
      REQUEST,
      {},
      {
        signal: controller.signal,
        onThreadStart: (id) => (threadId = id),
        onProgress: (e) => {
          if (e.stage === 'pitch_extraction') controller.abort(new AppError('TIMEOUT_ERROR', 'too slow', { reason: 'JOB_TIMEOUT' }));
        },
      },
    );
    const error = await promise.catch((e: unknown) => e);
    expect(threadId).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('TIMEOUT_ERROR');
    // The promise settles only after the thread exited, within the 2 s grace period at most.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('rejects with AbortedError when aborted without an AppError reason, terminating a thread that does not stop by itself', async () => {
    const controller = new AbortController();
    // A thread script that never looks at its messages: only terminate() can stop it.
    const script = new URL('data:text/javascript,' + encodeURIComponent('const end = Date.now() + 60000; while (Date.now() < end) {}'));
    const started = performance.now();
    const promise = runInThread(new Uint8Array(8), REQUEST, {}, { signal: controller.signal, threadScript: script, abortGraceMs: 200 });
    setTimeout(() => controller.abort(), 100);
    await expect(promise).rejects.toBeInstanceOf(AbortedError);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(3000);
  });

  it('stops a thread that outgrows its heap cap with a non-retryable THREAD_OUT_OF_MEMORY, and the calling process goes on', async () => {
    // A thread that keeps every object it makes, as a runaway step would: only the heap cap stops it.
    const script = new URL(
      'data:text/javascript,' + encodeURIComponent('const kept = []; for (;;) kept.push(new Array(10000).fill({ note: 1 }));'),
    );
    let threadId = -1;
    const error = await runInThread(
      new Uint8Array(8),
      REQUEST,
      {},
      { threadScript: script, maxHeapMb: 64, onThreadStart: (id) => (threadId = id) },
    ).catch((e: unknown) => e);
    expect(threadId).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'AUDIO_PROCESSING_ERROR', reason: 'THREAD_OUT_OF_MEMORY', retryable: false });
    expect((error as AppError).message).toContain('64 MB');
    // This process's heap is not the thread's: still far below what the thread was allowed to reach.
    expect(process.memoryUsage().heapUsed).toBeLessThan(2_000 * 1024 * 1024);
    // And a real conversion still runs in a fresh thread afterwards.
    const out = await runInThread(await fixture(), REQUEST);
    expect(out.report.melody.noteCount).toBeGreaterThan(10);
  });
});
