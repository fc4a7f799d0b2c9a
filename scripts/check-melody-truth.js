#!/usr/bin/env node
/**
 * Checks that each melody fixture really sounds at the pitches its truth claims, using an independent
 * tracker: aubio's yinfft (Debian aubio-tools). Dev-time only.
 *
 * Usage: node scripts/check-melody-truth.js [fixture-dir]   (default test/fixtures/melodies)
 *
 * Per fixture it prints two independent checks:
 * - exact: per note, a zoomed DFT scan (Hann window over the middle 60 % of the note, at most 0.5 s, 1-cent
 *   steps within ±60 cents of the truth) of harmonics 1–4; the strongest harmonic's peak gives the note's
 *   sounding pitch. A deviation beyond ±25 cents would mean the file is not at the pitch the truth says.
 * - aubio: the share of voiced reference frames where aubio's yinfft is within 50 cents (octave errors
 *   included). aubio's time stamps are moved to the centre of its analysis window (the CLI stamps the start
 *   of the newest hop). YIN-type estimators read decaying tones (piano) sharp, so this is not the truth check.
 * Needs sox (to decode FLAC) and aubio on PATH.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

const dir = process.argv[2] ?? 'test/fixtures/melodies';
const BUFFER = 2048;

const cents = (a, b) => 1200 * Math.log2(a / b);

function aubioPitch(file, sampleRate) {
  const hop = Math.round(sampleRate * 0.01);
  const out = execFileSync(
    'aubio',
    ['pitch', '-i', file, '-m', 'yinfft', '-B', String(BUFFER), '-H', String(hop), '-u', 'Hz', '-s', '-70'],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const shift = (hop - BUFFER / 2) / sampleRate;
  const times = [];
  const hz = [];
  for (const line of out.split('\n')) {
    const [t, f] = line.trim().split(/\s+/).map(Number);
    if (Number.isFinite(t) && Number.isFinite(f)) {
      times.push(t + shift);
      hz.push(f);
    }
  }
  return { times, hz };
}

function nearest(times, t) {
  let lo = 0;
  let hi = times.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid;
    else hi = mid;
  }
  return Math.abs(times[lo] - t) <= Math.abs(times[hi] - t) ? lo : hi;
}

function readSamples(file) {
  const raw = execFileSync('sox', [file, '-t', 'f32', '-e', 'floating-point', '-c', '1', '-'], { maxBuffer: 1 << 28 });
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

/** Cents offset (−60..60) of the strongest spectral peak near harmonic 1–4 of `hz` in samples [a, b). */
function soundingCents(x, sampleRate, a, b, hz) {
  const cosTable = new Float64Array(b - a);
  for (let i = a; i < b; i++) cosTable[i - a] = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - a)) / (b - a));
  let best = -1;
  let bestCents = NaN;
  for (let h = 1; h <= 4; h++) {
    if (h * hz * 1.04 > sampleRate / 2) break;
    for (let c = -60; c <= 60; c++) {
      const w = (2 * Math.PI * h * hz * 2 ** (c / 1200)) / sampleRate;
      let re = 0;
      let im = 0;
      for (let i = a; i < b; i++) {
        const v = cosTable[i - a] * x[i];
        re += v * Math.cos(w * i);
        im -= v * Math.sin(w * i);
      }
      const p = re * re + im * im;
      if (p > best) {
        best = p;
        bestCents = c;
      }
    }
  }
  return bestCents;
}

let worst = 0;
for (const file of fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.truth.json'))
  .sort()) {
  const truth = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  const audio = path.join(dir, file.replace('.truth.json', '.flac'));
  const est = aubioPitch(audio, truth.sampleRate);
  let voiced = 0;
  let hit = 0;
  truth.f0.hz.forEach((ref, i) => {
    if (ref <= 0) return;
    voiced++;
    const f = est.hz[nearest(est.times, i * truth.f0.hop)];
    if (f > 0 && Math.abs(cents(f, ref)) <= 50) hit++;
  });
  const x = readSamples(audio);
  const sr = truth.sampleRate;
  const devs = truth.notes.map((note) => {
    const d = note.end - note.start;
    const mid = (note.start + note.end) / 2;
    const half = Math.min(0.3 * d, 0.25);
    return soundingCents(x, sr, Math.round((mid - half) * sr), Math.round((mid + half) * sr), 440 * 2 ** ((note.midi - 69) / 12));
  });
  if (process.env.VERBOSE)
    truth.notes.forEach((n, i) => console.log(`  ${n.start.toFixed(2)}-${n.end.toFixed(2)} midi ${n.midi}: ${devs[i]} c`));
  const maxDev = Math.max(...devs.map(Math.abs));
  const meanDev = devs.reduce((a, c) => a + c, 0) / devs.length;
  const off = devs.filter((c) => !(Math.abs(c) <= 25)).length;
  worst = Math.max(worst, off);
  console.log(
    `${truth.name.padEnd(22)} ${truth.kind.padEnd(8)} exact: mean ${meanDev.toFixed(1).padStart(5)} c, max |dev| ${maxDev.toFixed(0).padStart(2)} c, ` +
      `notes off by >25 c: ${off}/${truth.notes.length}   aubio yinfft RPA ${(hit / voiced).toFixed(3)}`,
  );
}
process.exitCode = worst > 0 ? 1 : 0;
