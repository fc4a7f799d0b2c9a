/**
 * Timing of the sung phonemes: turns notes carrying syllables into a gap-free sequence of phoneme
 * segments. The singer's rule (e.g. Sundberg, "The Science of the Singing Voice", 1987, ch. 7):
 * the vowel starts on the beat and carries the note; onset consonants are sung BEFORE the note onset
 * (borrowing time from the previous note's tail or the rest before it); coda consonants close the
 * note at its end; a melisma holds the vowel across several notes.
 */
import { phonemeSpec, splitSyllable, type NoiseBand, type PhonemeSpec, type SyllableParts } from './phonemes.js';

export type SegmentKind = 'silence' | 'breath' | 'vowel' | 'consonant';

/** One stretch of time with constant articulatory targets; the control tracks interpolate between them. */
export interface Segment {
  start: number;
  end: number;
  kind: SegmentKind;
  /** ARPAbet symbol, `closure`/`burst`/`aspiration` parts as `P:closure`, or `` for silence, `breath`. */
  phoneme: string;
  /** F1–F3 targets in Hz before the voice's formant scale; null = no target (silence). */
  formants: readonly [number, number, number] | null;
  bandwidths: readonly [number, number, number];
  /** Voicing, aspiration and frication amplitudes (0..1). */
  voicing: number;
  aspiration: number;
  frication: number;
  bands: readonly [NoiseBand, NoiseBand] | null;
  nasalZeroHz: number;
  /** Half-time of the amplitude and formant transitions into and out of this segment, seconds. */
  amplitudeTau: number;
  formantTau: number;
}

/** A note as the pitch planner needs it. */
export interface TimedNote {
  start: number;
  end: number;
  /** Sung pitch, MIDI (after rounding and transposition). */
  midi: number;
  /** Time the note's syllable starts sounding (its first onset consonant); `start` for a melisma note. */
  attack: number;
  /** The voice is still sounding when this note begins (melisma or no rest before it): glide into it. */
  legato: boolean;
  /** The note continues the previous note's vowel (a melisma): no new syllable starts on it. */
  melisma: boolean;
}

export interface PlannedNoteInput {
  start: number;
  end: number;
  midi: number;
  continuation: boolean;
  phonemes: readonly string[];
  stressed: boolean;
  phraseIndex: number;
}

export interface TimelineOptions {
  /** Inhale noise before each phrase where the rest allows it. */
  breath: boolean;
  /** Total length of the rendering in seconds; silence fills the end. */
  duration: number;
}

export interface Timeline {
  segments: Segment[];
  notes: TimedNote[];
}

/** Longest total onset-consonant time, seconds: clusters like `str` are compressed to fit. */
const MAX_ONSET = 0.24;
/** Shortest vowel, seconds, however crowded the consonants. */
const MIN_VOWEL = 0.02;
/** Gap under which two notes count as legato, seconds. */
const LEGATO_GAP = 0.03;
/** Neutral open tract for the inhale: an `AH` with wide bandwidths. */
const BREATH_FORMANTS: readonly [number, number, number] = [600, 1300, 2500];

interface Group {
  first: number;
  last: number;
  parts: SyllableParts;
  stressed: boolean;
  phraseStart: boolean;
  start: number;
  end: number;
  onsetScale: number;
  onsetStart: number;
  vowelStart: number;
  codaSeconds: number;
  soundEnd: number;
}

/**
 * Plans the segments of a melody. Notes must be sorted by start; overlapping notes are trimmed
 * (the earlier one ends where the later begins).
 */
export function planTimeline(input: readonly PlannedNoteInput[], options: TimelineOptions): Timeline {
  const notes = input.map((n) => ({ ...n }));
  for (let i = 0; i + 1 < notes.length; i++)
    if (notes[i].end > notes[i + 1].start) notes[i].end = Math.max(notes[i].start + 0.01, notes[i + 1].start);

  const groups: Group[] = [];
  for (let i = 0; i < notes.length; i++) {
    const note = notes[i];
    const previous = groups[groups.length - 1];
    if (note.continuation && previous && note.start - notes[previous.last].end < 0.06) {
      previous.last = i;
      previous.end = note.end;
      previous.soundEnd = note.end;
      continue;
    }
    const parts = note.continuation ? { onset: [], nucleus: previous?.parts.nucleus ?? 'AH', coda: [] } : splitSyllable(note.phonemes);
    groups.push({
      first: i,
      last: i,
      parts,
      stressed: note.stressed,
      phraseStart: !previous || note.phraseIndex !== notes[previous.last].phraseIndex,
      start: note.start,
      end: note.end,
      onsetScale: 1,
      onsetStart: note.start,
      vowelStart: note.start,
      codaSeconds: 0,
      soundEnd: note.end,
    });
  }

  // Durations: codas fit inside their note, onsets before the beat.
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g];
    const lastNote = notes[group.last];
    const lastDuration = lastNote.end - lastNote.start;
    const codaBase = group.parts.coda.reduce((sum, p) => sum + consonantSeconds(p, 'coda'), 0);
    group.codaSeconds = codaBase > 0 ? Math.min(codaBase, 0.35 * lastDuration, 0.3 * (group.end - group.start)) : 0;

    const previous = groups[g - 1];
    // The previous syllable keeps at least the first half of its last note (and 20 ms) for its vowel.
    let earliest = 0;
    if (previous) {
      const prevLast = notes[previous.last];
      earliest = Math.max(prevLast.start + 0.5 * (prevLast.end - prevLast.start), previous.vowelStart + MIN_VOWEL) + previous.codaSeconds;
      // Only in pathological input (notes shorter than their own consonants) does this push a
      // syllable past its note's end; the next syllable then starts later too.
      previous.soundEnd = Math.max(Math.min(previous.soundEnd, group.start), earliest);
    }
    const onsetBase = group.parts.onset.reduce((sum, p) => sum + consonantSeconds(p, 'onset'), 0);
    if (onsetBase <= 0) {
      if (previous && group.vowelStart < earliest) group.onsetStart = group.vowelStart = earliest;
      continue;
    }
    const wanted = Math.min(onsetBase, MAX_ONSET);
    const available = Math.max(0, group.start - earliest);
    let onsetSeconds = Math.min(wanted, available);
    // No room at all (a note at t = 0 or a very fast run): keep 40 % of the consonants and let them
    // delay the vowel by at most 30 % of the note.
    const minimum = Math.min(0.4 * wanted, 0.3 * (notes[group.first].end - group.start) + available);
    onsetSeconds = Math.max(onsetSeconds, minimum);
    group.onsetScale = onsetSeconds / onsetBase;
    group.onsetStart = Math.max(earliest, group.start - onsetSeconds);
    group.vowelStart = group.onsetStart + onsetSeconds;
    if (previous && group.onsetStart < previous.soundEnd) previous.soundEnd = group.onsetStart;
  }
  const final = groups[groups.length - 1];
  if (final) final.soundEnd = Math.max(final.soundEnd, final.vowelStart + MIN_VOWEL + final.codaSeconds);

  const segments: Segment[] = [];
  let cursor = 0;
  const silence = (until: number) => {
    if (until > cursor + 1e-6) segments.push(silentSegment(cursor, until));
    cursor = Math.max(cursor, until);
  };
  for (let g = 0; g < groups.length; g++) {
    const group = groups[g];
    const gap = group.onsetStart - cursor;
    if (options.breath && group.phraseStart && gap >= 0.25) {
      const end = group.onsetStart - 0.06;
      const length = Math.min(0.45, gap - 0.12);
      silence(end - length);
      segments.push(breathSegment(end - length, end));
      cursor = end;
    }
    silence(group.onsetStart);

    // Onset consonants.
    let t = group.onsetStart;
    for (const symbol of group.parts.onset) {
      const length = consonantSeconds(symbol, 'onset') * group.onsetScale;
      pushConsonant(segments, symbol, t, t + length, 'onset');
      t += length;
    }
    // Nucleus: the vowel carries the note(s); a diphthong moves to its second target at the end.
    const codaStart = group.soundEnd - group.codaSeconds;
    const nucleus = phonemeSpec(group.parts.nucleus) as PhonemeSpec;
    const level = group.stressed ? 1 : 0.82;
    if (nucleus.offglide) {
      const vowelLength = codaStart - group.vowelStart;
      const glideLength = Math.min(0.14, 0.3 * vowelLength);
      segments.push(nucleusSegment(nucleus, group.vowelStart, codaStart - glideLength, nucleus.formants, level));
      segments.push(nucleusSegment(nucleus, codaStart - glideLength, codaStart, nucleus.offglide, level));
    } else {
      segments.push(nucleusSegment(nucleus, group.vowelStart, codaStart, nucleus.formants, level));
    }
    // Coda consonants, shortened to fit.
    const codaBase = group.parts.coda.reduce((sum, p) => sum + consonantSeconds(p, 'coda'), 0);
    const codaScale = codaBase > 0 ? (group.soundEnd - codaStart) / codaBase : 0;
    t = codaStart;
    for (const symbol of group.parts.coda) {
      const length = consonantSeconds(symbol, 'coda') * codaScale;
      pushConsonant(segments, symbol, t, t + length, 'coda');
      t += length;
    }
    cursor = Math.max(cursor, group.soundEnd);
  }
  silence(Math.max(options.duration, cursor));
  inheritFormants(segments);

  const timed: TimedNote[] = notes.map((note, i) => ({
    start: note.start,
    end: note.end,
    midi: note.midi,
    attack: note.start,
    legato: i > 0 && note.start - notes[i - 1].end < LEGATO_GAP,
    melisma: false,
  }));
  for (const group of groups) {
    timed[group.first].attack = Math.min(group.onsetStart, group.start);
    for (let i = group.first + 1; i <= group.last; i++) timed[i].legato = timed[i].melisma = true;
  }
  return { segments, notes: timed };
}

/** Nominal length of a consonant in seconds at the given syllable position. */
export function consonantSeconds(symbol: string, position: 'onset' | 'coda'): number {
  const spec = phonemeSpec(symbol);
  if (!spec) return 0;
  if (spec.cls === 'plosive') return (spec.closure ?? 0) + (spec.burst ?? 0) + (position === 'onset' ? (spec.voiceOnset ?? 0) : 0.012);
  if (spec.cls === 'affricate') return (spec.closure ?? 0) + spec.seconds;
  return spec.seconds;
}

function silentSegment(start: number, end: number): Segment {
  return {
    start,
    end,
    kind: 'silence',
    phoneme: '',
    formants: null,
    bandwidths: [90, 120, 180],
    voicing: 0,
    aspiration: 0,
    frication: 0,
    bands: null,
    nasalZeroHz: 0,
    amplitudeTau: 0.02,
    formantTau: 0,
  };
}

function breathSegment(start: number, end: number): Segment {
  return {
    start,
    end,
    kind: 'breath',
    phoneme: 'breath',
    formants: BREATH_FORMANTS,
    bandwidths: [250, 300, 350],
    voicing: 0,
    aspiration: 0.4,
    frication: 0,
    bands: null,
    nasalZeroHz: 0,
    amplitudeTau: 0.4 * (end - start),
    formantTau: 0.5 * (end - start),
  };
}

function nucleusSegment(spec: PhonemeSpec, start: number, end: number, formants: PhonemeSpec['formants'], level: number): Segment {
  return {
    start,
    end,
    kind: 'vowel',
    phoneme: spec.symbol,
    formants,
    bandwidths: spec.bandwidths,
    voicing: spec.voicing * level,
    aspiration: spec.aspiration,
    frication: 0,
    bands: null,
    nasalZeroHz: spec.nasalZeroHz,
    amplitudeTau: 0.012,
    formantTau: spec.cls === 'vowel' ? 0.04 : 0.02,
  };
}

/** Appends a consonant, split into closure / burst / aspiration parts for plosives and affricates. */
function pushConsonant(segments: Segment[], symbol: string, start: number, end: number, position: 'onset' | 'coda'): void {
  const spec = phonemeSpec(symbol);
  if (!spec || end - start < 1e-4) return;
  const base: Segment = {
    start,
    end,
    kind: 'consonant',
    phoneme: symbol,
    formants: spec.formants,
    bandwidths: spec.bandwidths,
    voicing: spec.voicing,
    aspiration: spec.aspiration,
    frication: spec.frication,
    bands: spec.bands,
    nasalZeroHz: spec.nasalZeroHz,
    amplitudeTau: 0.01,
    formantTau: 0.5 * (end - start),
  };
  if (spec.cls !== 'plosive' && spec.cls !== 'affricate') {
    segments.push(spec.cls === 'fricative' ? { ...base, amplitudeTau: 0.012 } : base);
    return;
  }
  const scale = (end - start) / consonantSeconds(symbol, position);
  const closureEnd = start + (spec.closure ?? 0) * scale;
  const closure: Segment = {
    ...base,
    end: closureEnd,
    phoneme: `${symbol}:closure`,
    voicing: spec.voiced ? 0.12 : 0,
    aspiration: 0,
    frication: 0,
    amplitudeTau: 0.006,
    formantTau: 0.5 * (closureEnd - start),
  };
  segments.push(closure);
  if (spec.cls === 'affricate') {
    segments.push({
      ...base,
      start: closureEnd,
      phoneme: `${symbol}:frication`,
      aspiration: 0,
      amplitudeTau: 0.004,
      formantTau: 0.5 * (end - closureEnd),
    });
    return;
  }
  const burstEnd = Math.min(end, closureEnd + Math.max(0.004, (spec.burst ?? 0) * scale));
  const coda = position === 'coda';
  segments.push({
    ...base,
    start: closureEnd,
    end: burstEnd,
    phoneme: `${symbol}:burst`,
    voicing: spec.voiced ? 0.2 : 0,
    aspiration: 0,
    frication: spec.frication * (coda ? 0.6 : 1),
    amplitudeTau: 0.0015,
    formantTau: 0.5 * (burstEnd - closureEnd),
  });
  if (end - burstEnd > 1e-4) {
    segments.push({
      ...base,
      start: burstEnd,
      end,
      phoneme: `${symbol}:aspiration`,
      formants: null,
      voicing: spec.voiced ? 0.5 : 0,
      aspiration: spec.voiced ? 0.1 : spec.aspiration * (coda ? 0.5 : 1),
      frication: spec.frication * 0.15,
      amplitudeTau: 0.005,
      formantTau: 0.5 * (end - burstEnd),
    });
  }
}

/** Segments without a formant target (HH, plosive aspiration) take the next sounding segment's, else the previous one's. */
function inheritFormants(segments: Segment[]): void {
  let next: Segment['formants'] = null;
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i];
    if (segment.kind === 'silence') continue;
    if (segment.formants) next = segment.formants;
    else segment.formants = next;
  }
  let previous: Segment['formants'] = null;
  for (const segment of segments) {
    if (segment.kind === 'silence') continue;
    if (segment.formants) previous = segment.formants;
    else segment.formants = previous ?? BREATH_FORMANTS;
  }
}
