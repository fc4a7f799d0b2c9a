/**
 * The recorded melody fixtures (test/fixtures/melodies, made by scripts/make-melody-fixtures.sh) and the
 * standard scores against their truth. Shared by test/unit/audio/fixtures.test.ts and bench/accuracy.bench.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAudio, toMonoAudio } from '../../src/audio/decode/decode.js';
import { noteFMeasure, type NoteFMeasure, type NoteLike } from '../../src/audio/eval/note-metrics.js';
import { rawChromaAccuracy, rawPitchAccuracy } from '../../src/audio/eval/pitch-metrics.js';
import type { MonoAudio } from '../../src/audio/types.js';
import { createFfmpegDecoder } from '../../src/platform/ffmpeg-decoder.js';

/** Kind of source a fixture holds; the figures are reported per kind. */
export type MelodyKind = 'piano' | 'flute' | 'violin' | 'brass' | 'reed' | 'voice' | 'hum' | 'whistle' | 'bass';

/** Contents of `<name>.truth.json`; conventions in test/fixtures/melodies/README.md. */
export interface MelodyTruth {
  name: string;
  kind: MelodyKind;
  description: string;
  /** Sample rate of the committed audio file, Hz. */
  sampleRate: number;
  /** Length of the audio file, seconds. */
  duration: number;
  bpm: number;
  /** Notes: onset and offset in seconds, `midi` an integer MIDI note (A4 = 69). */
  notes: NoteLike[];
  /** Reference f0 at t = i × hop seconds, Hz; 0 where unvoiced (rests, release tails, gaps between syllables). */
  f0: { hop: number; hz: number[] };
}

export interface MelodyFixture {
  name: string;
  /** Absolute path of the FLAC file. */
  audioPath: string;
  truth: MelodyTruth;
}

/** The repository root: the nearest directory above this file holding package.json (works from dist/ too). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

export const MELODY_FIXTURE_DIR = path.join(repoRoot(), 'test', 'fixtures', 'melodies');

/** Every committed melody fixture, sorted by name. */
export function listMelodyFixtures(): MelodyFixture[] {
  return fs
    .readdirSync(MELODY_FIXTURE_DIR)
    .filter((file) => file.endsWith('.truth.json'))
    .sort()
    .map((file) => {
      const truth = JSON.parse(fs.readFileSync(path.join(MELODY_FIXTURE_DIR, file), 'utf8')) as MelodyTruth;
      return { name: truth.name, audioPath: path.join(MELODY_FIXTURE_DIR, file.replace(/\.truth\.json$/, '.flac')), truth };
    });
}

/** Decodes a fixture with the product's own decoder (FLAC through ffmpeg) and mixes it to mono. */
export async function loadMelodyAudio(fixture: MelodyFixture): Promise<MonoAudio> {
  return toMonoAudio(await decodeAudio(new Uint8Array(fs.readFileSync(fixture.audioPath)), { decoder: createFfmpegDecoder() }));
}

/** Reference frame times of a truth: i × hop seconds. */
export function truthTimes(truth: MelodyTruth): Float64Array {
  const times = new Float64Array(truth.f0.hz.length);
  for (let i = 0; i < times.length; i++) times[i] = i * truth.f0.hop;
  return times;
}

export interface MelodyScore {
  /** Raw pitch accuracy: share of voiced reference frames whose estimate is within 50 cents. */
  rawPitchAccuracy: number;
  /** The same with octave errors forgiven (raw chroma accuracy). */
  rawChromaAccuracy: number;
  /** Note F-measure, onsets within 100 ms and pitch within 50 cents, offsets ignored. */
  note: NoteFMeasure;
  /** The same with the MIREX/mir_eval onset tolerance of 50 ms. */
  note50: NoteFMeasure;
}

/**
 * Scores an f0 contour (on its own time grid, 0 = unvoiced) and a note list against a fixture's truth with
 * the standard definitions (src/audio/eval).
 */
export function scoreMelody(truth: MelodyTruth, estTimes: ArrayLike<number>, estHz: ArrayLike<number>, notes: NoteLike[]): MelodyScore {
  const refTimes = truthTimes(truth);
  return {
    rawPitchAccuracy: rawPitchAccuracy(refTimes, truth.f0.hz, estTimes, estHz, 50),
    rawChromaAccuracy: rawChromaAccuracy(refTimes, truth.f0.hz, estTimes, estHz, 50),
    note: noteFMeasure(truth.notes, notes, { onsetToleranceSeconds: 0.1, pitchToleranceCents: 50 }),
    note50: noteFMeasure(truth.notes, notes, { onsetToleranceSeconds: 0.05, pitchToleranceCents: 50 }),
  };
}
