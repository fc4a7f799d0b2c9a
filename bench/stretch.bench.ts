/**
 * `npm run bench:stretch`: the longest synchronous stretches of convertMelody, i.e. the time an abort
 * may wait before the pipeline notices it. Every checkpoint goes through the `yieldControl` port, so
 * wrapping it gives the time between two of them; the encoder port is wrapped as well (the time ffmpeg
 * runs is not a stretch: the event loop is free then). Each stretch is named by the progress messages
 * at its two ends.
 *
 * Usage: `node dist/bench/stretch.bench.js [FILE...] [--runs N]`. Without files it renders 56 s and
 * 300 s voice-like melodies (16-bit mono 44.1 kHz WAV). One untimed run per file first, so the
 * measured runs are as warm as a long-lived worker; the figures are the worst over N runs (default 3).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { benchMelodyWav } from './bench-melody.js';
import { convertMelody, type AudioEncoder, type ConvertPorts } from '../src/audio/pipeline.js';
import { createFfmpegDecoder } from '../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../src/platform/ffmpeg-encoder.js';

interface Stretch {
  /** Progress message at the start → at the end of the stretch. */
  where: string;
  ms: number;
}

/** One conversion; returns its stretches and total time. */
async function measure(audio: Uint8Array): Promise<{ stretches: Stretch[]; totalMs: number }> {
  const stretches: Stretch[] = [];
  let label = 'start';
  let from = label;
  let resumed = performance.now();
  const end = (to: string): void => {
    stretches.push({ where: `${from} → ${to}`, ms: performance.now() - resumed });
  };
  const resume = (as: string): void => {
    resumed = performance.now();
    from = as;
  };
  const ffmpeg = createFfmpegEncoder();
  const encoder: AudioEncoder = {
    async encode(wav, format, options) {
      end('encoder call');
      try {
        return await ffmpeg.encode(wav, format, options);
      } finally {
        resume('encoder done');
      }
    },
  };
  const ports: ConvertPorts = {
    decoder: createFfmpegDecoder(),
    encoder,
    clock: () => performance.now(),
    yieldControl: async () => {
      end(label);
      await new Promise<void>((resolve) => setImmediate(resolve));
      resume(label);
    },
  };
  const started = performance.now();
  await convertMelody(
    { audio, prompt: 'a romantic ballad about summer nights by the sea', genre: 'ballad', mood: 'romantic', seed: 7 },
    ports,
    {
      onProgress: (event) => {
        // Numbers vary between runs; the stage and message name the place.
        label = `${event.stage}: ${event.message.replace(/[\d.]+/g, 'N')}`;
      },
    },
  );
  end('end');
  return { stretches, totalMs: performance.now() - started };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const runsAt = args.indexOf('--runs');
  const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
  const files = args.filter((a, i) => !a.startsWith('--') && (runsAt < 0 || i !== runsAt + 1));
  const inputs: { name: string; audio: Uint8Array }[] = files.length
    ? files.map((file) => ({ name: file, audio: new Uint8Array(readFileSync(file)) }))
    : [56, 300].map((seconds) => {
        return { name: `${seconds} s voice-like melody`, audio: benchMelodyWav(seconds, [60, 64, 57, 62]) };
      });
  console.log(
    `CPU: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; load average at start ${loadavg()[0].toFixed(1)}; worst of ${runs} runs after one warm-up run`,
  );
  for (const input of inputs) {
    await measure(input.audio);
    const worst = new Map<string, number>();
    const totals: number[] = [];
    for (let r = 0; r < runs; r++) {
      const { stretches, totalMs } = await measure(input.audio);
      totals.push(totalMs);
      for (const s of stretches) worst.set(s.where, Math.max(worst.get(s.where) ?? 0, s.ms));
    }
    const rows = [...worst].sort((a, b) => b[1] - a[1]);
    console.log('');
    console.log(`${input.name}: conversion ${totals.map((t) => t.toFixed(0)).join(', ')} ms; longest stretch ${rows[0][1].toFixed(1)} ms`);
    console.log('');
    console.log('| longest stretch ms | between (progress message → progress message) |');
    console.log('| ---: | --- |');
    for (const [where, ms] of rows.slice(0, 8)) console.log(`| ${ms.toFixed(1)} | ${where} |`);
  }
}

await main();
