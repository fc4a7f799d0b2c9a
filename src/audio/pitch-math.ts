/** Conversions between Hz, MIDI note numbers and cents. A4 = MIDI 69 = 440 Hz. */

export function hzToMidi(hz: number): number {
  return 69 + 12 * Math.log2(hz / 440);
}

export function midiToHz(midi: number): number {
  return 440 * Math.pow(2, (midi - 69) / 12);
}

/** Signed distance from `b` to `a` in cents. */
export function centsBetween(aHz: number, bHz: number): number {
  return 1200 * Math.log2(aHz / bHz);
}

const NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'] as const;

/** Nearest note name with octave, e.g. 60.2 → `C4`. */
export function midiToName(midi: number): string {
  const rounded = Math.round(midi);
  return `${NAMES[((rounded % 12) + 12) % 12]}${Math.floor(rounded / 12) - 1}`;
}

export const PITCH_CLASS_NAMES = NAMES;
