/**
 * convertMelody with remote provider ports (in-process objects implementing LyricsProvider and
 * VocalEngine; the pipeline is pure, so this is where its rules are proven) and the real ffmpeg
 * decoder and encoder: accepted provider lyrics and takes are delivered; too-long, short, garbage,
 * off-pitch, noisy or unreadable replies are repaired or rejected with a warning and the embedded
 * engine takes over; a provider failure falls back with a warning naming the provider and the reason,
 * or fails the conversion when fallback is off; an abort lands during a pending provider call.
 */
import { performance } from 'node:perf_hooks';
import { convertMelody, STAGES, type ConversionOutputs, type ConvertPorts, type ProgressEvent } from '../../src/audio/pipeline.js';
import { decodeWav, encodeWav } from '../../src/audio/decode/wav.js';
import { measureLoudness } from '../../src/audio/loudness/loudness.js';
import { countLineSyllables } from '../../src/audio/lyrics/lyrics.js';
import type {
  LyricsDraft,
  LyricsProvider,
  LyricsRequest,
  ProviderCallOptions,
  Providers,
  VocalEngine,
  VocalRequest,
  VocalTake,
} from '../../src/audio/providers.js';
import { AbortedError, AppError } from '../../src/audio/errors.js';
import { createFfmpegDecoder } from '../../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../../src/platform/ffmpeg-encoder.js';
import { renderMelody, twinkle } from '../support/signals.js';
import { fittingLines, lineOfSyllables, renderTake, type TakeOptions } from '../support/provider-replies.js';

const PROMPT = 'a romantic ballad about summer nights by the sea';
/** Twinkle at 0.45 s beats: 14 notes in two phrases of 7, about 7 s. */
const MELODY = (() => {
  const m = renderMelody(twinkle(60, 0.45), { timbre: 'voice' });
  return encodeWav([m.samples], m.sampleRate, { bitDepth: 16 });
})();

interface Calls<R> {
  requests: R[];
  signals: (AbortSignal | undefined)[];
}

/** A lyrics provider answering with `reply(request)` (or throwing what it throws), recording its calls. */
function lyricsProvider(reply: (request: LyricsRequest) => LyricsDraft | Promise<LyricsDraft>): LyricsProvider & Calls<LyricsRequest> {
  const requests: LyricsRequest[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  return {
    name: 'llm',
    requests,
    signals,
    async writeLyrics(request: LyricsRequest, options?: ProviderCallOptions) {
      requests.push(request);
      signals.push(options?.signal);
      return reply(request);
    },
  };
}

/** A vocal engine answering with `reply(request)`, recording its calls. */
function vocalEngine(reply: (request: VocalRequest) => VocalTake | Promise<VocalTake>): VocalEngine & Calls<VocalRequest> {
  const requests: VocalRequest[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  return {
    name: 'expert-music-ai',
    requests,
    signals,
    async sing(request: VocalRequest, options?: ProviderCallOptions) {
      requests.push(request);
      signals.push(options?.signal);
      return reply(request);
    },
  };
}

const takeOf =
  (options: TakeOptions = {}) =>
  (request: VocalRequest): VocalTake => ({ wav: renderTake(request, options), source: 'expert-music-ai:v2' });

function ports(providers?: Providers): ConvertPorts {
  return { decoder: createFfmpegDecoder(), encoder: createFfmpegEncoder(), clock: () => performance.now(), providers };
}

async function convert(
  providers: Providers,
  extra: { lyrics?: string; onProgress?: (e: ProgressEvent) => void; signal?: AbortSignal } = {},
): Promise<ConversionOutputs> {
  return convertMelody(
    { audio: MELODY, fileName: 'melody.wav', prompt: PROMPT, genre: 'ballad', mood: 'romantic', seed: 7, lyrics: extra.lyrics },
    ports(providers),
    { onProgress: extra.onProgress, signal: extra.signal },
  );
}

const codes = (out: ConversionOutputs) => out.report.warnings.map((w) => w.code);
const warning = (out: ConversionOutputs, code: string) => out.report.warnings.find((w) => w.code === code);

function expectOneSyllablePerNote(out: ConversionOutputs): void {
  expect(out.lyrics.sungNotes).toHaveLength(out.analysis.notes.length);
  for (const note of out.lyrics.sungNotes) expect(note.continuation ? note.syllable === '' : note.syllable.trim().length > 0).toBe(true);
}

function remoteError(reason: string, code: 'AI_SERVICE_ERROR' | 'TIMEOUT_ERROR' = 'AI_SERVICE_ERROR'): AppError {
  return new AppError(code, `The provider could not answer (${reason}).`, { reason, retryable: true });
}

describe('convertMelody with a lyrics provider', () => {
  it('sings accepted provider lyrics and names the provider in the report; the provider got one slot per phrase with stress letters', async () => {
    const events: ProgressEvent[] = [];
    const provider = lyricsProvider((request) => ({ lines: ['[Verse]', ...fittingLines(request)], source: 'llm:gpt-4o-mini' }));
    const out = await convert({ lyrics: provider }, { onProgress: (e) => events.push(e) });

    expect(provider.requests).toHaveLength(1);
    const request = provider.requests[0];
    expect(request.prompt).toBe(PROMPT);
    expect(request.phrases.map((p) => p.syllables)).toEqual([7, 7]);
    expect(request.phrases.reduce((n, p) => n + p.syllables, 0)).toBe(out.analysis.notes.length);
    for (const slot of request.phrases) {
      expect(slot.stresses).toMatch(new RegExp(`^[Sw]{${slot.syllables}}$`));
      expect(slot.stresses).toContain('S');
      expect(slot.seconds).toBeGreaterThan(0);
    }

    expect(out.report.lyrics.source).toBe('provider');
    expect(out.report.lyrics.provider).toBe('llm:gpt-4o-mini');
    expect(out.report.lyrics.text.split('\n')).toEqual(fittingLines(request));
    expect(out.report.lyrics.quality.syllableFit).toBe(1);
    expect(codes(out).filter((c) => c.startsWith('LYRICS_'))).toEqual([]);
    expect(out.report.voice.engine).toBe('embedded');
    expectOneSyllablePerNote(out);
    // The sung syllables are the provider's words.
    expect(out.lyrics.sungNotes.filter((n) => !n.continuation).map((n) => n.syllable.toLowerCase())).toEqual(
      fittingLines(request).join(' ').toLowerCase().split(' '),
    );

    for (let i = 1; i < events.length; i++) expect(events[i].percent).toBeGreaterThanOrEqual(events[i - 1].percent);
    for (const e of events) {
      expect(e.percent).toBeGreaterThanOrEqual(STAGES[e.stage][0]);
      expect(e.percent).toBeLessThanOrEqual(STAGES[e.stage][1]);
    }
  });

  it('repairs a reply with a far too long line, extra lines and a section label, and says what it repaired', async () => {
    const long = 'Underneath the everlasting shimmering constellations we remember everything tonight';
    const provider = lyricsProvider((request) => ({
      lines: ['[Chorus]', long, lineOfSyllables(request.phrases[1].syllables), 'One more line', 'And another one'],
      source: 'llm:x',
    }));
    const out = await convert({ lyrics: provider });
    expect(out.report.lyrics.source).toBe('provider');
    const repaired = warning(out, 'LYRICS_PROVIDER_REPAIRED');
    expect(repaired?.message).toMatch(/1 line\(s\) far too long/);
    expect(repaired?.message).toMatch(/2 line\(s\) beyond the 2 phrase\(s\) were dropped/);
    const lines = out.report.lyrics.text.split('\n');
    expect(lines).toHaveLength(2);
    expect(long.startsWith(lines[0])).toBe(true);
    expect(countLineSyllables(lines[0])).toBeLessThanOrEqual(7);
    expect(out.report.lyrics.sections[0].kind).toBe('chorus');
    expect(codes(out)).not.toContain('LYRICS_TOO_LONG');
    expectOneSyllablePerNote(out);
  });

  it('fills phrases without a line by repeating the reply', async () => {
    const provider = lyricsProvider((request) => ({ lines: [lineOfSyllables(request.phrases[0].syllables)], source: 'llm:x' }));
    const out = await convert({ lyrics: provider });
    expect(out.report.lyrics.source).toBe('provider');
    expect(warning(out, 'LYRICS_PROVIDER_REPAIRED')?.message).toMatch(/1 phrase\(s\) without a line were filled by repeating/);
    const lines = out.report.lyrics.sections.flatMap((s) => s.lines);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(lines[0]);
  });

  it.each([
    ['an empty reply', [] as string[], 'EMPTY'],
    ['garbage words', ['Xqzv blorpt fnargh zzyzx', 'Wuxtl prandoo kvetchz ploo'], 'GARBAGE'],
    ['one word per phrase', ['Love', 'Night'], 'SYLLABLE_FIT'],
    ['a line of repeated characters', ['Oh the sea is sooooo blue', 'We sing of warm nights by'], 'REPEATED_CHARACTERS'],
  ])('rejects %s with LYRICS_PROVIDER_REJECTED (%s) and lets the embedded writer write', async (_what, lines, reason) => {
    const provider = lyricsProvider(() => ({ lines, source: 'llm:x' }));
    const out = await convert({ lyrics: provider });
    const rejected = warning(out, 'LYRICS_PROVIDER_REJECTED');
    expect(rejected?.message).toContain(`(${reason})`);
    expect(rejected?.message).toContain('"llm"');
    expect(rejected?.stage).toBe('lyrics');
    expect(out.report.lyrics.source).toBe('writer');
    expect(out.report.lyrics.provider).toBeNull();
    expectOneSyllablePerNote(out);
  });

  it.each([
    ['AI_SERVICE_ERROR', 'CIRCUIT_OPEN'],
    ['TIMEOUT_ERROR', 'TIMEOUT'],
  ] as const)(
    'falls back to the embedded writer when the provider fails with %s (%s), naming the provider and the reason',
    async (code, reason) => {
      const provider = lyricsProvider(() => {
        throw remoteError(reason, code);
      });
      const out = await convert({ lyrics: provider });
      const fallback = warning(out, 'LYRICS_PROVIDER_FALLBACK');
      expect(fallback).toBeDefined();
      expect(fallback!.message).toContain('"llm"');
      expect(fallback!.message).toContain(reason);
      expect(fallback!.message).toContain(code);
      expect(out.report.lyrics.source).toBe('writer');
      expectOneSyllablePerNote(out);
    },
  );

  it("fails with the provider's own error when fallback is off", async () => {
    const failure = remoteError('RETRIES_EXHAUSTED');
    const provider = lyricsProvider(() => {
      throw failure;
    });
    await expect(convert({ lyrics: provider, fallback: false })).rejects.toBe(failure);
  });

  it('does not swallow an error that is not a remote failure (a bug in the provider)', async () => {
    const provider = lyricsProvider(() => {
      throw new TypeError('cannot read properties of undefined');
    });
    await expect(convert({ lyrics: provider })).rejects.toBeInstanceOf(TypeError);
  });

  it("aligns the user's own lyrics without asking the provider", async () => {
    const provider = lyricsProvider((request) => ({ lines: fittingLines(request), source: 'llm:x' }));
    const out = await convert({ lyrics: provider }, { lyrics: 'Summer night by the sea\nwe sing until the morning' });
    expect(provider.requests).toHaveLength(0);
    expect(out.report.lyrics.source).toBe('user');
  });
});

describe('convertMelody with a vocal engine', () => {
  it('delivers an in-tune take (48 kHz stereo 24-bit, resampled and mixed down) normalised like the embedded voice, and names the engine', async () => {
    const engine = vocalEngine(takeOf());
    const out = await convert({ vocals: engine });
    expect(engine.requests).toHaveLength(1);
    const request = engine.requests[0];
    // The score as the embedded voice would sing it: same transposition, whole semitones, its syllables.
    expect(request.notes).toHaveLength(out.analysis.notes.length);
    request.notes.forEach((n, i) => {
      expect(n.midi).toBe(Math.round(out.lyrics.sungNotes[i].midi) + out.report.voice.transposeSemitones);
      expect(n.syllable).toBe(out.lyrics.sungNotes[i].syllable);
    });
    expect(request.lyrics).toBe(out.report.lyrics.text);
    expect(request.melody).toBe(MELODY);
    expect(request.voice).toBe('high');
    expect(request.sampleRate).toBe(44100);

    expect(out.report.voice.engine).toBe('expert-music-ai:v2');
    expect(codes(out).filter((c) => c.startsWith('VOCALS_'))).toEqual([]);
    expect(out.report.quality.pitchAccuracy).toBeGreaterThanOrEqual(0.9);
    const wav = decodeWav(out.vocalsWav);
    expect(wav.sampleRate).toBe(44100);
    expect(wav.channels).toHaveLength(1);
    const loudness = measureLoudness(wav.channels, wav.sampleRate);
    expect(Math.abs(loudness.integratedLufs - -14)).toBeLessThanOrEqual(0.5);
    expect(loudness.truePeakDbtp).toBeLessThanOrEqual(-1 + 0.05);
  });

  it.each([
    ['three semitones sharp', { shiftSemitones: 3 }, 'PITCH'],
    ['white noise', { kind: 'noise' }, 'PITCH'],
    ['silence', { kind: 'silence' }, 'SILENT'],
  ] as [string, TakeOptions, string][])(
    'rejects a take of %s with VOCALS_PROVIDER_REJECTED (%s) and sings with the embedded voice',
    async (_what, options, reason) => {
      const out = await convert({ vocals: vocalEngine(takeOf(options)) });
      const rejected = warning(out, 'VOCALS_PROVIDER_REJECTED');
      expect(rejected?.message).toContain(`(${reason})`);
      expect(rejected?.stage).toBe('synthesis');
      expect(out.report.voice.engine).toBe('embedded');
      expect(out.report.quality.pitchAccuracy).toBeGreaterThanOrEqual(0.95);
    },
  );

  it('rejects a take that is not a WAV file (BAD_WAV)', async () => {
    const out = await convert({ vocals: vocalEngine(() => ({ wav: new TextEncoder().encode('<html>Bad gateway</html>'), source: 'x' })) });
    expect(warning(out, 'VOCALS_PROVIDER_REJECTED')?.message).toContain('(BAD_WAV)');
    expect(out.report.voice.engine).toBe('embedded');
  });

  it('falls back to the embedded voice when the engine fails, and fails with its error when fallback is off', async () => {
    const failing = () =>
      vocalEngine(() => {
        throw remoteError('RETRIES_EXHAUSTED');
      });
    const out = await convert({ vocals: failing() });
    const fallback = warning(out, 'VOCALS_PROVIDER_FALLBACK');
    expect(fallback?.message).toContain('"expert-music-ai"');
    expect(fallback?.message).toContain('RETRIES_EXHAUSTED');
    expect(out.report.voice.engine).toBe('embedded');
    const error = await convert({ vocals: failing(), fallback: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).reason).toBe('RETRIES_EXHAUSTED');
  });
});

describe('convertMelody aborted during a provider call', () => {
  it.each(['lyrics', 'vocals'] as const)(
    "rejects with AbortedError while the %s provider has not answered, and aborts the call's signal",
    async (kind) => {
      const controller = new AbortController();
      let callSignal: AbortSignal | undefined;
      // A provider that never answers and ignores its signal: the pipeline must not wait for it.
      const hang = (options?: ProviderCallOptions): Promise<never> => {
        callSignal = options?.signal;
        setTimeout(() => controller.abort(), 50);
        return new Promise<never>(() => {});
      };
      const providers: Providers =
        kind === 'lyrics'
          ? { lyrics: { name: 'llm', writeLyrics: (_r, o) => hang(o) } }
          : { vocals: { name: 'expert-music-ai', sing: (_r, o) => hang(o) } };
      const error = await convert(providers, { signal: controller.signal }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AbortedError);
      expect(callSignal?.aborted).toBe(true);
    },
  );

  it('rethrows an abort even with fallback on when the provider rejects because of it', async () => {
    const controller = new AbortController();
    const provider: LyricsProvider = {
      name: 'llm',
      writeLyrics: (_request, options) =>
        new Promise((_resolve, reject) => {
          // What a well-behaved remote client does: reject with a TIMEOUT/ABORT-like error when its signal fires.
          options?.signal?.addEventListener('abort', () => reject(remoteError('ABORTED', 'TIMEOUT_ERROR')));
          setTimeout(() => controller.abort(), 20);
        }),
    };
    await expect(convert({ lyrics: provider }, { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
  });
});
