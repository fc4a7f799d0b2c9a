/**
 * The pure decode stage: format sniffing, the WAV reader/writer (including hostile headers) and
 * decodeAudio's routing. Compressed decoding with the real ffmpeg is in test/unit/platform/ffmpeg-decoder.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  adtsFrameLength,
  describeNonAudio,
  detectFormat,
  detectOggCodec,
  isStreamableMp4,
  mpegFrameLength,
} from '../../../src/audio/decode/sniff.js';
import { decodeWav, encodeWav, MAX_WAV_CHANNELS, type WavSampleFormat } from '../../../src/audio/decode/wav.js';
import { decodeAudio, toMonoAudio, type CompressedDecoder, type CompressedDecodeOptions } from '../../../src/audio/decode/decode.js';
import { readDeclaredLength } from '../../../src/audio/decode/declared-length.js';
import { AbortedError, AppError, AudioProcessingError, ValidationError } from '../../../src/audio/errors.js';
import { createRandom } from '../../../src/audio/random.js';
import type { DecodedAudio } from '../../../src/audio/types.js';
import { toneFrequencyHz } from '../../support/tone-frequency.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/formats');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));

function sine(hz: number, seconds: number, rate: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(seconds * rate));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
/** A plain 16-byte PCM fmt chunk body. */
function fmtBody(channels: number, rate: number, bits: number, tag = 1, blockAlign = channels * Math.ceil(bits / 8)): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * blockAlign, true);
  v.setUint16(12, blockAlign, true);
  v.setUint16(14, bits, true);
  return b;
}
/** A RIFF/WAVE file from chunks; `size` overrides the declared size, `pad` false omits the pad byte of odd chunks. */
function riff(chunks: { id: string; body: Uint8Array; size?: number; pad?: boolean }[], riffSize?: number, riffId = 'RIFF'): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of chunks) {
    parts.push(ascii(c.id), u32(c.size ?? c.body.length), c.body);
    if (c.body.length & 1 && c.pad !== false) parts.push(new Uint8Array(1));
  }
  const body = concat(ascii('WAVE'), ...parts);
  return concat(ascii(riffId), u32(riffSize ?? body.length), body);
}
/** `frames` stereo 16-bit frames of a ramp, so every sample value is predictable. */
function pcm16(frames: number, channels = 1): { bytes: Uint8Array; value: (frame: number, channel: number) => number } {
  const value = (f: number, c: number) => ((f * 37 + c * 1000) % 20000) - 10000;
  const b = new Uint8Array(frames * channels * 2);
  const v = new DataView(b.buffer);
  for (let f = 0; f < frames; f++) for (let c = 0; c < channels; c++) v.setInt16((f * channels + c) * 2, value(f, c), true);
  return { bytes: b, value: (f, c) => value(f, c) / 32768 };
}

async function reasonOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (error instanceof AppError) return error.reason;
    throw error;
  }
  throw new Error('expected an error');
}

describe('detectFormat', () => {
  it.each([
    ['tone-440hz-mono.mp3', 'mp3'],
    ['tone-440hz-stereo-bare.mp3', 'mp3'],
    ['tone-440hz-8khz.mp3', 'mp3'],
    ['tone-440hz-stereo.m4a', 'm4a'],
    ['tone-440hz-stereo-faststart.m4a', 'm4a'],
    ['tone-440hz-mono.aac', 'aac'],
    ['tone-440hz-mono-vorbis.ogg', 'ogg'],
    ['tone-440hz-mono-opus.ogg', 'ogg'],
    ['tone-440hz-22khz.flac', 'flac'],
    ['tone-440hz-mono-opus.webm', 'webm'],
    ['tone-440hz-mono-opus-live.webm', 'webm'],
  ])('recognises %s as %s from its bytes', (file, format) => {
    expect(detectFormat(fixture(file))).toBe(format);
  });

  it('takes an EBML file for WebM only when its DocType says webm or matroska', () => {
    const webm = fixture('tone-440hz-mono-opus-live.webm');
    const at = Buffer.from(webm.subarray(0, 64)).indexOf('webm');
    expect(at).toBeGreaterThan(4);
    const other = Uint8Array.from(webm);
    other.set(ascii('wxbm'), at);
    expect(detectFormat(other)).toBeNull();
    expect(describeNonAudio(other)).toBe('a Matroska/WebM file');
    // The same header with the 8-byte DocType "matroska" (a .mka file).
    const mka = concat(webm.subarray(0, at - 1), Uint8Array.of(0x88), ascii('matroska'), webm.subarray(at + 4));
    expect(detectFormat(mka)).toBe('webm');
  });

  it('recognises RIFF, RF64 and BW64 WAVE headers', () => {
    const wav = encodeWav([new Float32Array(10)], 8000);
    expect(detectFormat(wav)).toBe('wav');
    for (const id of ['RF64', 'BW64']) expect(detectFormat(concat(ascii(id), wav.subarray(4)))).toBe('wav');
  });

  it('still recognises an MP3 cut to its first 100 bytes (tag plus part of one frame)', () => {
    expect(detectFormat(fixture('tone-440hz-mono.mp3').subarray(0, 100))).toBe('mp3');
    expect(detectFormat(fixture('tone-440hz-stereo-bare.mp3').subarray(0, 100))).toBe('mp3');
  });

  it('recognises FLAC and ADTS behind an ID3v2 tag', () => {
    const tag = concat(ascii('ID3'), Uint8Array.of(4, 0, 0, 0, 0, 0, 5), new Uint8Array(5));
    expect(detectFormat(concat(tag, fixture('tone-440hz-22khz.flac')))).toBe('flac');
    expect(detectFormat(concat(tag, fixture('tone-440hz-mono.aac')))).toBe('aac');
  });

  it('does not take a lone MPEG frame header followed by garbage for an MP3', () => {
    const mp3 = fixture('tone-440hz-stereo-bare.mp3');
    const length = mpegFrameLength(mp3, 0);
    expect(length).toBeGreaterThan(100);
    const fake = new Uint8Array(4096);
    fake.set(mp3.subarray(0, 4), 0); // valid header, but nothing where the next frame should start
    expect(detectFormat(fake)).toBeNull();
    fake.set(mp3.subarray(length, length + 4), length); // now a matching second header: an MP3
    expect(detectFormat(fake)).toBe('mp3');
  });

  it('measures ADTS frame lengths that chain through the whole AAC file', () => {
    const aac = fixture('tone-440hz-mono.aac');
    let offset = 0;
    let frames = 0;
    while (offset < aac.length) {
      const length = adtsFrameLength(aac, offset);
      expect(length).toBeGreaterThan(7);
      offset += length;
      frames++;
    }
    expect(offset).toBe(aac.length);
    expect(frames).toBeGreaterThan(80); // 2 s at 44.1 kHz / 1024 samples per frame ≈ 87
  });

  it.each([
    ['a PNG image', concat(Uint8Array.of(0x89), ascii('PNG\r\n\x1a\n'), new Uint8Array(100))],
    ['a ZIP archive', concat(ascii('PK\x03\x04'), new Uint8Array(100))],
    ['a text file', ascii('Hello, this is not a song at all.\nIt is named melody.mp3 though.\n')],
    ['a PDF document', ascii('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')],
    ['a JPEG image', Uint8Array.of(0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46)],
  ])('returns null for %s and names it', (name, bytes) => {
    expect(detectFormat(bytes)).toBeNull();
    expect(describeNonAudio(bytes)).toBe(name);
  });

  it('returns null for seeded random bytes and for fewer than four bytes', () => {
    const random = createRandom(7);
    for (let trial = 0; trial < 50; trial++) {
      const bytes = new Uint8Array(2048);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
      expect(detectFormat(bytes)).toBeNull();
    }
    expect(detectFormat(ascii('RIF'))).toBeNull();
    expect(detectFormat(new Uint8Array(0))).toBeNull();
  });

  it('tells Vorbis from Opus inside Ogg, and M4A files that stream from ones that need seeking', () => {
    expect(detectOggCodec(fixture('tone-440hz-mono-vorbis.ogg'))).toBe('vorbis');
    expect(detectOggCodec(fixture('tone-440hz-mono-opus.ogg'))).toBe('opus');
    expect(detectOggCodec(fixture('tone-440hz-22khz.flac'))).toBeNull();
    expect(isStreamableMp4(fixture('tone-440hz-stereo-faststart.m4a'))).toBe(true);
    expect(isStreamableMp4(fixture('tone-440hz-stereo.m4a'))).toBe(false);
  });
});

describe('readDeclaredLength', () => {
  it('reads the declared duration of MP3 (Xing frame count) and FLAC (STREAMINFO)', () => {
    expect(readDeclaredLength(fixture('tone-440hz-mono.mp3'), 'mp3').seconds).toBeCloseTo(2.04, 2); // 2 s + encoder delay/padding
    expect(readDeclaredLength(fixture('tone-440hz-stereo-bare.mp3'), 'mp3').seconds).toBeNull(); // written without Xing
    expect(readDeclaredLength(fixture('tone-440hz-22khz.flac'), 'flac').seconds).toBe(2);
    expect(readDeclaredLength(fixture('silence-1h-bomb.flac'), 'flac').seconds).toBe(3600);
  });

  it('sees that an Ogg, M4A, MP3, ADTS or WebM file was cut short from its structure alone', () => {
    const files = [
      ['tone-440hz-mono-opus.ogg', 'ogg'],
      ['tone-440hz-mono-opus.webm', 'webm'],
      ['tone-440hz-mono-opus-live.webm', 'webm'],
      ['tone-440hz-stereo-faststart.m4a', 'm4a'],
      ['tone-440hz-stereo.m4a', 'm4a'],
      ['tone-440hz-stereo-bare.mp3', 'mp3'],
      ['tone-440hz-mono.mp3', 'mp3'],
      ['tone-440hz-mono.aac', 'aac'],
    ] as const;
    for (const [file, format] of files) {
      const whole = fixture(file);
      expect(readDeclaredLength(whole, format).complete).toBe(true);
      expect(readDeclaredLength(whole.subarray(0, whole.length - 100), format).complete).toBe(false);
    }
  });

  it('finds a cut at any byte of a recorder-style WebM (clusters of unknown size), and no cut in the whole file', () => {
    const whole = fixture('tone-440hz-mono-opus-live.webm');
    // Every cut point that does not fall exactly between two elements is a cut the structure shows.
    let seenAsCut = 0;
    for (let end = 8; end < whole.length; end += 7) if (readDeclaredLength(whole.subarray(0, end), 'webm').complete === false) seenAsCut++;
    const tried = Math.ceil((whole.length - 8) / 7);
    expect(seenAsCut / tried).toBeGreaterThan(0.95);
    expect(readDeclaredLength(whole, 'webm')).toEqual({ seconds: null, complete: true });
    const damaged = Uint8Array.from(whole);
    for (let at = 4; at < whole.length; at += 97) {
      damaged.set(whole);
      damaged[at] = 0; // damage, not a cut: the walk answers, never throws or loops
      expect(() => readDeclaredLength(damaged, 'webm')).not.toThrow();
    }
  });
});

describe('encodeWav and decodeWav', () => {
  const rate = 16000;
  const left = sine(440, 0.25, rate, 0.7);
  const right = sine(660, 0.25, rate, -0.3);
  const cases: { depth: WavSampleFormat; codec: string; bits: number; tolerance: number }[] = [
    { depth: 8, codec: 'pcm_u8', bits: 8, tolerance: 1 / 128 },
    { depth: 16, codec: 'pcm_s16le', bits: 16, tolerance: 1 / 32768 },
    { depth: 24, codec: 'pcm_s24le', bits: 24, tolerance: 1 / 8388608 },
    { depth: 32, codec: 'pcm_s32le', bits: 32, tolerance: 1e-7 },
    { depth: '32f', codec: 'pcm_f32le', bits: 32, tolerance: 0 },
    { depth: '64f', codec: 'pcm_f64le', bits: 64, tolerance: 0 },
  ];

  it.each(cases)('round-trips stereo $codec within one quantisation step, keeping channel order', ({ depth, codec, bits, tolerance }) => {
    for (const extensible of [false, true]) {
      const decoded = decodeWav(encodeWav([left, right], rate, { bitDepth: depth, extensible }));
      expect(decoded).toMatchObject({
        format: 'wav',
        codec,
        sampleRate: rate,
        bitsPerSample: bits,
        bitrate: rate * 2 * bits,
        truncated: false,
        capped: false,
      });
      expect(decoded.channels).toHaveLength(2);
      expect(decoded.channels[0].length).toBe(left.length);
      let worst = 0;
      for (let i = 0; i < left.length; i++) {
        worst = Math.max(worst, Math.abs(decoded.channels[0][i] - left[i]), Math.abs(decoded.channels[1][i] - right[i]));
      }
      expect(worst).toBeLessThanOrEqual(tolerance * 0.5 + 1e-9);
    }
  });

  it('writes WAVE_FORMAT_EXTENSIBLE by default for six channels and reads each channel back in place', () => {
    const channels = [1, 2, 3, 4, 5, 6].map((k) => sine(100 * k, 0.5, rate));
    const wav = encodeWav(channels, rate);
    expect(new DataView(wav.buffer).getUint16(20, true)).toBe(0xfffe);
    const decoded = decodeWav(wav);
    expect(decoded.channels).toHaveLength(6);
    decoded.channels.forEach((ch, k) => expect(toneFrequencyHz(ch, rate)).toBeCloseTo(100 * (k + 1), 1));
  });

  it('writes 8-bit silence as 128 and clips out-of-range samples to full scale instead of wrapping', () => {
    const wav8 = encodeWav([new Float32Array(4)], 8000, { bitDepth: 8 });
    expect(Array.from(wav8.subarray(44))).toEqual([128, 128, 128, 128]);
    const hot = decodeWav(encodeWav([Float32Array.of(1.5, -1.5, 1, -1, Number.NaN)], 8000));
    expect(Array.from(hot.channels[0])).toEqual([32767 / 32768, -1, 32767 / 32768, -1, 0]);
  });

  it('turns NaN and infinite float samples into silence when reading', () => {
    const decoded = decodeWav(encodeWav([Float32Array.of(0.25, Number.NaN, Number.POSITIVE_INFINITY, -0.5)], 8000, { bitDepth: '32f' }));
    expect(Array.from(decoded.channels[0])).toEqual([0.25, 0, 0, -0.5]);
  });

  it('refuses to write channels of unequal length', () => {
    expect(() => encodeWav([new Float32Array(3), new Float32Array(4)], 8000)).toThrow(AudioProcessingError);
  });
});

describe('decodeWav on unusual and damaged files', () => {
  const { bytes: samples, value } = pcm16(100, 2);
  const fmt = { id: 'fmt ', body: fmtBody(2, 8000, 16) };

  it('skips unknown chunks, odd-sized chunks with and without their pad byte, and trailing metadata', () => {
    for (const pad of [true, false]) {
      const wav = riff([
        { id: 'junk', body: ascii('abc'), pad },
        fmt,
        { id: 'bext', body: ascii('x'), pad },
        { id: 'data', body: samples },
        { id: 'LIST', body: ascii('INFOabcd') },
      ]);
      const decoded = decodeWav(wav);
      expect(decoded.channels[0].length).toBe(100);
      expect(decoded.channels[0][57]).toBe(value(57, 0));
      expect(decoded.channels[1][99]).toBe(value(99, 1));
      expect(decoded.truncated).toBe(false);
    }
  });

  it('decodes what is there and flags truncation when the data chunk claims more than the file holds', () => {
    const wav = riff([fmt, { id: 'data', body: samples.subarray(0, 241), size: samples.length }]);
    const decoded = decodeWav(wav);
    expect(decoded.channels[0].length).toBe(60); // 241 bytes = 60 whole frames of 4 bytes
    expect(decoded.channels[1][59]).toBe(value(59, 1));
    expect(decoded.truncated).toBe(true);
  });

  it('reads to the end when a streaming writer left the data size as 0xFFFFFFFF or 0', () => {
    for (const [riffSize, dataSize] of [
      [0xffffffff, 0xffffffff],
      [0, 0],
      [36, 0xffffffff],
    ]) {
      const decoded = decodeWav(riff([fmt, { id: 'data', body: samples, size: dataSize }], riffSize));
      expect(decoded.channels[0].length).toBe(100);
      expect(decoded.truncated).toBe(false);
    }
  });

  it('takes the data size from the ds64 chunk of an RF64 file', () => {
    const ds64 = new Uint8Array(28);
    new DataView(ds64.buffer).setUint32(8, 200, true); // dataSize low word: 50 frames of 4 bytes
    const wav = riff([{ id: 'ds64', body: ds64 }, fmt, { id: 'data', body: samples, size: 0xffffffff }], 0xffffffff, 'RF64');
    const decoded = decodeWav(wav);
    expect(decoded.channels[0].length).toBe(50);
    expect(decoded.channels[0][49]).toBe(value(49, 0));
  });

  it('decodes 2 s (not 10 h) of a file whose header claims ten hours, allocating only for the bytes present', () => {
    const twoSeconds = encodeWav([sine(440, 2, 44100)], 44100);
    const claim = 10 * 3600 * 44100 * 2;
    new DataView(twoSeconds.buffer).setUint32(40, claim, true);
    new DataView(twoSeconds.buffer).setUint32(4, claim + 36, true);
    const decoded = decodeWav(twoSeconds);
    expect(decoded.channels[0].length).toBe(88200);
    expect(decoded.truncated).toBe(true);
    expect(toneFrequencyHz(decoded.channels[0], 44100)).toBeCloseTo(440, 1);
  });

  it('stops one second past maxSeconds and marks the result as capped', () => {
    const decoded = decodeWav(encodeWav([new Float32Array(8000 * 10)], 8000), { maxSeconds: 3 });
    expect(decoded.channels[0].length).toBe(8000 * 4);
    expect(decoded.capped).toBe(true);
    expect(decodeWav(encodeWav([new Float32Array(8000 * 4)], 8000), { maxSeconds: 3 }).capped).toBe(false);
  });

  it.each([
    ['65535 channels', fmtBody(65535, 44100, 16, 1, 65534), 'TOO_MANY_CHANNELS'],
    [`${MAX_WAV_CHANNELS + 1} channels`, fmtBody(MAX_WAV_CHANNELS + 1, 44100, 16), 'TOO_MANY_CHANNELS'],
    ['zero channels', fmtBody(0, 44100, 16, 1, 2), 'CORRUPT_FILE'],
    ['a sample rate of 0 Hz', fmtBody(1, 0, 16), 'CORRUPT_FILE'],
    ['a sample rate of 4 GHz', fmtBody(1, 4_000_000_000, 16), 'CORRUPT_FILE'],
    ['12-bit samples in a 3-byte block (trusted: 3-byte samples)', fmtBody(1, 8000, 12, 1, 3), (400 / 3) | 0],
    ['16-bit stereo in a 5-byte block (trusted: 4-byte frames)', fmtBody(2, 8000, 16, 1, 5), 100],
    ['40-bit stereo in a 7-byte block', fmtBody(2, 8000, 40, 1, 7), 'CORRUPT_FILE'],
    ['IMA ADPCM (codec 0x11)', fmtBody(1, 8000, 4, 0x11, 256), 'UNSUPPORTED_CODEC'],
    ['20-bit float', fmtBody(1, 8000, 20, 3), 'UNSUPPORTED_CODEC'],
  ])(
    'answers a header claiming %s with a clear error or a sane reading, never an allocation by the claim',
    async (_name, body, outcome) => {
      const wav = riff([
        { id: 'fmt ', body },
        { id: 'data', body: samples },
      ]);
      if (typeof outcome === 'number') expect(decodeWav(wav).channels[0].length).toBe(outcome);
      else expect(await reasonOf(() => decodeWav(wav))).toBe(outcome);
    },
  );

  it.each([
    ['fewer than 12 bytes', ascii('RIFF\x10\0\0\0WA'), 'TRUNCATED_FILE'],
    ['a cut inside the format chunk', riff([fmt]).subarray(0, 30), 'TRUNCATED_FILE'],
    ['no data chunk after the format chunk', riff([fmt]), 'TRUNCATED_FILE'],
    ['a data chunk header with no samples', riff([fmt, { id: 'data', body: new Uint8Array(0), size: 400 }]), 'TRUNCATED_FILE'],
    ['no format chunk at all', riff([{ id: 'data', body: samples }]), 'CORRUPT_FILE'],
    [
      'a fmt chunk of 8 bytes',
      riff([
        { id: 'fmt ', body: new Uint8Array(8) },
        { id: 'data', body: samples },
      ]),
      'CORRUPT_FILE',
    ],
  ])('rejects a WAV with %s', async (_name, wav, reason) => {
    expect(await reasonOf(() => decodeWav(wav))).toBe(reason);
  });

  it('never throws anything but a ValidationError, nor allocates beyond the file, for any prefix or seeded corruption of a WAV', () => {
    const wav = encodeWav([sine(440, 0.01, 8000), sine(220, 0.01, 8000)], 8000, { bitDepth: 24, extensible: true });
    const random = createRandom(11);
    const attempts: Uint8Array[] = [];
    for (let n = 0; n <= wav.length; n++) attempts.push(wav.subarray(0, n));
    for (let trial = 0; trial < 2000; trial++) {
      const copy = wav.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let k = 0; k < flips; k++) copy[Math.floor(random() * 80)] = Math.floor(random() * 256);
      attempts.push(copy);
    }
    let decodedCount = 0;
    for (const bytes of attempts) {
      try {
        const decoded: DecodedAudio = decodeWav(bytes);
        expect(decoded.channels.length * decoded.channels[0].length).toBeLessThanOrEqual(bytes.length);
        decodedCount++;
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
      }
    }
    expect(decodedCount).toBeGreaterThan(100); // most corruptions of sample bytes still decode
  });
});

describe('decodeAudio', () => {
  /** A stand-in decoder that records what it was asked and returns a fixed result. */
  function fakeDecoder(
    result: (options: CompressedDecodeOptions) => DecodedAudio,
  ): CompressedDecoder & { calls: CompressedDecodeOptions[] } {
    const calls: CompressedDecodeOptions[] = [];
    return {
      calls,
      decode: async (_bytes, options) => {
        calls.push(options);
        return result(options);
      },
    };
  }
  const oneSecond = (format: DecodedAudio['format']): DecodedAudio => ({
    format,
    codec: 'x',
    sampleRate: 8000,
    channels: [new Float32Array(8000)],
    bitrate: 1,
    bitsPerSample: null,
  });

  it('rejects zero bytes as EMPTY_FILE', async () => {
    expect(await reasonOf(() => decodeAudio(new Uint8Array(0)))).toBe('EMPTY_FILE');
  });

  it('rejects a PNG, a ZIP and a text file (whatever they are named) as UNSUPPORTED_FORMAT, saying what they are', async () => {
    const png = concat(Uint8Array.of(0x89), ascii('PNG\r\n\x1a\n'), new Uint8Array(64));
    const error = await decodeAudio(png).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).reason).toBe('UNSUPPORTED_FORMAT');
    expect((error as ValidationError).message).toMatch(/PNG image/);
    expect(await reasonOf(() => decodeAudio(concat(ascii('PK\x03\x04'), new Uint8Array(64))))).toBe('UNSUPPORTED_FORMAT');
    expect(await reasonOf(() => decodeAudio(ascii('just some lyrics, not audio\n')))).toBe('UNSUPPORTED_FORMAT');
  });

  it('decodes WAV itself, without any compressed decoder', async () => {
    const audio = await decodeAudio(encodeWav([sine(440, 1.5, 22050)], 22050));
    expect(audio.channels[0].length).toBe(33075);
    expect(toneFrequencyHz(audio.channels[0], 22050)).toBeCloseTo(440, 1);
  });

  it('hands compressed files to the decoder with the format sniffed from the bytes and the time cap', async () => {
    const decoder = fakeDecoder((o) => oneSecond(o.format));
    // The MP3 fixture is handed over as MP3 whatever name it arrived under: names never reach decodeAudio.
    await decodeAudio(fixture('tone-440hz-mono.mp3'), { decoder });
    await decodeAudio(fixture('tone-440hz-mono-opus.ogg'), { decoder, maxSeconds: 60 });
    expect(decoder.calls.map((c) => [c.format, c.maxSeconds])).toEqual([
      ['mp3', 300],
      ['ogg', 60],
    ]);
  });

  it('says clearly that no decoder is configured for a compressed file', async () => {
    const error = await decodeAudio(fixture('tone-440hz-22khz.flac')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AudioProcessingError);
    expect((error as AudioProcessingError).reason).toBe('NO_DECODER');
  });

  it('passes WAV codecs it cannot read to the decoder, and reports them as UNSUPPORTED_CODEC without one', async () => {
    const adpcm = riff([
      { id: 'fmt ', body: fmtBody(1, 8000, 4, 0x11, 256) },
      { id: 'data', body: new Uint8Array(512) },
    ]);
    const decoder = fakeDecoder((o) => oneSecond(o.format));
    expect((await decodeAudio(adpcm, { decoder })).format).toBe('wav');
    expect(decoder.calls[0].format).toBe('wav');
    expect(await reasonOf(() => decodeAudio(adpcm))).toBe('UNSUPPORTED_CODEC');
  });

  it('turns a decoder result without samples into CORRUPT_FILE', async () => {
    const decoder = fakeDecoder((o) => ({ ...oneSecond(o.format), channels: [new Float32Array(0)] }));
    expect(await reasonOf(() => decodeAudio(fixture('tone-440hz-mono.aac'), { decoder }))).toBe('CORRUPT_FILE');
  });

  it('does nothing once the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(decodeAudio(encodeWav([new Float32Array(8)], 8000), { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError);
  });

  it('averages channels into mono for the analysis stages', () => {
    const mono = toMonoAudio({ ...oneSecond('wav'), channels: [Float32Array.of(1, 0.5), Float32Array.of(0, -0.5)] });
    expect(Array.from(mono.samples)).toEqual([0.5, 0]);
    expect(mono.sampleRate).toBe(8000);
  });
});
