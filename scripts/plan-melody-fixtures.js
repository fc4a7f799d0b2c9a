#!/usr/bin/env node
/**
 * Plans the melody fixtures rendered by scripts/make-melody-fixtures.sh: the melodies themselves (notes in
 * beats), the renderer input for each (a Standard MIDI File for fluidsynth, a Festival SINGING XML for the
 * voice, a raw tone for the synthetic whistle) and the known truth (`<name>.truth.json`).
 *
 * Usage: node scripts/plan-melody-fixtures.js <work-dir> <fixture-dir> [--festival-timing]
 *   writes <work-dir>/<name>.mid | .xml | .tone.wav, <work-dir>/manifest.tsv and <fixture-dir>/<name>.truth.json;
 *   with --festival-timing (after Festival has rendered and dumped <work-dir>/<name>.timing.txt) it rewrites the
 *   truth of the sung fixtures from what Festival actually rendered.
 *
 * Everything here is deterministic (no clock, a seeded generator for the whistle's jitter), so running it twice
 * gives byte-identical plans and truth. Dev-time only: CI never runs it.
 *
 * Truth conventions (also in test/fixtures/melodies/README.md):
 * - `notes`: what was asked of the renderer: onset = note-on (MIDI) or the syllable's requested start
 *   (Festival), end = note-off; `midi` is an integer MIDI note (A4 = 69 = 440 Hz) except where said.
 * - `f0.hz[i]` is the reference f0 at t = i * hop (hop 0.01 s): the note's frequency while it sounds, 0 in rests.
 *   Release tails after note-off are marked unvoiced (0) although instruments still ring there: standard
 *   raw pitch accuracy counts only voiced reference frames, so a tail that an estimator tracks costs nothing.
 *   For the same reason the first TRANSITION_SECONDS of a note that starts while a note of another pitch is
 *   still releasing (note-off less than RELEASE_SECONDS earlier) are unvoiced: the sampled release overlaps
 *   the new attack, and on the flute the old pitch measurably dominates for 30–70 ms after the new note-on.
 * - Sung fixtures (Festival singing mode): Festival shifts each syllable so that its consonant straddles the
 *   requested time (singing-mode.scm, singing_adjcons_syllable), so the truth is taken from the utterance
 *   Festival rendered: a note spans its syllable (Syllable relation start/end, consonant included, all of
 *   l/m/n being voiced) and the f0 is Festival's own f0 target contour (Target relation, linear between
 *   targets, as UniSyn builds it) inside syllables, 0 between them. So the glides Festival makes between
 *   adjacent syllables (over 10 % of each side) are in the reference as glides.
 * - The whistle's f0 is its exact synthesised instantaneous frequency.
 */
import { Buffer } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';
import midiFile from 'midi-file';

const HOP = 0.01;
/** Seconds of silence kept after the last note-off (release tails ring into it). */
const TAIL = 0.8;
/** Seconds of silence before the first note. */
const LEAD = 0.3;

const NAMES = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

/** `C#4` → 61, `Bb2` → 46 (scientific pitch notation, C4 = 60). */
function noteToMidi(name) {
  const m = /^([A-G])(#|b)?(-?\d)$/.exec(name);
  if (!m) throw new Error(`bad note ${name}`);
  return NAMES[m[1]] + (m[2] === '#' ? 1 : m[2] === 'b' ? -1 : 0) + 12 * (Number(m[3]) + 1);
}

const midiToHz = (midi) => 440 * Math.pow(2, (midi - 69) / 12);

/**
 * Parses a melody written as space-separated tokens `NOTE:beats[:gate]` or `r:beats` (rest); `|` is ignored
 * (bar lines for the reader). `gate` is the sounding share of the slot (default given per melody): 1 = legato,
 * 0.5 = staccato. Returns notes in seconds from LEAD.
 */
function parseMelody(text, bpm, defaultGate) {
  const beat = 60 / bpm;
  const notes = [];
  let t = LEAD;
  for (const token of text.trim().split(/\s+/)) {
    if (token === '|') continue;
    const [name, beatsText, gateText] = token.split(':');
    const slot = Number(beatsText) * beat;
    if (!(slot > 0)) throw new Error(`bad token ${token}`);
    if (name !== 'r') {
      const gate = gateText === undefined ? defaultGate : Number(gateText);
      notes.push({ start: round(t), end: round(t + slot * gate), midi: noteToMidi(name) });
    }
    t += slot;
  }
  return notes;
}

const round = (x) => Math.round(x * 1e6) / 1e6;

/**
 * The melodies. Each covers some of: repeated notes, legato steps, leaps, rests between phrases; together they
 * span several tempos and keys and a range from C2 (65 Hz) to F6 (1397 Hz).
 */
const MELODIES = [
  {
    name: 'piano-waltz',
    kind: 'piano',
    renderer: 'fluidsynth',
    program: 0,
    bpm: 138,
    gate: 0.92,
    description: 'Acoustic Grand Piano, G major 3/4 at 138 bpm: repeated notes, octave and sixth leaps, two phrases (G3–E5)',
    melody: `G4:1 G4:1 B4:1 | D5:2 B4:1 | C5:1 A4:1 F#4:1 | G4:2 r:1 |
             D4:1 D4:1 G4:1 | E5:2 D5:1 | C5:1 B4:1 A4:1 | G3:1 G4:1 r:1 | B4:1 A4:1 F#4:1 | G4:3`,
  },
  {
    name: 'piano-staccato-minor',
    kind: 'piano',
    renderer: 'fluidsynth',
    program: 0,
    bpm: 96,
    gate: 0.5,
    description: 'Acoustic Grand Piano, C minor at 96 bpm, staccato eighths with repeated notes and a low register (C3–G4)',
    melody: `C4:0.5 C4:0.5 Eb4:0.5 G4:0.5 | F4:0.5 Eb4:0.5 D4:1:0.9 | r:0.5 G3:0.5 G3:0.5 Bb3:0.5 | D4:0.5 C4:0.5 Bb3:1:0.9 |
             r:0.5 Ab3:0.5 C4:0.5 Eb4:0.5 | D4:0.5 B3:0.5 G3:0.5 C3:0.5 | C4:2:0.9`,
  },
  {
    name: 'flute-high',
    kind: 'flute',
    renderer: 'fluidsynth',
    program: 73,
    bpm: 84,
    gate: 0.97,
    description: 'Flute, D major at 84 bpm, legato steps and leaps up to F6 (1397 Hz), one breath rest (D5–F6)',
    melody: `D5:1 F#5:0.5 A5:0.5 | D6:1.5 C#6:0.5 | B5:0.5 A5:0.5 G5:0.5 F#5:0.5 | E5:1.5 r:0.5 |
             A5:0.5 B5:0.5 C#6:0.5 E6:0.5 | F6:1 E6:0.5 D6:0.5 | A5:1 D6:2:0.95`,
  },
  {
    name: 'violin-legato',
    kind: 'violin',
    renderer: 'fluidsynth',
    program: 40,
    bpm: 72,
    gate: 1,
    description: 'Violin, A minor at 72 bpm, slurred steps, a rest, then a climb with a tenth leap (G3–A5)',
    melody: `A4:1 B4:0.5 C5:0.5 | D5:1 C5:0.5 B4:0.5 | A4:1.5 E4:0.5:0.9 | E4:1:0.9 r:1 |
             G3:0.5 C4:0.5 E4:0.5 A4:0.5 | C5:1 E5:0.5 A5:0.5 | G#4:2:0.95`,
  },
  {
    name: 'trumpet-fanfare',
    kind: 'brass',
    renderer: 'fluidsynth',
    program: 56,
    bpm: 112,
    gate: 0.8,
    description: 'Trumpet, Bb major at 112 bpm, tongued repeated notes, fourth/fifth/octave leaps, two phrases (F4–F5)',
    melody: `F4:0.5 F4:0.5 F4:0.5 Bb4:0.5 | D5:1 Bb4:1 | F5:1.5 D5:0.5 | Bb4:2 | r:1 F4:0.5 G4:0.5 |
             A4:0.5 A4:0.5 C5:0.5 A4:0.5 | F4:1 F5:1 | Bb4:2:0.9`,
  },
  {
    name: 'clarinet-folk',
    kind: 'reed',
    renderer: 'fluidsynth',
    program: 71,
    bpm: 100,
    gate: 0.93,
    description: 'Clarinet, F major at 100 bpm, a folk-like line in the chalumeau and clarion registers with repeated notes (E3–C5)',
    melody: `C4:0.5 F4:0.5 F4:0.5 G4:0.5 | A4:1 F4:1 | G4:0.5 G4:0.5 A4:0.5 Bb4:0.5 | C5:2 | r:0.5 E3:0.5 G3:0.5 C4:0.5 |
             Bb3:1 A3:0.5 G3:0.5 | F3:2:0.95`,
  },
  {
    name: 'cello-low',
    kind: 'bass',
    renderer: 'fluidsynth',
    program: 42,
    bpm: 66,
    gate: 0.95,
    description: 'Cello, E minor at 66 bpm in the bass register, steps, repeated notes and an octave leap (C2–C3, 65–131 Hz)',
    melody: `E2:1 G2:0.5 B2:0.5 | C3:1 B2:0.5 A2:0.5 | B2:1 B2:1 | r:1 E2:0.5 F#2:0.5 | G2:0.5 A2:0.5 B2:0.5 C2:0.5 | E2:2`,
  },
  {
    name: 'tuba-walk',
    kind: 'bass',
    renderer: 'fluidsynth',
    program: 58,
    bpm: 104,
    gate: 0.85,
    description: 'Tuba, D major at 104 bpm, a walking line with repeats and leaps between D2 and D3 (73–147 Hz)',
    melody: `D2:1 F#2:1 A2:1 D3:1 | C#3:0.5 B2:0.5 A2:0.5 A2:0.5 G2:1 E2:1 | r:1 | A2:1 A2:0.5 B2:0.5 C#3:1 E2:1 | D2:2`,
  },
  {
    name: 'voice-la',
    kind: 'voice',
    renderer: 'festival',
    bpm: 100,
    gate: 1,
    description: 'Festival kal_diphone (male) singing mode on "la/loo/na/noon" syllables, E major at 100 bpm (B2–E4)',
    melody: `E3:1 E3:0.5 F#3:0.5 G#3:1 B3:1 | A3:0.5 G#3:0.5 F#3:1 E3:1 r:1 |
             B3:1 E4:1 C#4:0.5 B3:0.5 A3:1 | G#3:0.5 F#3:0.5 B2:1 E3:2`,
    syllables: ['la', 'la', 'loo', 'la', 'na', 'la', 'loo', 'noon', 'la', 'la', 'loo', 'na', 'la', 'la', 'loo', 'noon'],
  },
  {
    name: 'hum-mum',
    kind: 'hum',
    renderer: 'festival',
    bpm: 80,
    gate: 1,
    lowpassHz: 500,
    description:
      'Hum-like: Festival kal_diphone singing "mum/moon" syllables, low-passed at 500 Hz (two 2-pole sections) to imitate a closed-mouth hum; G major at 80 bpm (G2–D4)',
    melody: `G2:1 B2:0.5 D3:0.5 G3:1 G3:1 | F#3:0.5 E3:0.5 D3:1 r:1 |
             D3:0.5 E3:0.5 F#3:0.5 A3:0.5 D4:1 B3:1 | A3:0.5 F#3:0.5 G3:2`,
    syllables: ['mum'],
  },
  {
    name: 'whistle-synth',
    kind: 'whistle',
    renderer: 'tone',
    bpm: 116,
    gate: 0.9,
    description:
      'SYNTHETIC whistle: sine with 3 % second harmonic, 5.5 Hz ±20 cent vibrato after 150 ms, 30 ms rising scoop, plus sox pink-noise breath band-passed at 2.5 kHz (−30 dB); C major at 116 bpm (G5–F6, 784–1397 Hz)',
    melody: `C6:1 E6:0.5 D6:0.5 | C6:1 A5:1 | D6:0.5 D6:0.5 E6:0.5 F6:0.5 | E6:2 | r:1 G5:0.5 A5:0.5 |
             C6:1 F6:1 | E6:0.5 D6:0.5 C6:1:0.95`,
  },
];

/** Seconds after a note-off during which a sampled instrument's release still sounds loud enough to matter. */
const RELEASE_SECONDS = 0.15;
/** Seconds at the start of a note, overlapped by another pitch's release, that the reference leaves unvoiced. */
const TRANSITION_SECONDS = 0.05;

/**
 * f0 reference on the HOP grid: the note's pitch (or `toneHz(t)`) while a note sounds, 0 elsewhere; with
 * `releaseOverlap`, also 0 over the first TRANSITION_SECONDS of a note that starts within RELEASE_SECONDS of
 * the note-off of a note of another pitch.
 */
function f0Truth(notes, duration, toneHz, releaseOverlap = false) {
  const frames = Math.floor(duration / HOP) + 1;
  const hz = new Array(frames).fill(0);
  for (let i = 0; i < frames; i++) {
    const t = i * HOP;
    const index = notes.findIndex((n) => t >= n.start && t < n.end);
    if (index < 0) continue;
    const note = notes[index];
    const previous = notes[index - 1];
    const overlapped = releaseOverlap && previous && previous.midi !== note.midi && note.start - previous.end < RELEASE_SECONDS;
    if (overlapped && t < note.start + TRANSITION_SECONDS - 1e-9) continue;
    hz[i] = round2(toneHz ? toneHz(t) : midiToHz(note.midi));
  }
  return hz;
}

/**
 * Truth of a sung fixture from Festival's dump (`syllable <start> <end>` and `target <time> <hz>` lines): the
 * requested notes' pitches on the syllables Festival rendered, and its f0 target contour inside them.
 */
function festivalTruth(timingFile, notes, duration) {
  const lines = fs
    .readFileSync(timingFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split(' '));
  const syllables = lines.filter((l) => l[0] === 'syllable').map((l) => [Number(l[1]), Number(l[2])]);
  const targets = lines
    .filter((l) => l[0] === 'target')
    .map((l) => [Number(l[1]), Number(l[2])])
    .sort((a, b) => a[0] - b[0]);
  if (syllables.length !== notes.length) throw new Error(`${timingFile}: ${syllables.length} syllables for ${notes.length} notes`);
  const sung = notes.map((note, i) => ({ start: round(syllables[i][0]), end: round(syllables[i][1]), midi: note.midi }));
  const contour = (t) => {
    if (t <= targets[0][0]) return targets[0][1];
    for (let k = 1; k < targets.length; k++) {
      const [t1, f1] = targets[k];
      if (t <= t1) {
        const [t0, f0] = targets[k - 1];
        return t1 > t0 ? f0 + ((f1 - f0) * (t - t0)) / (t1 - t0) : f1;
      }
    }
    return targets[targets.length - 1][1];
  };
  return { notes: sung, hz: f0Truth(sung, duration, contour) };
}

const round2 = (x) => Math.round(x * 100) / 100;

// ---------------------------------------------------------------- fluidsynth: Standard MIDI File
function writeMidiFile(file, melody, notes) {
  const ticksPerBeat = 480;
  const secondsPerTick = 60 / melody.bpm / ticksPerBeat;
  const events = [];
  notes.forEach((note, index) => {
    // Accent every phrase start and the first note, otherwise a gentle deterministic swell.
    const velocity = index === 0 || notes[index - 1].end < note.start - 1e-6 ? 100 : 80 + ((index * 7) % 13);
    events.push({ tick: Math.round(note.start / secondsPerTick), order: 1, type: 'noteOn', noteNumber: note.midi, velocity });
    events.push({ tick: Math.round(note.end / secondsPerTick), order: 0, type: 'noteOff', noteNumber: note.midi, velocity: 0 });
  });
  events.sort((a, b) => a.tick - b.tick || a.order - b.order);
  const track = [
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat: Math.round(60_000_000 / melody.bpm) },
    { deltaTime: 0, type: 'programChange', channel: 0, programNumber: melody.program },
  ];
  let last = 0;
  for (const e of events) {
    track.push({ deltaTime: e.tick - last, type: e.type, channel: 0, noteNumber: e.noteNumber, velocity: e.velocity });
    last = e.tick;
  }
  track.push({ deltaTime: Math.round(TAIL / secondsPerTick), meta: true, type: 'endOfTrack' });
  const bytes = midiFile.writeMidi({ header: { format: 0, numTracks: 1, ticksPerBeat }, tracks: [track] });
  fs.writeFileSync(file, Buffer.from(bytes));
}

// ---------------------------------------------------------------- Festival singing mode
function writeSingingXml(file, melody, notes) {
  const lines = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE SINGING PUBLIC "-//SINGING//DTD SINGING mark up//EN" "Singing.v0_1.dtd" []>',
    // BPM is required by the DTD; every duration below is given in SECONDS so it is not used.
    '<SINGING BPM="60">',
  ];
  let t = 0;
  notes.forEach((note, index) => {
    if (note.start > t + 1e-6) lines.push(`<REST SECONDS="${(note.start - t).toFixed(4)}"></REST>`);
    const syllable = melody.syllables[index % melody.syllables.length];
    // FREQ in Hz, not NOTE: singing-mode.scm names notes an octave above scientific pitch notation (A5 = 440 Hz).
    lines.push(
      `<DURATION SECONDS="${(note.end - note.start).toFixed(4)}"><PITCH FREQ="${midiToHz(note.midi).toFixed(3)}">${syllable}</PITCH></DURATION>`,
    );
    t = note.end;
  });
  lines.push('</SINGING>', '');
  fs.writeFileSync(file, lines.join('\n'));
}

// ---------------------------------------------------------------- synthetic whistle
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Instantaneous f0 of the whistle at time t (Hz), 0 outside notes. */
function whistleHz(notes, seed) {
  const random = mulberry32(seed);
  const phases = notes.map(() => random() * 2 * Math.PI);
  return (t) => {
    for (let n = 0; n < notes.length; n++) {
      const note = notes[n];
      if (t < note.start || t >= note.end) continue;
      const u = t - note.start;
      let cents = 0;
      if (u < 0.03) cents -= 40 * (1 - u / 0.03); // scoop up from -40 cents over 30 ms
      if (u > 0.15) cents += 20 * Math.min(1, (u - 0.15) / 0.1) * Math.sin(2 * Math.PI * 5.5 * (u - 0.15) + phases[n]);
      return midiToHz(note.midi) * Math.pow(2, cents / 1200);
    }
    return 0;
  };
}

function writeToneWav(file, notes, duration, f0, sampleRate) {
  const length = Math.round(duration * sampleRate);
  const pcm = Buffer.alloc(44 + length * 2);
  let phase = 0;
  for (let i = 0; i < length; i++) {
    const t = i / sampleRate;
    const hz = f0(t);
    let env = 0;
    if (hz > 0) {
      const note = notes.find((n) => t >= n.start && t < n.end);
      const u = t - note.start;
      const v = note.end - t;
      env = Math.min(1, u / 0.025, v / 0.03);
      phase += (2 * Math.PI * hz) / sampleRate;
    }
    const s = env * 0.5 * (Math.sin(phase) + 0.03 * Math.sin(2 * phase));
    pcm.writeInt16LE(Math.max(-32767, Math.min(32767, Math.round(s * 32767))), 44 + i * 2);
  }
  pcm.write('RIFF', 0);
  pcm.writeUInt32LE(36 + length * 2, 4);
  pcm.write('WAVEfmt ', 8);
  pcm.writeUInt32LE(16, 16);
  pcm.writeUInt16LE(1, 20);
  pcm.writeUInt16LE(1, 22);
  pcm.writeUInt32LE(sampleRate, 24);
  pcm.writeUInt32LE(sampleRate * 2, 28);
  pcm.writeUInt16LE(2, 32);
  pcm.writeUInt16LE(16, 34);
  pcm.write('data', 36);
  pcm.writeUInt32LE(length * 2, 40);
  fs.writeFileSync(file, pcm);
}

/** JSON with one note per line and the f0 array on one line: readable in a diff, small on disk. */
function formatTruth(truth) {
  const { notes, f0, ...head } = truth;
  const lines = Object.entries(head).map(([key, value]) => `  ${JSON.stringify(key)}: ${JSON.stringify(value)},`);
  lines.push('  "notes": [', notes.map((note) => `    ${JSON.stringify(note)}`).join(',\n'), '  ],');
  lines.push(`  "f0": ${JSON.stringify(f0)}`);
  return `{\n${lines.join('\n')}\n}\n`;
}

// ---------------------------------------------------------------- main
const [workDir, fixtureDir, mode] = process.argv.slice(2);
if (!workDir || !fixtureDir) {
  console.error('usage: node scripts/plan-melody-fixtures.js <work-dir> <fixture-dir>');
  process.exit(2);
}
fs.mkdirSync(workDir, { recursive: true });
fs.mkdirSync(fixtureDir, { recursive: true });
const manifest = [];
for (const melody of MELODIES) {
  const notes = parseMelody(melody.melody, melody.bpm, melody.gate);
  const duration = round(notes[notes.length - 1].end + TAIL);
  // Festival renders at 16 kHz; keep that rather than inventing bandwidth. Everything else ships at 22.05 kHz.
  const sampleRate = melody.renderer === 'festival' ? 16000 : 22050;
  let toneHz = null;
  if (mode === '--festival-timing') {
    if (melody.renderer !== 'festival') continue;
    const file = path.join(fixtureDir, `${melody.name}.truth.json`);
    const truth = JSON.parse(fs.readFileSync(file, 'utf8'));
    const sung = festivalTruth(path.join(workDir, `${melody.name}.timing.txt`), notes, duration);
    fs.writeFileSync(file, formatTruth({ ...truth, notes: sung.notes, f0: { hop: HOP, hz: sung.hz } }));
    continue;
  }
  if (melody.renderer === 'fluidsynth') writeMidiFile(path.join(workDir, `${melody.name}.mid`), melody, notes);
  if (melody.renderer === 'festival') writeSingingXml(path.join(workDir, `${melody.name}.xml`), melody, notes);
  if (melody.renderer === 'tone') {
    toneHz = whistleHz(notes, 7);
    writeToneWav(path.join(workDir, `${melody.name}.tone.wav`), notes, duration, toneHz, sampleRate);
  }
  const truth = {
    name: melody.name,
    kind: melody.kind,
    description: melody.description,
    sampleRate,
    duration,
    bpm: melody.bpm,
    notes,
    f0: { hop: HOP, hz: f0Truth(notes, duration, toneHz, melody.renderer === 'fluidsynth') },
  };
  fs.writeFileSync(path.join(fixtureDir, `${melody.name}.truth.json`), formatTruth(truth));
  manifest.push([melody.name, melody.renderer, melody.program ?? '-', sampleRate, duration, melody.lowpassHz ?? '-'].join('\t'));
}
if (mode !== '--festival-timing') {
  fs.writeFileSync(path.join(workDir, 'manifest.tsv'), manifest.join('\n') + '\n');
  console.log(`planned ${MELODIES.length} melodies in ${workDir}`);
}
