/**
 * The default {@link AudioEncoder}: the same ffmpeg binary that decodes uploads encodes the vocals to
 * MP3 (LAME, 192 kb/s CBR, quality 5) or Ogg Opus (libopus, 96 kb/s at 48 kHz). The WAV goes in on
 * stdin, the compressed file comes back on stdout; nothing touches the disk.
 */
import type { AudioEncoder, CompressedFormat } from '../audio/pipeline.js';
import { AudioProcessingError } from '../audio/errors.js';
import { ffmpegPath, runFfmpeg } from './ffmpeg-decoder.js';

export interface FfmpegEncoderOptions {
  /** The ffmpeg executable; default the one shipped in `@ffmpeg-installer`. */
  ffmpegPath?: string;
  /** Kill ffmpeg after this many ms; default 120 000. */
  timeoutMs?: number;
  /** MP3 bitrate in kb/s; default 192. */
  mp3KbitRate?: number;
  /**
   * LAME's quality/speed setting (`-q`, ffmpeg's `-compression_level`), 0 (slowest) … 9; default 5.
   * At 192 kb/s mono, 5 keeps LAME's noise shaping and leaves the coding noise as far under the
   * masking threshold as LAME's own default 3 (within 0.5 dB of total noise-to-mask ratio, every band
   * of every frame ≥ 9.8 dB under its mask, on four 25 s takes) for ~20 % less CPU
   * (docs/benchmarks.md, "Issue 16, pipeline CPU per conversion"; docs/decisions.md).
   */
  mp3Quality?: number;
  /** Opus bitrate in kb/s; default 96. */
  opusKbitRate?: number;
}

const CODEC_ARGS = (format: CompressedFormat, options: FfmpegEncoderOptions): string[] =>
  format === 'mp3'
    ? ['-c:a', 'libmp3lame', '-b:a', `${options.mp3KbitRate ?? 192}k`, '-compression_level', `${options.mp3Quality ?? 5}`, '-f', 'mp3']
    : ['-c:a', 'libopus', '-b:a', `${options.opusKbitRate ?? 96}k`, '-ar', '48000', '-f', 'ogg'];

export function createFfmpegEncoder(options: FfmpegEncoderOptions = {}): AudioEncoder {
  return {
    async encode(wav, format, { signal } = {}) {
      const args = [
        '-hide_banner',
        '-nostdin',
        '-nostats',
        '-loglevel',
        'error',
        '-f',
        'wav',
        '-i',
        'pipe:0',
        '-map_metadata',
        '-1',
        '-bitexact',
        ...CODEC_ARGS(format, options),
        'pipe:1',
      ];
      const run = await runFfmpeg(options.ffmpegPath ?? ffmpegPath(), args, wav, {
        timeoutMs: options.timeoutMs ?? 120_000,
        maxOutputBytes: Math.max(16 * 1024 * 1024, wav.length),
        signal,
      });
      if (run.exitCode !== 0 || run.stdout.length === 0) {
        throw new AudioProcessingError(`Encoding the vocals as ${format.toUpperCase()} failed.`, {
          reason: 'ENCODE_FAILED',
          retryable: true,
        });
      }
      return run.stdout;
    },
  };
}
