/**
 * The ffmpeg adapter against the real binary from `npm ci` and real files (test/fixtures/formats, made by
 * scripts/make-decode-fixtures.sh): every tone fixture is a 440 Hz sine at 0.5 peak.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFfmpegDecoder, ffmpegPath, parseFfmpegInputInfo } from '../../../src/platform/ffmpeg-decoder.js';
import { decodeAudio } from '../../../src/audio/decode/decode.js';
import { validateAndDecode } from '../../../src/audio/validate/validate.js';
import { AppError, ValidationError } from '../../../src/audio/errors.js';
import type { AudioFormat, DecodedAudio } from '../../../src/audio/types.js';
import { toneFrequencyHz } from '../../support/tone-frequency.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/formats');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
const decoder = createFfmpegDecoder();
const seconds = (audio: DecodedAudio) => audio.channels[0].length / audio.sampleRate;
const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Resolves with the ValidationError reason, or the AppError code, the promise rejects with. */
async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code === 'VALIDATION_ERROR' ? error.reason : error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

function makeWithFfmpeg(dir: string, name: string, args: string[]): Uint8Array {
  const out = join(dir, name);
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', ...args, out]);
  return new Uint8Array(readFileSync(out));
}

describe('ffmpeg decoder on every compressed format', () => {
  const cases: {
    file: string;
    format: AudioFormat;
    codec: string;
    rate: number;
    channels: number;
    bits: number | null;
    kbps: [number, number];
  }[] = [
    { file: 'tone-440hz-mono.mp3', format: 'mp3', codec: 'mp3', rate: 44100, channels: 1, bits: null, kbps: [95, 97] },
    { file: 'tone-440hz-stereo-bare.mp3', format: 'mp3', codec: 'mp3', rate: 44100, channels: 2, bits: null, kbps: [95, 97] },
    { file: 'tone-440hz-8khz.mp3', format: 'mp3', codec: 'mp3', rate: 8000, channels: 1, bits: null, kbps: [23, 25] },
    { file: 'tone-440hz-stereo.m4a', format: 'm4a', codec: 'aac', rate: 44100, channels: 2, bits: null, kbps: [40, 100] },
    { file: 'tone-440hz-stereo-faststart.m4a', format: 'm4a', codec: 'aac', rate: 44100, channels: 2, bits: null, kbps: [40, 100] },
    { file: 'tone-440hz-mono.aac', format: 'aac', codec: 'aac', rate: 44100, channels: 1, bits: null, kbps: [30, 100] },
    { file: 'tone-440hz-mono-vorbis.ogg', format: 'ogg', codec: 'vorbis', rate: 44100, channels: 1, bits: null, kbps: [20, 100] },
    { file: 'tone-440hz-mono-opus.ogg', format: 'ogg', codec: 'opus', rate: 48000, channels: 1, bits: null, kbps: [40, 80] },
    { file: 'tone-440hz-mono-opus.webm', format: 'webm', codec: 'opus', rate: 48000, channels: 1, bits: null, kbps: [40, 80] },
    // As a browser's MediaRecorder writes it: no Duration, no Cues, clusters of unknown size.
    { file: 'tone-440hz-mono-opus-live.webm', format: 'webm', codec: 'opus', rate: 48000, channels: 1, bits: null, kbps: [40, 80] },
    { file: 'tone-440hz-22khz.flac', format: 'flac', codec: 'flac', rate: 22050, channels: 1, bits: 16, kbps: [60, 120] },
    { file: 'tone-440hz-6ch-vorbis.ogg', format: 'ogg', codec: 'vorbis', rate: 44100, channels: 6, bits: null, kbps: [20, 200] },
  ];

  it.each(cases)('decodes $file to $channels channel(s) of 2 s at $rate Hz holding a 440 Hz tone', async (c) => {
    const audio = await decoder.decode(fixture(c.file), { format: c.format, maxSeconds: 300 });
    expect(audio.format).toBe(c.format);
    expect(audio.codec).toBe(c.codec);
    expect(audio.sampleRate).toBe(c.rate);
    expect(audio.channels).toHaveLength(c.channels);
    // Lossy codecs add encoder delay/padding (up to ~0.2 s at 8 kHz MP3); the tone itself is 2 s.
    expect(seconds(audio)).toBeGreaterThan(1.95);
    expect(seconds(audio)).toBeLessThan(2.25);
    expect(toneFrequencyHz(audio.channels[0], audio.sampleRate, 0.5, 1.5)).toBeCloseTo(440, 0);
    expect(peak(audio.channels[0])).toBeGreaterThan(0.45);
    expect(peak(audio.channels[0])).toBeLessThan(0.56);
    expect(audio.bitsPerSample).toBe(c.bits);
    expect(audio.bitrate! / 1000).toBeGreaterThanOrEqual(c.kbps[0]);
    expect(audio.bitrate! / 1000).toBeLessThanOrEqual(c.kbps[1]);
    expect(audio.truncated).toBe(false);
    expect(audio.capped).toBe(false);
  });

  it('reads a long M4A whose moov box comes after mdat (needs seeking) through a temporary file and removes it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mv-test-'));
    try {
      // 40 s of AAC is far beyond ffmpeg's 32 kB read buffer, so a pipe alone would fail ("Invalid data").
      const bytes = makeWithFfmpeg(dir, 'long.m4a', [
        '-f',
        'lavfi',
        '-i',
        'aevalsrc=0.5*sin(2*PI*440*t):s=44100:d=40',
        '-c:a',
        'aac',
        '-b:a',
        '64k',
      ]);
      const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('melody-vocals-decode-')).length;
      const before = leftovers();
      const audio = await decoder.decode(bytes, { format: 'm4a', maxSeconds: 300 });
      expect(seconds(audio)).toBeCloseTo(40, 0);
      expect(toneFrequencyHz(audio.channels[0], audio.sampleRate, 10, 30)).toBeCloseTo(440, 1);
      expect(leftovers()).toBe(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hands WAV codecs the pure reader does not know (µ-law) to ffmpeg through decodeAudio', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mv-test-'));
    try {
      const bytes = makeWithFfmpeg(dir, 'mulaw.wav', ['-f', 'lavfi', '-i', 'aevalsrc=0.5*sin(2*PI*440*t):s=8000:d=2', '-c:a', 'pcm_mulaw']);
      const audio = await decodeAudio(bytes, { decoder });
      expect(audio.format).toBe('wav');
      expect(audio.codec).toBe('pcm_mulaw');
      expect(seconds(audio)).toBeCloseTo(2, 2);
      expect(toneFrequencyHz(audio.channels[0], 8000, 0.5, 1.5)).toBeCloseTo(440, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ffmpeg decoder on damaged and hostile input', () => {
  it.each([
    ['tone-440hz-mono.mp3', 'mp3'],
    ['tone-440hz-22khz.flac', 'flac'],
    ['tone-440hz-stereo-faststart.m4a', 'm4a'],
    ['tone-440hz-mono.aac', 'aac'],
    ['tone-440hz-mono-opus.ogg', 'ogg'],
    ['tone-440hz-mono-opus.webm', 'webm'],
    ['tone-440hz-mono-opus-live.webm', 'webm'],
  ] as const)('decodes the first half of %s and flags it as truncated', async (file, format) => {
    const whole = fixture(file);
    const audio = await decoder.decode(whole.subarray(0, whole.length >> 1), { format, maxSeconds: 300 });
    expect(audio.truncated).toBe(true);
    expect(seconds(audio)).toBeGreaterThan(0.2);
    expect(seconds(audio)).toBeLessThan(1.5);
  });

  it('rejects a half M4A whose index (moov, written last) was cut off as TRUNCATED_FILE, without leaking paths', async () => {
    const whole = fixture('tone-440hz-stereo.m4a');
    const error = await decoder.decode(whole.subarray(0, whole.length >> 1), { format: 'm4a', maxSeconds: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).reason).toBe('TRUNCATED_FILE');
    expect((error as ValidationError).message).toMatch(/index/);
    expect((error as ValidationError).message).not.toContain(tmpdir());
  });

  it('rejects an Ogg Vorbis file cut inside its setup header as TRUNCATED_FILE', async () => {
    const whole = fixture('tone-440hz-mono-vorbis.ogg');
    expect(await rejection(decoder.decode(whole.subarray(0, 2000), { format: 'ogg', maxSeconds: 300 }))).toBe('TRUNCATED_FILE');
  });

  it.each([
    ['mp3', 'tone-440hz-mono.mp3'],
    ['m4a', 'tone-440hz-stereo-faststart.m4a'],
    ['aac', 'tone-440hz-mono.aac'],
    ['ogg', 'tone-440hz-mono-opus.ogg'],
    ['flac', 'tone-440hz-22khz.flac'],
    ['webm', 'tone-440hz-mono-opus-live.webm'],
  ] as const)('rejects the first 40 bytes of a %s file with a clear validation error', async (format, file) => {
    const reason = await rejection(decoder.decode(fixture(file).subarray(0, 40), { format, maxSeconds: 300 }));
    expect(['CORRUPT_FILE', 'TRUNCATED_FILE']).toContain(reason);
  });

  it.each(['mp3', 'm4a', 'aac', 'ogg', 'flac', 'webm'] as const)(
    'rejects 4 kB of noise forced through the %s demuxer as CORRUPT_FILE or TRUNCATED_FILE',
    async (format) => {
      const noise = new Uint8Array(4096);
      let state = 12345;
      for (let i = 0; i < noise.length; i++) noise[i] = (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
      const reason = await rejection(decoder.decode(noise, { format, maxSeconds: 300 }));
      expect(['CORRUPT_FILE', 'TRUNCATED_FILE']).toContain(reason);
    },
  );

  it('stops a one-hour FLAC decompression bomb (53 kB) at the time cap and says so', async () => {
    const started = Date.now();
    const audio = await decoder.decode(fixture('silence-1h-bomb.flac'), { format: 'flac', maxSeconds: 300 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(audio.capped).toBe(true);
    expect(audio.truncated).toBe(false);
    expect(seconds(audio)).toBeGreaterThanOrEqual(300.9);
    expect(seconds(audio)).toBeLessThanOrEqual(301.1);
  });

  it('kills ffmpeg and rejects with DECODED_TOO_LARGE once the output passes maxOutputBytes', async () => {
    const small = createFfmpegDecoder({ maxOutputBytes: 1024 * 1024 });
    expect(await rejection(small.decode(fixture('silence-1h-bomb.flac'), { format: 'flac', maxSeconds: 300 }))).toBe('DECODED_TOO_LARGE');
  });

  it('kills ffmpeg and rejects with TIMEOUT_ERROR when decoding exceeds timeoutMs', async () => {
    const hasty = createFfmpegDecoder({ timeoutMs: 1 });
    const started = Date.now();
    const error = await hasty.decode(fixture('silence-1h-bomb.flac'), { format: 'flac', maxSeconds: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('TIMEOUT_ERROR');
    expect((error as AppError).reason).toBe('DECODE_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('kills ffmpeg and rejects with ABORTED when the signal fires, and does not start when already aborted', async () => {
    const controller = new AbortController();
    const pending = decoder.decode(fixture('silence-1h-bomb.flac'), { format: 'flac', maxSeconds: 300, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    expect(await rejection(pending)).toBe('ABORTED');
    expect(
      await rejection(decoder.decode(fixture('tone-440hz-mono.mp3'), { format: 'mp3', maxSeconds: 300, signal: controller.signal })),
    ).toBe('ABORTED');
  });

  it('reports a missing ffmpeg binary as an AudioProcessingError, not as a bad file', async () => {
    const broken = createFfmpegDecoder({ ffmpegPath: '/nonexistent/ffmpeg' });
    const error = await broken.decode(fixture('tone-440hz-mono.mp3'), { format: 'mp3', maxSeconds: 300 }).catch((e: unknown) => e);
    expect((error as AppError).code).toBe('AUDIO_PROCESSING_ERROR');
    expect((error as AppError).reason).toBe('DECODER_UNAVAILABLE');
  });
});

describe('parseFfmpegInputInfo', () => {
  it('reads codec, rate, channels, bitrates and duration from the input section only', () => {
    const log = [
      "Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'pipe:0':",
      '  Duration: 00:01:02.50, start: 0.000000, bitrate: 130 kb/s',
      '    Stream #0:0(und): Audio: aac (LC) (mp4a / 0x6134706D), 48000 Hz, 5.1, fltp, 128 kb/s (default)',
      "Output #0, wav, to 'pipe:1':",
      '    Stream #0:0(und): Audio: pcm_f32le ([3][0][0][0] / 0x0003), 48000 Hz, 5.1, flt, 9216 kb/s (default)',
    ].join('\n');
    expect(parseFfmpegInputInfo(log)).toEqual({
      codec: 'aac',
      sampleRate: 48000,
      channels: 6,
      streamBitrate: 128_000,
      containerBitrate: 130_000,
      durationSeconds: 62.5,
      bitsPerSample: null,
    });
  });

  it('reads the bit depth of a 24-bit FLAC and an explicit channel count', () => {
    const log =
      "Input #0, flac, from 'pipe:0':\n  Duration: N/A, bitrate: N/A\n    Stream #0:0: Audio: flac, 96000 Hz, 3 channels, s32 (24 bit)\n";
    const info = parseFfmpegInputInfo(log);
    expect(info).toMatchObject({
      codec: 'flac',
      sampleRate: 96000,
      channels: 3,
      bitsPerSample: 24,
      durationSeconds: null,
      streamBitrate: null,
    });
  });
});

describe('validateAndDecode with the real decoder on the hostile inputs the service must reject cleanly', () => {
  /** The blocking codes, or ['OK', ...warning codes] when the upload is accepted. */
  async function outcome(bytes: Uint8Array, fileName?: string): Promise<string[]> {
    try {
      const { report } = await validateAndDecode(bytes, { decoder, fileName });
      return ['OK', ...report.warnings.map((w) => w.code)];
    } catch (error) {
      if (error instanceof ValidationError) return error.issues.map((i) => i.code);
      throw error;
    }
  }

  it('accepts an MP3 uploaded as .wav, decoding it as MP3 and warning about the name', async () => {
    expect(await outcome(fixture('tone-440hz-mono.mp3'), 'melody.wav')).toEqual(['OK', 'EXTENSION_MISMATCH']);
  });

  it('rejects a 6-channel file as TOO_MANY_CHANNELS', async () => {
    expect(await outcome(fixture('tone-440hz-6ch-vorbis.ogg'))).toEqual(['TOO_MANY_CHANNELS']);
  });

  it('rejects an 8 kHz file as SAMPLE_RATE_TOO_LOW', async () => {
    expect(await outcome(fixture('tone-440hz-8khz.mp3'))).toEqual(['SAMPLE_RATE_TOO_LOW']);
  });

  it('rejects the one-hour decompression bomb as TOO_LONG (and SILENT) after decoding only 301 s', async () => {
    expect((await outcome(fixture('silence-1h-bomb.flac'))).sort()).toEqual(['SILENT', 'TOO_LONG']);
  });

  it('accepts a lossless file with no warnings and a 22 kHz one with LOW_SAMPLE_RATE', async () => {
    expect(await outcome(fixture('tone-440hz-stereo-faststart.m4a'))).toEqual(['OK', 'LOW_BITRATE']);
    expect(await outcome(fixture('tone-440hz-22khz.flac'))).toEqual(['OK', 'LOW_SAMPLE_RATE']);
  });

  it.each([
    'tone-440hz-mono.mp3',
    'tone-440hz-stereo-bare.mp3',
    'tone-440hz-stereo.m4a',
    'tone-440hz-stereo-faststart.m4a',
    'tone-440hz-mono.aac',
    'tone-440hz-mono-vorbis.ogg',
    'tone-440hz-mono-opus.ogg',
    'tone-440hz-22khz.flac',
    'tone-440hz-mono-opus-live.webm',
  ])('answers cuts of %s at 0.2 % to 95 % of its length with a verdict, never a crash or a hang', async (file) => {
    const whole = fixture(file);
    const allowed = new Set([
      'OK',
      'TRUNCATED_FILE',
      'CORRUPT_FILE',
      'TOO_SHORT',
      'LOW_BITRATE',
      'LOW_SAMPLE_RATE',
      'UNSUPPORTED_FORMAT',
      'SILENT',
    ]);
    const started = Date.now();
    for (const fraction of [0.002, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95]) {
      // +37 keeps the cut off frame boundaries (see the next test for a cut exactly on one).
      const cut = Math.min(whole.length - 1, Math.floor(whole.length * fraction) + 37);
      const verdict = await outcome(whole.subarray(0, cut));
      for (const code of verdict) expect(allowed).toContain(code);
      // Most of the recording is gone, so it must not pass silently as a complete file.
      if (fraction <= 0.5 && verdict[0] === 'OK') expect(verdict).toContain('TRUNCATED_FILE');
    }
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('accepts an MP3 without a Xing header cut exactly between two frames: nothing declares its length, so it is a shorter MP3', async () => {
    const whole = fixture('tone-440hz-stereo-bare.mp3');
    const cut = 12225; // the end of frame 39 (frames are 313/314 bytes at 96 kb/s, 44.1 kHz)
    expect(await outcome(whole.subarray(0, cut))).toEqual(['OK']);
    expect(await outcome(whole.subarray(0, cut + 37))).toEqual(['OK', 'TRUNCATED_FILE']);
  });
});
