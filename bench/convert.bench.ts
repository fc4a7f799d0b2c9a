/**
 * `npm run bench:convert`: end-to-end conversion speed and peak memory for a 30-second and a
 * 5-minute melody (targets: ≤ 3 s and ≤ 30 s on one core, peak RSS ≤ 300 MB), with the default
 * `flite` singing engine and with the `formant` engine.
 *
 * The parent renders voice-like melodies (seeded) to 16-bit mono 44.1 kHz WAV; each conversion runs
 * in a fresh child process pinned to one core (`taskset -c 0` when available), so its peak RSS is its
 * own, and reports the pipeline's per-stage times. `--json` prints the raw figures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { benchMelodyWav } from './bench-melody.js';
import { convertMelody } from '../src/audio/pipeline.js';
import { createFfmpegDecoder } from '../src/platform/ffmpeg-decoder.js';
import { createFfmpegEncoder } from '../src/platform/ffmpeg-encoder.js';
import { loadFliteProgram } from '../src/platform/flite-program.js';
import type { SingingEngine } from '../src/audio/voice/voice.js';

interface ChildResult {
  engine: SingingEngine;
  seconds: number;
  totalMs: number;
  cpuMs: number;
  stages: Record<string, number>;
  notes: number;
  pitchAccuracy: number | null;
  peakRssMb: number;
}

async function child(file: string, seconds: number, engine: SingingEngine): Promise<void> {
  const audio = new Uint8Array(readFileSync(file));
  const cpu = process.cpuUsage();
  const start = performance.now();
  const out = await convertMelody(
    {
      audio,
      fileName: 'bench.wav',
      prompt: 'a romantic ballad about summer nights by the sea',
      genre: 'ballad',
      mood: 'romantic',
      seed: 1,
    },
    {
      decoder: createFfmpegDecoder(),
      encoder: createFfmpegEncoder(),
      clock: () => performance.now(),
      flite: engine === 'flite' ? loadFliteProgram() : undefined,
    },
    { engine },
  );
  const totalMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  const result: ChildResult = {
    engine,
    seconds,
    totalMs,
    cpuMs: (used.user + used.system) / 1000,
    stages: out.report.timings,
    notes: out.report.melody.noteCount,
    pitchAccuracy: out.report.quality.pitchAccuracy,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

async function parent(json: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mv-bench-convert-'));
  try {
    const pin = spawnSync('taskset', ['--version']).status === 0;
    const script = fileURLToPath(import.meta.url);
    const rows: ChildResult[] = [];
    for (const seconds of [30, 300]) {
      const file = join(dir, `melody-${seconds}.wav`);
      writeFileSync(file, benchMelodyWav(seconds));
      for (const engine of ['flite', 'formant']) {
        const command = pin ? 'taskset' : process.execPath;
        const childArgs = [script, '--child', file, String(seconds), engine];
        const args = pin ? ['-c', '0', process.execPath, ...childArgs] : childArgs;
        rows.push(JSON.parse(execFileSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 20 })) as ChildResult);
      }
    }
    if (json) {
      process.stdout.write(`${JSON.stringify({ pinned: pin, cpu: cpus()[0]?.model, rows }, null, 2)}\n`);
      return;
    }
    const stages = Object.keys(rows[0].stages);
    console.log(
      `End-to-end conversion of a voice-like melody (16-bit mono 44.1 kHz WAV), one child process per row${pin ? ', pinned to one core' : ''}; CPU: ${cpus()[0]?.model ?? 'unknown'}`,
    );
    console.log('');
    console.log(
      `| melody | engine | total ms | × real time | ${stages.map((s) => `${s} ms`).join(' | ')} | notes | sung pitch accuracy | peak RSS MB |`,
    );
    console.log(`| --- | --- | ---: | ---: | ${stages.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`);
    for (const r of rows) {
      console.log(
        `| ${r.seconds} s | ${r.engine} | ${r.totalMs.toFixed(0)} | ${((r.seconds * 1000) / r.totalMs).toFixed(1)}× | ${stages.map((s) => r.stages[s]).join(' | ')} | ${r.notes} | ${r.pitchAccuracy ?? 'n/a'} | ${r.peakRssMb.toFixed(0)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1], Number(args[2]), args[3] === 'formant' ? 'formant' : 'flite');
else await parent(args.includes('--json'));
