/**
 * Validation: every error and warning code, at and around its default limit, with configurable limits.
 * Inputs are synthesised (encodeWav) or hand-built DecodedAudio, so each measured value is known.
 */
import { encodeWav } from '../../../src/audio/decode/wav.js';
import type { CompressedDecoder } from '../../../src/audio/decode/decode.js';
import {
  DEFAULT_VALIDATION_LIMITS,
  validateAndDecode,
  validateAudio,
  validateBytes,
  type ValidationLimits,
} from '../../../src/audio/validate/validate.js';
import { measureLevels } from '../../../src/audio/loudness/levels.js';
import { ValidationError } from '../../../src/audio/errors.js';
import type { DecodedAudio, ValidationReport } from '../../../src/audio/types.js';

const RATE = 44100;

/**
 * A sine through the oscillator recurrence y[n] = 2cos(w)·y[n-1] - y[n-2]: no Math call per sample, which
 * under jest's VM realm is what makes minutes of test audio slow to build.
 */
function tone(seconds: number, { rate = RATE, amplitude = 0.5, channels = 1, hz = 440 } = {}): Float32Array[] {
  const x = new Float32Array(Math.round(seconds * rate));
  const w = (2 * Math.PI * hz) / rate;
  const k = 2 * Math.cos(w);
  let previous = -amplitude * Math.sin(w);
  let current = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = current;
    const next = k * current - previous;
    previous = current;
    current = next;
  }
  return Array.from({ length: channels }, (_, c) => (c === 0 ? x : x.slice()));
}

function decoded(channels: Float32Array[], overrides: Partial<DecodedAudio> = {}): DecodedAudio {
  return {
    format: 'wav',
    codec: 'pcm_s16le',
    sampleRate: RATE,
    channels,
    bitrate: RATE * 16 * channels.length,
    bitsPerSample: 16,
    ...overrides,
  };
}

function check(audio: DecodedAudio, limits?: Partial<ValidationLimits>): ValidationReport {
  return validateAudio(audio, measureLevels(audio.channels, limits?.clipDbfs ?? DEFAULT_VALIDATION_LIMITS.clipDbfs), limits);
}

const codes = (issues: { code: string }[]) => issues.map((i) => i.code);
const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('DEFAULT_VALIDATION_LIMITS', () => {
  it('holds the documented defaults', () => {
    expect(DEFAULT_VALIDATION_LIMITS).toEqual({
      maxFileBytes: 50 * 1024 * 1024,
      minDurationSeconds: 1,
      maxDurationSeconds: 300,
      durationToleranceSeconds: 0.1,
      allowedFormats: ['wav', 'mp3', 'm4a', 'aac', 'ogg', 'flac', 'webm'],
      minSampleRate: 16000,
      recommendedSampleRate: 44100,
      maxChannels: 2,
      minLossyBitrate: 64000,
      silenceDbfs: -60,
      clipDbfs: -0.1,
      minClippedRatio: 0,
    });
  });
});

describe('validateBytes', () => {
  const wav = encodeWav(tone(1.5), RATE);

  it('passes a normal WAV and reports its format', () => {
    expect(validateBytes(wav)).toEqual({ ok: true, errors: [], warnings: [], format: 'wav' });
  });

  it('rejects zero bytes as EMPTY_FILE', () => {
    const report = validateBytes(new Uint8Array(0));
    expect(report.ok).toBe(false);
    expect(report.errors).toEqual([{ code: 'EMPTY_FILE', message: 'The file is empty (0 bytes).', value: 0 }]);
  });

  it('rejects a 60 MB file as FILE_TOO_LARGE with the size and the 50 MB limit', () => {
    const big = new Uint8Array(60 * 1024 * 1024);
    big.set(wav.subarray(0, 44));
    const report = validateBytes(big);
    expect(codes(report.errors)).toEqual(['FILE_TOO_LARGE']);
    expect(report.errors[0]).toMatchObject({
      value: 60 * 1024 * 1024,
      limit: 50 * 1024 * 1024,
      message: 'The file is 60 MB; uploads must be at most 50 MB.',
    });
    expect(validateBytes(wav, { maxFileBytes: 1000 }).errors[0].code).toBe('FILE_TOO_LARGE');
  });

  it.each([
    ['a PNG renamed .wav', Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13), 'song.wav', /PNG image/],
    ['a ZIP renamed .wav', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0), 'song.wav', /ZIP archive/],
    ['a text file renamed .mp3', ascii('These are my lyrics, not a recording.\n'), 'song.mp3', /text file/],
  ])('rejects %s as UNSUPPORTED_FORMAT, naming what it is', (_name, bytes, fileName, pattern) => {
    const report = validateBytes(bytes, undefined, { fileName });
    expect(codes(report.errors)).toEqual(['UNSUPPORTED_FORMAT']);
    expect(report.errors[0].message).toMatch(pattern);
    expect(report.warnings).toEqual([]);
    expect(report.format).toBeNull();
  });

  it('rejects a format that is not in allowedFormats as FORMAT_NOT_ALLOWED', () => {
    const report = validateBytes(wav, { allowedFormats: ['mp3', 'flac'] });
    expect(report.errors).toEqual([expect.objectContaining({ code: 'FORMAT_NOT_ALLOWED', value: 'wav', limit: 'mp3,flac' })]);
  });

  it('warns with EXTENSION_MISMATCH when the name says one format and the bytes another, and still accepts it', () => {
    const report = validateBytes(wav, undefined, { fileName: 'Melody.MP3' });
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'EXTENSION_MISMATCH', value: 'mp3', limit: 'wav' })]);
    expect(validateBytes(wav, undefined, { fileName: 'melody.wav' }).warnings).toEqual([]);
    expect(validateBytes(wav, undefined, { fileName: 'melody' }).warnings).toEqual([]);
  });
});

describe('validateAudio', () => {
  it('accepts a 2 s stereo 44.1 kHz tone at -6 dBFS with no errors and no warnings', () => {
    expect(check(decoded(tone(2, { channels: 2 })))).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('rejects 0.5 s as TOO_SHORT with a human message and the measured seconds', () => {
    const report = check(decoded(tone(0.5)));
    expect(report.errors).toEqual([
      { code: 'TOO_SHORT', message: 'The recording is 0.5 s long; melodies must be at least 1 s.', value: 0.5, limit: 1 },
    ]);
    expect(check(decoded(tone(1))).ok).toBe(true);
  });

  it('rejects 301 s as TOO_LONG but accepts 300 s plus encoder padding (300.05 s)', () => {
    const rate = 16000;
    const long = check(decoded(tone(301, { rate }), { sampleRate: rate }));
    expect(long.errors).toEqual([
      { code: 'TOO_LONG', message: 'The recording is 301 s long; melodies can be at most 300 s.', value: 301, limit: 300 },
    ]);
    expect(codes(check(decoded(tone(300.05, { rate }), { sampleRate: rate })).errors)).toEqual([]);
    expect(codes(check(decoded(tone(300.2, { rate }), { sampleRate: rate })).errors)).toEqual(['TOO_LONG']);
  });

  it('calls a capped decode TOO_LONG even when the decoded part alone would fit a larger limit', () => {
    const report = check(decoded(tone(4), { capped: true }), { maxDurationSeconds: 3 });
    expect(report.errors[0].code).toBe('TOO_LONG');
    expect(report.errors[0].message).toMatch(/longer than 4 s/);
  });

  it('rejects 8 kHz as SAMPLE_RATE_TOO_LOW (an error, without the softer warning)', () => {
    const report = check(decoded(tone(2, { rate: 8000 }), { sampleRate: 8000 }));
    expect(report.errors).toEqual([expect.objectContaining({ code: 'SAMPLE_RATE_TOO_LOW', value: 8000, limit: 16000 })]);
    expect(report.warnings).toEqual([]);
  });

  it.each([16000, 22050, 32000])('accepts %i Hz with a LOW_SAMPLE_RATE warning', (rate) => {
    const report = check(decoded(tone(2, { rate }), { sampleRate: rate }));
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'LOW_SAMPLE_RATE', value: rate, limit: 44100 })]);
  });

  it('rejects 6 channels as TOO_MANY_CHANNELS (default max 2) and honours a configured maximum', () => {
    expect(check(decoded(tone(2, { channels: 6 }))).errors).toEqual([
      expect.objectContaining({ code: 'TOO_MANY_CHANNELS', value: 6, limit: 2 }),
    ]);
    expect(check(decoded(tone(2, { channels: 2 })), { maxChannels: 1 }).errors[0]).toMatchObject({
      code: 'TOO_MANY_CHANNELS',
      value: 2,
      limit: 1,
    });
    expect(check(decoded(tone(2, { channels: 6 })), { maxChannels: 8 }).ok).toBe(true);
  });

  it('warns LOW_BITRATE for lossy codecs under 64 kb/s only', () => {
    const audio = tone(2);
    expect(check(decoded(audio, { codec: 'mp3', bitrate: 32000, bitsPerSample: null })).warnings).toEqual([
      expect.objectContaining({ code: 'LOW_BITRATE', value: 32000, limit: 64000 }),
    ]);
    expect(check(decoded(audio, { codec: 'opus', bitrate: 64000, bitsPerSample: null })).warnings).toEqual([]);
    expect(check(decoded(audio, { codec: 'flac', bitrate: 32000 })).warnings).toEqual([]);
    expect(check(decoded(audio, { codec: 'aac', bitrate: null, bitsPerSample: null })).warnings).toEqual([]);
  });

  it('rejects digital silence as SILENT with a null level (-Infinity has no JSON form)', () => {
    const report = check(decoded([new Float32Array(RATE * 2)]));
    expect(report.errors).toEqual([
      { code: 'SILENT', message: 'The recording is completely silent; check the microphone.', value: null, limit: -60 },
    ]);
  });

  it('rejects a tone whose mean level is -63 dBFS as SILENT but accepts one at -57 dBFS', () => {
    // A sine's RMS is its peak -3.01 dB: peaks of -60 and -54 dBFS give means of -63.0 and -57.0.
    const quiet = check(decoded(tone(2, { amplitude: 10 ** (-60 / 20) })));
    expect(quiet.errors).toEqual([expect.objectContaining({ code: 'SILENT', limit: -60 })]);
    expect(quiet.errors[0].value as number).toBeCloseTo(-63.01, 1);
    expect(check(decoded(tone(2, { amplitude: 10 ** (-54 / 20) }))).ok).toBe(true);
    expect(check(decoded(tone(2, { amplitude: 10 ** (-54 / 20) })), { silenceDbfs: -50 }).errors[0].code).toBe('SILENT');
  });

  it('warns CLIPPING for a full-scale clipped tone, not for a peak of -0.2 dBFS', () => {
    const clipped = tone(2, { amplitude: 1.5 }).map((ch) => ch.map((x) => Math.max(-1, Math.min(1, x))));
    const report = check(decoded(clipped));
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'CLIPPING', value: 0, limit: -0.1 })]);
    expect(report.warnings[0].message).toMatch(/peaks at 0 dBFS and \d+(\.\d+)?% of samples/);
    expect(check(decoded(tone(2, { amplitude: 10 ** (-0.2 / 20) }))).warnings).toEqual([]);
  });

  it('forgives a few clipped samples when minClippedRatio asks for more', () => {
    const channel = tone(2)[0];
    channel[1000] = 1;
    expect(codes(check(decoded([channel])).warnings)).toEqual(['CLIPPING']);
    expect(check(decoded([channel]), { minClippedRatio: 0.001 }).warnings).toEqual([]);
  });

  it('warns TRUNCATED_FILE when the decoder read less than the file declared', () => {
    const report = check(decoded(tone(2), { truncated: true }));
    expect(report.ok).toBe(true);
    expect(report.warnings).toEqual([expect.objectContaining({ code: 'TRUNCATED_FILE', value: 2 })]);
  });

  it('answers a truncated file too short to use with TRUNCATED_FILE first, then TOO_SHORT', () => {
    const report = check(decoded(tone(0.3), { truncated: true }));
    expect(report.ok).toBe(false);
    expect(codes(report.errors)).toEqual(['TRUNCATED_FILE', 'TOO_SHORT']);
    expect(report.errors[0]).toMatchObject({ value: 0.3 });
    expect(report.warnings).toEqual([]);
    // A complete short recording is still just TOO_SHORT.
    expect(codes(check(decoded(tone(0.3))).errors)).toEqual(['TOO_SHORT']);
  });

  it('lists every error at once: 0.5 s of silence at 8 kHz in 6 channels', () => {
    const report = check(
      decoded(
        Array.from({ length: 6 }, () => new Float32Array(4000)),
        { sampleRate: 8000 },
      ),
    );
    expect(codes(report.errors).sort()).toEqual(['SAMPLE_RATE_TOO_LOW', 'SILENT', 'TOO_MANY_CHANNELS', 'TOO_SHORT']);
  });
});

describe('validateAndDecode', () => {
  /** A decoder that must never be reached. */
  const untouchable: CompressedDecoder = {
    decode: () => {
      throw new Error('the decoder should not have been called');
    },
  };

  async function blocking(bytes: Uint8Array, limits?: Partial<ValidationLimits>): Promise<string[]> {
    try {
      await validateAndDecode(bytes, { decoder: untouchable, limits });
    } catch (error) {
      if (error instanceof ValidationError) return codes(error.issues);
      throw error;
    }
    throw new Error('expected a ValidationError');
  }

  it('returns the audio and the warnings of both stages for an acceptable file', async () => {
    const { audio, report } = await validateAndDecode(encodeWav(tone(2, { rate: 22050 }), 22050), { fileName: 'take1.flac' });
    expect(audio.channels[0].length).toBe(44100);
    expect(report.ok).toBe(true);
    expect(codes(report.warnings)).toEqual(['EXTENSION_MISMATCH', 'LOW_SAMPLE_RATE']);
  });

  it('throws before decoding for a 60 MB upload', async () => {
    const big = new Uint8Array(60 * 1024 * 1024);
    big.set(encodeWav(tone(1.5), RATE).subarray(0, 44));
    expect(await blocking(big)).toEqual(['FILE_TOO_LARGE']);
  });

  it.each([
    ['0.5 s', () => encodeWav(tone(0.5), RATE), ['TOO_SHORT']],
    ['301 s', () => encodeWav(tone(301, { rate: 16000 }), 16000), ['TOO_LONG']],
    ['silence', () => encodeWav([new Float32Array(RATE * 2)], RATE), ['SILENT']],
    ['6 channels', () => encodeWav(tone(2, { channels: 6 }), RATE), ['TOO_MANY_CHANNELS']],
    ['8 kHz', () => encodeWav(tone(2, { rate: 8000 }), 8000), ['SAMPLE_RATE_TOO_LOW']],
    ['a WAV cut inside its header', () => encodeWav(tone(2), RATE).subarray(0, 30), ['TRUNCATED_FILE']],
    [
      'a WAV header claiming 65535 channels',
      () => {
        const wav = encodeWav(tone(2), RATE);
        new DataView(wav.buffer).setUint16(22, 65535, true);
        return wav;
      },
      ['TOO_MANY_CHANNELS'],
    ],
    ['zero bytes', () => new Uint8Array(0), ['EMPTY_FILE']],
  ])('throws a ValidationError for %s', async (_name, make, expected) => {
    expect(await blocking(make())).toEqual(expected);
  });

  it('stops decoding a ten-minute WAV one second past the limit and rejects it as TOO_LONG', async () => {
    const error = await validateAndDecode(encodeWav(tone(600, { rate: 16000 }), 16000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues[0]).toMatchObject({ code: 'TOO_LONG', value: 301, limit: 300 });
  });

  it('decodes the 2 s actually present in a WAV whose header claims ten hours, with a TRUNCATED_FILE warning', async () => {
    const wav = encodeWav(tone(2), RATE);
    new DataView(wav.buffer).setUint32(40, 10 * 3600 * RATE * 2, true);
    const { audio, report } = await validateAndDecode(wav);
    expect(audio.channels[0].length).toBe(2 * RATE);
    expect(codes(report.warnings)).toEqual(['TRUNCATED_FILE']);
  });

  it('applies configured limits end to end', async () => {
    expect(await blocking(encodeWav(tone(2), RATE), { minDurationSeconds: 3 })).toEqual(['TOO_SHORT']);
    expect(await blocking(encodeWav(tone(2), RATE), { allowedFormats: ['flac'] })).toEqual(['FORMAT_NOT_ALLOWED']);
  });
});
