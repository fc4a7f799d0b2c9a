/**
 * The streaming WAV reader: fed in pieces split anywhere (inside the header, inside a frame, inside a
 * sample), it must give exactly what decodeWav gives for the joined bytes, while holding only the
 * per-channel floats; capacity grows past a small hint, never past the cap. Also the Ogg granule hint.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createWavStreamReader,
  WAV_STREAM_DEFAULT_CAPACITY_SECONDS,
  type WavStreamReaderOptions,
} from '../../../src/audio/decode/wav-stream.js';
import { decodeWav, encodeWav, type WavSampleFormat } from '../../../src/audio/decode/wav.js';
import { readOggLastGranule } from '../../../src/audio/decode/declared-length.js';
import { AppError } from '../../../src/audio/errors.js';
import type { DecodedAudio } from '../../../src/audio/types.js';

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Channel c, frame i: a distinct value per channel and frame, exactly representable in 16 bits. */
function channelsOf(count: number, frames: number): Float32Array[] {
  return Array.from({ length: count }, (_, c) => {
    const x = new Float32Array(frames);
    for (let i = 0; i < frames; i++) x[i] = (((i * 37 + c * 1013) % 2000) - 1000) / 1024;
    return x;
  });
}

/**
 * A WAV stream as ffmpeg writes it on a pipe (`-f wav -acodec pcm_f32le pipe:1`): RIFF and data sizes
 * 0xFFFFFFFF, WAVE_FORMAT_EXTENSIBLE; optionally a LIST chunk between `fmt ` and `data`.
 */
function ffmpegLikeStream(
  channels: Float32Array[],
  rate: number,
  options: { bitDepth?: WavSampleFormat; list?: boolean; tail?: Uint8Array } = {},
): Uint8Array {
  const file = encodeWav(channels, rate, { bitDepth: options.bitDepth ?? '32f', extensible: true });
  const view = new DataView(file.buffer);
  view.setUint32(4, 0xffffffff, true);
  const dataAt = 12 + 8 + 40; // RIFF header, fmt chunk header, 40-byte extensible fmt body
  view.setUint32(dataAt + 4, 0xffffffff, true);
  const dataEnd = file.length - ((file.length - dataAt - 8) & 1);
  const head = file.subarray(0, dataAt);
  // LIST/INFO with one odd-sized ISFT entry: 17 bytes of body, then the RIFF pad byte.
  const list = options.list
    ? concat(ascii('LIST'), Uint8Array.of(17, 0, 0, 0), ascii('INFOISFT'), Uint8Array.of(5, 0, 0, 0), ascii('Lavf\0'), Uint8Array.of(0))
    : new Uint8Array(0);
  return concat(head, list, file.subarray(dataAt, dataEnd), options.tail ?? new Uint8Array(0));
}

function readInPieces(bytes: Uint8Array, cuts: number[], options?: WavStreamReaderOptions): DecodedAudio {
  const reader = createWavStreamReader(options);
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    // A copy, so the reader cannot keep working from the whole buffer by accident.
    reader.push(bytes.slice(from, cut));
    from = cut;
  }
  return reader.finish();
}

function reasonOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error.reason;
    throw error;
  }
  return 'OK';
}

describe('createWavStreamReader on ffmpeg-style streams', () => {
  it('gives exactly what decodeWav gives when the stream is split in two at every byte offset (header, LIST chunk, frames)', () => {
    const stream = ffmpegLikeStream(channelsOf(2, 9), 8000, { list: true });
    const whole = decodeWav(stream);
    expect(whole.channels[0]).toHaveLength(9);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(readInPieces(stream, [cut])).toEqual(whole);
    }
  });

  it('gives exactly what decodeWav gives when split in three at every pair of offsets, and one byte at a time', () => {
    const stream = ffmpegLikeStream(channelsOf(3, 4), 8000);
    const whole = decodeWav(stream);
    for (let a = 0; a <= stream.length; a++) {
      for (let b = a; b <= stream.length; b++) expect(readInPieces(stream, [a, b])).toEqual(whole);
    }
    const everyByte = Array.from({ length: stream.length }, (_, i) => i);
    expect(readInPieces(stream, everyByte)).toEqual(whole);
  });

  it.each([1, 2, 6])('de-interleaves %i channel(s) of 32-bit float into the exact per-channel samples', (count) => {
    const truth = channelsOf(count, 1000);
    const audio = readInPieces(ffmpegLikeStream(truth, 44100), [70, 333, 4097]);
    expect(audio.codec).toBe('pcm_f32le');
    expect(audio.sampleRate).toBe(44100);
    expect(audio.channels).toHaveLength(count);
    audio.channels.forEach((channel, c) => expect(channel).toEqual(truth[c]));
    expect(audio.truncated).toBe(false);
    expect(audio.capped).toBe(false);
  });

  it.each<WavSampleFormat>([8, 16, 24, 32, '64f'])('reads %s-bit samples split mid-sample like decodeWav does', (bitDepth) => {
    const stream = ffmpegLikeStream(channelsOf(2, 300), 22050, { bitDepth });
    expect(readInPieces(stream, [61, 62, 63, 101, 102, 555])).toEqual(decodeWav(stream));
  });

  it('turns NaN and infinite float samples into 0, as decodeWav does', () => {
    const x = Float32Array.of(0.5, NaN, Infinity, -Infinity, -0.25);
    const audio = readInPieces(ffmpegLikeStream([x], 8000), [69]);
    expect(Array.from(audio.channels[0])).toEqual([0.5, 0, 0, 0, -0.25]);
  });

  it('flags a stream that ends inside a frame as truncated and keeps the whole frames before it', () => {
    const stream = ffmpegLikeStream(channelsOf(2, 10), 8000);
    const cut = stream.subarray(0, stream.length - 5);
    const audio = readInPieces(cut, [cut.length - 3]);
    expect(audio).toEqual(decodeWav(cut));
    expect(audio.truncated).toBe(true);
    expect(audio.channels[0]).toHaveLength(9);
  });

  it('stops at the size a non-streaming header declares, ignores the chunks after the data, and flags a short data chunk', () => {
    const file = encodeWav(channelsOf(1, 50), 8000, { bitDepth: 16 });
    const withTail = concat(file, ascii('LIST'), Uint8Array.of(4, 0, 0, 0), ascii('abcd'));
    const audio = readInPieces(withTail, [50, 77]);
    expect(audio).toEqual(decodeWav(withTail));
    expect(audio.channels[0]).toHaveLength(50);
    expect(audio.truncated).toBe(false);
    const short = file.subarray(0, file.length - 20);
    expect(readInPieces(short, [44])).toEqual(decodeWav(short));
    expect(readInPieces(short, [44]).truncated).toBe(true);
  });
});

describe('createWavStreamReader memory: capacity, growth and the cap', () => {
  const rate = 1000; // the lowest rate we believe, so seconds of audio stay small in tests

  it('starts at hint × 1.02 + 4096 frames and keeps the arrays as views when under 5 % of them is unused', () => {
    const truth = channelsOf(2, 200_000);
    const reader = createWavStreamReader({ capacityHintFrames: 200_000 });
    reader.push(ffmpegLikeStream(truth, rate));
    expect(reader.capacity).toBe(Math.ceil(200_000 * 1.02) + 4096);
    const audio = reader.finish();
    expect(audio.channels[1]).toEqual(truth[1]);
    expect(audio.channels[0].buffer.byteLength).toBe(reader.capacity * 4); // a view, no copy
  });

  it('grows by ×1.5 past a too-small hint and returns exactly the frames it read', () => {
    const truth = channelsOf(2, 5000);
    const stream = ffmpegLikeStream(truth, rate);
    const reader = createWavStreamReader({ capacityHintFrames: () => 10 });
    const seen: number[] = [];
    for (let from = 0; from < stream.length; from += 1000) {
      reader.push(stream.slice(from, from + 1000));
      if (seen[seen.length - 1] !== reader.capacity) seen.push(reader.capacity);
    }
    expect(seen[0]).toBe(Math.ceil(10 * 1.02) + 4096);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBe(Math.ceil(seen[i - 1] * 1.5) + 1);
    const audio = reader.finish();
    audio.channels.forEach((channel, c) => expect(channel).toEqual(truth[c]));
  });

  it('copies the arrays to their exact length when a hint left more than 5 % unused', () => {
    const truth = channelsOf(1, 1000);
    const reader = createWavStreamReader({ capacityHintFrames: 100_000 });
    reader.push(ffmpegLikeStream(truth, rate));
    const audio = reader.finish();
    expect(audio.channels[0]).toEqual(truth[0]);
    expect(audio.channels[0].buffer.byteLength).toBe(1000 * 4);
  });

  it(`starts at ${WAV_STREAM_DEFAULT_CAPACITY_SECONDS} s of frames without a hint, and passes the header to a hint function`, () => {
    const headers: number[] = [];
    const reader = createWavStreamReader({ capacityHintFrames: (header) => (headers.push(header.sampleRate), null) });
    reader.push(ffmpegLikeStream(channelsOf(1, 10), 8000));
    expect(headers).toEqual([8000]);
    expect(reader.capacity).toBe(WAV_STREAM_DEFAULT_CAPACITY_SECONDS * 8000);
  });

  it('keeps ceil((maxSeconds + 1) × rate) frames, sets capped, and never allocates past the cap', () => {
    const truth = channelsOf(2, 12_000);
    const stream = ffmpegLikeStream(truth, rate);
    // No hint (starts at 10 s and grows), a small one (grows ×1.5 three times, then stops at the cap), a huge one.
    for (const hint of [null, 100, 1e12]) {
      const reader = createWavStreamReader({ maxSeconds: 9.5, capacityHintFrames: hint });
      let largest = 0;
      for (let from = 0; from < stream.length; from += 777) {
        reader.push(stream.slice(from, from + 777));
        largest = Math.max(largest, reader.capacity);
      }
      expect(largest).toBe(10_500);
      const audio = reader.finish();
      expect(audio.capped).toBe(true);
      expect(audio.truncated).toBe(false);
      expect(audio.channels[0]).toHaveLength(10_500);
      expect(audio.channels[1]).toEqual(truth[1].subarray(0, 10_500));
      expect(audio).toEqual(decodeWav(stream, { maxSeconds: 9.5 }));
    }
  });

  it('does not set capped when the stream ends exactly at the cap, and obeys maxFrames whatever the rate', () => {
    const stream = ffmpegLikeStream(channelsOf(1, 3500), rate);
    expect(readInPieces(stream, [100], { maxSeconds: 2.5 }).capped).toBe(false);
    const limited = readInPieces(stream, [100], { maxFrames: 1234 });
    expect(limited.capped).toBe(true);
    expect(limited.channels[0]).toHaveLength(1234);
  });
});

describe('createWavStreamReader on streams that are not WAV or stop early', () => {
  const stream = ffmpegLikeStream(channelsOf(2, 4), 8000);

  it('throws what decodeWav throws for every cut of the stream before the first whole frame', () => {
    // 68 bytes of header, then 8-byte frames: every cut up to 75 bytes holds no whole frame.
    for (let cut = 0; cut < 76; cut++) {
      const part = stream.subarray(0, cut);
      const expected = reasonOf(() => decodeWav(part));
      expect(expected).toBe(cut === 68 ? 'OK' : 'TRUNCATED_FILE'); // header only: zero frames, no error
      expect(reasonOf(() => readInPieces(part, [Math.floor(cut / 2)]))).toBe(expected);
    }
  });

  it('rejects bytes that are not RIFF/WAVE as CORRUPT_FILE, ignoring whatever follows', () => {
    const reader = createWavStreamReader();
    reader.push(ascii('ID3\u0004 not a wave file'));
    reader.push(stream);
    expect(reader.header).toBeNull();
    expect(reasonOf(() => reader.finish())).toBe('CORRUPT_FILE');
  });

  it('rejects a header with a codec it cannot read as UNSUPPORTED_CODEC', () => {
    const alaw = stream.slice();
    new DataView(alaw.buffer).setUint16(44, 6, true); // SubFormat GUID: A-law
    expect(reasonOf(() => readInPieces(alaw, [30]))).toBe('UNSUPPORTED_CODEC');
  });
});

describe('readOggLastGranule', () => {
  const fixture = (name: string) => new Uint8Array(readFileSync(join(process.cwd(), 'test/fixtures/formats', name)));

  it('reads the total frames of a 2 s Vorbis file (44.1 kHz) and of a 2 s Opus file (48 kHz plus its pre-skip)', () => {
    // Both tones are 2 s long. (ffmpeg decodes the Vorbis one to 88 640 frames, 440 more than its granule,
    // well within the reader's hint headroom of 2 % + 4096 frames.)
    expect(readOggLastGranule(fixture('tone-440hz-mono-vorbis.ogg'))).toBe(88_200);
    const opus = readOggLastGranule(fixture('tone-440hz-mono-opus.ogg'))!;
    expect(opus - 96_000).toBeGreaterThanOrEqual(0);
    expect(opus - 96_000).toBeLessThanOrEqual(3840); // pre-skip: at most 80 ms at 48 kHz (RFC 7845 §4.2)
  });

  it('reads a smaller position from the first half of a file, and nothing from non-Ogg bytes', () => {
    const whole = fixture('tone-440hz-mono-vorbis.ogg');
    const half = readOggLastGranule(whole.subarray(0, whole.length >> 1))!;
    expect(half).toBeGreaterThan(0);
    expect(half).toBeLessThan(88_200);
    expect(readOggLastGranule(fixture('tone-440hz-mono.mp3'))).toBeNull();
    expect(readOggLastGranule(new Uint8Array(10))).toBeNull();
  });
});
