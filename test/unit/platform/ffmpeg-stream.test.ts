/**
 * Streaming ffmpeg's output: the decoder converts stdout piece by piece, and must give exactly what
 * collecting the whole output and reading it with decodeWav gave before. Real ffmpeg, real fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFfmpegDecoder, ffmpegPath, runFfmpeg } from '../../../src/platform/ffmpeg-decoder.js';
import { decodeWav } from '../../../src/audio/decode/wav.js';
import type { AudioFormat } from '../../../src/audio/types.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/formats');
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(FIXTURES, name)));
const limits = { timeoutMs: 20_000, maxOutputBytes: 64 * 1024 * 1024 };
const demuxers: Record<string, string> = { mp3: 'mp3', m4a: 'mov', ogg: 'ogg', flac: 'flac', aac: 'aac' };

/** The same command the decoder runs, for a file fed on stdin. */
const decodeArgs = (format: AudioFormat) => [
  '-hide_banner',
  '-nostdin',
  '-nostats',
  '-loglevel',
  'info',
  '-protocol_whitelist',
  'pipe',
  '-f',
  demuxers[format],
  '-i',
  'pipe:0',
  '-map',
  '0:a:0',
  '-vn',
  '-sn',
  '-dn',
  '-t',
  '301',
  '-map_metadata',
  '-1',
  '-bitexact',
  '-f',
  'wav',
  '-acodec',
  'pcm_f32le',
  'pipe:1',
];

describe('the ffmpeg decoder reading stdout as a stream', () => {
  it.each([
    ['tone-440hz-mono.mp3', 'mp3'],
    ['tone-440hz-stereo-faststart.m4a', 'm4a'],
    ['tone-440hz-6ch-vorbis.ogg', 'ogg'],
    ['tone-440hz-mono-opus.ogg', 'ogg'],
    ['tone-440hz-22khz.flac', 'flac'],
  ] as const)('gives for %s exactly the samples decodeWav reads from the whole collected output', async (file, format) => {
    const bytes = fixture(file);
    const collected = await runFfmpeg(ffmpegPath(), decodeArgs(format), bytes, limits);
    const whole = decodeWav(collected.stdout);
    const streamed = await createFfmpegDecoder().decode(bytes, { format, maxSeconds: 300 });
    expect(streamed.sampleRate).toBe(whole.sampleRate);
    expect(streamed.channels).toHaveLength(whole.channels.length);
    streamed.channels.forEach((channel, c) => expect(channel).toEqual(whole.channels[c]));
  });

  it('hands every stdout byte to onStdout, in order, with the start of the log so far, and collects nothing', async () => {
    const bytes = fixture('tone-440hz-mono.mp3');
    const collected = await runFfmpeg(ffmpegPath(), decodeArgs('mp3'), bytes, limits);
    const pieces: Uint8Array[] = [];
    const logs: string[] = [];
    const streamed = await runFfmpeg(ffmpegPath(), decodeArgs('mp3'), bytes, {
      ...limits,
      onStdout: (chunk, log) => {
        logs.push(log);
        pieces.push(Uint8Array.from(chunk));
      },
    });
    expect(streamed.stdout).toHaveLength(0);
    expect(streamed.exitCode).toBe(0);
    expect(Buffer.concat(pieces).equals(Buffer.from(collected.stdout))).toBe(true);
    expect(logs.length).toBe(pieces.length);
    expect(streamed.log.startsWith(logs[0])).toBe(true);
  });

  it('kills ffmpeg and rejects with the error onStdout throws', async () => {
    const failure = new Error('sink failed');
    const run = runFfmpeg(ffmpegPath(), decodeArgs('flac'), fixture('silence-1h-bomb.flac'), {
      ...limits,
      onStdout: () => {
        throw failure;
      },
    });
    await expect(run).rejects.toBe(failure);
  });
});
