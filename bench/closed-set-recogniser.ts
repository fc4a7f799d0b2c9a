/**
 * The closed-set recogniser of `bench:voice` (and of its setting sweep): CMU pocketsphinx (Debian
 * `pocketsphinx` + `pocketsphinx-en-us`), run as `pocketsphinx_continuous` with a JSGF grammar whose
 * only sentences are the candidate lines, so it can only answer with one of them (or nothing).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const MODEL = '/usr/share/pocketsphinx/model/en-us';

/** One line `bench:voice --dump=DIR` saved: `DIR/<its index>.wav` and this entry of `DIR/manifest.json`. */
export interface DumpedLine {
  /** The row that sang it (`flite high`, `festival`, …). */
  row: string;
  /** The melody fixture. */
  file: string;
  /** The line's text, and its two candidate sets (each including it). */
  truth: string;
  twins: string[];
  open: string[];
  /** The line's notes, times in seconds from the cut's start (0.5 s before the first note); not in dumps before round 9. */
  notes?: { start: number; end: number; midi: number; phonemes: string[] }[];
}

/** The lines of a `bench:voice --dump=DIR` folder, in the order of their WAV files. */
export function readDump(folder: string): DumpedLine[] {
  return JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as DumpedLine[];
}

/** Lower case, letters, apostrophes and single spaces: how lines are compared with what was heard. */
export const normalize = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/**
 * A recogniser setting, applied identically to every row: extra `pocketsphinx_continuous` arguments
 * and, optionally, a WSOLA tempo change of the audio (sox `tempo -s`) before recognition.
 */
export interface Recogniser {
  name: string;
  args: string[];
  /** sox tempo factor (2 = half as long); none when absent. */
  tempo?: number;
}

/**
 * The settings `bench:voice` scores every line with (`--recognisers=NAME,…` for fewer). `default` is
 * pocketsphinx as configured since round 1. The other two make the test fairer to slow material for
 * every row alike (each raised Flite's speech slowed 3.25× and Festival's singing as much as or more than
 * our engine; docs/benchmarks.md, issue 11 round 3): `frate50` analyses 50 frames a second instead of
 * 100, so a held sound spans half as many frames; `tempo2` plays every line twice as fast (sox WSOLA,
 * pitch kept) before recognition, nearer a spoken line's length.
 */
export const RECOGNISERS: Recogniser[] = [
  { name: 'default', args: [] },
  { name: 'frate50', args: ['-frate', '50'] },
  { name: 'tempo2', args: [], tempo: 2 },
];

/** Which candidate pocketsphinx hears in a 16 kHz mono WAV file, or null (`dir` holds its scratch files). */
export function recognise(dir: string, wav: string, candidates: readonly string[], recogniser: Recogniser): string | null {
  const grammar = join(dir, 'lines.gram');
  if (recogniser.tempo) {
    const faster = join(dir, 'tempo.wav');
    if (spawnSync('sox', [wav, faster, 'tempo', '-s', String(recogniser.tempo)], { stdio: 'ignore' }).status !== 0) return null;
    wav = faster;
  }
  writeFileSync(grammar, `#JSGF V1.0;\ngrammar lines;\npublic <line> = ${candidates.map((c) => `( ${c} )`).join(' | ')};\n`);
  const result = spawnSync(
    'pocketsphinx_continuous',
    [
      '-infile',
      wav,
      '-hmm',
      join(MODEL, 'en-us'),
      '-dict',
      join(MODEL, 'cmudict-en-us.dict'),
      '-jsgf',
      grammar,
      '-samprate',
      '16000',
      '-logfn',
      '/dev/null',
      ...recogniser.args,
    ],
    { encoding: 'utf8' },
  );
  const heard = normalize(result.stdout ?? '');
  return candidates.find((c) => c === heard) ?? null;
}
