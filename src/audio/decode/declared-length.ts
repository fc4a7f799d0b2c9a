/**
 * What a compressed file says about its own length, read from its headers without decoding. Comparing
 * this with what a decoder actually produced tells a complete file from one cut off during upload or
 * recording. Header claims are never used to size anything.
 */
import type { AudioFormat } from '../types.js';
import { adtsFrameLength, ascii, mpegFrameLength, skipId3v2 } from './sniff.js';

export interface DeclaredLength {
  /** Duration in seconds the headers declare, null when they do not say (or we cannot read it). */
  seconds: number | null;
  /** False when the container's own structure shows the file is cut short; null when it cannot tell. */
  complete: boolean | null;
}

const UNKNOWN: DeclaredLength = { seconds: null, complete: null };

/**
 * Reads the declared length of an upload:
 * - MP3: frame count of the Xing/Info (LAME) or VBRI (Fraunhofer) header in the first frame; complete
 *   when the chain of frames ends exactly at the end of the file (or at an ID3v1 tag).
 * - FLAC: total samples / sample rate of STREAMINFO (FLAC format spec, METADATA_BLOCK_STREAMINFO).
 * - OGG: complete when the last page is whole and carries the end-of-stream flag (RFC 3533 §6).
 * - M4A: complete when the top-level boxes fit in the file and include `moov` (ISO/IEC 14496-12).
 * - AAC (ADTS): no duration; complete as for MP3 frames.
 * - WebM: complete when every element's declared size fits in the file and the last one ends exactly at
 *   its end (a browser's recording has clusters of unknown size: their blocks are checked one by one).
 * - WAV: unknown here (the WAV reader checks its own sizes).
 */
export function readDeclaredLength(bytes: Uint8Array, format: AudioFormat): DeclaredLength {
  switch (format) {
    case 'mp3':
      return { seconds: mp3DeclaredSeconds(bytes), complete: framesEndCleanly(bytes, mpegFrameLength) };
    case 'flac':
      return { seconds: flacDeclaredSeconds(bytes), complete: null };
    case 'ogg':
      return { seconds: null, complete: oggEndsCleanly(bytes) };
    case 'm4a':
      return { seconds: null, complete: mp4BoxesComplete(bytes) };
    case 'aac':
      return { seconds: null, complete: framesEndCleanly(bytes, adtsFrameLength) };
    case 'webm':
      return { seconds: null, complete: ebmlEndsCleanly(bytes) };
    default:
      return UNKNOWN;
  }
}

function u32be(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
}

function mp3DeclaredSeconds(bytes: Uint8Array): number | null {
  const start = skipId3v2(bytes);
  const end = Math.min(bytes.length - 4, start + 8192);
  let offset = -1;
  for (let i = start; i < end; i++) {
    if (mpegFrameLength(bytes, i) > 0) {
      offset = i;
      break;
    }
  }
  if (offset < 0) return null;
  const version = (bytes[offset + 1] >> 3) & 3; // 3 = MPEG-1
  const layer = (bytes[offset + 1] >> 1) & 3; // 1 = Layer III
  const rateIndex = (bytes[offset + 2] >> 2) & 3;
  const mono = bytes[offset + 3] >> 6 === 3;
  const sampleRate = [44100, 48000, 32000][rateIndex] / (version === 3 ? 1 : version === 2 ? 2 : 4);
  const samplesPerFrame = layer === 3 ? 384 : layer === 1 && version !== 3 ? 576 : 1152;
  // The Xing/Info tag follows the Layer III side information, whose size depends on version and mode.
  const sideInfo = version === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
  const xing = offset + 4 + sideInfo;
  let frames = 0;
  if ((ascii(bytes, xing, 'Xing') || ascii(bytes, xing, 'Info')) && xing + 12 <= bytes.length) {
    if (u32be(bytes, xing + 4) & 1) frames = u32be(bytes, xing + 8);
  } else if (ascii(bytes, offset + 36, 'VBRI') && offset + 36 + 18 <= bytes.length) {
    frames = u32be(bytes, offset + 36 + 14);
  }
  return frames > 0 ? (frames * samplesPerFrame) / sampleRate : null;
}

function flacDeclaredSeconds(bytes: Uint8Array): number | null {
  const start = skipId3v2(bytes);
  // "fLaC", then the STREAMINFO block header (type 0, length 34), then its 34-byte body.
  const info = start + 8;
  if (!ascii(bytes, start, 'fLaC') || (bytes[start + 4] & 0x7f) !== 0 || info + 18 > bytes.length) return null;
  const sampleRate = (bytes[info + 10] << 12) | (bytes[info + 11] << 4) | (bytes[info + 12] >> 4);
  const totalSamples = (bytes[info + 13] & 0x0f) * 2 ** 32 + u32be(bytes, info + 14); // 36 bits, 0 = unknown
  return sampleRate > 0 && totalSamples > 0 ? totalSamples / sampleRate : null;
}

/**
 * Walks MPEG/ADTS frames from the first valid header. False when the last frame runs past the end of the
 * file (cut mid-frame), true when the chain ends exactly at the end or at a 128-byte ID3v1 tag, null when
 * something unrecognised interrupts it (junk, APE tags…) and we cannot tell.
 */
function framesEndCleanly(bytes: Uint8Array, frameLength: (b: Uint8Array, o: number) => number): boolean | null {
  let offset = skipId3v2(bytes);
  const searchEnd = Math.min(bytes.length, offset + 8192);
  while (offset < searchEnd && frameLength(bytes, offset) === 0) offset++;
  if (offset >= searchEnd) return null;
  for (;;) {
    const length = frameLength(bytes, offset);
    if (length === 0) break;
    offset += length;
  }
  if (offset === bytes.length) return true;
  if (offset > bytes.length) return false;
  if (bytes.length - offset === 128 && ascii(bytes, offset, 'TAG')) return true;
  // A header cut short (fewer than the 4/7 header bytes left) is a cut, anything else is unknown.
  return bytes.length - offset < 7 && bytes[offset] === 0xff ? false : null;
}

/** Largest possible Ogg page: 27-byte header, 255 lacing values, 255 × 255 bytes of payload. */
const MAX_OGG_PAGE = 27 + 255 + 255 * 255;

/** EBML IDs (with their length marker) that are walked into rather than skipped: Segment and Cluster. */
const EBML_SEGMENT = 0x18538067;
const EBML_CLUSTER = 0x1f43b675;

/** An EBML variable-length integer at `offset` (RFC 8794 §4): its length and value (the marker kept for IDs). */
function readVint(bytes: Uint8Array, offset: number, keepMarker: boolean): { length: number; value: number; unknown: boolean } | null {
  if (offset >= bytes.length) return null;
  const first = bytes[offset];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8 || offset + length > bytes.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    value = value * 256 + bytes[offset + i];
    if (bytes[offset + i] !== 0xff) allOnes = false;
  }
  return { length, value, unknown: !keepMarker && allOnes };
}

/**
 * Walks a WebM/Matroska file's elements: the EBML header and the Segment's children are skipped by their
 * sizes, the Segment and each Cluster are entered (a recorder writes both with an unknown size, RFC 9559
 * §6.2), so every block is visited. False when an element's size runs past the end of the file or the
 * bytes end inside an element's header: the file was cut. Null when the structure cannot be read.
 */
function ebmlEndsCleanly(bytes: Uint8Array): boolean | null {
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] === 0) return null; // not a valid EBML ID: padding or damage, not a cut
    const id = readVint(bytes, offset, true);
    if (id && id.length > 4) return null;
    const size = id && readVint(bytes, offset + id.length, false);
    if (!id || !size) return false; // the bytes end inside an element's header
    const body = offset + id.length + size.length;
    if (id.value === EBML_SEGMENT || id.value === EBML_CLUSTER) {
      if (!size.unknown && body + size.value > bytes.length) return false;
      offset = body;
      continue;
    }
    if (size.unknown) return null;
    if (body + size.value > bytes.length) return false;
    offset = body + size.value;
  }
  return true;
}

function oggEndsCleanly(bytes: Uint8Array): boolean {
  for (let i = bytes.length - 27; i >= 0 && i >= bytes.length - MAX_OGG_PAGE; i--) {
    if (bytes[i] !== 0x4f || !ascii(bytes, i, 'OggS') || bytes[i + 4] !== 0) continue;
    const segments = bytes[i + 26];
    if (i + 27 + segments > bytes.length) return false;
    let size = 27 + segments;
    for (let s = 0; s < segments; s++) size += bytes[i + 27 + s];
    // The last page must end exactly at the end of the file and close the stream (EOS flag 0x04).
    return i + size === bytes.length && (bytes[i + 5] & 0x04) !== 0;
  }
  return false;
}

/**
 * Granule position of the last Ogg page that has one (RFC 3533 §6): for Vorbis the number of PCM frames
 * at the stream's rate up to that page, for Opus the number of 48 kHz frames including the pre-skip
 * (RFC 7845 §4). Only pages of the first logical stream count. Null when no such page is found within
 * the last {@link MAX_OGG_PAGE} bytes. A size hint only: not used to judge whether the file is complete.
 */
export function readOggLastGranule(bytes: Uint8Array): number | null {
  if (bytes.length < 27 || !ascii(bytes, 0, 'OggS')) return null;
  const serial = (offset: number) => u32le(bytes, offset + 14);
  const first = serial(0);
  for (let i = bytes.length - 27; i > 0 && i >= bytes.length - MAX_OGG_PAGE; i--) {
    if (bytes[i] !== 0x4f || !ascii(bytes, i, 'OggS') || bytes[i + 4] !== 0 || serial(i) !== first) continue;
    const low = u32le(bytes, i + 6);
    const high = u32le(bytes, i + 10);
    if (low === 0xffffffff && high === 0xffffffff) continue; // -1: no packet ends on this page
    if (high >= 0x200000) continue; // beyond 2^53 (or negative): not a position a real stream reaches
    return high * 2 ** 32 + low;
  }
  return null;
}

function u32le(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) | (bytes[offset + 3] << 24)) >>> 0;
}

function mp4BoxesComplete(bytes: Uint8Array): boolean {
  let offset = 0;
  let moov = false;
  while (offset + 8 <= bytes.length) {
    let size = u32be(bytes, offset);
    if (ascii(bytes, offset + 4, 'moov')) moov = true;
    if (size === 1) {
      if (offset + 16 > bytes.length) return false;
      size = u32be(bytes, offset + 8) * 2 ** 32 + u32be(bytes, offset + 12);
    } else if (size === 0) {
      return moov; // the box runs to the end of the file
    }
    if (size < 8 || offset + size > bytes.length) return false;
    offset += size;
  }
  return moov && offset === bytes.length;
}
