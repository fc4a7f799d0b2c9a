/**
 * The production {@link CompressedDecoder}: runs the static ffmpeg build that `npm ci` installs through
 * `@ffmpeg-installer/ffmpeg` as a separate process (so a hostile file can crash or hang only that
 * process), feeds it the upload on stdin and reads back 32-bit float WAV on stdout.
 *
 * Safety rails: the demuxer is forced to the format sniffed from the bytes (ffmpeg never probes, so a
 * disguised playlist cannot make it open URLs), only the `pipe` and `file` protocols are allowed, output
 * stops at `maxSeconds + 1` s and at `maxOutputBytes`, and the process is killed on timeout or abort.
 *
 * Memory: the PCM is converted to per-channel floats piece by piece as it arrives ({@link createWavStreamReader}),
 * with capacity preallocated from the length the container declares; the raw output is never held whole.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioFormat, DecodedAudio } from '../audio/types.js';
import type { CompressedDecodeOptions, CompressedDecoder } from '../audio/decode/decode.js';
import { readDeclaredLength, readOggLastGranule, type DeclaredLength } from '../audio/decode/declared-length.js';
import { isStreamableMp4 } from '../audio/decode/sniff.js';
import { createWavStreamReader } from '../audio/decode/wav-stream.js';
import type { WavHeader } from '../audio/decode/wav.js';
import { AbortedError, AppError, AudioProcessingError, ValidationError } from '../audio/errors.js';

export interface FfmpegDecoderOptions {
  /** The ffmpeg executable; default {@link ffmpegPath}(). */
  ffmpegPath?: string;
  /** Kill ffmpeg and fail with `TIMEOUT_ERROR` (reason `DECODE_TIMEOUT`) after this many ms; default 60 000. */
  timeoutMs?: number;
  /**
   * Kill ffmpeg and fail with `DECODED_TOO_LARGE` when its PCM output passes this many bytes; default
   * 256 MiB, which holds 301 s of stereo float at 96 kHz (4 bytes × channels × rate × seconds).
   */
  maxOutputBytes?: number;
}

export const DEFAULT_FFMPEG_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** ffmpeg demuxer for each sniffed container: forcing it skips probing entirely. */
const DEMUXERS: Record<AudioFormat, string> = {
  wav: 'wav',
  mp3: 'mp3',
  m4a: 'mov',
  aac: 'aac',
  ogg: 'ogg',
  flac: 'flac',
  webm: 'matroska',
};
const LOSSLESS_CODECS = new Set(['flac', 'alac', 'wavpack', 'tta', 'ape']);
/** Keep this much of ffmpeg's log from the start (stream info) and the end (the final error). */
const LOG_HEAD_BYTES = 32 * 1024;
const LOG_TAIL_BYTES = 8 * 1024;
/** stderr lines that mean the decoder hit damaged or missing data after the header was read. */
const DAMAGE_PATTERN =
  /partial file|Error while decoding|decode_frame\(\) failed|Input buffer exhausted|corrupt input packet|Packet corrupt|Invalid data found|Truncat|End of file/i;

let cachedPath: string | undefined;

/** Absolute path of the ffmpeg binary shipped in `@ffmpeg-installer/<platform>` (resolved once, lazily). */
export function ffmpegPath(): string {
  if (cachedPath === undefined) {
    // The installer package is CommonJS and throws at load time on unsupported platforms: load it only when needed.
    const require = createRequire(import.meta.url);
    cachedPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
  }
  return cachedPath;
}

/** What ffmpeg printed about its input. */
export interface FfmpegInputInfo {
  /** Codec of the first audio stream (`mp3`, `aac`, `vorbis`, `opus`, `flac`, `pcm_s16le`…). */
  codec: string | null;
  sampleRate: number | null;
  channels: number | null;
  /** Bitrate of the audio stream in bit/s, as the stream headers declare it. */
  streamBitrate: number | null;
  /** Overall bitrate from the `Duration:` line in bit/s. */
  containerBitrate: number | null;
  /** Duration from the `Duration:` line in seconds (from headers, or estimated by ffmpeg). */
  durationSeconds: number | null;
  /** Bits per sample of an integer sample format (`s16` → 16, `s32 (24 bit)` → 24), else null. */
  bitsPerSample: number | null;
}

const LAYOUT_CHANNELS: Record<string, number> = {
  mono: 1,
  stereo: 2,
  '2.1': 3,
  '3.0': 3,
  quad: 4,
  '4.0': 4,
  '4.1': 5,
  '5.0': 5,
  '5.1': 6,
  '6.1': 7,
  '7.1': 8,
};

/**
 * Parses the `Input #0` section of ffmpeg's log, e.g.
 * `Duration: 00:00:02.04, start: 0.025057, bitrate: 97 kb/s` and
 * `Stream #0:0: Audio: mp3, 44100 Hz, mono, fltp, 96 kb/s`.
 */
export function parseFfmpegInputInfo(log: string): FfmpegInputInfo {
  const inputStart = log.indexOf('Input #0');
  const outputStart = log.indexOf('Output #0', inputStart);
  const input = inputStart < 0 ? '' : log.slice(inputStart, outputStart < 0 ? undefined : outputStart);
  const info: FfmpegInputInfo = {
    codec: null,
    sampleRate: null,
    channels: null,
    streamBitrate: null,
    containerBitrate: null,
    durationSeconds: null,
    bitsPerSample: null,
  };
  const duration = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/.exec(input);
  if (duration) info.durationSeconds = Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  const total = /Duration:[^\n]*bitrate: (\d+) kb\/s/.exec(input);
  if (total) info.containerBitrate = Number(total[1]) * 1000;
  const stream = /Stream #0:\d+[^:\n]*: Audio: ([A-Za-z0-9_]+)([^\n]*)/.exec(input);
  if (stream) {
    info.codec = stream[1];
    const rest = stream[2];
    const rate = /(\d+) Hz/.exec(rest);
    if (rate) info.sampleRate = Number(rate[1]);
    const channels = /(\d+) channels/.exec(rest);
    const layout = /Hz, ([A-Za-z0-9.]+)(?:\([^)]*\))?,/.exec(rest);
    if (channels) info.channels = Number(channels[1]);
    else if (layout && LAYOUT_CHANNELS[layout[1]]) info.channels = LAYOUT_CHANNELS[layout[1]];
    const bitrate = /(\d+) kb\/s/.exec(rest);
    if (bitrate) info.streamBitrate = Number(bitrate[1]) * 1000;
    // Sample format `s16`, `s32 (24 bit)`, `u8`…: meaningful for lossless sources only.
    const bits = /\((\d+) bit\)/.exec(rest) ?? /, [su](8|16|32|64)p?(?=[,\s]|$)/.exec(rest);
    if (bits) info.bitsPerSample = Number(bits[1]);
  }
  return info;
}

/** Human message for a failed decode, from ffmpeg's log; never quotes the log (it may hold paths). */
function failureMessage(format: AudioFormat, log: string): string {
  const name = format.toUpperCase();
  if (/moov atom not found/.test(log))
    return `The ${name} file is incomplete: its index ("moov" box) is missing, which usually means the recording or upload was cut off.`;
  if (/matches no streams|does not contain any stream/.test(log)) return `The ${name} file contains no audio stream.`;
  if (/End of file/.test(log)) return `The ${name} file ends before any audio could be decoded; it was probably cut off.`;
  return `The ${name} file could not be decoded; it is damaged or not a valid ${name} file.`;
}

export interface RunResult {
  exitCode: number | null;
  /** Everything ffmpeg wrote on stdout; empty when the output went to {@link RunLimits.onStdout}. */
  stdout: Uint8Array;
  log: string;
}

export interface RunLimits {
  timeoutMs: number;
  /** Kill ffmpeg and reject with `DECODED_TOO_LARGE` once stdout passes this many bytes. */
  maxOutputBytes: number;
  signal?: AbortSignal;
  /**
   * Receives each stdout piece (within `maxOutputBytes`) instead of collecting it, with the start of
   * ffmpeg's log so far (its input description comes before any output). The piece may be reused after
   * the call. A throw kills ffmpeg and rejects the run with that error.
   */
  onStdout?: (chunk: Uint8Array, logSoFar: string) => void;
}

/** Creates a decoder that runs ffmpeg once per file. */
export function createFfmpegDecoder(options: FfmpegDecoderOptions = {}): CompressedDecoder {
  const timeoutMs = options.timeoutMs ?? DEFAULT_FFMPEG_TIMEOUT_MS;
  const maxOutputBytes = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;

  return {
    async decode(bytes: Uint8Array, { format, maxSeconds, signal }: CompressedDecodeOptions): Promise<DecodedAudio> {
      if (signal?.aborted) throw new AbortedError();
      const executable = options.ffmpegPath ?? ffmpegPath();
      // The MP4 demuxer must seek back to `mdat` when `moov` comes last; a pipe cannot seek, a file can.
      const needsFile = format === 'm4a' && !isStreamableMp4(bytes);
      let tempDir: string | null = null;
      try {
        let input = 'pipe:0';
        if (needsFile) {
          tempDir = await mkdtemp(join(tmpdir(), 'melody-vocals-decode-'));
          input = join(tempDir, 'input');
          await writeFile(input, bytes, { mode: 0o600 });
          input = `file:${input}`;
        }
        const args = [
          '-hide_banner',
          '-nostdin',
          '-nostats',
          '-loglevel',
          'info',
          '-protocol_whitelist',
          needsFile ? 'file' : 'pipe',
          '-f',
          DEMUXERS[format],
          '-i',
          input,
          '-map',
          '0:a:0',
          '-vn',
          '-sn',
          '-dn',
          '-t',
          String(maxSeconds + 1),
          '-map_metadata',
          '-1',
          '-bitexact',
          '-f',
          'wav',
          '-acodec',
          'pcm_f32le',
          'pipe:1',
        ];
        const declared = readDeclaredLength(bytes, format);
        const oggGranule = format === 'ogg' ? readOggLastGranule(bytes) : null;
        let logSoFar = '';
        const reader = createWavStreamReader({
          maxSeconds,
          // Preallocate what the file says it holds (the reader caps it at maxSeconds + 1 s).
          capacityHintFrames: (header) => expectedFrames(header, declared.seconds, oggGranule, logSoFar, bytes.length, maxOutputBytes),
        });
        const run = await runFfmpeg(executable, args, needsFile ? null : bytes, {
          timeoutMs,
          maxOutputBytes,
          signal,
          onStdout: (chunk, log) => {
            logSoFar = log;
            reader.push(chunk);
          },
        });
        return toDecodedAudio(bytes, format, maxSeconds, declared, run, () => reader.finish());
      } finally {
        if (tempDir) await rm(tempDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Output frames to expect, only to size memory: the length MP3/FLAC headers declare, else the last Ogg
 * granule (Vorbis frames at the output rate; Opus 48 kHz frames, and ffmpeg decodes Opus at 48 kHz), else
 * the duration ffmpeg printed (the M4A index; an estimate for ADTS), else file size over the bitrate it
 * printed; null when none is known. Never more than `maxOutputBytes` of output can hold.
 */
function expectedFrames(
  header: WavHeader,
  declaredSeconds: number | null,
  oggGranule: number | null,
  log: string,
  fileBytes: number,
  maxOutputBytes: number,
): number | null {
  let frames: number | null = null;
  if (declaredSeconds !== null) frames = declaredSeconds * header.sampleRate;
  else if (oggGranule !== null && oggGranule > 0) frames = oggGranule;
  else {
    const info = parseFfmpegInputInfo(log);
    const bitrate = info.streamBitrate ?? info.containerBitrate;
    if (info.durationSeconds !== null && info.durationSeconds > 0) frames = info.durationSeconds * header.sampleRate;
    else if (bitrate) frames = ((fileBytes * 8) / bitrate) * header.sampleRate;
  }
  return frames === null ? null : Math.min(frames, Math.floor(maxOutputBytes / header.blockAlign));
}

function toDecodedAudio(
  bytes: Uint8Array,
  format: AudioFormat,
  maxSeconds: number,
  declared: DeclaredLength,
  run: RunResult,
  readPcm: () => DecodedAudio,
): DecodedAudio {
  const info = parseFfmpegInputInfo(run.log);
  let pcm: DecodedAudio | null = null;
  try {
    pcm = readPcm();
  } catch {
    pcm = null; // no WAV header at all: ffmpeg failed before writing anything
  }
  const frames = pcm ? pcm.channels[0].length : 0;
  if (!pcm || frames === 0) {
    const cutOff = declared.complete === false || /moov atom not found|End of file/.test(run.log);
    throw new ValidationError([{ code: cutOff ? 'TRUNCATED_FILE' : 'CORRUPT_FILE', message: failureMessage(format, run.log), value: 0 }]);
  }

  const seconds = frames / pcm.sampleRate;
  // -t stops at maxSeconds + 1: reaching it (less one 1024-sample codec frame of slack) means there is more.
  const capped = seconds >= maxSeconds + 1 - 0.05;
  const headerSeconds = declared.seconds ?? (format === 'flac' || format === 'm4a' || format === 'webm' ? info.durationSeconds : null);
  // Slack for encoder delay and padding that ffmpeg trims (up to ~0.21 s for 8 kHz MP3: 1105 + 575 samples).
  const shortOfHeader = headerSeconds !== null && seconds < headerSeconds - Math.max(0.25, 0.02 * headerSeconds);
  const afterHeader = run.log.slice(Math.max(0, run.log.indexOf('Output #0')));
  const truncated = !capped && (declared.complete === false || shortOfHeader || run.exitCode !== 0 || DAMAGE_PATTERN.test(afterHeader));

  const codec = info.codec ?? format;
  const lossless = LOSSLESS_CODECS.has(codec) || codec.startsWith('pcm_');
  // Prefer what the stream headers declare (the encoder's setting); fall back to size over duration.
  const bitrate = info.streamBitrate ?? (capped || truncated ? info.containerBitrate : Math.round((bytes.length * 8) / seconds));
  return {
    format,
    codec,
    sampleRate: pcm.sampleRate,
    channels: pcm.channels,
    bitrate: bitrate ?? null,
    bitsPerSample: lossless ? info.bitsPerSample : null,
    truncated,
    capped,
  };
}

export function runFfmpeg(executable: string, args: string[], stdin: Uint8Array | null, limits: RunLimits): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    const chunks: Buffer[] = [];
    let outBytes = 0;
    let logHead = '';
    let logTail = '';
    let failure: Error | null = null;

    const stop = (error: Error) => {
      if (failure) return;
      failure = error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () =>
        stop(
          new AppError('TIMEOUT_ERROR', `Decoding took longer than ${Math.round(limits.timeoutMs / 1000)} s and was stopped.`, {
            reason: 'DECODE_TIMEOUT',
          }),
        ),
      limits.timeoutMs,
    );
    const onAbort = () => stop(new AbortedError());
    limits.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > limits.maxOutputBytes) {
        const mb = Math.round(limits.maxOutputBytes / (1024 * 1024));
        stop(
          new ValidationError([
            {
              code: 'DECODED_TOO_LARGE',
              message: `The decoded audio would exceed ${mb} MB: the file has too many channels or too high a sample rate.`,
              value: outBytes,
              limit: limits.maxOutputBytes,
            },
          ]),
        );
        return;
      }
      if (!limits.onStdout) {
        chunks.push(chunk);
        return;
      }
      try {
        limits.onStdout(chunk, logHead);
      } catch (error) {
        stop(error instanceof Error ? error : new Error(String(error)));
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (logHead.length < LOG_HEAD_BYTES) logHead += text.slice(0, LOG_HEAD_BYTES - logHead.length);
      logTail = (logTail + text).slice(-LOG_TAIL_BYTES);
    });
    // ffmpeg may stop reading early (error, or the -t cap): a broken pipe here is expected, not a failure.
    child.stdin.on('error', () => undefined);
    if (stdin) child.stdin.end(stdin);
    else child.stdin.end();

    child.on('error', (error) => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      reject(new AudioProcessingError('The audio decoder could not be started.', { reason: 'DECODER_UNAVAILABLE', cause: error }));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
      if (failure) {
        reject(failure);
        return;
      }
      const log = logHead.length < LOG_HEAD_BYTES ? logHead : `${logHead}\n…\n${logTail}`;
      resolve({ exitCode, stdout: Buffer.concat(chunks), log });
    });
  });
}
