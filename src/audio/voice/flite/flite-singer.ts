/**
 * The `flite` singing engine: CMU Flite speaks each phrase's phonemes at one flat pitch, then a
 * time-domain pitch-synchronous overlap-add (TD-PSOLA; Moulines & Charpentier, "Pitch-synchronous
 * waveform processing techniques for text-to-speech synthesis using diphones", Speech Communication
 * 9, 1990) re-times and re-pitches it into song:
 *
 * 1. Timing comes from the same plan as the formant engine (timeline.ts): onset consonants before the
 *    beat, the vowel on the note for its whole length, a diphthong moving to its second target only at
 *    the end of the note, codas closing it. Each Flite phone is mapped onto its planned span by a
 *    piecewise-linear time warp; a vowel reaches its loudest (steady) 30 ms and leaves it again at natural
 *    speed (the consonant transitions) and holds that stretch for the rest of the note.
 * 2. Pitch: Flite's clustergen voices follow `int_f0_target_mean` with the spread set to 0, so the
 *    source has one known period in voiced stretches. Pitch marks are laid on it one period apart,
 *    and synthesis marks are laid at the exact periods of the sung contour (vibrato,
 *    portamento, flutter from pitch-contour.ts). Grains are two source periods long (Hann window) and
 *    placed at fractional positions, so the mean period is exact; the windowed grain keeps the vocal
 *    tract's spectral envelope, so the formants do not move with the pitch. The source pitch is the
 *    phrase's median note, so the shifts stay within the phrase's own range.
 * 3. Unvoiced sound is re-timed with 5 ms grains at jittered source positions (no buzz from repeated grains).
 * 4. Flite outputs 16 kHz: after upsampling, the 4–8 kHz band is shifted up by 4 kHz and high-passed at
 *    8 kHz to rebuild 8–12 kHz (a crude spectral band replication; Dietz et al., "Spectral Band
 *    Replication", AES 112th convention, 2002), and soft aspiration noise follows the voiced envelope.
 * 5. Joins: each sounding stretch fades in and out over 5 ms; grains overlap-add, so there is no
 *    discontinuity inside a stretch.
 * 6. High notes (above A4): a resonance follows the fundamental, as a soprano tunes her first formant
 *    to f0 (see tuneFirstFormant); through a melisma its gain is the highest note's (see tuningLevelPitch).
 * 7. High phrases (median above G4) are spoken by Flite a fifth lower and shifted up (see LOWER_FROM_HZ).
 * 8. High notes (above G4): breath noise with the voice's own spectral envelope above 1.5 kHz fills the
 *    bands between sparse harmonics (see BREATH_FROM_HZ).
 * 9. A vowel Flite starts faintly (after a pause) is timed from where it becomes audible, so it sounds on
 *    the beat (see VOWEL_ONSET_DB).
 * 10. Held vowels: voiced grains are interpolated between neighbouring pitch marks (see renderCall).
 * 11. Formant stretch: a voice may read its voiced grains slower than it lays them, which compresses
 *    their spectrum (the formants move down by the stretch's inverse while the pitch marks, so the
 *    pitch, stay; the resampling half of TD-PSOLA's formant modification, Moulines & Charpentier 1990;
 *    the grain's neighbouring pulses come along at the stretched spacing, a mild comb). The `high`
 *    voice's 1.04 won back lines where `slt` holds few syllables for long (issue 11 round 10,
 *    docs/benchmarks.md); why a 4 % move is enough is not shown (see there).
 */
import { AudioProcessingError } from '../../errors.js';
import { createRandom } from '../../random.js';
import { resample } from '../../dsp/resample.js';
import type { Sliced } from '../../sliced.js';
import type { Segment, TimedNote, Timeline } from '../timeline.js';
import { runFlite, type FliteProgram, type FliteVoice } from './flite-run.js';

export interface FliteSingOptions {
  program: FliteProgram;
  voice: FliteVoice;
  sampleRate: number;
  /** Output length in samples. */
  length: number;
  seed: number;
  /** Sung pitch as float MIDI on a grid of `step` seconds (pitch-contour.ts). */
  contour: Float32Array;
  step: number;
  /**
   * Level of the envelope-shaped breath on high notes, relative to the voiced grains (0 = none, the
   * default; see BREATH_FROM_HZ). The voice's `fliteHighNoteBreath`.
   */
  highNoteBreath?: number;
  /**
   * Voiced grains are read this much slower than they are laid (1 = as spoken, the default; 1.1 moves
   * every formant down by 1/1.1; see addGrain and item 11 above). The voice's `fliteFormantStretch`.
   */
  formantStretch?: number;
}

export interface FliteSinging {
  samples: Float32Array;
  /**
   * True where a vowel sounds (time in seconds). Only vowels: a pitch tracker often calls the weaker
   * nasals and liquids unvoiced, and the note is held on the vowel.
   */
  voicedFrames: (time: number) => boolean;
  /** When each phone sounds, as sung (after the consonants were fitted), ARPAbet upper case. */
  phonemes: { phoneme: string; start: number; end: number }[];
}

/** A phone with its planned span (seconds of the output). */
interface Unit {
  phone: string;
  kind: 'vowel' | 'consonant' | 'silence';
  start: number;
  end: number;
  /** Diphthongs: length of the offglide at the end of the span, seconds. */
  glide: number;
  /** Vowels: end of the held part (before the tail sung at natural speed), seconds; else `end`. */
  holdEnd?: number;
}

/** A run of units sung by one Flite call. */
interface Call {
  units: Unit[];
  breath: Segment | null;
}

/** Calls break at silences at least this long (seconds); shorter rests become `pau` inside a call. */
const CALL_GAP = 0.25;
/** Transition at each end of a vowel not counted as its held note, seconds. */
const EDGE = 0.025;
/** Unvoiced grain half-length, seconds. */
const UNVOICED_HOP = 0.005;
/** Fade at the ends of each sounding stretch, seconds. */
const EDGE_FADE = 0.005;
const SONORANTS = new Set(['m', 'n', 'ng', 'l', 'r', 'w', 'y']);
/** Voiced fricatives and plosives: their voicing bar is periodic, so they are pitch-shifted too. */
const VOICED_OBSTRUENTS = new Set(['v', 'dh', 'z', 'zh', 'b', 'd', 'g', 'jh']);
const DIPHTHONGS = new Set(['ay', 'aw', 'ey', 'ow', 'oy']);

/** Sings the planned timeline with Flite + PSOLA. Yields after each Flite call. */
export function* singWithFliteSliced(timeline: Timeline, options: FliteSingOptions): Sliced<FliteSinging> {
  const { sampleRate, length } = options;
  const out = new Float32Array(length);
  const random = createRandom(options.seed ^ 0x1f17e);
  const calls = groupCalls(timeline.segments);
  const voicedSpans: [number, number][] = [];
  const phonemes: FliteSinging['phonemes'] = [];
  for (const call of calls) {
    if (call.breath) addBreath(out, call.breath, sampleRate, random);
    const sounding = call.units.filter((u) => u.kind !== 'silence');
    if (!sounding.length) continue;
    const sungHz = medianHz(options.contour, options.step, sounding);
    const f0 = sungHz > LOWER_FROM_HZ ? sungHz * LOWER_RATIO : sungHz;
    const level = Math.pow(f0 / sungHz, LOWER_LEVEL_EXPONENT);
    const speech = runFlite(options.program, { voice: options.voice, phones: ['pau', ...call.units.map((u) => u.phone), 'pau'], f0Hz: f0 });
    const source = resample(speech.samples, speech.sampleRate, sampleRate);
    const segments = speech.segments.slice(1, 1 + call.units.length);
    if (segments.length !== call.units.length || segments.some((s, i) => s.phone !== call.units[i].phone)) {
      throw new AudioProcessingError(`Flite answered ${speech.segments.length} phones for ${call.units.length + 2} asked.`, {
        reason: 'FLITE_FAILED',
      });
    }
    fitConsonants(call.units, segments);
    const warp = buildWarp(call.units, segments, source, sampleRate);
    const analysis = analyseSource(source, sampleRate, f0, call.units, segments);
    renderCall(out, source, analysis, warp, call.units, options, random, level);
    for (const unit of call.units) {
      // The held note: the vowel up to its tail (the transition out, and Flite's phrase-final decay).
      // Its first and last 25 ms are transitions (and a vowel after a pause fades in); a diphthong's
      // offglide is a moving vowel, not the held note.
      if (unit.kind === 'vowel') voicedSpans.push([unit.start + EDGE, Math.min(unit.holdEnd ?? unit.end, unit.end - unit.glide) - EDGE]);
      if (unit.kind !== 'silence') phonemes.push({ phoneme: unit.phone.toUpperCase(), start: unit.start, end: unit.end });
    }
    yield;
  }
  tuneFirstFormant(out, sampleRate, options.contour, tuningLevelPitch(options.contour, options.step, timeline.notes), options.step);
  addAir(out, sampleRate, random);
  voicedSpans.sort((a, b) => a[0] - b[0]);
  // Binary search: the last span starting at or before `time`.
  const voicedFrames = (time: number) => {
    let lo = 0;
    let hi = voicedSpans.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (voicedSpans[mid][0] <= time) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 && time < voicedSpans[found][1];
  };
  return { samples: out, voicedFrames, phonemes };
}

/** Units from the timeline: plosive parts merged, diphthong halves merged, silences kept. */
function groupCalls(segments: readonly Segment[]): Call[] {
  const calls: Call[] = [];
  let current: Call = { units: [], breath: null };
  const flush = () => {
    while (current.units.length && current.units[current.units.length - 1].kind === 'silence') current.units.pop();
    if (current.units.length || current.breath) calls.push(current);
    current = { units: [], breath: null };
  };
  for (const segment of segments) {
    if (segment.kind === 'breath') {
      flush();
      current.breath = segment;
      continue;
    }
    if (segment.kind === 'silence') {
      if (segment.end - segment.start >= CALL_GAP) flush();
      else if (current.units.length)
        current.units.push({ phone: 'pau', kind: 'silence', start: segment.start, end: segment.end, glide: 0 });
      continue;
    }
    const base = segment.phoneme.split(':')[0].toLowerCase();
    const previous = current.units[current.units.length - 1];
    const part = segment.phoneme.includes(':') && !segment.phoneme.endsWith(':closure');
    const offglide =
      segment.kind === 'vowel' &&
      previous?.kind === 'vowel' &&
      previous.phone === base &&
      DIPHTHONGS.has(base) &&
      previous.end === segment.start &&
      previous.glide === 0;
    if (previous && previous.phone === base && (part || offglide)) {
      if (offglide) previous.glide = segment.end - segment.start;
      previous.end = segment.end;
      continue;
    }
    current.units.push({
      phone: base,
      kind: segment.kind === 'vowel' ? 'vowel' : 'consonant',
      start: segment.start,
      end: segment.end,
      glide: 0,
    });
  }
  flush();
  return calls;
}

/**
 * Consonant clusters get back up to this share of Flite's own length (when the vowel before can give the
 * time): 1.5, so consonants are sung half as long again as Flite speaks them, as singers lengthen them
 * for diction (issue 11 round 4, docs/benchmarks.md: held-out lines, both voices).
 */
const CONSONANT_KEEP = 1.5;
/** What a vowel keeps when it lends time to the consonants after it: share of its span, and seconds. */
const VOWEL_KEEP = 0.35;
const VOWEL_MIN = 0.06;

/**
 * Gives squeezed consonant clusters back the time Flite needs for them: a cluster (the consonants
 * between two vowels, or after a silence) whose planned span is shorter than {@link CONSONANT_KEEP} of
 * Flite's length grows towards that length by starting earlier, taking time from the vowel (or
 * silence) before it; the next vowel still starts on its beat. The cluster's span is then shared
 * among its consonants in proportion to Flite's lengths. Changes `units` in place.
 */
function fitConsonants(units: Unit[], segments: readonly { start: number; end: number }[]): void {
  let i = 0;
  while (i < units.length) {
    if (units[i].kind !== 'consonant') {
      i++;
      continue;
    }
    let j = i;
    while (j < units.length && units[j].kind === 'consonant') j++;
    // Cluster units[i..j).
    const natural = segments.slice(i, j).reduce((sum, s) => sum + (s.end - s.start), 0);
    const start = units[i].start;
    const end = units[j - 1].end;
    let newStart = start;
    const before = units[i - 1];
    const wanted = CONSONANT_KEEP * natural - (end - start);
    if (wanted > 0 && before) {
      const span = before.end - before.start;
      const spare = before.kind === 'silence' ? Math.max(0, span - 0.02) : Math.max(0, span - Math.max(VOWEL_KEEP * span, VOWEL_MIN));
      newStart = start - Math.min(wanted, spare);
      before.end = newStart;
    } else if (wanted > 0 && !before) {
      newStart = Math.max(0, start - wanted);
    }
    let t = newStart;
    for (let k = i; k < j; k++) {
      const share = natural > 0 ? (segments[k].end - segments[k].start) / natural : 1 / (j - i);
      units[k].start = t;
      t = k === j - 1 ? end : t + share * (end - newStart);
      units[k].end = t;
    }
    i = j;
  }
}

/**
 * High phrases are spoken lower and shifted up: a call whose median note is above G4 (392 Hz) is
 * rendered by Flite a fifth lower (× 2^(−7/12) = 0.6674), and the PSOLA lays its grains (two source
 * periods long, so each keeps the tract's response to one pulse) at the sung periods. Why: Flite's
 * `slt` is a speaking voice (around 180 Hz); driven at 400–700 Hz its output is a few harmonics that
 * sample the spectral envelope sparsely, and the grains cut from it are too short (2 × 1.7 ms at 587 Hz)
 * to hold its formants. Spoken lower, each grain carries the envelope at a finer resolution and the
 * upward shift keeps it (the formants stay put while the pitch moves: TD-PSOLA's property, Moulines &
 * Charpentier 1990). An octave lower gained as many lines but lowered the worst song's pitch accuracy
 * (0.957 against 0.976); issue 11 round 7, docs/benchmarks.md. The low voice (range up to E4) never
 * reaches it, so its samples are unchanged.
 */
const LOWER_FROM_HZ = 392;
const LOWER_RATIO = 0.6674;
/**
 * A lowered phrase's voiced grains (and its breath) are scaled by (render f0 / sung f0)^0.25, against
 * the extra overlap of grains two source periods long laid at shorter sung periods. It does not hold
 * the phrase's level exactly: Flite's own output level moves with f0 by up to 12 dB and not
 * monotonically ("s aa m aa" by `slt`: −14.6 dB RMS at 196 Hz, −22.5 at 330–466, −26.3 at 587, −21.7
 * at 698), so against the same phrase sung without lowering (beside a phrase on F♯4) one on G♯4 came
 * out 1.5 dB louder, on B4 0.7 dB quieter, on D5 5.4 dB louder, on F5 0.7 dB quieter (without the
 * scaling: +2.4, +0.2, +6.2, +0.2 dB). The song is normalised after the voice as before; the balance
 * between phrases was not controlled before either (the same table, unlowered).
 */
const LOWER_LEVEL_EXPONENT = 0.25;

/** Duration-weighted median pitch of the call's vowels, Hz. */
function medianHz(contour: Float32Array, step: number, units: readonly Unit[]): number {
  const values: number[] = [];
  for (const unit of units) {
    if (unit.kind !== 'vowel') continue;
    for (let t = unit.start; t < unit.end; t += 0.02) values.push(contour[Math.min(contour.length - 1, Math.round(t / step))]);
  }
  if (!values.length) for (const unit of units) values.push(contour[Math.min(contour.length - 1, Math.round(unit.start / step))]);
  values.sort((a, b) => a - b);
  const midi = values[Math.floor(values.length / 2)] || 60;
  return 440 * Math.pow(2, (midi - 69) / 12);
}

/** Piecewise-linear map from output time to source time: anchor pairs sorted by output time. */
interface Warp {
  out: number[];
  src: number[];
}

function buildWarp(units: Unit[], segments: readonly { start: number; end: number }[], source: Float32Array, rate: number): Warp {
  const out: number[] = [];
  const src: number[] = [];
  const add = (o: number, s: number) => {
    if (out.length && o <= out[out.length - 1]) return;
    out.push(o);
    src.push(s);
  };
  units.forEach((unit, i) => {
    const { start: spoken, end: b } = segments[i];
    const A = unit.start;
    const B = unit.end;
    const held = unit.kind === 'vowel' && B - A > b - spoken;
    const diphthong = unit.glide > 0;
    // Hold the vowel where it is loudest (its steady part), reaching it and leaving it at natural speed;
    // a diphthong glides to its second target late.
    const peak = held
      ? loudestPoint(source, rate, spoken + 0.2 * (b - spoken), diphthong ? spoken + 0.55 * (b - spoken) : b - 0.2 * (b - spoken))
      : 0;
    // A held vowel reaches its steady part in the time Flite takes from where the vowel becomes audible
    // (see VOWEL_ONSET_DB): a faint lead-in is passed over quickly instead of sung from the beat.
    const a = held ? audibleOnset(source, rate, spoken, peak) : spoken;
    add(A, a);
    if (held) {
      const holdFrom = Math.max(a, peak - HOLD_HALF);
      const holdTo = Math.min(b, peak + HOLD_HALF);
      const tail = diphthong ? Math.max(unit.glide, b - holdTo) : b - holdTo;
      let lead = holdFrom - a;
      let end = tail;
      const room = 0.8 * (B - A);
      if (lead + end > room) {
        const scale = room / (lead + end);
        lead *= scale;
        end *= scale;
      }
      add(A + lead, holdFrom);
      add(B - end, holdTo);
      unit.holdEnd = B - end;
    }
    add(B, b);
  });
  return { out, src };
}

/**
 * A held vowel's lead-in (the stretch played at natural speed before its steady part) is timed from
 * where Flite's vowel first comes within this many dB of its loudest 20 ms, not from its start. Why:
 * Flite's `slt` starts a vowel after a pause (a word like "I" or "and" opening a phrase, or after a
 * short rest inside one) with up to 120 ms some 22 dB under the vowel ("light / I move" at B♭3: −37 dB
 * RMS, then −14 dB), and the lead-in played all of it from the beat, so the note came in late and faint:
 * our tracker called its first 80 ms unvoiced (a trumpet-fanfare song at 0.960 of frames within 50 cents,
 * the held-out lines' worst; issue 11 round 8, docs/benchmarks.md). Now the faint part is passed over
 * quickly (where the sound before ends at the vowel's start, the warp runs from there) or skipped (a
 * call's first phone), and the vowel sounds on the beat, as a singer's does.
 */
const VOWEL_ONSET_DB = 15;

/**
 * Where a vowel spoken from `from` (seconds of the source) first comes within VOWEL_ONSET_DB of its
 * energy at `peak` (20 ms windows, 2 ms steps), less half a window; `from` itself if it starts loud.
 */
function audibleOnset(source: Float32Array, rate: number, from: number, peak: number): number {
  const energy = (t: number) => {
    let e = 0;
    const c = Math.round(t * rate);
    const half = Math.round(0.01 * rate);
    for (let n = Math.max(0, c - half); n < Math.min(source.length, c + half); n++) e += source[n] * source[n];
    return e;
  };
  const floor = energy(peak) * Math.pow(10, -VOWEL_ONSET_DB / 10);
  for (let t = from + 0.01; t < peak; t += 0.002) if (energy(t) >= floor) return Math.max(from, t - 0.01);
  return from;
}

/** Half-length of the source stretch a held vowel loops over, seconds. */
const HOLD_HALF = 0.015;

/** Time (seconds) of the largest 20 ms energy of `source` between `from` and `to` seconds. */
function loudestPoint(source: Float32Array, rate: number, from: number, to: number): number {
  const half = Math.round(0.01 * rate);
  const step = Math.max(1, Math.round(0.002 * rate));
  let best = (from + to) / 2;
  let bestEnergy = -1;
  for (let c = Math.round(from * rate); c <= Math.round(to * rate); c += step) {
    let e = 0;
    for (let n = Math.max(0, c - half); n < Math.min(source.length, c + half); n++) e += source[n] * source[n];
    if (e > bestEnergy) {
      bestEnergy = e;
      best = c / rate;
    }
  }
  return best;
}

function warpAt(warp: Warp, t: number, hint: { i: number }): number {
  const { out, src } = warp;
  while (hint.i + 1 < out.length - 1 && out[hint.i + 1] <= t) hint.i++;
  while (hint.i > 0 && out[hint.i] > t) hint.i--;
  const i = hint.i;
  if (t <= out[0]) return src[0] + (t - out[0]);
  if (t >= out[out.length - 1]) return src[src.length - 1] + (t - out[out.length - 1]);
  const x = (t - out[i]) / (out[i + 1] - out[i]);
  return src[i] + x * (src[i + 1] - src[i]);
}

interface SourceAnalysis {
  /** Pitch marks (sample index at the output rate) and whether each is voiced. */
  marks: Int32Array;
  voiced: Uint8Array;
  period: number;
}

/**
 * Pitch marks of the flat-pitched source: in voiced phones (vowels, sonorants, voiced obstruents,
 * where the period is `fs / f0`), one mark per period from the largest sample of the stretch's first
 * period; elsewhere a mark every 5 ms.
 */
function analyseSource(
  source: Float32Array,
  rate: number,
  f0: number,
  units: readonly Unit[],
  segments: readonly { start: number; end: number }[],
): SourceAnalysis {
  const period = rate / f0;
  const voicedAt = new Uint8Array(source.length);
  units.forEach((unit, i) => {
    if (unit.kind !== 'vowel' && !SONORANTS.has(unit.phone) && !VOICED_OBSTRUENTS.has(unit.phone)) return;
    voicedAt.fill(1, Math.max(0, Math.round(segments[i].start * rate)), Math.min(source.length, Math.round(segments[i].end * rate)));
  });
  const marks: number[] = [];
  const voiced: number[] = [];
  const hop = Math.round(UNVOICED_HOP * rate);
  let n = 0;
  while (n < source.length) {
    if (voicedAt[n]) {
      // Start of a voiced stretch: the first mark on the biggest peak of the first period.
      let best = n;
      const end = Math.min(source.length, n + Math.round(period));
      for (let k = n; k < end; k++) if (source[k] > source[best]) best = k;
      // Flite's excitation runs at exactly the flat f0, so the next marks follow at whole periods
      // (fractional positions rounded): picking a peak per period instead can alternate between two
      // peaks of a high voice's period and put a subharmonic into the re-pitched sound.
      let m = best;
      for (let k = 1; m < source.length && voicedAt[m]; k++) {
        marks.push(m);
        voiced.push(1);
        m = best + Math.round(k * period);
      }
      n = m + hop;
      while (n < source.length && voicedAt[n]) n++;
      continue;
    }
    marks.push(n);
    voiced.push(0);
    n += hop;
  }
  return { marks: Int32Array.from(marks), voiced: Uint8Array.from(voiced), period };
}

/**
 * Overlap-adds the grains of one call into `out` along the warp and the sung contour. A voiced grain
 * between two voiced pitch marks is the two marks' grains weighted by the source position between them
 * (waveform interpolation), not the nearest one alone. Why: a held vowel plays 30 ms of Flite's vowel
 * over up to a second or more, so the source position creeps forward one source period every
 * 0.1–0.2 s, and each switch from repeating one grain to repeating the next was a step in the waveform: a
 * faint broadband tick at that rate through every long note (seen in the spectrogram of a misrecognised
 * line, "we are walking"; 60–250 Hz, under the fundamental, rose from −45 to −31 dB of the frame's power at
 * each switch; issue 11 round 8, docs/benchmarks.md).
 */
function renderCall(
  out: Float32Array,
  source: Float32Array,
  analysis: SourceAnalysis,
  warp: Warp,
  units: readonly Unit[],
  options: FliteSingOptions,
  random: () => number,
  level: number,
): void {
  const rate = options.sampleRate;
  const hop = UNVOICED_HOP * rate;
  const formantStretch = options.formantStretch ?? 1;
  const hint = { i: 0 };
  // Sounding stretches: consecutive non-silent units.
  const stretches: [number, number][] = [];
  for (const unit of units) {
    if (unit.kind === 'silence') continue;
    const last = stretches[stretches.length - 1];
    if (last && Math.abs(last[1] - unit.start) < 1e-6) last[1] = unit.end;
    else stretches.push([unit.start, unit.end]);
  }
  const { marks, voiced, period: sourcePeriod } = analysis;
  let markIndex = 0;
  for (const [start, end] of stretches) {
    const from = Math.max(0, Math.floor(start * rate));
    const to = Math.min(out.length, Math.ceil(end * rate));
    const buffer = new Float32Array(to - from);
    // Envelope-shaped breath on high notes (see BREATH_GAIN), made only where a note reaches it.
    let breath: Float32Array | null = null;
    let t = start * rate;
    while (t < to) {
      const s = warpAt(warp, t / rate, hint) * rate;
      while (markIndex + 1 < marks.length && marks[markIndex + 1] <= s) markIndex++;
      while (markIndex > 0 && marks[markIndex] > s) markIndex--;
      const nearest = markIndex + 1 < marks.length && marks[markIndex + 1] - s < s - marks[markIndex] ? markIndex + 1 : markIndex;
      const isVoiced = voiced[nearest] === 1;
      let centre: number;
      let half: number;
      let advance: number;
      let gain = 1;
      if (isVoiced) {
        const midi = options.contour[Math.min(options.contour.length - 1, Math.max(0, Math.round(t / rate / options.step)))];
        // Period jitter of ±0.3 % (a healthy voice's cycle-to-cycle jitter is under 1 %: Baken &
        // Orlikoff, "Clinical Measurement of Speech and Voice", 2000), far inside the 50-cent tolerance.
        const hz = 440 * Math.pow(2, (midi - 69) / 12);
        advance = (rate / hz) * (1 + 0.006 * (random() - 0.5));
        centre = marks[nearest];
        half = sourcePeriod;
        gain = level * (1 + 0.04 * (random() - 0.5));
        const share = Math.min(1, (hz - BREATH_FROM_HZ) / (BREATH_FULL_HZ - BREATH_FROM_HZ)) * (options.highNoteBreath ?? 0);
        if (share > 0) {
          // The same grain at a random place within the period and with a random sign: no harmonic
          // adds up from period to period, so this is noise with the grain's spectral envelope.
          breath ??= new Float32Array(buffer.length);
          const sign = random() < 0.5 ? -1 : 1;
          addGrain(breath, t - from + (random() - 0.5) * advance, source, centre, half, sign * share * level, formantStretch);
        }
      } else {
        // Re-timed noise: jitter the source position only where the sound is being stretched, so
        // repeated grains do not buzz at the hop rate, while bursts at natural speed stay intact.
        const slope = (warpAt(warp, (t + hop) / rate, hint) * rate - s) / hop;
        centre = s + (slope < 0.8 ? (random() - 0.5) * hop : 0);
        half = hop;
        advance = hop;
      }
      const next = markIndex + 1;
      const stretch = isVoiced ? formantStretch : 1;
      if (isVoiced && next < marks.length && voiced[markIndex] === 1 && voiced[next] === 1 && s >= marks[markIndex] && s <= marks[next]) {
        // Between two voiced marks: both grains, weighted by where the source position lies (see
        // renderCall's doc comment: a held vowel creeps through its source, and switching from one
        // grain to the next at once clicks).
        const w = (s - marks[markIndex]) / (marks[next] - marks[markIndex]);
        addGrainPair(buffer, t - from, source, marks[markIndex], gain * (1 - w), marks[next], gain * w, half, stretch);
      } else addGrain(buffer, t - from, source, centre, half, gain, stretch);
      t += advance;
    }
    if (breath) addHighPassed(buffer, breath, BREATH_HIGHPASS_HZ, rate);
    // Fade the stretch's ends so it starts and stops without a step.
    const fade = Math.min(Math.round(EDGE_FADE * rate), buffer.length >> 1);
    for (let k = 0; k < fade; k++) {
      const w = 0.5 - 0.5 * Math.cos((Math.PI * k) / fade);
      buffer[k] *= w;
      buffer[buffer.length - 1 - k] *= w;
    }
    for (let k = 0; k < buffer.length; k++) out[from + k] += buffer[k];
  }
}

/**
 * High notes: sung pitch (Hz) where envelope-shaped breath starts, and where it reaches its full level
 * (G4, D5; from E4 it also gained words but flipped more lines both ways on the lower notes). A voiced
 * grain is added a second time once per period at a random place and with a random sign, at the
 * voice's `highNoteBreath` of its level, and that stream is high-passed at BREATH_HIGHPASS_HZ. Why: at
 * 400–600 Hz the harmonics sample the vowel's spectral envelope sparsely and the bands between them are
 * empty (the spectrogram of a `high` line shows clean harmonics 450 Hz apart with nothing between; the
 * `low` voice's are 220 Hz apart); an aperiodic part with the same envelope fills them (a soprano's voice
 * carries more aspiration noise than speech), so the second and third formants are outlined between the
 * harmonics (issue 11 round 6, docs/benchmarks.md). Above 1.5 kHz only: high-passed at 700 Hz, the same
 * noise made aubio read held C5 and D5 notes an octave low (a clarinet-folk song fell to 0.87 of frames
 * within 50 cents); the fundamental and second harmonic, which the trackers lean on, keep a clean band.
 */
const BREATH_FROM_HZ = 392;
const BREATH_FULL_HZ = 587;
const BREATH_HIGHPASS_HZ = 1500;

/** Adds `signal` high-passed (RBJ second order, Q 0.707) at `hz` to `into`. */
function addHighPassed(into: Float32Array, signal: Float32Array, hz: number, rate: number): void {
  const [b0, b1, b2, a1, a2] = highpass(hz, Math.SQRT1_2, rate);
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let n = 0; n < signal.length; n++) {
    const x = signal[n];
    const y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1;
    x1 = x;
    y2 = y1;
    y1 = y;
    into[n] += y;
  }
}

/**
 * Adds the source around `centre` (±`half` samples, Hann window) at fractional output position `at`.
 * With `stretch` > 1 the grain is read that much slower (±`half` source samples laid over ±`half` ×
 * `stretch` output samples, its level divided by `stretch` against the longer overlap), so its
 * spectral envelope is compressed by 1/`stretch`; at 1 the arithmetic is exactly the unstretched grain's.
 */
function addGrain(buffer: Float32Array, at: number, source: Float32Array, centre: number, half: number, gain: number, stretch = 1): void {
  const span = half * stretch;
  const level = gain / stretch;
  const first = Math.max(0, Math.ceil(at - span));
  const last = Math.min(buffer.length - 1, Math.floor(at + span));
  for (let n = first; n <= last; n++) {
    const offset = n - at;
    const position = centre + offset / stretch;
    const i = Math.floor(position);
    if (i < 0 || i + 1 >= source.length) continue;
    const frac = position - i;
    const value = source[i] + frac * (source[i + 1] - source[i]);
    buffer[n] += level * value * (0.5 + 0.5 * Math.cos((Math.PI * offset) / span));
  }
}

/**
 * {@link addGrain} for two grains laid at the same place (`first` with `firstGain`, then `second` with
 * `secondGain`), with the same samples as two addGrain calls in that order: the window is computed once
 * for both (its cosine was most of a grain's cost).
 */
function addGrainPair(
  buffer: Float32Array,
  at: number,
  source: Float32Array,
  first: number,
  firstGain: number,
  second: number,
  secondGain: number,
  half: number,
  stretch: number,
): void {
  const span = half * stretch;
  const firstLevel = firstGain / stretch;
  const secondLevel = secondGain / stretch;
  const from = Math.max(0, Math.ceil(at - span));
  const last = Math.min(buffer.length - 1, Math.floor(at + span));
  for (let n = from; n <= last; n++) {
    const offset = n - at;
    const window = 0.5 + 0.5 * Math.cos((Math.PI * offset) / span);
    const read = offset / stretch;
    // Rounded to float32 after the first grain, as the buffer holds it between two addGrain calls.
    let sum = buffer[n];
    let i = Math.floor(first + read);
    if (i >= 0 && i + 1 < source.length) {
      const frac = first + read - i;
      sum = Math.fround(sum + firstLevel * (source[i] + frac * (source[i + 1] - source[i])) * window);
    }
    i = Math.floor(second + read);
    if (i >= 0 && i + 1 < source.length) {
      const frac = second + read - i;
      sum += secondLevel * (source[i] + frac * (source[i + 1] - source[i])) * window;
    }
    buffer[n] = sum;
  }
}

/** A soft inhale: noise band-passed around 0.5–2.5 kHz with a rise-and-fall envelope, well under the voice. */
function addBreath(out: Float32Array, segment: Segment, rate: number, random: () => number): void {
  const from = Math.max(0, Math.floor(segment.start * rate));
  const to = Math.min(out.length, Math.ceil(segment.end * rate));
  // Two one-pole low-passes at 1.8 kHz and a one-pole high-pass at 400 Hz: an unvoiced "ah" through an
  // open tract, without the flat hiss up to 20 kHz a white-noise breath has.
  const lp = onePole(1800, rate);
  const hp = onePole(400, rate);
  let low1 = 0;
  let low2 = 0;
  let slow = 0;
  for (let n = from; n < to; n++) {
    const x = random() * 2 - 1;
    low1 += lp * (x - low1);
    low2 += lp * (low1 - low2);
    slow += hp * (low2 - slow);
    const phase = (n - from) / Math.max(1, to - from);
    out[n] += 0.03 * Math.sin(Math.PI * phase) ** 2 * (low2 - slow);
  }
}

/**
 * Rebuilds the band above 8 kHz that Flite's 16 kHz output lacks: the 4–8 kHz band, shifted up by
 * 4 kHz (ring modulation) and high-passed at 8 kHz, added at −12 dB. Adds breathiness and removes rumble
 * in the same pass.
 */
function addAir(out: Float32Array, rate: number, random: () => number): void {
  if (rate < 24000) return;
  // Four biquads in cascade, their coefficients and states in locals (not arrays read and written per
  // sample): the same operations in the same order, so the same samples, in less time.
  const [a0, a1, a2, a3, a4] = highpass(4000, 0.54, rate);
  const [b0, b1, b2, b3, b4] = highpass(4000, 1.31, rate);
  const [c0, c1, c2, c3, c4] = highpass(8000, 0.54, rate);
  const [d0, d1, d2, d3, d4] = highpass(8000, 1.31, rate);
  let ax1 = 0,
    ax2 = 0,
    ay1 = 0,
    ay2 = 0;
  let bx1 = 0,
    bx2 = 0,
    by1 = 0,
    by2 = 0;
  let cx1 = 0,
    cx2 = 0,
    cy1 = 0,
    cy2 = 0;
  let dx1 = 0,
    dx2 = 0,
    dy1 = 0,
    dy2 = 0;
  const w = (2 * Math.PI * 4000) / rate;
  const follow = onePole(100, rate);
  const hiss = onePole(2000, rate);
  const rumble = onePole(60, rate);
  let envelope = 0;
  let noiseLow = 0;
  const top = onePole(5000, rate);
  let band1 = 0;
  let band2 = 0;
  let dc = 0;
  // One pass, sample by sample, so no full-length intermediate arrays (a 5-minute song is 53 MB each).
  for (let n = 0; n < out.length; n++) {
    // High-pass at 4 kHz (two stages), ring-modulate by 4 kHz, high-pass at 8 kHz (two stages).
    const x0 = out[n];
    const ya = a0 * x0 + a1 * ax1 + a2 * ax2 - a3 * ay1 - a4 * ay2;
    ax2 = ax1;
    ax1 = x0;
    ay2 = ay1;
    ay1 = ya;
    const yb = b0 * ya + b1 * bx1 + b2 * bx2 - b3 * by1 - b4 * by2;
    bx2 = bx1;
    bx1 = ya;
    by2 = by1;
    by1 = yb;
    const shifted = yb * (2 * Math.cos(w * n) * (1 + 0.1 * (random() - 0.5)));
    const yc = c0 * shifted + c1 * cx1 + c2 * cx2 - c3 * cy1 - c4 * cy2;
    cx2 = cx1;
    cx1 = shifted;
    cy2 = cy1;
    cy1 = yc;
    const x = d0 * yc + d1 * dx1 + d2 * dx2 - d3 * dy1 - d4 * dy2;
    dx2 = dx1;
    dx1 = yc;
    dy2 = dy1;
    dy1 = x;
    // Aspiration that follows the voice's envelope (breathiness), noise in 2–5 kHz about 30 dB down, and a
    // one-pole high-pass at 60 Hz against Flite's low-frequency drift.
    envelope += follow * (Math.abs(out[n]) - envelope);
    const noise = random() * 2 - 1;
    noiseLow += hiss * (noise - noiseLow);
    band1 += top * (noise - noiseLow - band1);
    band2 += top * (band1 - band2);
    const value = out[n] + 0.25 * x + 0.04 * envelope * band2;
    dc += rumble * (value - dc);
    out[n] = value - dc;
  }
}

/**
 * Sung pitch (Hz) where the first-formant tuning starts, and where it reaches its full gain. Starting
 * at C5 instead (issue 11 round 6) gained lines but let aubio read a held B4 at its sixth harmonic
 * (a song at 0.936 of frames within 50 cents): kept at A4.
 */
const TUNE_FROM_HZ = 440;
const TUNE_FULL_HZ = 660;
/** Full gain of the resonance at the fundamental, dB, and its Q. */
const TUNE_GAIN_DB = 12;
const TUNE_Q = 2;
/** Samples per coefficient update (the contour moves slowly against this). */
const TUNE_BLOCK = 32;

/**
 * High notes: a resonance that follows the sung fundamental, as a soprano raises her first formant to
 * f0 once f0 climbs past it (Sundberg, "Formant technique in a professional female singer", Acustica
 * 32, 1975). Flite's vowels keep their spoken formants, so above ~A4 a close vowel (IY, UW: F1 near
 * 300–400 Hz) had its fundamental 4 dB under its fourth harmonic, and our pitch tracker read a held F5
 * on IY an octave low (aubio's worst song also rose from 0.927 to 0.956 with this filter). An RBJ peaking filter (Audio EQ Cookbook) at the
 * contour's pitch, its gain rising from 0 dB at TUNE_FROM_HZ to TUNE_GAIN_DB at TUNE_FULL_HZ with
 * `levelPitch` (the contour, but a melisma's highest note through the melisma: tuningLevelPitch); where
 * that is below TUNE_FROM_HZ the samples are left exactly as they were.
 */
function tuneFirstFormant(out: Float32Array, rate: number, contour: Float32Array, levelPitch: Float32Array, step: number): void {
  // Direct form I; at 0 dB the peaking filter is the identity (b = a), so the state may stay x = y.
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  let resting = true;
  for (let from = 0; from < out.length; from += TUNE_BLOCK) {
    const to = Math.min(out.length, from + TUNE_BLOCK);
    const k = Math.min(contour.length - 1, Math.round(from / rate / step));
    const hz = 440 * Math.pow(2, (contour[k] - 69) / 12);
    const levelHz = 440 * Math.pow(2, (levelPitch[k] - 69) / 12);
    const share = Math.min(1, Math.max(0, (levelHz - TUNE_FROM_HZ) / (TUNE_FULL_HZ - TUNE_FROM_HZ)));
    if (share === 0 && resting) {
      // Below the tuning range with the filter at rest: the samples stay exactly as they were.
      x2 = y2 = to >= 2 ? out[to - 2] : 0;
      x1 = y1 = out[to - 1];
      continue;
    }
    const a = Math.pow(10, (share * TUNE_GAIN_DB) / 40);
    const w = (2 * Math.PI * hz) / rate;
    const alpha = Math.sin(w) / (2 * TUNE_Q);
    const a0 = 1 + alpha / a;
    const b0 = (1 + alpha * a) / a0;
    const b1 = (-2 * Math.cos(w)) / a0;
    const b2 = (1 - alpha * a) / a0;
    const a2 = (1 - alpha / a) / a0;
    for (let n = from; n < to; n++) {
      const x = out[n];
      const y = b0 * x + b1 * x1 + b2 * x2 - b1 * y1 - a2 * y2;
      x2 = x1;
      x1 = x;
      y2 = y1;
      y1 = y;
      out[n] = y;
    }
    // Back at rest once the last resonance has died away (at 0 dB only the transient differs from x).
    resting = share === 0 && Math.abs(y1 - x1) + Math.abs(y2 - x2) < 1e-6;
  }
}

/**
 * The pitch (float MIDI, on the contour's grid) that sets the first-formant tuning's gain: the sung
 * contour, except through a melisma (one vowel held over several notes, from its first note's start to
 * its last note's end), where it is the melisma's highest note throughout. Why: with the gain following
 * each note, a vowel held over D5–B4–C5 had its fundamental raised 8, 3 and 4.5 dB in turn, a change of
 * spectrum at every note of one vowel; a singer who has tuned her first formant to the top of a run keeps
 * that resonance through it. The resonance's frequency still follows the sung pitch. Issue 11 round 13
 * (docs/benchmarks.md): 155 held-out lines, +1 in open/frate50 (one line) and no column lower; the same for the
 * high-note breath lost a line in open/tempo2, so the breath still follows each note.
 */
function tuningLevelPitch(contour: Float32Array, step: number, notes: readonly TimedNote[]): Float32Array {
  const level = Float32Array.from(contour);
  let first = 0;
  while (first < notes.length) {
    let last = first;
    while (last + 1 < notes.length && notes[last + 1].melisma) last++;
    if (last > first) {
      let top = -Infinity;
      for (let i = first; i <= last; i++) top = Math.max(top, notes[i].midi);
      level.fill(top, Math.max(0, Math.round(notes[first].start / step)), Math.min(level.length, Math.round(notes[last].end / step) + 1));
    }
    first = last + 1;
  }
  return level;
}

function onePole(cornerHz: number, rate: number): number {
  return 1 - Math.exp((-2 * Math.PI * cornerHz) / rate);
}

type Biquad = [b0: number, b1: number, b2: number, a1: number, a2: number];

/** RBJ Audio EQ Cookbook high-pass. */
function highpass(hz: number, q: number, rate: number): Biquad {
  const w = (2 * Math.PI * hz) / rate;
  const alpha = Math.sin(w) / (2 * q);
  const cos = Math.cos(w);
  const a0 = 1 + alpha;
  return [(1 + cos) / 2 / a0, -(1 + cos) / a0, (1 + cos) / 2 / a0, (-2 * cos) / a0, (1 - alpha) / a0];
}
