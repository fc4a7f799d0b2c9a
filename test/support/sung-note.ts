/** A sung note for the voice tests: one syllable spelled by its phonemes, stressed, confident, phrase 0. */
import type { SungNote } from '../../src/audio/types.js';

export function sungNote(start: number, end: number, midi: number, phonemes: string[], extra: Partial<SungNote> = {}): SungNote {
  return {
    start,
    end,
    midi,
    confidence: 1,
    syllable: phonemes.join('').toLowerCase(),
    continuation: false,
    syllabic: 'single',
    phonemes,
    stressed: true,
    phraseIndex: 0,
    ...extra,
  };
}
