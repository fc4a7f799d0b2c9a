/**
 * Times decoding and validation of a 300 s, 44.1 kHz stereo 440 Hz tone in each upload format:
 * WAV 16-bit and 24-bit and float (pure reader), and MP3 128 kb/s, M4A (moov last, so through a temporary
 * file), ADTS AAC, Ogg Vorbis, Ogg Opus and FLAC through the ffmpeg adapter. Inputs are encoded once
 * with the npm ffmpeg into the OS temp folder, then removed.
 *
 * Times are wall clock (ffmpeg is a child process, so this process's CPU time would miss its work),
 * median of 3 after a warm-up; the machine is shared, so treat them as upper bounds.
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/decode.bench.js
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeWav } from '../src/audio/decode/wav.js';
import { validateAndDecode } from '../src/audio/validate/validate.js';
import { createFfmpegDecoder, ffmpegPath } from '../src/platform/ffmpeg-decoder.js';

const rate = 44100;
const seconds = 300;
const dir = mkdtempSync(join(tmpdir(), 'decode-bench-'));
const decoder = createFfmpegDecoder();

function encode(name: string, codecArgs: string[]): Uint8Array {
  const out = join(dir, name);
  execFileSync(ffmpegPath(), [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `aevalsrc=0.5*sin(2*PI*440*t)|0.5*sin(2*PI*440*t):s=${rate}:d=${seconds}`,
    ...codecArgs,
    out,
  ]);
  return new Uint8Array(readFileSync(out));
}

async function time(label: string, bytes: Uint8Array): Promise<void> {
  const runs: number[] = [];
  for (let i = 0; i < 4; i++) {
    const started = performance.now();
    // 300 s of stereo WAV is over the 50 MB upload limit (16-bit: 52.9 MB), so size is not checked here.
    const { audio } = await validateAndDecode(bytes, { decoder, limits: { maxFileBytes: Infinity } });
    runs.push(performance.now() - started);
    if (audio.channels[0].length < seconds * rate * 0.99) throw new Error(`${label}: decoded too little`);
  }
  const median = runs.slice(1).sort((a, b) => a - b)[1];
  console.log(
    `${label.padEnd(22)} ${(bytes.length / 1e6).toFixed(1).padStart(6)} MB  ${median.toFixed(0).padStart(6)} ms  ${((seconds * 1000) / median).toFixed(0).padStart(5)}x real time`,
  );
}

try {
  const left = new Float32Array(rate * seconds);
  for (let i = 0; i < left.length; i++) left[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
  await time('WAV 16-bit (pure)', encodeWav([left, left], rate, { bitDepth: 16 }));
  await time('WAV 24-bit (pure)', encodeWav([left, left], rate, { bitDepth: 24 }));
  await time('WAV float (pure)', encodeWav([left, left], rate, { bitDepth: '32f' }));
  await time('MP3 128k (ffmpeg)', encode('a.mp3', ['-c:a', 'libmp3lame', '-b:a', '128k']));
  await time('M4A AAC (ffmpeg)', encode('a.m4a', ['-c:a', 'aac', '-b:a', '128k']));
  await time('AAC ADTS (ffmpeg)', encode('a.aac', ['-c:a', 'aac', '-b:a', '128k', '-f', 'adts']));
  await time('Ogg Vorbis (ffmpeg)', encode('a.ogg', ['-c:a', 'libvorbis', '-q:a', '4']));
  await time('Ogg Opus (ffmpeg)', encode('b.ogg', ['-c:a', 'libopus', '-b:a', '96k']));
  await time('FLAC (ffmpeg)', encode('a.flac', ['-c:a', 'flac']));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
