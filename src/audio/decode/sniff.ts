/**
 * Format detection from the bytes themselves (magic numbers and frame headers), never from the file
 * name: a `.wav` that really holds MP3 is MP3, a text file named `.mp3` is not audio.
 */
import type { AudioFormat } from '../types.js';

/** Codec of the first logical stream of an Ogg file, read from its identification packet. */
export type OggCodec = 'vorbis' | 'opus' | 'flac' | 'speex';

/** How far past the start (or past an ID3v2 tag) we look for MPEG/ADTS frame sync, in bytes. */
const SYNC_SEARCH_BYTES = 8192;

/** True when `text` (one char per byte) sits at `offset`. */
export function ascii(bytes: Uint8Array, offset: number, text: string): boolean {
  if (offset + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) {
    if (bytes[offset + i] !== text.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Detects the audio container from magic bytes.
 * - WAV: `RIFF`/`RF64`/`BW64` + `WAVE` (ITU-R BS.2088 / EBU Tech 3306 for the 64-bit forms).
 * - MP3: optional ID3v2 tag, then two consecutive valid MPEG audio frame headers (ISO/IEC 11172-3,
 *   13818-3 and the unofficial MPEG-2.5 extension); one frame is enough only when the data ends before
 *   the second would start.
 * - M4A: ISO base media file (`ftyp` box at offset 4, ISO/IEC 14496-12).
 * - AAC: ADTS frames (sync 0xFFF, layer 0, ISO/IEC 13818-7), two in a row as for MP3.
 * - OGG: `OggS` capture pattern (RFC 3533); use {@link detectOggCodec} for the codec inside.
 * - FLAC: `fLaC` stream marker, possibly after an ID3v2 tag.
 * - WebM (and Matroska audio): the EBML magic `1A 45 DF A3` with the DocType `webm` or `matroska` in
 *   the EBML header (what browsers' MediaRecorder writes: Opus in WebM).
 * @returns the format, or null for anything else (text, images, archives, unknown or too few bytes).
 */
export function detectFormat(bytes: Uint8Array): AudioFormat | null {
  if (bytes.length < 4) return null;
  if ((ascii(bytes, 0, 'RIFF') || ascii(bytes, 0, 'RF64') || ascii(bytes, 0, 'BW64')) && ascii(bytes, 8, 'WAVE')) return 'wav';
  if (ascii(bytes, 0, 'fLaC')) return 'flac';
  if (ascii(bytes, 0, 'OggS')) return 'ogg';
  if (ascii(bytes, 4, 'ftyp')) return 'm4a';
  if (isWebm(bytes)) return 'webm';

  const start = skipId3v2(bytes);
  const hadId3 = start > 0;
  if (hadId3 && start >= bytes.length) return 'mp3'; // only a tag survived (cut short): an MP3 by convention
  if (ascii(bytes, start, 'fLaC')) return 'flac';

  const end = Math.min(bytes.length - 1, start + SYNC_SEARCH_BYTES);
  for (let i = start; i < end; i++) {
    if (bytes[i] !== 0xff || (bytes[i + 1] & 0xe0) !== 0xe0) continue;
    const mpeg = mpegFrameLength(bytes, i);
    if (mpeg > 0 && confirmNextFrame(bytes, i, i === start, mpeg, mpegFrameLength, sameMpegStream)) return 'mp3';
    const adts = adtsFrameLength(bytes, i);
    if (adts > 0 && confirmNextFrame(bytes, i, i === start, adts, adtsFrameLength, sameAdtsStream)) return 'aac';
  }
  // A tag followed by bytes we cannot read as frames within the search window: still an MP3 container,
  // the decoder will say whether any audio is in it.
  return hadId3 && bytes.length - start < 4 ? 'mp3' : null;
}

/**
 * EBML magic, then the DocType element (ID 0x4282) within the EBML header saying `webm` or `matroska`
 * (Matroska specification, RFC 9559 §5.1). The header is a few dozen bytes; only it is searched.
 */
function isWebm(bytes: Uint8Array): boolean {
  if (!(bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3)) return false;
  const end = Math.min(bytes.length - 3, 64);
  for (let i = 4; i < end; i++) {
    if (bytes[i] !== 0x42 || bytes[i + 1] !== 0x82) continue;
    // A one-byte size (VINT 1xxxxxxx) as every muxer writes for a short string.
    const size = bytes[i + 2] & 0x80 ? bytes[i + 2] & 0x7f : -1;
    if (size === 4 && ascii(bytes, i + 3, 'webm')) return true;
    if (size === 8 && ascii(bytes, i + 3, 'matroska')) return true;
  }
  return false;
}

/**
 * Offset of the first byte after any ID3v2 tags at the start of the data (0 when there are none).
 * Tags may be stacked; each size is a 28-bit syncsafe integer (id3.org, ID3v2.4 structure §3.1).
 */
export function skipId3v2(bytes: Uint8Array): number {
  let start = 0;
  while (start + 10 <= bytes.length && ascii(bytes, start, 'ID3') && bytes[start + 3] < 0x05) {
    const size =
      ((bytes[start + 6] & 0x7f) << 21) | ((bytes[start + 7] & 0x7f) << 14) | ((bytes[start + 8] & 0x7f) << 7) | (bytes[start + 9] & 0x7f);
    const footer = bytes[start + 5] & 0x10 ? 10 : 0;
    start += 10 + size + footer;
  }
  return start;
}

/**
 * A frame header is believed only when the next frame starts with a matching header exactly where the
 * first one says it ends. A lone frame is accepted only at the very start of the data, when the data
 * ends before the second header (a file cut short).
 */
function confirmNextFrame(
  bytes: Uint8Array,
  offset: number,
  atStart: boolean,
  length: number,
  frameLength: (b: Uint8Array, o: number) => number,
  sameStream: (b: Uint8Array, a: number, c: number) => boolean,
): boolean {
  const next = offset + length;
  if (next + 4 > bytes.length) return atStart;
  return frameLength(bytes, next) > 0 && sameStream(bytes, offset, next);
}

// Bitrates in kb/s indexed by [row][bitrate index]; rows: V1 L1, V1 L2, V1 L3, V2/2.5 L1, V2/2.5 L2 & L3.
const MPEG_BITRATES = [
  [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];
const MPEG1_RATES = [44100, 48000, 32000];

/**
 * Length in bytes of the MPEG audio frame whose header starts at `offset`, or 0 when the four bytes
 * there are not a valid header (reserved version/layer/rate, free-format or bad bitrate, emphasis 2).
 */
export function mpegFrameLength(bytes: Uint8Array, offset: number): number {
  if (offset + 4 > bytes.length) return 0;
  const b1 = bytes[offset + 1];
  const b2 = bytes[offset + 2];
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return 0;
  const version = (b1 >> 3) & 3; // 0 = MPEG-2.5, 1 = reserved, 2 = MPEG-2, 3 = MPEG-1
  const layer = (b1 >> 1) & 3; // 1 = III, 2 = II, 3 = I, 0 = reserved (ADTS uses it)
  const bitrateIndex = b2 >> 4;
  const rateIndex = (b2 >> 2) & 3;
  if (version === 1 || layer === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) return 0;
  if ((bytes[offset + 3] & 3) === 2) return 0; // reserved emphasis
  const padding = (b2 >> 1) & 1;
  const sampleRate = MPEG1_RATES[rateIndex] / (version === 3 ? 1 : version === 2 ? 2 : 4);
  const row = version === 3 ? 3 - layer : layer === 3 ? 3 : 4;
  const bitrate = MPEG_BITRATES[row][bitrateIndex] * 1000;
  if (layer === 3) return (Math.floor((12 * bitrate) / sampleRate) + padding) * 4;
  const slots = layer === 1 && version !== 3 ? 72 : 144; // Layer III of MPEG-2/2.5 has 576 samples per frame
  return Math.floor((slots * bitrate) / sampleRate) + padding;
}

function sameMpegStream(bytes: Uint8Array, a: number, b: number): boolean {
  // Version, layer and sample rate never change within a stream.
  return (bytes[a + 1] & 0xfe) === (bytes[b + 1] & 0xfe) && (bytes[a + 2] & 0x0c) === (bytes[b + 2] & 0x0c);
}

/** Length in bytes of the ADTS frame at `offset` (header included), or 0 when it is not a valid ADTS header. */
export function adtsFrameLength(bytes: Uint8Array, offset: number): number {
  if (offset + 7 > bytes.length) return 0;
  if (bytes[offset] !== 0xff || (bytes[offset + 1] & 0xf6) !== 0xf0) return 0; // sync 0xFFF, layer 00
  const rateIndex = (bytes[offset + 2] >> 2) & 0x0f;
  if (rateIndex > 12) return 0;
  const length = ((bytes[offset + 3] & 0x03) << 11) | (bytes[offset + 4] << 3) | (bytes[offset + 5] >> 5);
  const headerLength = bytes[offset + 1] & 1 ? 7 : 9;
  return length > headerLength ? length : 0;
}

function sameAdtsStream(bytes: Uint8Array, a: number, b: number): boolean {
  // Profile, sampling frequency index and channel configuration are fixed for a stream.
  return (
    bytes[a + 1] === bytes[b + 1] && (bytes[a + 2] & 0xfd) === (bytes[b + 2] & 0xfd) && (bytes[a + 3] & 0xc0) === (bytes[b + 3] & 0xc0)
  );
}

/**
 * Codec of the first Ogg page's packet: `\x01vorbis` (Vorbis I spec §4.2.2), `OpusHead` (RFC 7845 §5.1),
 * `\x7FFLAC` (FLAC-in-Ogg mapping) or `Speex   `; null when the bytes are not Ogg or the packet is unknown.
 */
export function detectOggCodec(bytes: Uint8Array): OggCodec | null {
  if (!ascii(bytes, 0, 'OggS') || bytes.length < 28) return null;
  const payload = 27 + bytes[26]; // header is 27 bytes plus one lacing value per segment (RFC 3533 §6)
  if (ascii(bytes, payload, '\x01vorbis')) return 'vorbis';
  if (ascii(bytes, payload, 'OpusHead')) return 'opus';
  if (ascii(bytes, payload, '\x7fFLAC')) return 'flac';
  if (ascii(bytes, payload, 'Speex   ')) return 'speex';
  return null;
}

/**
 * True when an MP4/M4A file can be demuxed front to back: its `moov` box comes before `mdat`
 * ("fast start"). ffmpeg writes `moov` last by default; reading such a file from a pipe needs seeking
 * back, so the caller must hand the demuxer a real file instead. False when no `moov` is found.
 */
export function isStreamableMp4(bytes: Uint8Array): boolean {
  let offset = 0;
  // Walk the top-level boxes (ISO/IEC 14496-12 §4.2): 32-bit size, 4-char type, 64-bit size when size == 1.
  while (offset + 8 <= bytes.length) {
    let size = ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
    if (ascii(bytes, offset + 4, 'moov')) return true;
    if (ascii(bytes, offset + 4, 'mdat')) return false;
    if (size === 1 && offset + 16 <= bytes.length) {
      size =
        (bytes[offset + 8] * 2 ** 24 + (bytes[offset + 9] << 16) + (bytes[offset + 10] << 8) + bytes[offset + 11]) * 2 ** 32 +
        ((bytes[offset + 12] << 24) >>> 0) +
        (bytes[offset + 13] << 16) +
        (bytes[offset + 14] << 8) +
        bytes[offset + 15];
    }
    if (size < 8) return false; // size 0 means "to end of file": nothing follows it
    offset += size;
  }
  return false;
}

/**
 * Names common non-audio files by their magic bytes, so a rejection can say what the upload really
 * is ("a PNG image"). Returns null when the bytes are not recognised.
 */
export function describeNonAudio(bytes: Uint8Array): string | null {
  if (bytes.length === 0) return 'an empty file';
  if (ascii(bytes, 0, '\x89PNG')) return 'a PNG image';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'a JPEG image';
  if (ascii(bytes, 0, 'GIF8')) return 'a GIF image';
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBP')) return 'a WebP image';
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'AVI ')) return 'an AVI video';
  if (ascii(bytes, 0, 'PK\x03\x04') || ascii(bytes, 0, 'PK\x05\x06')) return 'a ZIP archive';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'a gzip archive';
  if (ascii(bytes, 0, '%PDF')) return 'a PDF document';
  if (ascii(bytes, 0, '\x1aE\xdf\xa3')) return 'a Matroska/WebM file';
  if (ascii(bytes, 0, 'FORM') && (ascii(bytes, 8, 'AIFF') || ascii(bytes, 8, 'AIFC'))) return 'an AIFF file';
  if (ascii(bytes, 0, '\x7fELF') || ascii(bytes, 0, 'MZ')) return 'a program';
  if (looksLikeText(bytes)) return 'a text file';
  return null;
}

function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 1024);
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    // Printable ASCII, tab/CR/LF, or any byte of UTF-8 multibyte sequences; control bytes mean binary.
    if (b < 0x09 || (b > 0x0d && b < 0x20) || b === 0x7f) return false;
  }
  return true;
}
