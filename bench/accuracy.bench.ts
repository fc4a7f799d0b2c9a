/**
 * Accuracy on the recorded melody fixtures (test/fixtures/melodies), ours next to aubio measured in the same
 * run on the same files, per kind of source.
 *
 * For every fixture: decode with the product's decoder, trackPitch + segmentNotes, then score with the standard
 * definitions (src/audio/eval): raw pitch accuracy (share of voiced reference frames within 50 cents; RCA is
 * the same with octave errors forgiven) and note F-measure (onset within 100 ms, pitch within 50 cents,
 * offsets ignored; also at the MIREX 50 ms). When `aubio` (Debian aubio-tools) is on PATH, the same file goes
 * through
 *   aubio pitch -i FILE -m yinfft -B 2048 -H <10 ms in samples> -u Hz -s -70
 *   aubio notes -i FILE -B <512|1024|2048> -H 256
 * and is scored the same way. Fairness choices, all in aubio's favour:
 * - aubio pitch stamps each frame with the start of its newest hop; its times are moved to the centre of
 *   the analysis window ((hop − B/2) / rate) so they line up with the reference.
 * - aubio notes reports each note when it has settled, after its onset; its median onset lag over the corpus
 *   (pairs matched within 250 ms and 50 cents) is printed, and an extra column scores aubio's notes moved
 *   earlier by that lag.
 * - aubio notes runs with each buffer size; the one whose lag-corrected notes score best over the corpus is
 *   reported (the default 512 cannot see bass notes at 22.05 kHz).
 *
 * Real singing (issue 12): with `--sung DIR` (or SUNG_DIR=DIR) a folder of annotated sung recordings in the
 * SSVD v2.0 format (test/support/sung-corpus.ts; use its `train&valid` folder, never `test`) is scored too and
 * printed next to the targets. SSVD's published pitches sit 0.15–0.5 semitone sharp of what was sung, so each
 * clip's reference is first moved by its median offset: the median, over our voiced frames inside annotated
 * notes that lie within two semitones of the annotation, of (our pitch − annotated pitch). Then: note F (onset
 * within 100 ms, pitch within 50 cents, offsets ignored), note-sequence accuracy (1 − edit distance of the
 * pitch sequences / reference length, eval/note-metrics.ts) and raw pitch accuracy against a reference f0 that
 * holds each annotated note's pitch from its onset to its offset (SSVD has no frame-level f0).
 *
 * A synthetic sung-with-lyrics row (seeded takes from test/support/singer.ts, see syntheticSungRow) is printed
 * with the real-singing row.
 *
 * Another system on the same clips: with `--compare-notes DIR` (and `--compare-label NAME` for its row) a folder
 * of that system's note lists, one `<clip>.notes.tsv` per clip (`onset<TAB>offset<TAB>midi` in seconds and float
 * MIDI, further columns ignored; bench/compare-notes.ts), is scored beside ours by the same code: the same
 * reference moved by the same per-clip offset (measured on our frames, so both rows score against one
 * reference), the same matching and the same means over clips. When the folder also holds `<clip>.f0.tsv`
 * (`time<TAB>hz`, 0 = unvoiced), its raw pitch accuracy is scored from that track, and a second row moves the
 * reference by the offset measured the same way on that system's own frames instead of ours. A clip without a
 * note list scores as no notes. The other system runs outside this repository (docs/benchmarks.md says how).
 *
 * Run: npx tsc -p tsconfig.build.json && node dist/bench/accuracy.bench.js [--json] [--sung DIR] [--sung-only] [--sung-every K] [--notes-options JSON] [--compare-notes DIR [--compare-label NAME]]
 *   --json prints the whole result as JSON on stdout instead of the markdown tables.
 *   --sung-only skips the committed fixtures; --sung-every K scores every K-th clip only (quick iterations).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { noteFMeasure, noteSequenceAccuracy, type NoteLike } from '../src/audio/eval/note-metrics.js';
import { rawPitchAccuracy } from '../src/audio/eval/pitch-metrics.js';
import { computeOnsetEnvelope } from '../src/audio/notes/onsets.js';
import type { NoteEvent, PitchTrack } from '../src/audio/types.js';
import { listSungClips, loadSungAudio } from '../test/support/sung-corpus.js';
import { sing, type SingOptions, type SungNote, type Vowel } from '../test/support/singer.js';
import { createRandom } from '../src/audio/random.js';
import { median } from './bench-process.js';
import { loadComparedClip, medianOffsetOnTimes, type FrameTrack } from './compare-notes.js';
import { LOW_CONFIDENCE, segmentNotes, type NoteOptions } from '../src/audio/notes/notes.js';
import { trackPitch } from '../src/audio/pitch/pitch.js';
import {
  listMelodyFixtures,
  loadMelodyAudio,
  scoreMelody,
  type MelodyFixture,
  type MelodyKind,
  type MelodyScore,
} from '../test/support/melody-fixtures.js';

const AUBIO_PITCH_BUFFER = 2048;
const AUBIO_NOTES_BUFFERS = [512, 1024, 2048];
const AUBIO_NOTES_HOP = 256;
/** Onset tolerance used only to measure a system's onset lag (pairs matched on pitch within a wide window). */
const LAG_WINDOW_SECONDS = 0.25;

interface Figures {
  rawPitchAccuracy: number;
  rawChromaAccuracy: number;
  noteF: number;
  notePrecision: number;
  noteRecall: number;
  noteF50: number;
  /** Note F at 100 ms after moving every estimated onset earlier by the system's median lag (aubio only). */
  noteFLagCorrected?: number;
}

interface FixtureResult {
  name: string;
  kind: MelodyKind;
  seconds: number;
  ours: Figures & { cpuMs: number };
  aubio: Figures | null;
}

const figures = (score: MelodyScore): Figures => ({
  rawPitchAccuracy: score.rawPitchAccuracy,
  rawChromaAccuracy: score.rawChromaAccuracy,
  noteF: score.note.f,
  notePrecision: score.note.precision,
  noteRecall: score.note.recall,
  noteF50: score.note50.f,
});

function hasAubio(): boolean {
  try {
    execFileSync('aubio', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function aubioPitch(file: string, sampleRate: number): { times: Float64Array; hz: Float64Array } {
  const hop = Math.round(sampleRate * 0.01);
  const out = execFileSync(
    'aubio',
    ['pitch', '-i', file, '-m', 'yinfft', '-B', String(AUBIO_PITCH_BUFFER), '-H', String(hop), '-u', 'Hz', '-s', '-70'],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    },
  );
  const shift = (hop - AUBIO_PITCH_BUFFER / 2) / sampleRate;
  const rows = out
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((row) => row.length === 2 && row.every(Number.isFinite));
  return { times: Float64Array.from(rows, (row) => row[0] + shift), hz: Float64Array.from(rows, (row) => row[1]) };
}

/**
 * `aubio notes` prints `midi<TAB>onset<TAB>` at a note-on and `offset<NEWLINE>` at a note-off, so a complete note
 * is a line of three numbers; a lone number is a note-off without a note (ignored).
 */
function aubioNotes(file: string, buffer: number): NoteLike[] {
  const out = execFileSync('aubio', ['notes', '-i', file, '-B', String(buffer), '-H', String(AUBIO_NOTES_HOP)], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((row) => row.length === 3 && row.every(Number.isFinite))
    .map(([midi, start, end]) => ({ midi, start, end }));
}

/** Estimated minus reference onset for pairs matched within LAG_WINDOW_SECONDS and 50 cents. */
function onsetLags(reference: NoteLike[], estimated: NoteLike[]): number[] {
  const match = noteFMeasure(reference, estimated, { onsetToleranceSeconds: LAG_WINDOW_SECONDS, pitchToleranceCents: 50 });
  return match.pairs.map(([r, e]) => estimated[e].start - reference[r].start);
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Issue 12's targets on real singing. */
const SUNG_TARGETS = { noteF: 0.85, sequenceAccuracy: 0.8, rawPitchAccuracy: 0.96 };

interface SungResult {
  name: string;
  seconds: number;
  /** Semitones added to the annotated pitches (the clip's median offset). */
  offset: number;
  noteF: number;
  notePrecision: number;
  noteRecall: number;
  sequenceAccuracy: number;
  rawPitchAccuracy: number;
  notes: number;
  referenceNotes: number;
  /** Estimated notes flagged low-confidence, and how many of those matched a reference note. */
  flagged: number;
  flaggedMatched: number;
  /** Precision of the notes not flagged. */
  unflaggedPrecision: number;
  cpuMs: number;
}

/** The median semitone offset of our voiced frames from the annotated note they fall in (within ±2 semitones). */
function medianOffset(reference: NoteLike[], pitch: PitchTrack): number {
  const diffs: number[] = [];
  const hop = pitch.hopSeconds;
  for (const note of reference) {
    for (let k = Math.ceil(note.start / hop); k * hop < note.end && k < pitch.hz.length; k++) {
      if (!(pitch.hz[k] > 0)) continue;
      const d = 69 + 12 * Math.log2(pitch.hz[k] / 440) - note.midi;
      if (Math.abs(d) <= 2) diffs.push(d);
    }
  }
  return diffs.length ? median(diffs) : 0;
}

/**
 * Scores one clip's notes, and the f0 track `scored` for raw pitch accuracy, against its annotation moved by
 * `offset` semitones (our row: {@link medianOffset} of our own track).
 */
function scoreSung(
  name: string,
  seconds: number,
  reference: NoteLike[],
  scored: FrameTrack,
  notes: NoteEvent[],
  cpuMs: number,
  offset: number,
): SungResult {
  const shifted = reference.map((note) => ({ ...note, midi: note.midi + offset }));
  const match = noteFMeasure(shifted, notes, { onsetToleranceSeconds: 0.1, pitchToleranceCents: 50 });
  // Reference f0 on a 10 ms grid: each annotated note's (shifted) pitch from its onset to its offset.
  const hop = 0.01;
  const frames = Math.ceil(seconds / hop) + 1;
  const refTimes = new Float64Array(frames);
  const refHz = new Float64Array(frames);
  for (let i = 0; i < frames; i++) refTimes[i] = i * hop;
  for (const note of shifted) {
    for (let i = Math.ceil(note.start / hop); i * hop < note.end && i < frames; i++) refHz[i] = 440 * 2 ** ((note.midi - 69) / 12);
  }
  const matchedEstimates = new Set(match.pairs.map(([, e]) => e));
  const flaggedIndices = notes.map((note, index) => (note.confidence < LOW_CONFIDENCE ? index : -1)).filter((index) => index >= 0);
  const unflagged = notes.length - flaggedIndices.length;
  const flaggedMatched = flaggedIndices.filter((index) => matchedEstimates.has(index)).length;
  return {
    name,
    seconds,
    offset,
    noteF: match.f,
    notePrecision: match.precision,
    noteRecall: match.recall,
    sequenceAccuracy: noteSequenceAccuracy(shifted, notes, 50),
    rawPitchAccuracy: scored.hz.length ? rawPitchAccuracy(refTimes, refHz, scored.times, scored.hz, 50) : NaN,
    notes: notes.length,
    referenceNotes: reference.length,
    flagged: flaggedIndices.length,
    flaggedMatched,
    unflaggedPrecision: unflagged ? (match.matched - flaggedMatched) / unflagged : NaN,
    cpuMs,
  };
}

interface SungRun {
  ours: SungResult[];
  /** The compared system's clips scored against our row's reference (same offset), when `--compare-notes` is given. */
  compared: SungResult[] | null;
  /** The same, each clip's reference moved by the offset measured on the compared system's own f0 track (when it has one). */
  comparedOwnOffset: SungResult[] | null;
}

/**
 * Scores every (or every `every`-th) clip of a sung corpus folder, analysed exactly as analyzeMelody does, and the
 * compared system's note lists from `compareDir` on the same clips.
 */
async function runSung(dir: string, every: number, noteOptions: NoteOptions, compareDir: string | undefined): Promise<SungRun> {
  const ours: SungResult[] = [];
  const compared: SungResult[] = [];
  const comparedOwnOffset: SungResult[] = [];
  const clips = listSungClips(dir).filter((_, index) => index % every === 0);
  for (const clip of clips) {
    const audio = await loadSungAudio(clip);
    const start = process.cpuUsage();
    const pitch = trackPitch(audio);
    const onsetEnvelope = computeOnsetEnvelope(audio);
    const notes = segmentNotes(pitch, audio, { ...noteOptions, onsetEnvelope });
    const used = process.cpuUsage(start);
    const seconds = audio.samples.length / audio.sampleRate;
    const offset = medianOffset(clip.notes, pitch);
    ours.push(scoreSung(clip.name, seconds, clip.notes, pitch, notes, (used.user + used.system) / 1000, offset));
    if (!compareDir) continue;
    const other = loadComparedClip(compareDir, clip.name);
    // A compared note carries no confidence of ours: 1, so none is counted as flagged.
    const otherNotes = other.notes.map((note) => ({ ...note, confidence: 1 }));
    const track = other.f0 ?? { times: new Float64Array(0), hz: new Float64Array(0) };
    compared.push(scoreSung(clip.name, seconds, clip.notes, track, otherNotes, 0, offset));
    if (other.f0)
      comparedOwnOffset.push(scoreSung(clip.name, seconds, clip.notes, track, otherNotes, 0, medianOffsetOnTimes(clip.notes, other.f0)));
  }
  return {
    ours,
    compared: compareDir ? compared : null,
    comparedOwnOffset: compareDir && comparedOwnOffset.length === compared.length ? comparedOwnOffset : null,
  };
}

/**
 * Synthetic sung-with-lyrics takes (test/support/singer.ts), seeded: 8 takes of 16 syllables in two
 * phrases with a breath between them; random steps of 0–4 semitones (a third repeated notes),
 * syllables of 0.25–0.6 s with voiced or unvoiced consonants and changing vowels, scoops of 0.5–1.5
 * semitones into a third of the notes, falls out of a fifth, vibrato ±(40–100) cents, tremolo ±(2–6) dB,
 * tuning drift of ±50 cents over the take.
 */
function syntheticSungRow(noteOptions: NoteOptions): { takes: number; noteF: number; sequenceAccuracy: number } {
  const vowels: Vowel[] = ['a', 'e', 'i', 'o', 'u'];
  const fs: number[] = [];
  const seqs: number[] = [];
  for (let take = 0; take < 8; take++) {
    const random = createRandom(1000 + take);
    const notes: SungNote[] = [];
    let t = 0.3;
    let midi = 57 + Math.floor(random() * 8);
    for (let i = 0; i < 16; i++) {
      if (i === 8) t += 0.6;
      const r = random();
      if (i > 0 && r > 0.33) midi += Math.round((random() - 0.5) * 8) || 2;
      const seconds = 0.25 + random() * 0.35;
      notes.push({
        start: t,
        end: t + seconds,
        midi,
        vowel: vowels[Math.floor(random() * vowels.length)],
        consonant: i === 0 || i === 8 ? null : random() < 0.5 ? 'voiced' : 'unvoiced',
        scoopSemitones: random() < 0.33 ? 0.5 + random() : 0,
        scoopSeconds: 0.1,
        fallSemitones: random() < 0.2 ? 1 + random() : 0,
        fallSeconds: 0.08,
      });
      t += seconds;
    }
    const options: SingOptions = {
      seed: take + 1,
      vibrato: { depthCents: 40 + random() * 60, rateHz: 5 + random() * 1.5 },
      tremolo: { depthDb: 2 + random() * 4, rateHz: 4 + random() * 2 },
      driftCents: (random() - 0.5) * 100,
      breaths: [[notes[7].end + 0.1, notes[8].start - 0.1]],
    };
    const audio = sing(notes, options);
    const found = segmentNotes(trackPitch(audio), audio, noteOptions);
    fs.push(noteFMeasure(audio.truth, found).f);
    seqs.push(noteSequenceAccuracy(audio.truth, found, 50));
  }
  return { takes: fs.length, noteF: mean(fs), sequenceAccuracy: mean(seqs) };
}

/** Means over clips (the figures printed), and the totals of notes and flags. */
function summarizeSung(sung: SungResult[]) {
  const sum = (f: (r: SungResult) => number): number => sung.reduce((a, r) => a + f(r), 0);
  return {
    clips: sung.length,
    seconds: sum((r) => r.seconds),
    noteF: mean(sung.map((r) => r.noteF)),
    notePrecision: mean(sung.map((r) => r.notePrecision)),
    noteRecall: mean(sung.map((r) => r.noteRecall)),
    sequenceAccuracy: mean(sung.map((r) => r.sequenceAccuracy)),
    rawPitchAccuracy: mean(sung.map((r) => r.rawPitchAccuracy)),
    medianOffset: median(sung.map((r) => r.offset)),
    flagged: sum((r) => r.flagged),
    flaggedPrecision:
      sum((r) => r.flaggedMatched) /
      Math.max(
        1,
        sum((r) => r.flagged),
      ),
    unflaggedPrecision:
      (sum((r) => r.notes * r.notePrecision) - sum((r) => r.flaggedMatched)) /
      Math.max(
        1,
        sum((r) => r.notes - r.flagged),
      ),
    estimatedNotes: sum((r) => r.notes),
    cpuSecondsPerAudioSecond: sum((r) => r.cpuMs) / 1000 / sum((r) => r.seconds),
  };
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const log = (line: string): void => {
    if (!json) process.stdout.write(line + '\n');
  };
  // Tuning experiments: --notes-options '{"changePenalty":0.08}' overrides segmentNotes defaults everywhere.
  const noteOptions = JSON.parse(argument('--notes-options') ?? '{}') as NoteOptions;
  const sungDir = argument('--sung') ?? process.env.SUNG_DIR;
  const sungEvery = Math.max(1, Number(argument('--sung-every') ?? 1));
  const compareDir = argument('--compare-notes');
  const compareLabel = argument('--compare-label') ?? (compareDir ? path.basename(path.resolve(compareDir)) : '');
  const sungRun = sungDir ? await runSung(sungDir, sungEvery, noteOptions, compareDir) : null;
  const sung = sungRun?.ours ?? null;
  const sungSummary = sung ? { ...summarizeSung(sung), targets: SUNG_TARGETS } : null;
  const comparedSummary = sungRun?.compared
    ? {
        label: compareLabel,
        dir: compareDir,
        sameOffset: summarizeSung(sungRun.compared),
        ownOffset: sungRun.comparedOwnOffset ? summarizeSung(sungRun.comparedOwnOffset) : null,
      }
    : null;
  const synthetic = syntheticSungRow(noteOptions);
  const printSung = (): void => {
    log(
      `\nSynthetic sung takes with lyrics (test/support/singer.ts, ${synthetic.takes} seeded takes: consonants, vowel changes, repeated notes, scoops, falls, vibrato, tremolo, drift, breaths): note F ${synthetic.noteF.toFixed(3)}, note sequence accuracy ${synthetic.sequenceAccuracy.toFixed(3)}.`,
    );
    if (!sung || !sungSummary) return;
    const g = (x: number): string => (Number.isNaN(x) ? '–' : x.toFixed(3));
    log(
      `\nReal singing: ${sungDir} (${sungSummary.clips} clips, ${sungSummary.seconds.toFixed(0)} s; median reference offset ${sungSummary.medianOffset.toFixed(2)} semitone removed per clip):\n`,
    );
    log('| | note F (P/R) | note sequence accuracy | raw pitch accuracy |');
    log('|---|---|---|---|');
    log(
      `| ours | ${g(sungSummary.noteF)} (${g(sungSummary.notePrecision)}/${g(sungSummary.noteRecall)}) | ${g(sungSummary.sequenceAccuracy)} | ${g(sungSummary.rawPitchAccuracy)} |`,
    );
    if (comparedSummary) {
      const c = comparedSummary.sameOffset;
      log(
        `| ${comparedSummary.label} | ${g(c.noteF)} (${g(c.notePrecision)}/${g(c.noteRecall)}) | ${g(c.sequenceAccuracy)} | ${g(c.rawPitchAccuracy)} |`,
      );
      const o = comparedSummary.ownOffset;
      if (o)
        log(
          `| ${comparedSummary.label}, offset from its own frames | ${g(o.noteF)} (${g(o.notePrecision)}/${g(o.noteRecall)}) | ${g(o.sequenceAccuracy)} | ${g(o.rawPitchAccuracy)} |`,
        );
    }
    log(`| target (issue 12) | ≥ ${SUNG_TARGETS.noteF} | ≥ ${SUNG_TARGETS.sequenceAccuracy} | ≥ ${SUNG_TARGETS.rawPitchAccuracy} |`);
    if (comparedSummary)
      log(
        `
${comparedSummary.label}: note lists from ${comparedSummary.dir} (${comparedSummary.sameOffset.estimatedNotes} notes), scored like ours against the same reference` +
          (comparedSummary.ownOffset
            ? `; the second row moves the reference by the median offset of its own f0 frames (median ${comparedSummary.ownOffset.medianOffset.toFixed(2)}).`
            : '.'),
      );
    log(
      `\nConfidence: ${sungSummary.flagged} of ${sungSummary.estimatedNotes} notes flagged (< ${LOW_CONFIDENCE}); precision of flagged notes ${g(sungSummary.flaggedPrecision)}, ` +
        `of the others ${g(sungSummary.unflaggedPrecision)}. CPU ${(1 / sungSummary.cpuSecondsPerAudioSecond).toFixed(0)}× real time (pitch + onsets + notes).`,
    );
    log('\n| clip | s | offset | note F (P/R) | seq acc | RPA | notes / ref | flagged (matched) |');
    log('|---|---|---|---|---|---|---|---|');
    for (const r of sung) {
      log(
        `| ${r.name} | ${r.seconds.toFixed(1)} | ${r.offset.toFixed(2)} | ${g(r.noteF)} (${g(r.notePrecision)}/${g(r.noteRecall)}) | ${g(r.sequenceAccuracy)} | ${g(r.rawPitchAccuracy)} | ` +
          `${r.notes} / ${r.referenceNotes} | ${r.flagged} (${r.flaggedMatched}) |`,
      );
    }
  };
  if (process.argv.includes('--sung-only')) {
    if (json)
      process.stdout.write(JSON.stringify({ synthetic, sung: sungSummary, sungClips: sung, compared: comparedSummary }, null, 2) + '\n');
    else printSung();
    return;
  }
  const aubio = hasAubio();
  const fixtures = listMelodyFixtures();
  const results: FixtureResult[] = [];
  const ourLags: number[] = [];
  const aubioNotesByBuffer = new Map<number, Map<string, NoteLike[]>>();

  for (const fixture of fixtures) {
    const audio = await loadMelodyAudio(fixture);
    const start = process.cpuUsage();
    const pitch = trackPitch(audio);
    const notes = segmentNotes(pitch, audio, noteOptions);
    const used = process.cpuUsage(start);
    const ours = figures(scoreMelody(fixture.truth, pitch.times, pitch.hz, notes));
    ourLags.push(...onsetLags(fixture.truth.notes, notes));
    results.push({
      name: fixture.name,
      kind: fixture.truth.kind,
      seconds: audio.samples.length / audio.sampleRate,
      ours: { ...ours, cpuMs: (used.user + used.system) / 1000 },
      aubio: null,
    });
    if (aubio) {
      for (const buffer of AUBIO_NOTES_BUFFERS) {
        if (!aubioNotesByBuffer.has(buffer)) aubioNotesByBuffer.set(buffer, new Map());
        aubioNotesByBuffer.get(buffer)!.set(fixture.name, aubioNotes(fixture.audioPath, buffer));
      }
    }
  }

  let aubioSetup: { notesBuffer: number; medianOnsetLagSeconds: number } | null = null;
  if (aubio) {
    // Each buffer size has its own lag; pick the size whose lag-corrected notes score best over the corpus.
    const lagOf = (buffer: number): number =>
      median(fixtures.flatMap((fixture) => onsetLags(fixture.truth.notes, aubioNotesByBuffer.get(buffer)!.get(fixture.name)!)));
    const correctedF = (buffer: number): number => {
      const lag = lagOf(buffer);
      return mean(
        fixtures.map((fixture) => {
          const shifted = aubioNotesByBuffer
            .get(buffer)!
            .get(fixture.name)!
            .map((note) => ({ ...note, start: note.start - lag, end: note.end - lag }));
          return noteFMeasure(fixture.truth.notes, shifted, { onsetToleranceSeconds: 0.1, pitchToleranceCents: 50 }).f;
        }),
      );
    };
    const notesBuffer = AUBIO_NOTES_BUFFERS.reduce((best, buffer) => (correctedF(buffer) > correctedF(best) ? buffer : best));
    const chosen = aubioNotesByBuffer.get(notesBuffer)!;
    const lag = lagOf(notesBuffer);
    aubioSetup = { notesBuffer, medianOnsetLagSeconds: lag };
    fixtures.forEach((fixture: MelodyFixture, index) => {
      const track = aubioPitch(fixture.audioPath, fixture.truth.sampleRate);
      const notes = chosen.get(fixture.name)!;
      const shifted = notes.map((note) => ({ ...note, start: note.start - lag, end: note.end - lag }));
      results[index].aubio = {
        ...figures(scoreMelody(fixture.truth, track.times, track.hz, notes)),
        noteFLagCorrected: noteFMeasure(fixture.truth.notes, shifted, { onsetToleranceSeconds: 0.1, pitchToleranceCents: 50 }).f,
      };
    });
  }

  const kinds = [...new Set(results.map((r) => r.kind))];
  const summarize = (rows: FixtureResult[]) => ({
    fixtures: rows.length,
    ours: {
      rawPitchAccuracy: mean(rows.map((r) => r.ours.rawPitchAccuracy)),
      rawChromaAccuracy: mean(rows.map((r) => r.ours.rawChromaAccuracy)),
      noteF: mean(rows.map((r) => r.ours.noteF)),
      noteF50: mean(rows.map((r) => r.ours.noteF50)),
    },
    aubio: aubio
      ? {
          rawPitchAccuracy: mean(rows.map((r) => r.aubio!.rawPitchAccuracy)),
          rawChromaAccuracy: mean(rows.map((r) => r.aubio!.rawChromaAccuracy)),
          noteF: mean(rows.map((r) => r.aubio!.noteF)),
          noteF50: mean(rows.map((r) => r.aubio!.noteF50)),
          noteFLagCorrected: mean(rows.map((r) => r.aubio!.noteFLagCorrected!)),
        }
      : null,
  });
  const byKind = Object.fromEntries(kinds.map((kind) => [kind, summarize(results.filter((r) => r.kind === kind))]));
  const overall = summarize(results);
  const aubioPitchCommand = `aubio pitch -m yinfft -B ${AUBIO_PITCH_BUFFER} -H <10 ms> -u Hz -s -70`;
  const aubioNotesCommand = aubioSetup ? `aubio notes -B ${aubioSetup.notesBuffer} -H ${AUBIO_NOTES_HOP}` : null;
  const report = {
    aubio: aubioSetup ? { available: true, pitch: aubioPitchCommand, notes: aubioNotesCommand, ...aubioSetup } : { available: false },
    oursMedianOnsetLagSeconds: median(ourLags),
    fixtures: results,
    byKind,
    overall,
    synthetic,
    sung: sungSummary,
    sungClips: sung,
    compared: comparedSummary,
  };

  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const f = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(3));
  if (!aubio) log('aubio not found on PATH (Debian: apt-get install aubio-tools): only our figures are shown.\n');
  else
    log(
      `aubio: ${aubioPitchCommand}; ${aubioNotesCommand} (buffer chosen by best lag-corrected note F). ` +
        `Median onset lag: aubio notes ${(aubioSetup!.medianOnsetLagSeconds * 1000).toFixed(0)} ms, ours ${(report.oursMedianOnsetLagSeconds * 1000).toFixed(0)} ms.\n`,
    );
  const header =
    '| | n | RPA ours | RPA aubio | RCA ours | RCA aubio | note F ours | note F aubio | aubio lag-corrected | note F@50ms ours | note F@50ms aubio |';
  const rule = '|---|---|---|---|---|---|---|---|---|---|---|';
  const row = (label: string, s: ReturnType<typeof summarize>): string =>
    `| ${label} | ${s.fixtures} | ${f(s.ours.rawPitchAccuracy)} | ${f(s.aubio?.rawPitchAccuracy)} | ${f(s.ours.rawChromaAccuracy)} | ${f(s.aubio?.rawChromaAccuracy)} | ` +
    `${f(s.ours.noteF)} | ${f(s.aubio?.noteF)} | ${f(s.aubio?.noteFLagCorrected)} | ${f(s.ours.noteF50)} | ${f(s.aubio?.noteF50)} |`;
  log('Per kind of source (mean over its fixtures):\n');
  log(header.replace('| |', '| kind |'));
  log(rule);
  for (const kind of kinds) log(row(kind, byKind[kind]));
  log(row('**mean**', overall));
  log('\nPer fixture:\n');
  log('| fixture | kind | s | RPA ours | RPA aubio | note F ours (P/R) | note F aubio (P/R) | F@50ms ours | F@50ms aubio | our CPU ms |');
  log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    log(
      `| ${r.name} | ${r.kind} | ${r.seconds.toFixed(1)} | ${f(r.ours.rawPitchAccuracy)} | ${f(r.aubio?.rawPitchAccuracy)} | ` +
        `${f(r.ours.noteF)} (${f(r.ours.notePrecision)}/${f(r.ours.noteRecall)}) | ` +
        `${r.aubio ? `${f(r.aubio.noteF)} (${f(r.aubio.notePrecision)}/${f(r.aubio.noteRecall)})` : '–'} | ${f(r.ours.noteF50)} | ${f(r.aubio?.noteF50)} | ${r.ours.cpuMs.toFixed(0)} |`,
    );
  }
  printSung();
}

await main();
