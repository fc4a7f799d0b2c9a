/**
 * A pure, incremental WAV reader for a byte stream that arrives in pieces (ffmpeg's stdout on a pipe).
 *
 * The header is parsed with {@link readWavHeader} as soon as enough bytes have arrived; from then on every
 * piece is de-interleaved straight into one Float32Array per channel and can be dropped at once, so the
 * raw PCM never has to be held (collecting the pieces, joining them and decoding the join held three
 * copies of the audio at the same time). A frame split across two pieces is carried over.
 *
 * Memory: capacity starts at a hint (a container's declared duration) × 1.02 + 4096 frames, or 10 s of
 * frames without one, grows by ×1.5 when the stream holds more, and never passes the time cap. At the end
 * the arrays are cut to the frames read: a view over the same memory when less than 5 % of the capacity is
 * unused, a copy otherwise (so an over-long hint does not keep a large unused tail alive).
 */
import type { DecodedAudio } from '../types.js';
import { ValidationError } from '../errors.js';
import { readWavHeader, wavCodecName, type WavHeader } from './wav.js';

/** Capacity in seconds of audio when nothing hints at the length. */
export const WAV_STREAM_DEFAULT_CAPACITY_SECONDS = 10;
/** Headroom over a capacity hint: relative, plus a fixed number of frames (about 0.1 s at 44.1 kHz). */
const HINT_HEADROOM = 1.02;
const HINT_SLACK_FRAMES = 4096;
/** Capacity multiplier when the stream outgrows the arrays. */
const GROWTH = 1.5;
/** At the end, keep a view over the arrays (no copy) when at most this fraction of their capacity is unused. */
const MAX_UNUSED_FRACTION = 0.05;

const FORMAT_IEEE_FLOAT = 0x0003;

export interface WavStreamReaderOptions {
  /**
   * How many frames the stream probably holds, e.g. a container's declared duration × sample rate; a
   * function is called once, when the header has been read (the sample rate is known then). null or
   * absent: unknown. Only memory use depends on it, never the result: a hint that is too small costs a
   * few grow-and-copy steps, one that is too large a copy at the end. Clamped to the cap.
   */
  capacityHintFrames?: number | null | ((header: WavHeader) => number | null);
  /**
   * Keep at most `ceil((maxSeconds + 1) × sampleRate)` frames and set `capped` when the stream holds more,
   * exactly as {@link WavDecodeOptions.maxSeconds} of `decodeWav`. Default: no cap.
   */
  maxSeconds?: number;
  /**
   * Hard bound on the frames kept, whatever the rate (e.g. an output byte limit ÷ bytes per frame);
   * frames past it are dropped and `capped` is set. Default: no bound.
   */
  maxFrames?: number;
}

export interface WavStreamReader {
  /**
   * Feeds the next bytes of the stream; the reader keeps no reference to `chunk` once this returns.
   * Never throws: after a header error the rest of the stream is ignored and {@link finish} throws it.
   */
  push(chunk: Uint8Array): void;
  /**
   * Ends the stream and returns what it held, as `decodeWav` would have returned for all the bytes
   * joined (with `format: 'wav'` and the codec of the samples, e.g. `pcm_f32le`). Call it once: the
   * reader hands its arrays over and keeps none.
   * @throws ValidationError as `decodeWav`: `TRUNCATED_FILE` when the stream ended inside the header or
   *   before a whole frame, `CORRUPT_FILE`, `TOO_MANY_CHANNELS`, `UNSUPPORTED_CODEC` for a bad header.
   */
  finish(): DecodedAudio;
  /** The header once it has been read, else null. */
  readonly header: WavHeader | null;
  /** Frames kept so far. */
  readonly frames: number;
  /** Frames each channel array can hold before it has to grow (0 before the header). */
  readonly capacity: number;
}

/** Creates a reader for one WAV stream; see {@link WavStreamReaderOptions} for the options. */
export function createWavStreamReader(options: WavStreamReaderOptions = {}): WavStreamReader {
  // Before the header: the bytes so far (the header is tens of bytes, unless a long chunk precedes the data).
  let prefix = new Uint8Array(0);
  let prefixLength = 0;
  let headerError: unknown = null;
  let terminal = false;
  let totalBytes = 0;

  let header: WavHeader | null = null;
  let channels: Float32Array[] = [];
  let capacity = 0;
  let frames = 0;
  let maxFrames = Infinity;
  let capped = false;
  /** Sample-data bytes still expected (declared size), Infinity when streaming. */
  let dataLeft = Infinity;
  /** Sample-data bytes seen (up to the declared size). */
  let dataSeen = 0;
  /** A frame split across pieces: its first `carryLength` bytes. */
  let carry = new Uint8Array(0);
  let carryLength = 0;

  function start(h: WavHeader): void {
    header = h;
    const rate = h.sampleRate;
    if (options.maxSeconds !== undefined) maxFrames = Math.ceil((options.maxSeconds + 1) * rate);
    if (options.maxFrames !== undefined) maxFrames = Math.min(maxFrames, Math.max(0, Math.floor(options.maxFrames)));
    const hint = typeof options.capacityHintFrames === 'function' ? options.capacityHintFrames(h) : options.capacityHintFrames;
    let initial =
      hint !== null && hint !== undefined && Number.isFinite(hint) && hint > 0
        ? Math.ceil(hint * HINT_HEADROOM) + HINT_SLACK_FRAMES
        : Math.ceil(WAV_STREAM_DEFAULT_CAPACITY_SECONDS * rate);
    initial = Math.min(initial, maxFrames);
    capacity = initial;
    for (let c = 0; c < h.channels; c++) channels.push(new Float32Array(capacity));
    dataLeft = h.declaredDataBytes ?? Infinity;
    carry = new Uint8Array(h.blockAlign);
  }

  /** Makes room for `wanted` frames in total (≤ maxFrames), growing by ×1.5 steps. */
  function reserve(wanted: number): void {
    if (wanted <= capacity) return;
    let next = capacity;
    while (next < wanted) next = Math.ceil(next * GROWTH) + 1;
    next = Math.min(next, maxFrames);
    for (let c = 0; c < channels.length; c++) {
      const grown = new Float32Array(next);
      grown.set(channels[c].subarray(0, frames));
      channels[c] = grown;
    }
    capacity = next;
  }

  /** Converts `count` whole frames starting at `offset` of `view` into the channel arrays (already reserved). */
  function convert(view: DataView, offset: number, count: number): void {
    const h = header as WavHeader;
    const blockAlign = h.blockAlign;
    const bits = h.containerBits;
    const isFloat = h.formatTag === FORMAT_IEEE_FLOAT;
    const step = bits / 8;
    const end = frames + count;
    // Hot loops avoid Number.* and Math.* calls, as in decodeWav (they are slow per sample under jest's VM realm).
    for (let c = 0; c < channels.length; c++) {
      const out = channels[c];
      let p = offset + c * step;
      if (isFloat && bits === 32) {
        for (let i = frames; i < end; i++, p += blockAlign) {
          const x = view.getFloat32(p, true);
          out[i] = x - x === 0 ? x : 0; // NaN and ±Infinity become 0
        }
      } else if (isFloat) {
        for (let i = frames; i < end; i++, p += blockAlign) {
          const x = view.getFloat64(p, true);
          out[i] = x - x === 0 ? x : 0;
        }
      } else if (bits === 16) {
        for (let i = frames; i < end; i++, p += blockAlign) out[i] = view.getInt16(p, true) / 32768;
      } else if (bits === 24) {
        for (let i = frames; i < end; i++, p += blockAlign) {
          const x = ((view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getUint8(p + 2) << 16)) << 8) >> 8;
          out[i] = x / 8388608;
        }
      } else if (bits === 32) {
        for (let i = frames; i < end; i++, p += blockAlign) out[i] = view.getInt32(p, true) / 2147483648;
      } else {
        for (let i = frames; i < end; i++, p += blockAlign) out[i] = (view.getUint8(p) - 128) / 128;
      }
    }
    frames = end;
  }

  /** Takes `count` whole frames at `offset` of `view`, keeping as many as the cap allows. */
  function take(view: DataView, offset: number, count: number): void {
    const room = maxFrames - frames;
    if (count > room) {
      capped = true;
      count = room;
    }
    if (count <= 0) return;
    reserve(frames + count);
    convert(view, offset, count);
  }

  /** Consumes sample data bytes `bytes[from, to)`. */
  function consume(bytes: Uint8Array, from: number, to: number): void {
    let length = Math.min(to - from, dataLeft - dataSeen);
    if (length <= 0) return;
    dataSeen += length;
    const blockAlign = (header as WavHeader).blockAlign;
    if (carryLength > 0) {
      const fill = Math.min(blockAlign - carryLength, length);
      carry.set(bytes.subarray(from, from + fill), carryLength);
      carryLength += fill;
      from += fill;
      length -= fill;
      if (carryLength < blockAlign) return;
      take(new DataView(carry.buffer, 0, blockAlign), 0, 1);
      carryLength = 0;
    }
    const whole = Math.floor(length / blockAlign);
    if (whole > 0) take(new DataView(bytes.buffer, bytes.byteOffset + from, whole * blockAlign), 0, whole);
    const rest = length - whole * blockAlign;
    if (rest > 0) {
      carry.set(bytes.subarray(from + whole * blockAlign, from + length), 0);
      carryLength = rest;
    }
  }

  /** Appends to the pre-header bytes and tries to read the header; true once it is read. */
  function tryHeader(chunk: Uint8Array): boolean {
    if (prefixLength + chunk.length > prefix.length) {
      const grown = new Uint8Array(Math.max(prefixLength + chunk.length, prefix.length * 2, 256));
      grown.set(prefix.subarray(0, prefixLength));
      prefix = grown;
    }
    prefix.set(chunk, prefixLength);
    prefixLength += chunk.length;
    const bytes = prefix.subarray(0, prefixLength);
    try {
      start(readWavHeader(bytes));
    } catch (error) {
      headerError = error;
      // A cut-off header may still complete with the next bytes; anything else is final.
      terminal = !(error instanceof ValidationError && error.reason === 'TRUNCATED_FILE');
      return false;
    }
    headerError = null;
    const h = header as WavHeader;
    consume(bytes, h.dataOffset, bytes.length);
    prefix = new Uint8Array(0);
    prefixLength = 0;
    return true;
  }

  return {
    push(chunk) {
      if (terminal || chunk.length === 0) return;
      totalBytes += chunk.length;
      if (header) consume(chunk, 0, chunk.length);
      else tryHeader(chunk);
    },

    finish() {
      if (!header) {
        if (headerError) throw headerError;
        readWavHeader(new Uint8Array(0)); // nothing arrived: throws TRUNCATED_FILE as decodeWav would
      }
      const h = header as WavHeader;
      const streaming = h.declaredDataBytes === null;
      const wanted = streaming ? dataSeen : (h.declaredDataBytes as number);
      if (frames === 0 && !capped && wanted > 0) {
        throw new ValidationError([{ code: 'TRUNCATED_FILE', message: 'The WAV file ends before any audio data.', value: totalBytes }]);
      }
      const truncated = streaming ? carryLength > 0 : dataSeen < wanted;
      const exact = channels.map((channel) => {
        if (frames === channel.length) return channel;
        // Over 5 % unused: copy, so the unused tail can be freed; otherwise a view avoids a second copy.
        return channel.length - frames > MAX_UNUSED_FRACTION * channel.length ? channel.slice(0, frames) : channel.subarray(0, frames);
      });
      channels = [];
      return {
        format: 'wav',
        codec: wavCodecName(h),
        sampleRate: h.sampleRate,
        channels: exact,
        bitrate: h.sampleRate * h.channels * h.containerBits,
        bitsPerSample: h.validBits,
        truncated,
        capped,
      };
    },

    get header() {
      return header;
    },
    get frames() {
      return frames;
    },
    get capacity() {
      return capacity;
    },
  };
}
