/**
 * Step 8 of note segmentation (notes.ts): repeated notes sung on one pitch, split where a new syllable
 * starts although the level barely moves (issue 12, sixth pass).
 *
 * Two syllables sung legato on one pitch ("mi mi", "la la") are joined by a voiced consonant (a nasal,
 * a liquid, a flap). The voice keeps its fundamental through it, so the level, which the fundamental
 * dominates, dips by a decibel or two and pYIN stays voiced: the energy onset of onsets.ts stays under its
 * threshold and the f0 contour is flat. What the consonant does change is the spectral envelope: a
 * nasal or a liquid takes most of the energy above 1 kHz away (the oral tract is closed or narrowed
 * while the fundamental goes on through the nose), and the new vowel brings it back. So the cue is the
 * rise of the upper bands of the onset envelope (1–3 kHz and 3–5.5 kHz, the band-wise energies
 * onsets.ts already computes: no FFT) after a dip in their balance against the whole level, together
 * with the rhythm of the clip.
 *
 * Every local peak of that rise inside a note is a candidate, scored by a linear discriminant of five
 * measurements (logistic regression fitted on SSVD v2.0 `train&valid`, the candidates labelled by
 * whether an annotated note of the same pitch starts within 60 ms; fitted on each half of the clips it
 * raised note F on the other half, docs/benchmarks.md "sixth pass"):
 * - the upper bands' rise (dB over SYLLABLE_RISE_FRAMES),
 * - the dip of their balance against the level (the consonant), and of the level itself, each against
 *   the lower of the medians before and after (a dip that comes back, not a vowel drifting away),
 * - how much the four bands' balance differs between before and after (the new syllable's vowel),
 * - how far the candidate lies from a whole number of the clip's median note spacing after the note's
 *   start (sung syllables follow the beat; a held vowel's movements do not).
 * Three cues of a single kind (an MFCC change, a harmonic-envelope change, a sub-threshold onset with
 * an f0 excursion) failed here in earlier passes: each alone fires as often inside a held vowel as at a
 * syllable; together, and with the dip required to come back, precision on the candidates rises to ≈ 0.6,
 * over the ≈ 0.43 a split needs to raise note F.
 */
import type { NoteEvent } from '../types.js';
import type { OnsetEnvelope } from './onsets.js';

/** The upper bands' rise is measured over this many frames (60 ms): a consonant-to-vowel transition. */
const SYLLABLE_RISE_FRAMES = 6;
/** Candidates: local maxima within ± SYLLABLE_PEAK_FRAMES of a rise of at least SYLLABLE_MIN_RISE_DB. */
const SYLLABLE_MIN_RISE_DB = 2;
const SYLLABLE_PEAK_FRAMES = 5;
/**
 * No candidate in a note's first SYLLABLE_HEAD_FRAMES or last SYLLABLE_TAIL_FRAMES (its own attack and
 * release). 0.2 s: the vowel after a note's own leading consonant ("la", "mum") rises 0.15–0.2 s after the
 * note starts, with the same cues as a new syllable (the voice and hum fixtures and the synthetic sung
 * takes split there with 0.12 s; on SSVD the splits there were mostly wrong too).
 */
const SYLLABLE_HEAD_FRAMES = 20;
const SYLLABLE_TAIL_FRAMES = 10;
/** "Before" and "after" are the medians over SYLLABLE_CONTEXT_FRAMES frames on each side of the rise. */
const SYLLABLE_CONTEXT_FRAMES = 10;
/**
 * The discriminant: a candidate splits its note when bias + Σ weight · measurement ≥ 0 (the fitted
 * probability ≥ 0.5). Weights per unit: dB for the rise and the dips, dB for the profile change (mean
 * absolute change of the four bands' balance), note spacings for the off-beat distance (0 on the beat,
 * 0.5 half-way between). Standardised, the rise, tilt dip, level dip, profile change and off-beat
 * weights are 0.29, 1.00, 0.29, 0.79 and −0.62: the balance dip and the vowel change carry most.
 */
const SYLLABLE_WEIGHTS = { rise: 0.16, tiltDip: 0.94, levelDip: 0.11, profileChange: 1.05, offBeat: -4.45, bias: -4.26 };
/** Off-beat distance used when a take has too few notes (< SYLLABLE_MIN_SPACINGS spacings) for a rhythm: that of no information. */
const SYLLABLE_NEUTRAL_OFF_BEAT = 0.25;
const SYLLABLE_MIN_SPACINGS = 4;
/** Note spacings longer than this (s) are rests between phrases and not part of the rhythm. */
const SYLLABLE_MAX_SPACING_SECONDS = 2;
/** The new note starts this many frames before the rise's peak (where the vowel's energy returns). */
const SYLLABLE_LEAD_FRAMES = 2;
/** Splits at least this many frames apart, each part at least SYLLABLE_MIN_PART_SECONDS long. */
const SYLLABLE_MIN_APART_FRAMES = 15;
const SYLLABLE_MIN_PART_SECONDS = 0.1;

/**
 * Splits notes at the syllable onsets described above. `notes` must be sorted and come from the same
 * audio as `envelope` (its frame k centred at k·hopSeconds). Without the envelope's band levels
 * (`bandDb`), the notes are returned as they are. The parts of a split note keep its pitch and confidence.
 */
export function splitRepeatedSyllables(notes: NoteEvent[], envelope: OnsetEnvelope | null): NoteEvent[] {
  const bands = envelope?.bandDb;
  if (!envelope || !bands || bands.length === 0 || notes.length === 0) return notes;
  const hop = envelope.hopSeconds;
  const frames = envelope.levelDb.length;
  const at = (k: number): number => Math.max(0, Math.min(frames - 1, k));
  const level = (k: number): number => envelope.levelDb[at(k)];
  const band = (k: number, b: number): number => bands[4 * at(k) + b];
  const upper = (k: number): number => 0.5 * (band(k, 2) + band(k, 3));
  const tilt = (k: number): number => upper(k) - level(k);
  const rise = (k: number): number => {
    let least = Infinity;
    for (let j = k - SYLLABLE_RISE_FRAMES; j <= k; j++) least = Math.min(least, upper(j));
    return upper(k) - least;
  };
  const medianOver = (f: (k: number) => number, from: number, to: number): number => {
    const values: number[] = [];
    for (let k = from; k < to; k++) values.push(f(k));
    return median(values);
  };
  // Before: the SYLLABLE_CONTEXT_FRAMES ending 2 frames before the rise starts; after: from 2 frames after its peak.
  const beforeFrom = (k: number): number => k - SYLLABLE_RISE_FRAMES - SYLLABLE_CONTEXT_FRAMES - 2;
  const dip = (f: (k: number) => number, k: number): number => {
    let least = Infinity;
    for (let j = k - SYLLABLE_RISE_FRAMES; j <= k; j++) least = Math.min(least, f(j));
    const before = medianOver(f, beforeFrom(k), beforeFrom(k) + SYLLABLE_CONTEXT_FRAMES);
    const after = medianOver(f, k + 2, k + 2 + SYLLABLE_CONTEXT_FRAMES);
    return Math.min(before, after) - least;
  };
  const profileChange = (k: number): number => {
    let change = 0;
    for (let b = 0; b < 4; b++) {
      const balance = (j: number): number => band(j, b) - level(j);
      const before = medianOver(balance, beforeFrom(k), beforeFrom(k) + SYLLABLE_CONTEXT_FRAMES);
      change += Math.abs(before - medianOver(balance, k + 2, k + 2 + SYLLABLE_CONTEXT_FRAMES));
    }
    return change / 4;
  };
  const spacings: number[] = [];
  for (let i = 1; i < notes.length; i++) {
    const d = notes[i].start - notes[i - 1].start;
    if (d < SYLLABLE_MAX_SPACING_SECONDS) spacings.push(d);
  }
  const spacing = spacings.length >= SYLLABLE_MIN_SPACINGS ? median(spacings) : NaN;
  const w = SYLLABLE_WEIGHTS;

  const out: NoteEvent[] = [];
  for (const note of notes) {
    const first = Math.round(note.start / hop) + SYLLABLE_HEAD_FRAMES;
    const end = Math.round(note.end / hop) - SYLLABLE_TAIL_FRAMES;
    let start = note.start;
    let lastSplit = -Infinity;
    for (let k = first; k < end; k++) {
      const value = rise(k);
      if (value < SYLLABLE_MIN_RISE_DB) continue;
      let peak = true;
      for (let j = k - SYLLABLE_PEAK_FRAMES; j <= k + SYLLABLE_PEAK_FRAMES && peak; j++) {
        // Ties on a plateau resolve to the first frame.
        if (j !== k && (rise(j) > value || (rise(j) === value && j < k))) peak = false;
      }
      if (!peak || k - lastSplit < SYLLABLE_MIN_APART_FRAMES) continue;
      let offBeat = SYLLABLE_NEUTRAL_OFF_BEAT;
      if (spacing > 0) {
        const beats = (k * hop - note.start) / spacing;
        offBeat = Math.abs(beats - Math.round(beats));
      }
      const score =
        w.bias +
        w.rise * value +
        w.tiltDip * dip(tilt, k) +
        w.levelDip * dip(level, k) +
        w.profileChange * profileChange(k) +
        w.offBeat * offBeat;
      const t = (k - SYLLABLE_LEAD_FRAMES) * hop;
      if (score < 0 || t - start < SYLLABLE_MIN_PART_SECONDS || note.end - t < SYLLABLE_MIN_PART_SECONDS) continue;
      out.push({ ...note, start, end: t });
      start = t;
      lastSplit = k;
    }
    out.push({ ...note, start });
  }
  return out;
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length & 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
}
