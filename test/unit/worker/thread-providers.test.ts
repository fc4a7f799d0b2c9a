/**
 * Provider calls across the thread boundary: the pipeline runs in a real worker thread, the providers
 * live on this (the parent's) thread, and the thread's proxy calls reach them as `provider-call`
 * messages; answers, failures (rebuilt with their code and reason) and aborts cross back.
 */
import { encodeWav } from '../../../src/audio/decode/wav.js';
import type { LyricsProvider, ProviderCallOptions, Providers, VocalEngine, VocalRequest } from '../../../src/audio/providers.js';
import { AbortedError, AppError } from '../../../src/audio/errors.js';
import { PipelineThread } from '../../../src/worker/run-in-thread.js';
import { createThreadPool } from '../../../src/worker/thread-pool.js';
import { fittingLines, renderTake } from '../../support/provider-replies.js';
import { renderMelody, twinkle } from '../../support/signals.js';

const REQUEST = {
  fileName: 'melody.wav',
  prompt: 'a romantic ballad about summer nights by the sea',
  genre: 'ballad',
  mood: 'romantic',
  seed: 7,
};

/** A fresh copy each time: a run transfers (detaches) the bytes it is given. */
function melody(): Uint8Array {
  const m = renderMelody(twinkle(60, 0.45), { timbre: 'voice' });
  return encodeWav([m.samples], m.sampleRate, { bitDepth: 16 });
}

describe('provider calls from a pipeline thread', () => {
  it("answers a thread pool run's lyrics and vocals calls with the pool's providers, transferring the take", async () => {
    const sent: VocalRequest[] = [];
    const signals: AbortSignal[] = [];
    const providers: Providers = {
      lyrics: {
        name: 'llm',
        writeLyrics: async (request, options) => {
          signals.push(options!.signal!);
          return { lines: fittingLines(request), source: 'llm:thread-test' };
        },
      },
      vocals: {
        name: 'expert-music-ai',
        sing: async (request, options) => {
          sent.push(request);
          signals.push(options!.signal!);
          // A view into a larger buffer, as a pooled Node Buffer would be: it must be copied, not transferred whole.
          const wav = renderTake(request);
          const backing = new Uint8Array(wav.length + 64);
          backing.set(wav, 32);
          return { wav: backing.subarray(32, 32 + wav.length), source: 'expert-music-ai:v2' };
        },
      },
    };
    const pool = createThreadPool({ providers });
    try {
      const input = melody();
      const expected = input.slice();
      const out = await pool.run(input, REQUEST);
      expect(out.report.lyrics.source).toBe('provider');
      expect(out.report.lyrics.provider).toBe('llm:thread-test');
      expect(out.report.voice.engine).toBe('expert-music-ai:v2');
      expect(out.report.warnings.map((w) => w.code).filter((c) => c.includes('PROVIDER'))).toEqual([]);
      expect(out.report.quality.pitchAccuracy).toBeGreaterThanOrEqual(0.9);
      // The engine received the user's upload as it was sent, and the score's notes.
      expect(sent).toHaveLength(1);
      expect(Buffer.from(sent[0].melody).equals(Buffer.from(expected))).toBe(true);
      expect(sent[0].notes.length).toBe(out.report.melody.noteCount);
      expect(sent[0].lyrics).toBe(out.report.lyrics.text);
      // Each call got its own signal; a call that completed is not aborted when the run ends.
      expect(signals).toHaveLength(2);
      expect(signals[0]).not.toBe(signals[1]);
      expect(signals.some((s) => s.aborted)).toBe(false);
    } finally {
      await pool.close();
    }
  });

  it("rebuilds a provider failure in the thread, which falls back with the reason, or fails the run with the provider's code and reason when fallback is off", async () => {
    const failing: LyricsProvider = {
      name: 'llm',
      writeLyrics: async () => {
        throw new AppError('AI_SERVICE_ERROR', 'The llm breaker is open.', { reason: 'CIRCUIT_OPEN', retryable: true });
      },
    };
    const thread = new PipelineThread();
    try {
      const out = await thread.run(melody(), REQUEST, {}, { providers: { lyrics: failing } });
      const fallback = out.report.warnings.find((w) => w.code === 'LYRICS_PROVIDER_FALLBACK');
      expect(fallback?.message).toContain('CIRCUIT_OPEN');
      expect(fallback?.message).toContain('"llm"');
      expect(out.report.lyrics.source).toBe('writer');

      const error = await thread.run(melody(), REQUEST, {}, { providers: { lyrics: failing, fallback: false } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('AI_SERVICE_ERROR');
      expect((error as AppError).reason).toBe('CIRCUIT_OPEN');
      expect((error as AppError).retryable).toBe(true);
      expect(thread.isAlive).toBe(true);
    } finally {
      await thread.close();
    }
  });

  it('aborts the provider call when the run is aborted mid-call, and the thread stays usable', async () => {
    const controller = new AbortController();
    let callSignal: AbortSignal | undefined;
    // An engine that answers only when its signal fires, as a remote client cut off by its AbortController.
    const hanging: VocalEngine = {
      name: 'expert-music-ai',
      sing: (_request: VocalRequest, options?: ProviderCallOptions) =>
        new Promise((_resolve, reject) => {
          callSignal = options?.signal;
          options?.signal?.addEventListener('abort', () => reject(new AppError('TIMEOUT_ERROR', 'aborted', { reason: 'ABORTED' })));
          controller.abort();
        }),
    };
    const thread = new PipelineThread();
    try {
      const error = await thread
        .run(melody(), REQUEST, {}, { providers: { vocals: hanging }, signal: controller.signal })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortedError);
      expect(callSignal?.aborted).toBe(true);
      // The thread obeyed the abort itself (it was not terminated) and takes the next run.
      expect(thread.isAlive).toBe(true);
      const notAudio = new TextEncoder().encode('plain text, not audio '.repeat(20));
      await expect(thread.run(notAudio, REQUEST)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    } finally {
      await thread.close();
    }
  });
});
