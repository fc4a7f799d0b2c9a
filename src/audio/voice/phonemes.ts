/**
 * ARPAbet phoneme inventory of the formant singer: what each phoneme asks of the vocal tract model.
 *
 * Formant targets are for a male (baritone-sized) tract and get scaled per voice. Vowel targets
 * follow the measured averages of Peterson & Barney, "Control methods used in a study of the
 * vowels", JASA 24 (1952) and Hillenbrand et al., "Acoustic characteristics of American English
 * vowels", JASA 97 (1995); diphthong end points and consonant loci follow the parameter tables of
 * Klatt, "Software for a cascade/parallel formant synthesizer", JASA 67 (1980). Values were rounded
 * and adjusted by ear and by spectrogram for a sung (sustained) rather than a spoken vowel.
 */

export type PhonemeClass = 'vowel' | 'nasal' | 'liquid' | 'glide' | 'fricative' | 'aspirate' | 'plosive' | 'affricate';

/** A noise band of the parallel frication branch: centre Hz, bandwidth Hz, linear gain. */
export type NoiseBand = readonly [centreHz: number, bandwidthHz: number, gain: number];

export interface PhonemeSpec {
  readonly symbol: string;
  readonly cls: PhonemeClass;
  /** Vocal folds vibrate during the (main part of the) phoneme. */
  readonly voiced: boolean;
  /** F1–F3 targets in Hz (male reference); null = take the neighbouring vowel's (HH). */
  readonly formants: readonly [number, number, number] | null;
  /** Diphthong end targets F1–F3 in Hz (AY, AW, EY, OW, OY). */
  readonly offglide?: readonly [number, number, number];
  /** B1–B3 in Hz. */
  readonly bandwidths: readonly [number, number, number];
  /** Voicing amplitude relative to a vowel (0..1). */
  readonly voicing: number;
  /** Aspiration (noise through the formant cascade) amplitude, 0..1. */
  readonly aspiration: number;
  /** Frication amplitude, 0..1, through {@link PhonemeSpec.bands}. */
  readonly frication: number;
  /** Two noise bands of the frication branch (fricatives, bursts of plosives and affricates). */
  readonly bands: readonly [NoiseBand, NoiseBand] | null;
  /** Nasal antiformant in Hz for M, N, NG (0 = oral). */
  readonly nasalZeroHz: number;
  /** Nominal duration in seconds of a continuant consonant (frication part of an affricate). */
  readonly seconds: number;
  /** Plosives and affricates: closure, burst and aspiration (voice onset time) in seconds. */
  readonly closure?: number;
  readonly burst?: number;
  readonly voiceOnset?: number;
}

const VOWEL_BW: readonly [number, number, number] = [70, 90, 140];

function vowel(symbol: string, formants: [number, number, number], offglide?: [number, number, number]): PhonemeSpec {
  return {
    symbol,
    cls: 'vowel',
    voiced: true,
    formants,
    offglide,
    bandwidths: VOWEL_BW,
    voicing: 1,
    aspiration: 0,
    frication: 0,
    bands: null,
    nasalZeroHz: 0,
    seconds: 0,
  };
}

type ConsonantInit = Omit<PhonemeSpec, 'symbol' | 'offglide' | 'nasalZeroHz' | 'aspiration' | 'frication' | 'bands' | 'bandwidths'> &
  Partial<Pick<PhonemeSpec, 'nasalZeroHz' | 'aspiration' | 'frication' | 'bands' | 'bandwidths'>>;

function consonant(symbol: string, init: ConsonantInit): PhonemeSpec {
  return {
    symbol,
    nasalZeroHz: 0,
    aspiration: 0,
    frication: 0,
    bands: null,
    bandwidths: [90, 140, 200],
    ...init,
  };
}

// Noise spectra of the places of articulation (male reference, Hz).
const S_BANDS: [NoiseBand, NoiseBand] = [
  [6000, 2600, 1],
  [8800, 3000, 0.7],
];
const SH_BANDS: [NoiseBand, NoiseBand] = [
  [2700, 1000, 1],
  [4600, 2600, 0.55],
];
const F_BANDS: [NoiseBand, NoiseBand] = [
  [4200, 6000, 0.45],
  [8500, 5000, 0.35],
];
const TH_BANDS: [NoiseBand, NoiseBand] = [
  [5200, 5000, 0.45],
  [8200, 5000, 0.35],
];
const LABIAL_BURST: [NoiseBand, NoiseBand] = [
  [900, 1400, 0.8],
  [2500, 3000, 0.3],
];
const ALVEOLAR_BURST: [NoiseBand, NoiseBand] = [
  [4400, 2400, 1],
  [6800, 3000, 0.6],
];
const VELAR_BURST: [NoiseBand, NoiseBand] = [
  [2100, 700, 1],
  [3400, 1500, 0.45],
];

const TABLE: Record<string, PhonemeSpec> = {
  IY: vowel('IY', [280, 2250, 2950]),
  IH: vowel('IH', [400, 1950, 2550]),
  EH: vowel('EH', [540, 1800, 2500]),
  AE: vowel('AE', [660, 1700, 2400]),
  AH: vowel('AH', [630, 1200, 2500]),
  AA: vowel('AA', [730, 1100, 2450]),
  AO: vowel('AO', [570, 860, 2450]),
  UH: vowel('UH', [450, 1050, 2300]),
  UW: vowel('UW', [310, 880, 2250]),
  ER: vowel('ER', [480, 1330, 1650]),
  EY: vowel('EY', [470, 1900, 2500], [320, 2200, 2850]),
  AY: vowel('AY', [720, 1200, 2500], [400, 1950, 2600]),
  AW: vowel('AW', [720, 1200, 2500], [430, 950, 2350]),
  OW: vowel('OW', [540, 960, 2450], [380, 830, 2300]),
  OY: vowel('OY', [560, 880, 2450], [400, 1900, 2600]),

  M: consonant('M', {
    cls: 'nasal',
    voiced: true,
    formants: [280, 1000, 2200],
    bandwidths: [90, 280, 380],
    voicing: 0.6,
    nasalZeroHz: 1100,
    seconds: 0.07,
  }),
  N: consonant('N', {
    cls: 'nasal',
    voiced: true,
    formants: [280, 1600, 2600],
    bandwidths: [90, 280, 380],
    voicing: 0.6,
    nasalZeroHz: 1700,
    seconds: 0.065,
  }),
  NG: consonant('NG', {
    cls: 'nasal',
    voiced: true,
    formants: [280, 2000, 2700],
    bandwidths: [90, 280, 380],
    voicing: 0.6,
    nasalZeroHz: 2800,
    seconds: 0.065,
  }),

  L: consonant('L', { cls: 'liquid', voiced: true, formants: [360, 1050, 2850], bandwidths: [80, 160, 220], voicing: 0.8, seconds: 0.06 }),
  R: consonant('R', { cls: 'liquid', voiced: true, formants: [420, 1150, 1600], bandwidths: [80, 120, 150], voicing: 0.85, seconds: 0.06 }),
  W: consonant('W', { cls: 'glide', voiced: true, formants: [300, 650, 2200], bandwidths: [70, 100, 160], voicing: 0.8, seconds: 0.055 }),
  Y: consonant('Y', { cls: 'glide', voiced: true, formants: [270, 2250, 3000], bandwidths: [70, 110, 160], voicing: 0.8, seconds: 0.05 }),

  S: consonant('S', {
    cls: 'fricative',
    voiced: false,
    formants: [320, 1700, 2600],
    voicing: 0,
    frication: 0.55,
    bands: S_BANDS,
    seconds: 0.09,
  }),
  Z: consonant('Z', {
    cls: 'fricative',
    voiced: true,
    formants: [320, 1700, 2600],
    voicing: 0.4,
    frication: 0.35,
    bands: S_BANDS,
    seconds: 0.07,
  }),
  SH: consonant('SH', {
    cls: 'fricative',
    voiced: false,
    formants: [320, 1900, 2500],
    voicing: 0,
    frication: 0.6,
    bands: SH_BANDS,
    seconds: 0.09,
  }),
  ZH: consonant('ZH', {
    cls: 'fricative',
    voiced: true,
    formants: [320, 1900, 2500],
    voicing: 0.4,
    frication: 0.4,
    bands: SH_BANDS,
    seconds: 0.07,
  }),
  F: consonant('F', {
    cls: 'fricative',
    voiced: false,
    formants: [320, 1000, 2250],
    voicing: 0,
    frication: 0.16,
    bands: F_BANDS,
    seconds: 0.08,
  }),
  V: consonant('V', {
    cls: 'fricative',
    voiced: true,
    formants: [320, 1000, 2250],
    voicing: 0.5,
    frication: 0.12,
    bands: F_BANDS,
    seconds: 0.055,
  }),
  TH: consonant('TH', {
    cls: 'fricative',
    voiced: false,
    formants: [320, 1400, 2500],
    voicing: 0,
    frication: 0.16,
    bands: TH_BANDS,
    seconds: 0.075,
  }),
  DH: consonant('DH', {
    cls: 'fricative',
    voiced: true,
    formants: [320, 1400, 2500],
    voicing: 0.55,
    frication: 0.08,
    bands: TH_BANDS,
    seconds: 0.045,
  }),
  HH: consonant('HH', { cls: 'aspirate', voiced: false, formants: null, voicing: 0, aspiration: 0.45, seconds: 0.06 }),

  P: consonant('P', {
    cls: 'plosive',
    voiced: false,
    formants: [250, 850, 2200],
    voicing: 0,
    frication: 0.6,
    bands: LABIAL_BURST,
    aspiration: 0.7,
    seconds: 0,
    closure: 0.05,
    burst: 0.008,
    voiceOnset: 0.035,
  }),
  B: consonant('B', {
    cls: 'plosive',
    voiced: true,
    formants: [250, 850, 2200],
    voicing: 0.12,
    frication: 0.35,
    bands: LABIAL_BURST,
    seconds: 0,
    closure: 0.045,
    burst: 0.006,
    voiceOnset: 0.004,
  }),
  T: consonant('T', {
    cls: 'plosive',
    voiced: false,
    formants: [280, 1750, 2600],
    voicing: 0,
    frication: 0.55,
    bands: ALVEOLAR_BURST,
    aspiration: 0.7,
    seconds: 0,
    closure: 0.045,
    burst: 0.01,
    voiceOnset: 0.035,
  }),
  D: consonant('D', {
    cls: 'plosive',
    voiced: true,
    formants: [280, 1750, 2600],
    voicing: 0.12,
    frication: 0.4,
    bands: ALVEOLAR_BURST,
    seconds: 0,
    closure: 0.04,
    burst: 0.008,
    voiceOnset: 0.005,
  }),
  K: consonant('K', {
    cls: 'plosive',
    voiced: false,
    formants: [280, 1950, 2500],
    voicing: 0,
    frication: 0.8,
    bands: VELAR_BURST,
    aspiration: 0.7,
    seconds: 0,
    closure: 0.05,
    burst: 0.012,
    voiceOnset: 0.04,
  }),
  G: consonant('G', {
    cls: 'plosive',
    voiced: true,
    formants: [280, 1950, 2500],
    voicing: 0.12,
    frication: 0.4,
    bands: VELAR_BURST,
    seconds: 0,
    closure: 0.045,
    burst: 0.01,
    voiceOnset: 0.006,
  }),
  CH: consonant('CH', {
    cls: 'affricate',
    voiced: false,
    formants: [300, 1900, 2500],
    voicing: 0,
    frication: 0.6,
    bands: SH_BANDS,
    seconds: 0.06,
    closure: 0.04,
  }),
  JH: consonant('JH', {
    cls: 'affricate',
    voiced: true,
    formants: [300, 1900, 2500],
    voicing: 0.4,
    frication: 0.4,
    bands: SH_BANDS,
    seconds: 0.05,
    closure: 0.035,
  }),
};

/** Symbols outside the 39-phoneme CMU set that other ARPAbet dialects use, mapped to ours. */
const ALIASES: Record<string, string[]> = {
  AX: ['AH'],
  IX: ['IH'],
  UX: ['UW'],
  AXR: ['ER'],
  EL: ['AH', 'L'],
  EM: ['AH', 'M'],
  EN: ['AH', 'N'],
  ENG: ['AH', 'NG'],
  NX: ['N'],
  DX: ['D'],
  WH: ['W'],
  Q: [],
  H: ['HH'],
};

/** The spec of a known phoneme symbol (already normalised), or undefined. */
export function phonemeSpec(symbol: string): PhonemeSpec | undefined {
  return TABLE[symbol];
}

export function isVowel(symbol: string): boolean {
  return TABLE[symbol]?.cls === 'vowel';
}

/**
 * Normalises a phoneme list: upper case, stress digits dropped, dialect aliases expanded. Unknown
 * symbols that look like vowels (start with A, E, I, O or U) become AH; other unknown symbols are
 * dropped, so a typo never stops the singer.
 */
export function normalizePhonemes(phonemes: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of phonemes) {
    const symbol = raw.toUpperCase().replace(/[^A-Z]/g, '');
    if (!symbol) continue;
    if (TABLE[symbol]) out.push(symbol);
    else if (ALIASES[symbol]) out.push(...ALIASES[symbol]);
    else if (/^[AEIOU]/.test(symbol)) out.push('AH');
  }
  return out;
}

/** A syllable split for singing: consonants before the vowel, the vowel that carries the note, consonants after. */
export interface SyllableParts {
  onset: string[];
  nucleus: string;
  coda: string[];
}

/**
 * Splits one syllable's phonemes into onset, nucleus and coda. The first vowel is the nucleus; any
 * further vowel (a dictionary quirk) is dropped. Without a vowel, a sonorant (M N NG L R) becomes a
 * hummed nucleus, else AH is inserted; an empty list sings AH.
 */
export function splitSyllable(phonemes: readonly string[]): SyllableParts {
  const symbols = normalizePhonemes(phonemes);
  const first = symbols.findIndex(isVowel);
  if (first >= 0) {
    return {
      onset: symbols.slice(0, first),
      nucleus: symbols[first],
      coda: symbols.slice(first + 1).filter((s) => !isVowel(s)),
    };
  }
  for (let i = symbols.length - 1; i >= 0; i--) {
    const cls = TABLE[symbols[i]].cls;
    if (cls === 'nasal' || cls === 'liquid') {
      return { onset: symbols.slice(0, i), nucleus: symbols[i], coda: symbols.slice(i + 1) };
    }
  }
  return { onset: symbols, nucleus: 'AH', coda: [] };
}
