/**
 * Key signatures and pitch spelling for the score writers.
 *
 * A key signature is a count of fifths: positive for sharps, negative for flats, -7..+7 (the SMF
 * key-signature meta event FF 59 and MusicXML `<fifths>` use the same number).
 */
import type { KeyEstimate } from '../types.js';

/**
 * Fifths of the major key on each tonic pitch class (0 = C … 11 = B). Enharmonic pairs take the
 * spelling with fewer accidentals (D♭ not C♯, B not C♭); at the six-accidental tie F♯/G♭ we write
 * F♯ (six sharps) because {@link KeyEstimate.tonic} spells with sharps.
 */
const MAJOR_FIFTHS = [0, -5, 2, -3, 4, -1, 6, 1, -4, 3, -2, 5] as const;

/**
 * Fifths of the minor key on each tonic pitch class: the relative major's (a minor third up),
 * e.g. A minor 0, E minor 1, D minor -1, D♯ minor 6 (the same tie rule as major).
 */
const MINOR_FIFTHS = MAJOR_FIFTHS.map((_, pc) => MAJOR_FIFTHS[(pc + 3) % 12]);

/** The key signature of a key, as fifths in -7..+7 (here -5..+6). A null key is C major / 0. */
export function keyToFifths(key: KeyEstimate | null): number {
  if (key === null) return 0;
  const pc = ((Math.round(key.tonicPitchClass) % 12) + 12) % 12;
  return key.mode === 'minor' ? MINOR_FIFTHS[pc] : MAJOR_FIFTHS[pc];
}

/** Letter names of the seven diatonic steps with their natural pitch classes. */
export type Step = 'C' | 'D' | 'E' | 'F' | 'G' | 'A' | 'B';
const STEPS: readonly Step[] = ['C', 'D', 'E', 'F', 'G', 'A', 'B'];
const STEP_PITCH_CLASS: Readonly<Record<Step, number>> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };
/** Order in which sharps enter a key signature (flats enter in the reverse order). */
const SHARP_ORDER: readonly Step[] = ['F', 'C', 'G', 'D', 'A', 'E', 'B'];

/** A written pitch: letter, chromatic alteration in semitones (-2..+2) and octave (C4 = middle C = MIDI 60). */
export interface SpelledPitch {
  step: Step;
  alter: number;
  octave: number;
}

/** The alteration the key signature gives each step, e.g. fifths 2 → F and C are +1. */
export function keySignatureAlters(fifths: number): Record<Step, number> {
  const alters: Record<Step, number> = { C: 0, D: 0, E: 0, F: 0, G: 0, A: 0, B: 0 };
  const count = Math.min(7, Math.abs(Math.trunc(fifths)));
  for (let i = 0; i < count; i++) {
    if (fifths > 0) alters[SHARP_ORDER[i]] = 1;
    else alters[SHARP_ORDER[6 - i]] = -1;
  }
  return alters;
}

/**
 * Spell an integer MIDI note in a key: pitches of the key's scale take the key's spelling (E♯ in
 * F♯ major, B♭ in F major); a chromatic pitch is a natural when the key altered that letter (F♮ in
 * G major), else a sharp in sharp keys and C major, a flat in flat keys.
 * @param midi integer MIDI note number (60 = C4)
 * @param fifths key signature, -7..+7
 */
export function spellPitch(midi: number, fifths: number): SpelledPitch {
  const pc = ((midi % 12) + 12) % 12;
  const alters = keySignatureAlters(fifths);
  let step: Step | undefined;
  let alter = 0;
  // Diatonic first: the step whose key-signature pitch is this pitch class.
  for (const s of STEPS) {
    if ((((STEP_PITCH_CLASS[s] + alters[s]) % 12) + 12) % 12 === pc) {
      step = s;
      alter = alters[s];
      break;
    }
  }
  if (step === undefined) {
    // Chromatic: a natural if the key altered this step away, else sharp (or flat) of a neighbour.
    const natural = STEPS.find((s) => STEP_PITCH_CLASS[s] === pc);
    if (natural !== undefined) {
      step = natural;
      alter = 0;
    } else {
      alter = fifths < 0 ? -1 : 1;
      const target = (((pc - alter) % 12) + 12) % 12;
      step = STEPS.find((s) => STEP_PITCH_CLASS[s] === target) as Step;
    }
  }
  // The octave belongs to the letter: B♯3 sounds as C4, C♭4 sounds as B3.
  const octave = Math.floor((midi - alter - STEP_PITCH_CLASS[step]) / 12) - 1;
  return { step, alter, octave };
}
