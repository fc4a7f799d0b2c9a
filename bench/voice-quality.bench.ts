/**
 * `npm run bench:voice`: can a listener make out the words, and is the voice on pitch? For every
 * melody fixture (or the `.flac`/`.wav` files of a folder given as the first argument), the melody is
 * analysed as the pipeline does, three songs' lyrics (three prompts, seeds 1–3) are written and sung by
 * each engine and voice.
 *
 * Intelligibility is a closed-set test: a speech recogniser (CMU pocketsphinx, Debian
 * `pocketsphinx` + `pocketsphinx-en-us`, run as `pocketsphinx_continuous` with a JSGF grammar whose
 * only sentences are the candidates) picks which of ten candidate lines each sung line is. Two candidate
 * sets, both scored: `twins` (as in earlier rounds), the true line and the same line of the lyrics the
 * writer makes with seeds 100, 101, … (so they fit the same notes and share the writer's vocabulary);
 * `open` (the issue's design), the true line and nine lines drawn (seeded) from the songs written for
 * the other prompts. Chance is 0.10; a shuffled-audio control (a line's audio scored against another
 * line's candidates) shows it. Each set is scored with every recogniser setting of
 * closed-set-recogniser.ts (`default`; `frate50` and `tempo2`, fairer to slow material for every row).
 *
 * Engines: `flite` (the default, both voices), `formant` (both voices) and Festival's singing mode
 * (Debian `festival`, `text2wave -mode singing` with its SINGING XML; the `kal` diphone voice) on the
 * same words, notes and durations. Festival's notes are an octave low for its male voice, so only its
 * intelligibility is reported.
 *
 * Pitch: the share of voiced frames within 50 cents of the intended note, by the project's own tracker
 * (the quality check's figure) and by aubio (`aubiopitch -p yinfft`, Debian `aubio-tools`) on the same
 * frames. Also printed: the quality report's clarity estimate (see quality/clarity.ts) and the voice
 * step's CPU time.
 *
 * Run: npm run bench:voice [-- DIR] [--json] [--only=flite] (engines whose name starts so; the speech
 * ceiling and Festival always run) [--quick] (no speech or Festival rows) [--no-speech] (of the rows
 * not sung by our engines, Festival only: no speech rows and no shuffled control, which cost the most
 * recognition time) [--songs=N] (songs per melody, default 3: with 3, ~70 lines, a 0.05 difference is
 * 3–4 lines and within noise)
 * [--first-song=N] (songs N, N+1, …: a held-out set) [--recognisers=default,frate50,tempo2] [--dump=DIR] (every
 * tested line's 16 kHz WAV, candidates and notes, for voice-recogniser-sweep.bench.ts) [--melodies=a,b] (sing
 * only the melodies whose file name starts so; every melody's lines are still written, so each line's
 * candidates are those of the full run and a subset's counts equal the full run's on those melodies)
 * [--plan=FILE] (the written songs and lines are saved to FILE, or read from it when it exists: the
 * lyric writing, the slow part of a short run, is done once for a series of runs on the same tree)
 * [--no-isolate] (the cut of rounds 1–8: keep what a sung line's cut holds of the lines before and after
 * it; by default it is muted, as Festival's lines are synthesised one at a time and padded with silence,
 * see lineWav and docs/decisions.md, issue 11 round 8b; `--isolate` is still accepted and changes nothing)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeMelody } from '../src/audio/analyze.js';
import { createRandom } from '../src/audio/random.js';
import { encodeWav } from '../src/audio/decode/wav.js';
import { resample } from '../src/audio/dsp/resample.js';
import { writeLyrics } from '../src/audio/lyrics/writer.js';
import type { LyricsResult } from '../src/audio/lyrics/lyrics-result.js';
import { sungPitchAccuracy } from '../src/audio/quality/quality.js';
import { vowelClarity } from '../src/audio/quality/clarity.js';
import type { Score, SungNote } from '../src/audio/types.js';
import { validateAndDecode } from '../src/audio/validate/validate.js';
import { singScore, type SingingEngine, type SingResult } from '../src/audio/voice/voice.js';
import { createFfmpegDecoder } from '../src/platform/ffmpeg-decoder.js';
import { loadFliteProgram } from '../src/platform/flite-program.js';
import { runFlite } from '../src/audio/voice/flite/flite-run.js';
import { MELODY_FIXTURE_DIR } from '../test/support/melody-fixtures.js';
import { normalize, recognise, RECOGNISERS, type DumpedLine } from './closed-set-recogniser.js';

const RATE = 44100;
const CANDIDATES = 10;
/** Songs (lyrics) sung per melody by default (`--songs=N` for more), each with its own prompt and seed. */
const SONGS = 3;
/**
 * The recogniser's own limit on slow speech: Flite's speech (already 1.3× slower than its own rate)
 * slowed further by sox's WSOLA (`tempo -s`), to 2× and 3.25× Flite's natural length. Sung vowels are
 * held 3–10× longer than spoken ones, so this row says how much of the gap to the speech ceiling the
 * recogniser itself loses on slow material.
 */
const SLOWED = [0.65, 0.4];
const PROMPTS = [
  'a summer night by the sea with the one I love',
  'walking home alone in the city rain',
  'dancing with my friends until the morning light',
];

interface Line {
  text: string;
  /** The twins set: the true line first, then the same line of the lyrics for other seeds. */
  candidates: string[];
  /** The open set: the true line first, then nine lines written for other prompts. */
  open: string[];
  notes: SungNote[];
}

/** Seed of the open candidate set's draw. */
const OPEN_SEED = 11;

interface Row {
  engine: string;
  lines: number;
  /** Lines identified per `set/recogniser` key. */
  identified: Record<string, number>;
  pitchOwn: number[];
  pitchAubio: number[];
  clarity: number[];
  cpuMs: number;
  audioSeconds: number;
}

/** The sung lyrics (seed 1) and, per line, nine other lines the writer made for the same notes. */
function linesOf(
  song: number,
  notes: Parameters<typeof writeLyrics>[0]['notes'],
  phrases: Parameters<typeof writeLyrics>[0]['phrases'],
  tempo: Parameters<typeof writeLyrics>[0]['tempo'],
): { lyrics: LyricsResult; lines: Line[] } {
  const request = { prompt: PROMPTS[(song - 1) % PROMPTS.length], genre: 'pop', mood: 'happy', notes, phrases, tempo };
  const lyrics = writeLyrics({ ...request, seed: song });
  const all = lyrics.sections.flatMap((s) => s.lines);
  const candidates = all.map((l) => [normalize(l.text)]);
  for (let seed = 100; seed < 160 && candidates.some((c) => c.length < CANDIDATES); seed++) {
    const other = writeLyrics({ ...request, seed }).sections.flatMap((s) => s.lines);
    other.forEach((line, i) => {
      const text = normalize(line.text);
      if (candidates[i] && candidates[i].length < CANDIDATES && text && !candidates[i].includes(text)) candidates[i].push(text);
    });
  }
  const lines = all.map((line, i) => ({
    text: normalize(line.text),
    candidates: candidates[i],
    open: [],
    notes: lyrics.sungNotes.slice(line.firstNote, line.firstNote + line.noteCount),
  }));
  // A line repeated earlier (a chorus) is the same test again: keep the first.
  const seen = new Set<string>();
  return {
    lyrics,
    lines: lines.filter((l) => l.notes.length && l.candidates.length === CANDIDATES && !seen.has(l.text) && seen.add(l.text)),
  };
}

/** The share of intended frames aubio's yinfft finds within 50 cents (frames aubio calls unvoiced are left out). */
function aubioAccuracy(dir: string, samples: Float32Array, intended: SingResult['intendedPitch']): number {
  const file = join(dir, 'song.wav');
  writeFileSync(file, encodeWav([samples], RATE, { bitDepth: 16 }));
  const out = execFileSync('aubiopitch', ['-i', file, '-p', 'yinfft', '-H', '441', '-B', '2048', '-s', '-60'], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const hz = new Map<number, number>();
  for (const row of out.trim().split('\n')) {
    const [t, f] = row.split(/\s+/).map(Number);
    hz.set(Math.round(t * 100), f);
  }
  let frames = 0;
  let within = 0;
  for (let f = 0; f < intended.midi.length; f++) {
    if (intended.midi[f] <= 0) continue;
    const heard = hz.get(Math.round(intended.times[f] * 100)) ?? 0;
    if (!(heard > 0)) continue;
    frames++;
    if (Math.abs(1200 * Math.log2(heard / (440 * Math.pow(2, (intended.midi[f] - 69) / 12)))) <= 50) within++;
  }
  return frames ? within / frames : NaN;
}

/**
 * Cuts one line out of the song (from 0.5 s before its first note to 0.4 s after its last) as 16 kHz WAV.
 * With `isolate` (the default; `--no-isolate` turns it off), what the cut holds of the neighbouring
 * lines is muted (10 ms ramps), as Festival's lines are padded with silence: the span before the
 * previous note's end (the last held note of the line before), and from the first phoneme that starts
 * after this line's last note (the next line's onset consonants) on.
 */
function lineWav(
  dir: string,
  samples: Float32Array,
  rate: number,
  line: Line,
  name: string,
  isolate?: { notes: readonly SungNote[]; phonemes: readonly { start: number }[] },
): string {
  const from = Math.max(0, Math.floor((line.notes[0].start - 0.5) * rate));
  const to = Math.min(samples.length, Math.ceil((line.notes[line.notes.length - 1].end + 0.4) * rate));
  const cut = samples.slice(from, to);
  if (isolate) {
    const first = isolate.notes.indexOf(line.notes[0]);
    const previousEnd = first > 0 ? isolate.notes[first - 1].end : -Infinity;
    const lastEnd = line.notes[line.notes.length - 1].end;
    const nextOnset = isolate.phonemes.find((p) => p.start >= lastEnd - 1e-6)?.start ?? Infinity;
    const ramp = Math.round(0.01 * rate);
    const keepFrom = Math.max(0, Math.round(previousEnd * rate) - from);
    const keepTo = Math.min(cut.length, Math.round(nextOnset * rate) - from);
    for (let n = 0; n < cut.length; n++) {
      const w = Math.min(1, Math.max(0, (n - keepFrom) / ramp), Math.max(0, (keepTo - n) / ramp));
      cut[n] *= w;
    }
  }
  const pcm = rate === 16000 ? cut : resample(cut, rate, 16000);
  const file = join(dir, `${name}.wav`);
  writeFileSync(file, encodeWav([pcm], 16000, { bitDepth: 16 }));
  return file;
}

const NOTE_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];
const noteName = (midi: number) => `${NOTE_NAMES[((Math.round(midi) % 12) + 12) % 12]}${Math.floor(Math.round(midi) / 12) - 1}`;

/**
 * Festival's SINGING XML for one line: one PITCH/DURATION element per word (a word's syllables and
 * melismas as comma-separated notes and beats), rests between; BPM 50, because singing-mode.scm
 * counts `bpm / 50` beats per second, so a beat is one second.
 */
function festivalXml(line: Line): string {
  const parts: string[] = [];
  let word: { text: string; notes: string[]; beats: string[] } | null = null;
  let cursor = line.notes[0].start;
  const flush = () => {
    if (word) parts.push(`<PITCH NOTE="${word.notes.join(',')}"><DURATION BEATS="${word.beats.join(',')}">${word.text}</DURATION></PITCH>`);
    word = null;
  };
  const words = line.text.split(' ');
  let wordIndex = -1;
  for (const note of line.notes) {
    if (note.start - cursor > 0.05) {
      flush();
      parts.push(`<REST BEATS="${(note.start - cursor).toFixed(3)}"></REST>`);
    }
    const starts = !note.continuation && (note.syllabic === 'single' || note.syllabic === 'begin');
    if (starts || !word) {
      flush();
      wordIndex++;
      word = { text: words[Math.min(wordIndex, words.length - 1)] ?? 'la', notes: [], beats: [] };
    }
    const current = word as { notes: string[]; beats: string[] };
    current.notes.push(noteName(note.midi - 12));
    current.beats.push((note.end - note.start).toFixed(3));
    cursor = note.end;
  }
  flush();
  return `<?xml version="1.0"?>\n<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" "Singing.v0_1.dtd" []>\n<SINGING BPM="50">\n${parts.join('\n')}\n</SINGING>\n`;
}

function festivalLine(dir: string, line: Line): string | null {
  const xml = join(dir, 'line.xml');
  writeFileSync(xml, festivalXml(line));
  const out = join(dir, 'festival.wav');
  const result = spawnSync('text2wave', ['-mode', 'singing', xml, '-o', out], { stdio: 'ignore' });
  if (result.status !== 0) return null;
  // Festival writes 16 kHz mono; pad it as the sung lines are cut (0.5 s before, 0.4 s after).
  const wav = readFileSync(out);
  const pcm = new Float32Array((wav.length - 44) / 2);
  for (let i = 0; i < pcm.length; i++) pcm[i] = wav.readInt16LE(44 + 2 * i) / 32768;
  const padded = new Float32Array(pcm.length + 0.9 * 16000);
  padded.set(pcm, 0.5 * 16000);
  const file = join(dir, 'festival-line.wav');
  writeFileSync(file, encodeWav([padded], 16000, { bitDepth: 16 }));
  return file;
}

/**
 * The issue's candidate design ("open" set): for each line, nine distractors drawn (seeded) from the
 * lines of the songs written for other prompts (and mostly other melodies), so they differ in
 * words, length and rhythm, as ten unrelated candidate lyric lines do. The "twins" set (same notes,
 * same syllable counts, other seeds) stays the harder default so earlier rows remain comparable.
 */
function openCandidates(songs: { prompt: number; lines: Line[] }[], seed: number): void {
  const pool = songs.flatMap((s, song) => s.lines.map((l) => ({ text: l.text, prompt: s.prompt, song })));
  const random = createRandom(seed);
  for (const [index, song] of songs.entries()) {
    const otherPrompts = [...new Set(pool.filter((p) => p.prompt !== song.prompt).map((p) => p.text))];
    // With one prompt only (e.g. `--songs=1`), fall back to the other songs' lines.
    const others = otherPrompts.length >= CANDIDATES ? otherPrompts : [...new Set(pool.filter((p) => p.song !== index).map((p) => p.text))];
    for (const line of song.lines) {
      const choice = others.filter((t) => t !== line.text);
      const picked: string[] = [];
      while (picked.length < CANDIDATES - 1 && choice.length) picked.push(choice.splice(Math.floor(random() * choice.length), 1)[0]);
      // The true line's place among the candidates does not matter to the recogniser; keep it first.
      line.open = [line.text, ...picked];
    }
  }
}

type Plan = { file: string; prompt: number; score: Score; lines: Line[] }[];

/**
 * `--plan=FILE`: the written songs (scores and lines with their candidates) as JSON, each line's notes
 * as indices into its song's notes, so a later run reads them back with the same note objects (the
 * muted cut finds a line's previous note by identity) instead of writing every melody's lyrics again.
 */
function writePlan(file: string, plan: Plan): void {
  const saved = plan.map((p) => ({
    ...p,
    lines: p.lines.map(({ notes, ...line }) => ({ ...line, first: p.score.notes.indexOf(notes[0]), count: notes.length })),
  }));
  writeFileSync(file, JSON.stringify(saved));
}

function readPlan(file: string): Plan {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as (Omit<Plan[number], 'lines'> & {
    lines: (Omit<Line, 'notes'> & { first: number; count: number })[];
  })[];
  return saved.map((p) => ({
    ...p,
    lines: p.lines.map(({ first, count, ...line }) => ({ ...line, notes: p.score.notes.slice(first, first + count) })),
  }));
}

/** Rows are counted per candidate set and recogniser setting; keys like `twins/default`. */
const SETS = ['twins', 'open'] as const;
type CandidateSet = (typeof SETS)[number];
const candidatesOf = (line: Line, set: CandidateSet) => (set === 'twins' ? line.candidates : line.open);

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const folder = args.find((a) => !a.startsWith('--')) ?? MELODY_FIXTURE_DIR;
  const files = readdirSync(folder)
    .filter((f) => /\.(flac|wav)$/i.test(f))
    .sort();
  const dir = mkdtempSync(join(tmpdir(), 'mv-bench-voice-'));
  const flite = loadFliteProgram();
  const engines: { name: string; engine: SingingEngine; voice: string }[] = [
    { name: 'flite high (slt)', engine: 'flite', voice: 'high' },
    { name: 'flite low (awb)', engine: 'flite', voice: 'low' },
    { name: 'formant high', engine: 'formant', voice: 'high' },
    { name: 'formant low', engine: 'formant', voice: 'low' },
  ];
  const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  if (only) engines.splice(0, engines.length, ...engines.filter((e) => e.name.startsWith(only)));
  const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const chosen = option('recognisers')?.split(',');
  const recognisers = RECOGNISERS.filter((r) => !chosen || chosen.includes(r.name));
  if (!recognisers.length) throw new Error(`--recognisers= takes names among ${RECOGNISERS.map((r) => r.name).join(', ')}.`);
  const dump = option('dump');
  const isolate = !args.includes('--no-isolate');
  const manifest: DumpedLine[] = [];
  const rows = new Map<string, Row>();
  const row = (name: string) =>
    rows.get(name) ??
    (rows
      .set(name, { engine: name, lines: 0, identified: {}, pitchOwn: [], pitchAubio: [], clarity: [], cpuMs: 0, audioSeconds: 0 })
      .get(name) as Row);
  const perFixture: Record<string, Record<string, Record<string, string>>> = {};
  const tally = (file: string, key: string, name: string, hit: number, total: number) => {
    const byName = (perFixture[key] ??= {});
    const r = (byName[file] ??= {});
    const [h, t] = (r[name] ?? '0/0').split('/').map(Number);
    r[name] = `${h + hit}/${t + total}`;
  };
  /** Recognises one line's audio with every candidate set and recogniser setting and counts it in `name`'s row. */
  const test = (file: string, name: string, wav: string | null, line: Line, short: string) => {
    const r = row(name);
    r.lines++;
    if (dump && wav) {
      const kept = join(dump, `${manifest.length}.wav`);
      writeFileSync(kept, readFileSync(wav));
      const origin = Math.max(0, line.notes[0].start - 0.5);
      const notes = line.notes.map((n) => ({ start: n.start - origin, end: n.end - origin, midi: n.midi, phonemes: n.phonemes }));
      manifest.push({ row: name, file, truth: line.text, twins: line.candidates, open: line.open, notes });
    }
    for (const recogniser of recognisers)
      for (const set of SETS) {
        const key = `${set}/${recogniser.name}`;
        const hit = wav !== null && recognise(dir, wav, candidatesOf(line, set), recogniser) === line.text ? 1 : 0;
        r.identified[key] = (r.identified[key] ?? 0) + hit;
        tally(file, key, short, hit, 1);
      }
  };
  const quick = args.includes('--quick');
  const noSpeech = args.includes('--no-speech');
  const songs = Number(option('songs') ?? SONGS);
  if (!Number.isInteger(songs) || songs < 1) throw new Error('--songs= takes a whole number of songs per melody, at least 1.');
  const firstSong = Number(option('first-song') ?? 1);
  if (!Number.isInteger(firstSong) || firstSong < 1) throw new Error('--first-song= takes a whole number, at least 1.');
  if (dump) mkdirSync(dump, { recursive: true });
  try {
    // First every song's lines (cheap), so the open candidate set can draw on all of them.
    const planFile = option('plan');
    const planned: Plan = planFile && existsSync(planFile) ? readPlan(planFile) : [];
    for (const file of planned.length ? [] : files) {
      const { audio } = await validateAndDecode(new Uint8Array(readFileSync(join(folder, file))), {
        decoder: createFfmpegDecoder(),
        fileName: file,
      });
      const analysis = analyzeMelody(audio);
      for (let song = firstSong; song < firstSong + songs; song++) {
        const { lyrics, lines } = linesOf(song, analysis.notes, analysis.phrases, analysis.tempo);
        planned.push({
          file,
          prompt: (song - 1) % PROMPTS.length,
          score: { notes: lyrics.sungNotes, tempo: analysis.tempo, key: analysis.key },
          lines,
        });
      }
    }
    if (planFile && !existsSync(planFile)) writePlan(planFile, planned);
    openCandidates(planned, OPEN_SEED);
    const everyLine = planned.flatMap((p) => p.lines);
    const melodies = option('melodies')?.split(',');
    for (const { file, score, lines } of planned) {
      if (melodies && !melodies.some((m) => file.startsWith(m))) continue;
      for (const [engineIndex, e] of engines.entries()) {
        const cpu = process.cpuUsage();
        const sung = singScore(score, { engine: e.engine, flite, voice: e.voice, sampleRate: RATE, seed: 1 });
        const used = process.cpuUsage(cpu);
        const r = row(e.name);
        r.cpuMs += (used.user + used.system) / 1000;
        r.audioSeconds += sung.samples.length / RATE;
        r.pitchOwn.push(sungPitchAccuracy(sung.samples, RATE, sung.intendedPitch));
        r.pitchAubio.push(aubioAccuracy(dir, sung.samples, sung.intendedPitch));
        r.clarity.push(vowelClarity(sung.samples, RATE, sung.phonemes).score);
        for (const [i, line] of lines.entries()) {
          const wav = lineWav(
            dir,
            sung.samples,
            RATE,
            line,
            `line-${i}`,
            isolate ? { notes: score.notes, phonemes: sung.phonemes } : undefined,
          );
          test(file, e.name, wav, line, e.name.split(' ').slice(0, 2).join(' '));
          if (engineIndex === 0 && !quick && !noSpeech) {
            // Shuffled-audio control: this line's audio against another line's candidates (the next
            // line of all songs), scored as if it were that line. Expected at chance.
            const other = everyLine[(everyLine.indexOf(line) + 1) % everyLine.length];
            test(file, `control: ${e.name} audio of another line`, wav, other, 'shuffled');
          }
        }
      }
      if (!quick)
        for (const line of lines) {
          test(file, 'festival singing mode (kal)', festivalLine(dir, line), line, 'festival');
          if (noSpeech) continue;
          const phones = ['pau', ...line.notes.flatMap((n) => n.phonemes.map((p) => p.toLowerCase())), 'pau'];
          const said = runFlite(flite, { voice: 'slt', phones, f0Hz: 180 });
          const speechFile = join(dir, 'speech.wav');
          writeFileSync(speechFile, encodeWav([said.samples], said.sampleRate, { bitDepth: 16 }));
          test(file, 'flite slt speaking the line (a speech ceiling)', speechFile, line, 'speech');
          for (const tempo of SLOWED) {
            const slowFile = join(dir, 'slow.wav');
            const ok = spawnSync('sox', [speechFile, slowFile, 'tempo', '-s', String(tempo)], { stdio: 'ignore' }).status === 0;
            const times = (1.3 / tempo).toFixed(2);
            test(
              file,
              `flite slt speaking the line ${times}x slower than natural (sox tempo)`,
              ok ? slowFile : null,
              line,
              `speech ${times}x`,
            );
          }
        }
      process.stderr.write(`${file}: ${JSON.stringify(perFixture[`${SETS[0]}/${recognisers[0].name}`]?.[file] ?? {})}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (dump) writeFileSync(join(dump, 'manifest.json'), JSON.stringify(manifest));
  }
  const mean = (xs: number[]) =>
    xs.length ? xs.filter(Number.isFinite).reduce((a, b) => a + b, 0) / xs.filter(Number.isFinite).length : NaN;
  const min = (xs: number[]) => (xs.length ? Math.min(...xs.filter(Number.isFinite)) : NaN);
  const list = [...rows.values()];
  if (json) {
    process.stdout.write(`${JSON.stringify({ fixtures: files.length, rows: list, perFixture }, null, 2)}\n`);
    return;
  }
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
  const share = (r: Row, key: string) => `${f((r.identified[key] ?? 0) / r.lines)} (${r.identified[key] ?? 0}/${r.lines})`;
  console.log(
    `Closed-set intelligibility (pocketsphinx en-us, ${CANDIDATES} candidates a line, chance 0.10) and pitch over ${files.length} melodies`,
  );
  console.log('Candidate sets: twins = the same line of the lyrics for other seeds (same notes and syllable counts; the');
  console.log("harder set, as in earlier rounds); open = 9 lines of other prompts' songs drawn at random (the issue's design).");
  console.log('');
  const keys = recognisers.flatMap((r) => SETS.map((s) => `${s}/${r.name}`));
  console.log(
    `| engine, voice | ${keys.map((k) => `lines identified, ${k}`).join(' | ')} | pitch ≤ 50 c, own tracker (mean / worst) | pitch ≤ 50 c, aubio (mean / worst) | vowel clarity (mean) | voice CPU ms per s of audio |`,
  );
  console.log(`| --- | ${keys.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: |`);
  for (const r of list) {
    const sung = r.pitchOwn.length > 0;
    console.log(
      `| ${r.engine} | ${keys.map((k) => share(r, k)).join(' | ')} | ${sung ? `${f(mean(r.pitchOwn))} / ${f(min(r.pitchOwn))}` : '–'} | ${sung ? `${f(mean(r.pitchAubio))} / ${f(min(r.pitchAubio))}` : '–'} | ${sung ? f(mean(r.clarity)) : '–'} | ${sung ? (r.cpuMs / r.audioSeconds).toFixed(1) : '–'} |`,
    );
  }
  for (const key of keys) {
    console.log('');
    console.log(
      `Per melody, ${key}: ${Object.entries(perFixture[key] ?? {})
        .map(
          ([name, r]) =>
            `${name} ${Object.entries(r)
              .map(([k, v]) => `${k} ${v}`)
              .join(', ')}`,
        )
        .join('; ')}`,
    );
  }
}

await main();
