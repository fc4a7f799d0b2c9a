/**
 * Source-filter formant synthesis in the manner of Klatt's cascade/parallel synthesizer (Klatt,
 * "Software for a cascade/parallel formant synthesizer", JASA 67, 1980), adapted to 44.1 kHz singing:
 *
 *   glottal wavetable (band-limited, exact f0) ┐
 *   + aspiration noise (gated by the open phase) ┼→ nasal zero → nasal pole → F1 … F5 (cascade) ┐
 *                                                └→ high-pass (bypass: the air above F5) ─────────┤
 *   frication noise → two band-passes → low-pass (parallel branch) ───────────────────────────────┴→ out
 *
 * Articulation arrives as control tracks sampled every {@link CONTROL_BLOCK} samples; amplitudes are
 * interpolated per sample inside a block, filter coefficients are refreshed per block (0.7 ms at
 * 44.1 kHz), so nothing jumps: joins between notes and phonemes are click-free by construction.
 * F1–F3 follow the phoneme targets; F4, F5 and the bypass are fixed per voice. A five-formant
 * cascade alone is dull at 44.1 kHz (every pole rolls off 12 dB/octave above it); Klatt's bypass
 * path restores the excitation's top octaves in place of the missing higher poles.
 */
import { glottalSource, TABLE_SIZE } from './glottal-source.js';
import type { Segment } from './timeline.js';
import type { VoiceProfile } from './voices.js';
import { runSliced, type Sliced } from '../sliced.js';

/** Samples between control points. */
export const CONTROL_BLOCK = 32;

/** Articulatory control tracks, one value per control point (`t_k = k · CONTROL_BLOCK / sampleRate`). */
export interface ControlTracks {
  count: number;
  /** Instantaneous sung pitch (float MIDI). */
  midi: Float32Array;
  /** Voicing, aspiration and frication amplitudes (linear). */
  voicing: Float32Array;
  aspiration: Float32Array;
  frication: Float32Array;
  /** F1–F3 and B1–B3 in Hz, already scaled to the voice. */
  f1: Float32Array;
  f2: Float32Array;
  f3: Float32Array;
  b1: Float32Array;
  b2: Float32Array;
  b3: Float32Array;
  /** Nasal antiformant in Hz (equal to the nasal pole when the tract is oral). */
  nasalZero: Float32Array;
  /** Frication bands: centre Hz, bandwidth Hz and gain of band 1 and band 2. */
  band1Hz: Float32Array;
  band1Bw: Float32Array;
  band1Gain: Float32Array;
  band2Hz: Float32Array;
  band2Bw: Float32Array;
  band2Gain: Float32Array;
}

/** Nasal pole of the nasal pole/zero pair, Hz (male reference), bandwidth Hz. */
const NASAL_POLE_HZ = 270;
const NASAL_BW = 100;
/** Level of aspiration and frication noise relative to the glottal wave (set by ear and by measurement). */
const ASPIRATION_GAIN = 1.4;
const FRICATION_GAIN = 4.4;
/** Corner of the low-pass after the frication band-passes, Hz (male reference). */
const FRICATION_LOWPASS_HZ = 9000;

/**
 * Rasterises the phoneme segments onto the control grid. Each segment holds its targets from
 * `start + tau` to `end − tau`; the tracks move linearly between neighbouring holds, which gives
 * coarticulated formant transitions (long tau) and quick but smooth amplitude changes (short tau).
 */
export function buildControlTracks(
  segments: readonly Segment[],
  pitchMidi: Float32Array,
  voice: VoiceProfile,
  step: number,
): ControlTracks {
  const count = pitchMidi.length;
  const scale = voice.formantScale;
  const bandScale = 1 + 0.6 * (scale - 1);
  const amplitude = new Breakpoints(3);
  const formant = new Breakpoints(6);
  const nasal = new Breakpoints(1);
  const bands = new Breakpoints(6);
  for (const s of segments) {
    const length = s.end - s.start;
    if (length <= 0) continue;
    const aTau = Math.min(s.amplitudeTau, length / 2);
    amplitude.hold(s.start + aTau, s.end - aTau, [s.voicing, s.aspiration, s.frication]);
    if (s.kind === 'silence') continue;
    if (s.formants) {
      const fTau = Math.min(s.formantTau, length / 2);
      const [f1, f2, f3] = s.formants;
      const [b1, b2, b3] = s.bandwidths;
      formant.hold(s.start + fTau, s.end - fTau, [f1 * scale, f2 * scale, f3 * scale, b1 * scale, b2 * scale, b3 * scale]);
    }
    nasal.hold(s.start + aTau, s.end - aTau, [(s.nasalZeroHz || NASAL_POLE_HZ) * scale]);
    if (s.bands) {
      const [[c1, w1, g1], [c2, w2, g2]] = s.bands;
      bands.hold(s.start + aTau, s.end - aTau, [c1 * bandScale, w1 * bandScale, g1, c2 * bandScale, w2 * bandScale, g2]);
    }
  }
  const [voicing, aspiration, frication] = amplitude.rasterize(count, step, [0, 0, 0]);
  const [f1, f2, f3, b1, b2, b3] = formant.rasterize(count, step, [630 * scale, 1200 * scale, 2500 * scale, 70, 90, 140]);
  const [nasalZero] = nasal.rasterize(count, step, [NASAL_POLE_HZ * scale]);
  const [band1Hz, band1Bw, band1Gain, band2Hz, band2Bw, band2Gain] = bands.rasterize(count, step, [5000, 3000, 0, 8000, 3000, 0]);
  return {
    count,
    midi: pitchMidi,
    voicing,
    aspiration,
    frication,
    f1,
    f2,
    f3,
    b1,
    b2,
    b3,
    nasalZero,
    band1Hz,
    band1Bw,
    band1Gain,
    band2Hz,
    band2Bw,
    band2Gain,
  };
}

/** Piecewise-linear tracks built from "hold this vector from a to b" statements in time order. */
class Breakpoints {
  private readonly times: number[] = [];
  private readonly values: number[][];

  constructor(private readonly width: number) {
    this.values = Array.from({ length: width }, () => []);
  }

  hold(from: number, to: number, vector: readonly number[]): void {
    const last = this.times.length ? this.times[this.times.length - 1] : -Infinity;
    const a = Math.max(from, last);
    const b = Math.max(to, a);
    this.push(a, vector);
    if (b > a) this.push(b, vector);
  }

  private push(time: number, vector: readonly number[]): void {
    this.times.push(time);
    for (let j = 0; j < this.width; j++) this.values[j].push(vector[j]);
  }

  rasterize(count: number, step: number, fallback: readonly number[]): Float32Array[] {
    const out = Array.from({ length: this.width }, () => new Float32Array(count));
    const times = this.times;
    if (times.length === 0) {
      for (let j = 0; j < this.width; j++) out[j].fill(fallback[j]);
      return out;
    }
    let p = 0;
    for (let k = 0; k < count; k++) {
      const t = k * step;
      while (p < times.length && times[p] <= t) p++;
      // times[p - 1] <= t < times[p]
      if (p === 0) for (let j = 0; j < this.width; j++) out[j][k] = this.values[j][0];
      else if (p === times.length) for (let j = 0; j < this.width; j++) out[j][k] = this.values[j][p - 1];
      else {
        const t0 = times[p - 1];
        const x = (t - t0) / (times[p] - t0);
        for (let j = 0; j < this.width; j++) {
          const v0 = this.values[j][p - 1];
          out[j][k] = v0 + (this.values[j][p] - v0) * x;
        }
      }
    }
    return out;
  }
}

export interface RenderSettings {
  sampleRate: number;
  /** Output length in samples. */
  length: number;
  seed: number;
  /** Random period-to-period f0 deviation, standard deviation as a fraction (e.g. 0.002). */
  jitter: number;
  /** Random period-to-period amplitude deviation, standard deviation as a fraction (e.g. 0.03). */
  shimmer: number;
}

/** Two-pole resonator coefficients (Klatt 1980, eq. 1): y = a·x + b·y₁ + c·y₂, unity gain at 0 Hz. */
interface Coefficients {
  a: number;
  b: number;
  c: number;
}

function resonator(out: Coefficients, hz: number, bandwidth: number, sampleRate: number): void {
  const f = Math.min(hz, 0.45 * sampleRate);
  const radius = Math.exp((-Math.PI * bandwidth) / sampleRate);
  out.c = -radius * radius;
  out.b = 2 * radius * Math.cos((2 * Math.PI * f) / sampleRate);
  out.a = 1 - out.b - out.c;
}

/**
 * Band-pass with 0 dB peak gain (RBJ audio-EQ cookbook): y = g·(x − x₂) − a1·y₁ − a2·y₂, where
 * the returned coefficients are {a: g, b: a1, c: a2}.
 */
function bandPass(out: Coefficients, hz: number, bandwidth: number, sampleRate: number): void {
  const f = Math.min(hz, 0.45 * sampleRate);
  const w0 = (2 * Math.PI * f) / sampleRate;
  const alpha = (Math.sin(w0) * bandwidth) / (2 * f); // sin(w0) / (2Q), Q = f / bandwidth
  const a0 = 1 + alpha;
  out.a = alpha / a0;
  out.b = (-2 * Math.cos(w0)) / a0;
  out.c = (1 - alpha) / a0;
}

/**
 * Second-order Butterworth high- or low-pass (RBJ audio-EQ cookbook, Q = 1/√2) written into
 * `c[offset …]` as b0, b1, b2, a1, a2 (a0 = 1) with the b's multiplied by `gain`.
 */
function biquad(c: Float64Array, offset: number, type: 'highpass' | 'lowpass', hz: number, gain: number, sampleRate: number): void {
  const w0 = (2 * Math.PI * Math.min(hz, 0.45 * sampleRate)) / sampleRate;
  const alpha = Math.sin(w0) / Math.SQRT2;
  const cos = Math.cos(w0);
  const a0 = 1 + alpha;
  const b0 = type === 'highpass' ? (1 + cos) / 2 : (1 - cos) / 2;
  const b1 = type === 'highpass' ? -(1 + cos) : 1 - cos;
  const b2 = b0;
  c[offset] = (gain * b0) / a0;
  c[offset + 1] = (gain * b1) / a0;
  c[offset + 2] = (gain * b2) / a0;
  c[offset + 3] = (-2 * cos) / a0;
  c[offset + 4] = (1 - alpha) / a0;
}

// Layout of the per-block coefficient vector handed to synthesizeBlock.
const C_NP = 0; // nasal pole a, b, c
const C_F1 = 3;
const C_F2 = 6;
const C_F3 = 9;
const C_F4 = 12;
const C_F5 = 15;
const C_NZ = 18; // nasal zero (FIR) A, B, C
const C_BAND1 = 21; // gain, a1, a2
const C_BAND2 = 24;
const C_INC = 27; // phase increment at block start, per-sample change
const C_AV = 29; // voicing amplitude, per-sample change
const C_AH = 31; // aspiration amplitude, per-sample change
const C_AF = 33; // frication amplitude, per-sample change
const C_BYPASS = 35; // high-pass b0, b1, b2, a1, a2 (times the bypass gain in b*)
const C_FRIC_LP = 40; // frication low-pass b0, b1, b2, a1, a2
const C_BYPASS_GAIN = 45; // the bypass gain for this block
const C_BOOST = 46; // extra fundamental (fraction of the pulse's own), per-sample change
const C_SIZE = 48;

// Layout of the synthesizer state vector (filter memories, oscillator, noise generator).
const S_PHASE = 0;
const S_PERIOD_RATE = 1;
const S_PERIOD_GAIN = 2;
const S_NOISE = 3; // xorshift32 state (an int32 held in a float64)
const S_ZX = 4; // nasal-zero input history x1, x2
const S_RES = 6; // 6 resonators (nasal pole, F1 … F5) × (y1, y2)
const S_BAND = 18; // 2 band-passes × (x1, x2, y1, y2)
const S_DC = 26; // DC blocker x1, y1
const S_BYPASS = 28; // x1, x2, y1, y2
const S_FRIC_LP = 32; // x1, x2, y1, y2
const S_SIZE = 36;

/**
 * Runs the synthesizer over the control tracks; returns raw (unnormalised) samples. Coefficients are
 * computed once per control block; the per-sample work lives in the small {@link synthesizeBlock},
 * which V8 optimises after a few calls (one huge loop would run unoptimised until on-stack
 * replacement kicks in, which on a busy machine can take a large share of a short song).
 */
export function renderFormants(tracks: ControlTracks, voice: VoiceProfile, settings: RenderSettings): Float32Array {
  return runSliced(renderFormantsSliced(tracks, voice, settings));
}

/** Control blocks per slice of {@link renderFormantsSliced}: 2048 samples, ~1–2 ms of synthesis. */
const BLOCKS_PER_SLICE = 64;

/** {@link renderFormants} as a sliced computation (see sliced.ts); same samples. */
export function* renderFormantsSliced(tracks: ControlTracks, voice: VoiceProfile, settings: RenderSettings): Sliced<Float32Array> {
  const { sampleRate: rate, length } = settings;
  const out = new Float32Array(length);
  const source = glottalSource(rate, voice.glottalOpening, voice.glottalClosing, voice.tiltHz);
  const { openQuotient, harmonics, fundamental } = source;
  const c = new Float64Array(C_SIZE);
  const state = new Float64Array(S_SIZE);
  state[S_PERIOD_RATE] = 1;
  state[S_PERIOD_GAIN] = 1;
  state[S_NOISE] = Math.imul(settings.seed | 0, 0x9e3779b1) | 0 || 0x2545f491;
  const k = { a: 0, b: 0, c: 0 };
  const put = (offset: number) => {
    c[offset] = k.a;
    c[offset + 1] = k.b;
    c[offset + 2] = k.c;
  };
  resonator(k, NASAL_POLE_HZ * voice.formantScale, NASAL_BW, rate);
  put(C_NP);
  resonator(k, voice.upperFormants[0][0], voice.upperFormants[0][1], rate);
  put(C_F4);
  resonator(k, voice.upperFormants[1][0], voice.upperFormants[1][1], rate);
  put(C_F5);
  biquad(c, C_BYPASS, 'highpass', voice.bypass.hz, 1, rate);
  biquad(c, C_FRIC_LP, 'lowpass', FRICATION_LOWPASS_HZ * (1 + 0.6 * (voice.formantScale - 1)), 1, rate);
  const dcCoefficient = Math.exp((-2 * Math.PI * 30) / rate);
  const neutralProduct = 500 * 1500 * 2500 * voice.formantScale ** 3;
  const params = { openQuotient, jitter: settings.jitter, shimmer: settings.shimmer, dc: dcCoefficient, fundamental };
  let boost = 0;

  const breathiness = voice.breathiness;
  const blocks = Math.ceil(length / CONTROL_BLOCK);
  const lastPoint = tracks.count - 1;
  // Coefficients are recomputed only when their inputs change (held vowels keep them for a while).
  let hz1 = 440 * Math.pow(2, (tracks.midi[0] - 69) / 12);
  let lastF1 = NaN,
    lastB1 = NaN,
    lastF2 = NaN,
    lastB2 = NaN,
    lastF3 = NaN,
    lastB3 = NaN,
    lastZero = NaN;
  let boostStep = 0;
  for (let block = 0; block < blocks; block++) {
    if (block % BLOCKS_PER_SLICE === BLOCKS_PER_SLICE - 1) yield;
    const k0 = Math.min(block, lastPoint);
    const k1 = Math.min(block + 1, lastPoint);
    const hz0 = hz1;
    hz1 = 440 * Math.pow(2, (tracks.midi[k1] - 69) / 12);

    // Formant tuning: sopranos raise F1 to stay above f0 on high notes (Sundberg 1987).
    const f1 = Math.max(tracks.f1[k0], 1.1 * Math.max(hz0, hz1));
    const f2 = tracks.f2[k0];
    const f3 = tracks.f3[k0];
    if (f1 !== lastF1 || tracks.b1[k0] !== lastB1) {
      resonator(k, f1, (lastB1 = tracks.b1[k0]), rate);
      put(C_F1);
      lastF1 = f1;
    }
    if (f2 !== lastF2 || tracks.b2[k0] !== lastB2) {
      resonator(k, (lastF2 = f2), (lastB2 = tracks.b2[k0]), rate);
      put(C_F2);
    }
    if (f3 !== lastF3 || tracks.b3[k0] !== lastB3) {
      resonator(k, (lastF3 = f3), (lastB3 = tracks.b3[k0]), rate);
      put(C_F3);
    }
    // Above F3, each unity-gain-at-0-Hz resonator scales the spectrum by ≈ (Fn / f)²: the bypass
    // follows the same vowel-dependent level relative to a neutral tract (F1–F3 = 500, 1500, 2500 Hz).
    const tract = (f1 * f2 * f3) / neutralProduct;
    c[C_BYPASS_GAIN] = voice.bypass.gain * tract * tract;
    if (tracks.nasalZero[k0] !== lastZero) {
      // Nasal antiresonator: the inverse of a resonator at the zero's frequency (Klatt 1980, eq. 3).
      resonator(k, (lastZero = tracks.nasalZero[k0]), NASAL_BW, rate);
      c[C_NZ] = 1 / k.a;
      c[C_NZ + 1] = -k.b / k.a;
      c[C_NZ + 2] = -k.c / k.a;
    }

    const av0 = tracks.voicing[k0];
    const ah0 = tracks.aspiration[k0] * ASPIRATION_GAIN + breathiness * av0;
    const af0 = tracks.frication[k0] * FRICATION_GAIN;
    c[C_AV] = av0;
    c[C_AV + 1] = (tracks.voicing[k1] - av0) / CONTROL_BLOCK;
    c[C_AH] = ah0;
    c[C_AH + 1] = (tracks.aspiration[k1] * ASPIRATION_GAIN + breathiness * tracks.voicing[k1] - ah0) / CONTROL_BLOCK;
    c[C_AF] = af0;
    c[C_AF + 1] = (tracks.frication[k1] * FRICATION_GAIN - af0) / CONTROL_BLOCK;
    if (af0 > 0 || c[C_AF + 1] !== 0) {
      bandPass(k, tracks.band1Hz[k0], tracks.band1Bw[k0], rate);
      c[C_BAND1] = k.a * tracks.band1Gain[k0];
      c[C_BAND1 + 1] = k.b;
      c[C_BAND1 + 2] = k.c;
      bandPass(k, tracks.band2Hz[k0], tracks.band2Bw[k0], rate);
      c[C_BAND2] = k.a * tracks.band2Gain[k0];
      c[C_BAND2 + 1] = k.b;
      c[C_BAND2 + 2] = k.c;
    }
    // The fundamental boost is re-evaluated every BOOST_BLOCKS blocks (and only while voiced) and
    // ramped in between.
    if (block % BOOST_BLOCKS === 0) {
      const target = av0 > 0 || tracks.voicing[k1] > 0 ? fundamentalBoost(c, hz0, rate, harmonics, voice.tiltHz) : boost;
      boostStep = (target - boost) / (BOOST_BLOCKS * CONTROL_BLOCK);
    }
    c[C_BOOST] = boost;
    c[C_BOOST + 1] = boostStep;
    boost += boostStep * CONTROL_BLOCK;
    c[C_INC] = hz0 / rate;
    c[C_INC + 1] = (hz1 / rate - hz0 / rate) / CONTROL_BLOCK;

    const begin = block * CONTROL_BLOCK;
    synthesizeBlock(
      out,
      begin,
      Math.min(length, begin + CONTROL_BLOCK),
      source.table(Math.max(tracks.midi[k0], tracks.midi[k1])),
      c,
      state,
      params,
    );
  }
  return out;
}

/** Share of the first six harmonics' power that odd harmonics must keep (see {@link fundamentalBoost}). */
const MIN_ODD_SHARE = 0.3;
/** Control blocks between evaluations of {@link fundamentalBoost} (~2.9 ms at 44.1 kHz). */
const BOOST_BLOCKS = 4;
/** Most the fundamental may be raised, as an amplitude factor (+12 dB). */
const MAX_BOOST = 3;

/**
 * How much to add to the source's fundamental so the sung pitch stays unambiguous. When a formant
 * sits on an even harmonic (F1 ≈ 2·f0: ER or OW around 250 Hz in a baritone), the even harmonics
 * dominate, the waveform nearly repeats every half period, and autocorrelation pitch trackers (YIN
 * and kin) as well as listeners' "octave" judgement can hear f0 an octave up. The tract response
 * |H(k·f0)| of the current filter settings is evaluated for harmonics 1 … 6; if odd harmonics carry
 * less than {@link MIN_ODD_SHARE} of their power, the fundamental is raised just enough (at most
 * {@link MAX_BOOST}×). Returns the extra fundamental as a fraction of the pulse's own.
 */
function fundamentalBoost(c: Float64Array, f0: number, sampleRate: number, harmonics: Float64Array, tiltHz: number): number {
  let odd = 0;
  let even = 0;
  let first = 0;
  for (let k = 1; k <= 6; k++) {
    const f = k * f0;
    if (f >= 0.45 * sampleRate) break;
    const w = (2 * Math.PI * f) / sampleRate;
    const cos1 = Math.cos(w);
    const sin1 = Math.sin(w);
    const cos2 = cos1 * cos1 - sin1 * sin1;
    const sin2 = 2 * sin1 * cos1;
    let gain = (harmonics[k - 1] * harmonics[k - 1]) / (1 + (f / tiltHz) * (f / tiltHz));
    for (const offset of CASCADE_OFFSETS) {
      const a = c[offset];
      const b = c[offset + 1];
      const cc = c[offset + 2];
      const re = 1 - b * cos1 - cc * cos2;
      const im = b * sin1 + cc * sin2;
      gain *= (a * a) / (re * re + im * im);
    }
    const za = c[C_NZ];
    const zb = c[C_NZ + 1];
    const zc = c[C_NZ + 2];
    const zr = za + zb * cos1 + zc * cos2;
    const zi = zb * sin1 + zc * sin2;
    gain *= zr * zr + zi * zi;
    if (k === 1) first = gain;
    if (k % 2 === 1) odd += gain;
    else even += gain;
  }
  if (first <= 0 || odd >= MIN_ODD_SHARE * (odd + even)) return 0;
  // Solve (odd − first + g²·first) = share / (1 − share) · even for the amplitude factor g.
  const needed = (MIN_ODD_SHARE / (1 - MIN_ODD_SHARE)) * even - (odd - first);
  return Math.min(MAX_BOOST, Math.sqrt(needed / first)) - 1;
}

const CASCADE_OFFSETS = [C_NP, C_F1, C_F2, C_F3, C_F4, C_F5];

interface BlockParams {
  fundamental: Float32Array;
  openQuotient: number;
  jitter: number;
  shimmer: number;
  dc: number;
}

/** Uniform in [-1, 1) from an xorshift32 step; the int32 state is read from and written to `state[S_NOISE]`. */
const INT_SCALE = 1 / 2147483648;

/** Renders samples [begin, end) of one control block into `out`. */
function synthesizeBlock(
  out: Float32Array,
  begin: number,
  end: number,
  table: Float32Array,
  c: Float64Array,
  s: Float64Array,
  p: BlockParams,
): void {
  let phase = s[S_PHASE];
  let periodRate = s[S_PERIOD_RATE];
  let periodGain = s[S_PERIOD_GAIN];
  let noise = s[S_NOISE] | 0;
  let zx1 = s[S_ZX],
    zx2 = s[S_ZX + 1];
  let np1 = s[S_RES],
    np2 = s[S_RES + 1];
  let f11 = s[S_RES + 2],
    f12 = s[S_RES + 3];
  let f21 = s[S_RES + 4],
    f22 = s[S_RES + 5];
  let f31 = s[S_RES + 6],
    f32 = s[S_RES + 7];
  let r41 = s[S_RES + 8],
    r42 = s[S_RES + 9];
  let r51 = s[S_RES + 10],
    r52 = s[S_RES + 11];
  let dcX = s[S_DC],
    dcY = s[S_DC + 1];
  let hx1 = s[S_BYPASS],
    hx2 = s[S_BYPASS + 1],
    hy1 = s[S_BYPASS + 2],
    hy2 = s[S_BYPASS + 3];

  const npA = c[C_NP],
    npB = c[C_NP + 1],
    npC = c[C_NP + 2];
  const f1A = c[C_F1],
    f1B = c[C_F1 + 1],
    f1C = c[C_F1 + 2];
  const f2A = c[C_F2],
    f2B = c[C_F2 + 1],
    f2C = c[C_F2 + 2];
  const f3A = c[C_F3],
    f3B = c[C_F3 + 1],
    f3C = c[C_F3 + 2];
  const r4A = c[C_F4],
    r4B = c[C_F4 + 1],
    r4C = c[C_F4 + 2];
  const r5A = c[C_F5],
    r5B = c[C_F5 + 1],
    r5C = c[C_F5 + 2];
  const bypassGain = c[C_BYPASS_GAIN];
  const hb0 = c[C_BYPASS],
    hb1 = c[C_BYPASS + 1],
    hb2 = c[C_BYPASS + 2],
    ha1 = c[C_BYPASS + 3],
    ha2 = c[C_BYPASS + 4];
  const nzA = c[C_NZ],
    nzB = c[C_NZ + 1],
    nzC = c[C_NZ + 2];
  const inc0 = c[C_INC],
    dinc = c[C_INC + 1];
  const av0 = c[C_AV],
    dav = c[C_AV + 1];
  const ah0 = c[C_AH],
    dah = c[C_AH + 1];
  const af0 = c[C_AF],
    daf = c[C_AF + 1];
  const boost0 = c[C_BOOST],
    dboost = c[C_BOOST + 1];
  const fundamental = p.fundamental;
  const openQuotient = p.openQuotient;
  const dc = p.dc;

  for (let n = begin, j = 0; n < end; n++, j++) {
    // Glottal source: phase accumulator over the band-limited table; jitter and shimmer per period.
    phase += (inc0 + dinc * j) * periodRate;
    if (phase >= 1) {
      phase -= Math.floor(phase);
      // Two Box–Muller deviates from four xorshift draws.
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const u1 = Math.max(0.5 + 0.5 * noise * INT_SCALE, 1e-12);
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const radius = Math.sqrt(-2 * Math.log(u1));
      const angle = Math.PI * noise * INT_SCALE;
      periodRate = 1 + p.jitter * radius * Math.cos(angle);
      periodGain = 1 + p.shimmer * radius * Math.sin(angle);
    }
    const position = phase * TABLE_SIZE;
    const index = position | 0;
    const frac = position - index;
    const t0 = table[index];
    const h0 = fundamental[index];
    const pulse = t0 + (table[index + 1] - t0) * frac + (boost0 + dboost * j) * (h0 + (fundamental[index + 1] - h0) * frac);
    let x = pulse * (av0 + dav * j) * periodGain;
    noise ^= noise << 13;
    noise ^= noise >>> 17;
    noise ^= noise << 5;
    x += noise * INT_SCALE * (ah0 + dah * j) * (phase < openQuotient ? 1 : 0.35);

    // Bypass: the excitation's top octaves, high-passed above F5 (Klatt's bypass path). It stands in
    // for the tract's poles above F5, which a five-formant cascade lacks: an all-pole tract's
    // spectrum never falls below its 0 Hz gain between formants, a truncated cascade does.
    let h = hb0 * x + hb1 * hx1 + hb2 * hx2 - ha1 * hy1 - ha2 * hy2;
    hx2 = hx1;
    hx1 = x;
    hy2 = hy1;
    hy1 = h;
    h *= bypassGain;

    // Nasal zero and pole, then F1 … F5 in cascade.
    let y = nzA * x + nzB * zx1 + nzC * zx2;
    zx2 = zx1;
    zx1 = x;
    y = npA * y + npB * np1 + npC * np2;
    np2 = np1;
    np1 = y;
    y = f1A * y + f1B * f11 + f1C * f12;
    f12 = f11;
    f11 = y;
    y = f2A * y + f2B * f21 + f2C * f22;
    f22 = f21;
    f21 = y;
    y = f3A * y + f3B * f31 + f3C * f32;
    f32 = f31;
    f31 = y;
    y = r4A * y + r4B * r41 + r4C * r42;
    r42 = r41;
    r41 = y;
    y = r5A * y + r5B * r51 + r5C * r52;
    r52 = r51;
    r51 = y;
    y += h;

    dcY = y - dcX + dc * dcY;
    dcX = y;
    out[n] = dcY;
  }

  if (af0 > 0 || daf !== 0) {
    // Parallel frication branch: noise through two band-passes, added after the cascade.
    const g1 = c[C_BAND1],
      a11 = c[C_BAND1 + 1],
      a12 = c[C_BAND1 + 2];
    const g2 = c[C_BAND2],
      a21 = c[C_BAND2 + 1],
      a22 = c[C_BAND2 + 2];
    let x1 = s[S_BAND],
      x2 = s[S_BAND + 1],
      p1 = s[S_BAND + 2],
      p2 = s[S_BAND + 3];
    let q1 = s[S_BAND + 6],
      q2 = s[S_BAND + 7];
    const lb0 = c[C_FRIC_LP],
      lb1 = c[C_FRIC_LP + 1],
      lb2 = c[C_FRIC_LP + 2],
      la1 = c[C_FRIC_LP + 3],
      la2 = c[C_FRIC_LP + 4];
    let lx1 = s[S_FRIC_LP],
      lx2 = s[S_FRIC_LP + 1],
      ly1 = s[S_FRIC_LP + 2],
      ly2 = s[S_FRIC_LP + 3];
    for (let n = begin, j = 0; n < end; n++, j++) {
      noise ^= noise << 13;
      noise ^= noise >>> 17;
      noise ^= noise << 5;
      const f = noise * INT_SCALE;
      const o1 = g1 * (f - x2) - a11 * p1 - a12 * p2;
      const o2 = g2 * (f - x2) - a21 * q1 - a22 * q2;
      x2 = x1;
      x1 = f;
      p2 = p1;
      p1 = o1;
      q2 = q1;
      q1 = o2;
      // Low-pass: tames the band-passes' 6 dB/octave skirts so hiss stays below ~10 kHz.
      const v = (af0 + daf * j) * (o1 + o2);
      const l = lb0 * v + lb1 * lx1 + lb2 * lx2 - la1 * ly1 - la2 * ly2;
      lx2 = lx1;
      lx1 = v;
      ly2 = ly1;
      ly1 = l;
      out[n] += l;
    }
    s[S_FRIC_LP] = lx1;
    s[S_FRIC_LP + 1] = lx2;
    s[S_FRIC_LP + 2] = ly1;
    s[S_FRIC_LP + 3] = ly2;
    s[S_BAND] = x1;
    s[S_BAND + 1] = x2;
    s[S_BAND + 2] = p1;
    s[S_BAND + 3] = p2;
    s[S_BAND + 6] = q1;
    s[S_BAND + 7] = q2;
  }

  s[S_PHASE] = phase;
  s[S_PERIOD_RATE] = periodRate;
  s[S_PERIOD_GAIN] = periodGain;
  s[S_NOISE] = noise;
  s[S_ZX] = zx1;
  s[S_ZX + 1] = zx2;
  s[S_RES] = np1;
  s[S_RES + 1] = np2;
  s[S_RES + 2] = f11;
  s[S_RES + 3] = f12;
  s[S_RES + 4] = f21;
  s[S_RES + 5] = f22;
  s[S_RES + 6] = f31;
  s[S_RES + 7] = f32;
  s[S_RES + 8] = r41;
  s[S_RES + 9] = r42;
  s[S_RES + 10] = r51;
  s[S_RES + 11] = r52;
  s[S_DC] = dcX;
  s[S_DC + 1] = dcY;
  s[S_BYPASS] = hx1;
  s[S_BYPASS + 1] = hx2;
  s[S_BYPASS + 2] = hy1;
  s[S_BYPASS + 3] = hy2;
}
