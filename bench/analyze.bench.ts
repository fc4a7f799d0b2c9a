/**
 * `npm run bench:analyze`: speed and peak memory of analysing a 5-minute 44.1 kHz recording.
 *
 * The parent renders a 300 s voice-like melody (seeded, deterministic) to WAV (mono and stereo) and,
 * with the ffmpeg binary the product ships, to MP3. Each measurement runs in a fresh child process
 * pinned to one core (`taskset -c 0` when available) so that its peak RSS is its own:
 * reading the file, decoding (reported separately), then analyzeMelody stage by stage.
 * Prints a markdown table; `--json` prints the raw figures.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { renderMelody, repeatedTwinkle, type TruthNote } from '../test/support/signals.js';
import { encodeWav } from '../src/audio/decode/wav.js';
import { validateAndDecode } from '../src/audio/validate/validate.js';
import { analyzeMelody, type AnalysisStep } from '../src/audio/analyze.js';
import { createFfmpegDecoder, ffmpegPath } from '../src/platform/ffmpeg-decoder.js';

const SECONDS = 300;
const RATE = 44100;

interface ChildResult {
  file: string;
  readMs: number;
  decodeMs: number;
  analyzeMs: number;
  analyzeCpuMs: number;
  stages: Record<string, number>;
  notes: number;
  peakRssMb: number;
}

async function child(file: string): Promise<void> {
  const t0 = performance.now();
  const bytes = new Uint8Array(readFileSync(file));
  const t1 = performance.now();
  const { audio } = await validateAndDecode(bytes, { decoder: createFfmpegDecoder() });
  const t2 = performance.now();
  const stages: Record<string, number> = {};
  let current: AnalysisStep | null = null;
  let since = performance.now();
  const cpu = process.cpuUsage();
  const analysis = analyzeMelody(audio, {
    onStep: (step) => {
      const now = performance.now();
      if (current) stages[current] = now - since;
      current = step;
      since = now;
    },
  });
  const t3 = performance.now();
  if (current) stages[current] = t3 - since;
  const used = process.cpuUsage(cpu);
  const result: ChildResult = {
    file,
    readMs: t1 - t0,
    decodeMs: t2 - t1,
    analyzeMs: t3 - t2,
    analyzeCpuMs: (used.user + used.system) / 1000,
    stages,
    notes: analysis.notes.length,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(JSON.stringify(result));
}

const melody = (seconds: number): TruthNote[] => repeatedTwinkle(seconds, [55, 60, 48, 64, 57, 43, 67]);

function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version']).status === 0;
}

async function parent(json: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mv-bench-'));
  try {
    const rendered = renderMelody(melody(SECONDS), {
      sampleRate: RATE,
      duration: SECONDS,
      timbre: 'voice',
      vibrato: { rateHz: 5.5, depthCents: 40 },
      noiseDb: -50,
      seed: 7,
    });
    const right = rendered.samples.map((x) => x * 0.8);
    const files = {
      'WAV 16-bit mono': join(dir, 'mono.wav'),
      'FLAC 16-bit stereo': join(dir, 'stereo.flac'),
      'MP3 128 kb/s mono': join(dir, 'mono.mp3'),
    };
    // A 5-minute 16-bit stereo WAV is 50.5 MB, over the 50 MB upload limit: the stereo case goes as FLAC.
    const stereoWav = join(dir, 'stereo.wav');
    writeFileSync(files['WAV 16-bit mono'], encodeWav([rendered.samples], RATE, { bitDepth: 16 }));
    writeFileSync(stereoWav, encodeWav([rendered.samples, right], RATE, { bitDepth: 16 }));
    execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-i', stereoWav, files['FLAC 16-bit stereo']]);
    execFileSync(ffmpegPath(), ['-v', 'error', '-y', '-i', files['WAV 16-bit mono'], '-b:a', '128k', files['MP3 128 kb/s mono']]);
    const script = fileURLToPath(import.meta.url);
    const pin = hasTaskset();
    const rows: (ChildResult & { label: string })[] = [];
    for (const [label, file] of Object.entries(files)) {
      const command = pin ? 'taskset' : process.execPath;
      const args = pin ? ['-c', '0', process.execPath, script, '--child', file] : [script, '--child', file];
      const out = execFileSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 20 });
      rows.push({ label, ...(JSON.parse(out) as ChildResult) });
    }
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ seconds: SECONDS, sampleRate: RATE, pinned: pin, cpu: cpus()[0]?.model, rows }, null, 2)}\n`,
      );
      return;
    }
    const stageNames = Object.keys(rows[0].stages);
    console.log(
      `Analysis of a ${SECONDS} s ${RATE} Hz melody, one child process per row${pin ? ', pinned to one core (taskset -c 0)' : ''}; CPU: ${cpus()[0]?.model ?? 'unknown'}`,
    );
    console.log('');
    console.log(
      `| input | decode ms | analysis ms | × real time (analysis) | ${stageNames.map((s) => `${s} ms`).join(' | ')} | notes | peak RSS MB |`,
    );
    console.log(`| --- | ---: | ---: | ---: | ${stageNames.map(() => '---:').join(' | ')} | ---: | ---: |`);
    for (const row of rows) {
      const stages = stageNames.map((s) => row.stages[s].toFixed(0)).join(' | ');
      console.log(
        `| ${row.label} | ${row.decodeMs.toFixed(0)} | ${row.analyzeMs.toFixed(0)} | ${((SECONDS * 1000) / row.analyzeMs).toFixed(0)}× | ${stages} | ${row.notes} | ${row.peakRssMb.toFixed(0)} |`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const args = process.argv.slice(2);
if (args[0] === '--child') await child(args[1]);
else await parent(args.includes('--json'));
