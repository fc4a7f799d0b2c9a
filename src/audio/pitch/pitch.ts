/**
 * Fundamental-frequency tracking: probabilistic YIN with Viterbi smoothing over a sparse HMM.
 *
 * Method (Mauch & Dixon, "pYIN: a fundamental frequency estimator using probabilistic threshold
 * distributions", ICASSP 2014, built on de Cheveigné & Kawahara, "YIN", JASA 2002):
 *  1. Resample to a low analysis rate (8 kHz by default: f0 ≤ 1.5 kHz needs little bandwidth, and
 *     every later step costs in proportion to it).
 *  2. Per frame, the YIN difference function d(τ) (YIN step 2) over a segment centred on the frame,
 *     from its FFT autocorrelation and running energy sums, then the cumulative-mean-normalised
 *     d′(τ) (YIN step 3).
 *  3. pYIN stage 1: integrate YIN's absolute-threshold rule (YIN step 4) over a Beta prior on the
 *     threshold; each dip of d′ becomes an f0 candidate carrying the prior mass of the thresholds that
 *     would have chosen it, refined by parabolic interpolation (YIN step 5).
 *     A dip at a strong harmonic's period is passed over when a dip at 2× or 3× its lag is far
 *     deeper (not in pYIN; see `harmonicLockRatio`).
 *  4. Voicing priors from loudness (not in pYIN): near-silence, frames whose centre has gone quiet
 *     (a note only at the segment's edge) and decaying reverberation tails are pushed to unvoiced.
 *  5. pYIN stage 2: Viterbi decoding over each frame's few candidates plus one unvoiced state, with
 *     costs that favour small pitch moves and few voicing switches. pYIN decodes a dense grid of
 *     pitch bins; decoding only the candidates gives the same path where a candidate exists and is
 *     ~100× cheaper.
 *  6. Attacks (not in pYIN): unvoiced frames just before a voiced run that are loud and hold a
 *     candidate at the run's pitch are voiced with it (struck and bowed attacks are less periodic
 *     than the note that follows); likewise releases before a rest (a sung note's breathy end).
 *  7. Frames at pitch changes are re-read with a short window (not in pYIN): a long segment that
 *     straddles two notes reads between them or keeps the lower of an octave leap, and where the
 *     release of one note overlaps the next the mixture repeats only at their common period, a
 *     low island that is read at the later note instead.
 *
 * Frame k is centred at k·hopSeconds (frame 0 at t = 0; samples before 0 or after the end read as 0).
 */
import type { MonoAudio, PitchTrack } from '../types.js';
import { getRealFft, nextPowerOfTwo, type RealFft } from '../dsp/fft.js';
import { resampleSliced, type ResampleOptions } from '../dsp/resample.js';
import { runSliced, type Sliced } from '../sliced.js';

/** Tuning of {@link trackPitch}. Every field is optional; defaults are stated per field. */
export interface PitchOptions {
  /** Hop between frames in seconds. Default 0.01. */
  hopSeconds?: number;
  /** Lowest f0 reported, Hz. Default 60. */
  minHz?: number;
  /** Highest f0 reported, Hz (must stay below analysisRate / 2). Default 1500. */
  maxHz?: number;
  /** Sample rate the analysis runs at, Hz. Default 8000 (raise it for maxHz above ~2.5 kHz). */
  analysisRate?: number;
  /**
   * Shortest integration window in seconds: the overlap left at the longest lag (1/minHz). Each
   * frame's segment is this plus one longest period (47 ms with the defaults). Default 0.03.
   */
  windowSeconds?: number;
  /**
   * Mean of the Beta(2, β) prior over YIN thresholds (pYIN stage 1). Default 0.2, the most lenient
   * of pYIN's three settings (β = 8; 0.15 and 0.1 are stricter): played and sung notes keep only a
   * shallow dip (d′ 0.2–0.4) through attacks, legato changes and glides. At 0.15 the piano waltz
   * fixture read a leap to E5 as E4 for 70 ms (the dip at E5 had too little mass against the one at
   * twice its period) and the voice and hum fixtures lost 2 % and 1 % of their voiced frames; white
   * noise and the rests of pitch.test.ts stay unvoiced at 0.2. Lower means stricter voicing.
   */
  thresholdMean?: number;
  /**
   * Probability that YIN falls back to the global minimum when no dip is under the threshold
   * (pYIN's p_a). Default 0.01.
   */
  fallbackProbability?: number;
  /** Most f0 candidates kept per frame (the likeliest). Default 6. */
  maxCandidates?: number;
  /** Viterbi cost (nats) of moving one semitone between frames. Default 0.35. */
  jumpCostPerSemitone?: number;
  /** Ceiling on the cost of any single pitch move (a clean note change), nats. Default 3. */
  maxJumpCost?: number;
  /** Viterbi cost (nats) of switching between voiced and unvoiced. Default 2. */
  voicingSwitchCost?: number;
  /**
   * Frames quieter than this (mean-square level, dBFS) are unvoiced without analysis. Default -70.
   */
  silenceDbfs?: number;
  /**
   * Frames this many dB below the recording's loud level (its 95th-percentile frame level) get a
   * voicing prior falling to 0 over the next 10 dB. Default 40.
   */
  relativeFloorDb?: number;
  /**
   * Frames this many dB below the loudest frame of the previous 300 ms get a voicing prior falling
   * to 0 over the next 10 dB: decaying reverberation tails end unvoiced. Default 20.
   */
  tailDropDb?: number;
  /**
   * Harmonic lock (not in pYIN): a dip of d′ at lag τ is passed over by YIN's threshold rule when
   * a later dip at 2τ or 3τ (±3 %) is at most this share of its depth, both depths read at fractional
   * lags. Default 0.3. A sung vowel whose second or third harmonic is strong (a formant on it) also
   * repeats, roughly, at that harmonic's period: d′ dips to 0.1–0.4 there, below the lenient
   * threshold prior, and YIN's first-dip rule read whole notes of SSVD at 2× or 3× f0 (0.8 % of the
   * frames inside annotated notes, runs up to 1.5 s, too long for the note stage's octave fold); at
   * the true period the voice dips far deeper. A truly periodic note dips about as deep at 2τ as at
   * τ, so it is left alone. On SSVD 0.3–0.35 scored best (0.5 half the gain, 0.7 made octave-low
   * errors); 0.35 re-read two more frames of the violin fixture's legato changes (two notes sounding
   * together) than 0.3.
   */
  harmonicLockRatio?: number;
  /**
   * Dips shallower than this d′ are never passed over as a harmonic lock. Default 0.05: a clean
   * periodic note's dip reads under it once read at its fractional lag (below 0.05 a ±100-cent
   * vibrato at C#5 was read an octave low when the depth was read only from whole lags).
   */
  harmonicLockFloor?: number;
}

interface ResolvedOptions {
  hopSeconds: number;
  minHz: number;
  maxHz: number;
  analysisRate: number;
  windowSeconds: number;
  thresholdMean: number;
  fallbackProbability: number;
  maxCandidates: number;
  jumpCostPerSemitone: number;
  maxJumpCost: number;
  voicingSwitchCost: number;
  silenceDbfs: number;
  relativeFloorDb: number;
  tailDropDb: number;
  harmonicLockRatio: number;
  harmonicLockFloor: number;
}

const DEFAULTS: ResolvedOptions = {
  hopSeconds: 0.01,
  minHz: 60,
  maxHz: 1500,
  analysisRate: 8000,
  windowSeconds: 0.03,
  thresholdMean: 0.2,
  fallbackProbability: 0.01,
  maxCandidates: 6,
  jumpCostPerSemitone: 0.35,
  maxJumpCost: 3,
  voicingSwitchCost: 2,
  silenceDbfs: -70,
  relativeFloorDb: 40,
  tailDropDb: 20,
  harmonicLockRatio: 0.3,
  harmonicLockFloor: 0.05,
};
/** A later dip is at a whole multiple of a dip's lag when within this share of it (see harmonicLockRatio). */
const HARMONIC_LOCK_LAG_TOLERANCE = 0.03;
/**
 * Multiples of a dip's lag looked at for a harmonic lock: 2× and 3× (SSVD's locked runs read f0 at
 * 2× or 3×). Larger multiples are the common period of two notes sounding together (the piano waltz
 * fixture's E5 over a ringing note repeats at 5× its period) and must not win.
 */
const HARMONIC_LOCK_MAX_MULTIPLE = 3;
/**
 * Dips shallower than this (d′ above it) are not looked at for a harmonic lock: the threshold prior gives them under
 * 2 % of its mass, and noise frames hold many such dips (the fractional re-read cost 35 % of the
 * pitch stage's CPU without this bound).
 */
const HARMONIC_LOCK_CEILING = 0.5;

/**
 * Band-limiting for the analysis signal: flat to 2 kHz (0.5 × the 8 kHz Nyquist; above the highest
 * f0), 40 dB down from 4 kHz (no aliasing). The narrow band matters: a harmonic at frequency f moves
 * the difference function by 2π·f/rate per lag, so harmonics near Nyquist make dips narrower than one
 * lag and their sampled depth unreliable (bright brass read an octave low). 52 taps at 44.1 kHz.
 */
const RESAMPLING: ResampleOptions = { passband: 0.5, attenuationDb: 40 };

/**
 * Tracks the fundamental frequency of a monophonic recording.
 * @returns one frame per hop from t = 0 to the end: `hz` is 0 where the decoded path is unvoiced,
 *   `voicedProbability` is pYIN's voiced mass for the frame (0..1) scaled by the loudness prior.
 *   Frame k is centred at k·hopSeconds: its analysis segment (≈ 47 ms by default) is centred there
 *   for every lag.
 * @throws RangeError for inconsistent options (minHz ≥ maxHz, maxHz ≥ analysisRate/2, hop ≤ 0).
 */
export function trackPitch(audio: MonoAudio, options: PitchOptions = {}): PitchTrack {
  return runSliced(trackPitchSliced(audio, options));
}

/**
 * {@link trackPitch} as a sliced computation (see sliced.ts): yields between blocks of
 * {@link FRAMES_PER_SLICE} frames of each pass, so a caller can let an abort in; same result.
 */
export function* trackPitchSliced(audio: MonoAudio, options: PitchOptions = {}): Sliced<PitchTrack> {
  const o: ResolvedOptions = { ...DEFAULTS, ...stripUndefined(options) };
  if (!(o.hopSeconds > 0)) throw new RangeError(`hopSeconds must be > 0, got ${o.hopSeconds}`);
  if (!(o.minHz > 0 && o.minHz < o.maxHz)) throw new RangeError(`need 0 < minHz < maxHz, got ${o.minHz}, ${o.maxHz}`);
  if (!(o.maxHz < o.analysisRate / 2)) throw new RangeError(`maxHz must be below analysisRate / 2, got ${o.maxHz}`);

  const duration = audio.samples.length / audio.sampleRate;
  const frameCount = audio.samples.length === 0 ? 0 : Math.floor(duration / o.hopSeconds + 1e-9) + 1;
  const times = new Float64Array(frameCount);
  for (let k = 0; k < frameCount; k++) times[k] = k * o.hopSeconds;
  const hz = new Float32Array(frameCount);
  const voicedProbability = new Float32Array(frameCount);
  if (frameCount === 0) return { hopSeconds: o.hopSeconds, times, hz, voicedProbability };

  const rate = o.analysisRate;
  const x = audio.sampleRate === rate ? audio.samples : yield* resampleSliced(audio.samples, audio.sampleRate, rate, RESAMPLING);

  const candidates = yield* findCandidates(x, rate, frameCount, o);
  applyLoudnessPrior(candidates, o);
  yield;
  yield* decode(candidates, o, hz, voicedProbability);
  extendAttacks(candidates, hz);
  extendReleases(candidates, hz, voicedProbability);
  yield;
  yield* refineTransitions(x, rate, o, hz);
  return { hopSeconds: o.hopSeconds, times, hz, voicedProbability };
}

/**
 * Frames per slice of the per-frame passes: 64 frames (0.64 s of audio at the default hop) take a
 * few ms in the candidate search, the costliest pass.
 */
const FRAMES_PER_SLICE = 64;

function stripUndefined(options: PitchOptions): Partial<ResolvedOptions> {
  const out: Partial<ResolvedOptions> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

/** Per-frame f0 candidates in flat arrays: frame k owns slots k·maxCandidates … + count[k] − 1. */
interface Candidates {
  frames: number;
  slots: number;
  count: Uint8Array;
  /** Candidate f0 in Hz. */
  hz: Float32Array;
  /** Candidate f0 as log2(Hz), for cheap interval arithmetic. */
  log2Hz: Float32Array;
  /** pYIN stage-1 probability of each candidate. */
  probability: Float32Array;
  /** Mean-square level of each frame's segment in dBFS. */
  levelDb: Float32Array;
  /** Mean-square level of the central 20 ms of each frame's segment in dBFS. */
  centreDb: Float32Array;
  /** Loudness prior on voicing, 0..1. */
  prior: Float32Array;
}

/**
 * YIN steps 2–5 and pYIN stage 1 for every frame.
 *
 * Each frame reads one segment b of L samples centred on the frame time, and for every lag τ
 * compares the whole overlap of b with itself shifted by τ:
 *   d(τ) = Σ_{j<L−τ} (b_j − b_{j+τ})² = Σ_{j<L−τ} b_j² + Σ_{τ≤j<L} b_j² − 2·r(τ),
 * with r the autocorrelation of b (one forward and one inverse real FFT; the transform length
 * N ≥ L + τmax + 1 keeps lags from wrapping round) and the energy terms from a running sum of
 * squares. Unlike YIN's fixed window W the overlap shrinks with τ, so d(τ) is divided by L − τ
 * (a per-sample mean) before the cumulative-mean normalisation; in exchange every lag sees the
 * same samples, centred on the frame, and the FFT work halves. At 8 kHz with the defaults
 * L = 240 + 134 = 374 samples (47 ms, N = 512); the overlap at τmax still holds 1.8 periods of 60 Hz.
 */
function* findCandidates(x: Float32Array, rate: number, frames: number, o: ResolvedOptions): Sliced<Candidates> {
  const search = createCandidateSearch(x, rate, frames, o);
  for (let k = 0; k < frames; k++) {
    if (k % FRAMES_PER_SLICE === FRAMES_PER_SLICE - 1) yield;
    searchFrame(search, k);
  }
  return search.out;
}

/**
 * The state of {@link findCandidates}: the signal, its sizes and settings, the output and every scratch
 * buffer, made once per call. The frame-by-frame work lives in module-level functions over it
 * ({@link searchFrame} and its helpers), outside the generator (V8 runs loops inside generators about
 * three times slower) and outside closures: the earlier closure form (a `frame` closure over some twenty
 * captured numbers, its helpers re-made for every frame) left 84 MB of garbage per warm 30 s conversion
 * (sampling heap profiler; 0.8 MB per call when the tracker ran alone), this form almost none, with the
 * same arithmetic in the same order (tracks bit-identical; docs/benchmarks.md, issue 16 "pipeline CPU,
 * third round").
 */
interface CandidateSearch {
  x: Float32Array;
  rate: number;
  out: Candidates;
  tauMin: number;
  tauMax: number;
  /** Segment length L in samples. */
  length: number;
  /** Transform length N. */
  n: number;
  fft: RealFft;
  segment: Float64Array;
  spectrum: Float64Array;
  acf: Float64Array;
  /** Running sum of squares of the segment: squares[i] = Σ_{j<i} b_j². */
  squares: Float64Array;
  d: Float64Array;
  dn: Float64Array;
  cumulative: Float64Array;
  /** Scratch for one frame's dips (there are at most τmax/2 of them). */
  dipTau: Float64Array;
  dipValue: Float64Array;
  dipMass: Float64Array;
  dipIndex: Int32Array;
  /** β of the Beta(2, β) threshold prior. */
  betaShape: number;
  /** The silence gate as a mean square. */
  silence: number;
  half: number;
  hopSamples: number;
  /** Half of the central 20 ms of each segment, for the centre-versus-segment loudness check. */
  centreHalf: number;
  harmonicLockRatio: number;
  harmonicLockFloor: number;
  fallbackProbability: number;
}

/** The scratch buffers, sizes and output of {@link findCandidates} for `frames` frames of `x`. */
function createCandidateSearch(x: Float32Array, rate: number, frames: number, o: ResolvedOptions): CandidateSearch {
  const tauMin = Math.max(2, Math.floor(rate / o.maxHz));
  const tauMax = Math.ceil(rate / o.minHz);
  const length = Math.max(8, Math.round(o.windowSeconds * rate)) + tauMax; // L
  const n = nextPowerOfTwo(length + tauMax + 2);
  const fft = getRealFft(n);
  const slots = Math.max(1, Math.min(16, o.maxCandidates));
  const half = Math.floor(length / 2);
  return {
    x,
    rate,
    out: {
      frames,
      slots,
      count: new Uint8Array(frames),
      hz: new Float32Array(frames * slots),
      log2Hz: new Float32Array(frames * slots),
      probability: new Float32Array(frames * slots),
      levelDb: new Float32Array(frames),
      centreDb: new Float32Array(frames),
      prior: new Float32Array(frames),
    },
    tauMin,
    tauMax,
    length,
    n,
    fft,
    segment: new Float64Array(n),
    spectrum: fft.createSpectrum(),
    acf: new Float64Array(n),
    squares: new Float64Array(length + 1),
    d: new Float64Array(tauMax + 2),
    dn: new Float64Array(tauMax + 2),
    cumulative: new Float64Array(tauMax + 2),
    dipTau: new Float64Array(tauMax),
    dipValue: new Float64Array(tauMax),
    dipMass: new Float64Array(tauMax),
    dipIndex: new Int32Array(tauMax),
    betaShape: 2 * (1 / o.thresholdMean - 1), // Beta(2, β) has mean 2 / (2 + β)
    silence: Math.pow(10, o.silenceDbfs / 10),
    half,
    hopSamples: o.hopSeconds * rate,
    centreHalf: Math.min(half, Math.round(0.01 * rate)),
    harmonicLockRatio: o.harmonicLockRatio,
    harmonicLockFloor: o.harmonicLockFloor,
    fallbackProbability: o.fallbackProbability,
  };
}

/** The CDF of the Beta(2, β) threshold prior at `v`. */
function thresholdCdf(v: number, betaShape: number): number {
  return v >= 1 ? 1 : v <= 0 ? 0 : 1 - Math.pow(1 - v, betaShape) * (1 + betaShape * v);
}

/** Fills frame k's slots of `s.out`. */
function searchFrame(s: CandidateSearch, k: number): void {
  const { x, length, n, segment, spectrum, acf, squares, d, dn, cumulative, dipTau, dipValue, dipMass, dipIndex, out } = s;
  const half = s.half;
  const centreHalf = s.centreHalf;
  const tauMax = s.tauMax;
  const start = Math.round(k * s.hopSamples) - half;
  // Copy the segment (zeros outside the signal) and its running sum of squares.
  squares[0] = 0;
  for (let i = 0; i < length; i++) {
    const j = start + i;
    const v = j >= 0 && j < x.length ? x[j] : 0;
    segment[i] = v;
    squares[i + 1] = squares[i] + v * v;
  }
  const total = squares[length];
  const meanSquare = total / length;
  out.levelDb[k] = 10 * Math.log10(meanSquare + 1e-20);
  out.centreDb[k] = 10 * Math.log10((squares[half + centreHalf] - squares[half - centreHalf]) / (2 * centreHalf) + 1e-20);
  if (meanSquare < s.silence) return;

  // Wiener–Khinchin: the autocorrelation is the inverse transform of the power spectrum.
  s.fft.forward(segment, spectrum);
  for (let i = 0; i < n + 2; i += 2) {
    spectrum[i] = spectrum[i] * spectrum[i] + spectrum[i + 1] * spectrum[i + 1];
    spectrum[i + 1] = 0;
  }
  s.fft.inverse(spectrum, acf);

  // YIN step 2 (difference function, as a per-sample mean) and step 3 (cumulative mean normalisation).
  d[0] = 0;
  dn[0] = 1;
  let running = 0;
  for (let tau = 1; tau <= tauMax + 1; tau++) {
    const overlap = length - tau;
    const value = Math.max(0, (squares[overlap] + (total - squares[tau]) - 2 * acf[tau]) / overlap);
    d[tau] = value;
    running += value;
    cumulative[tau] = running;
    dn[tau] = running > 0 ? (value * tau) / running : 1;
  }

  // Dips of d′ in [τmin, τmax], in order of lag.
  let dips = 0;
  for (let tau = s.tauMin; tau <= tauMax; tau++) {
    if (dn[tau] < dn[tau - 1] && dn[tau] <= dn[tau + 1]) {
      // The dip's depth is read from a parabola through d′ at τ−1, τ, τ+1, not from the sample at
      // τ: with bright timbres the dip at the true period is narrower than a lag step, and a
      // sample 0.4 lag off reads 0.1–0.2 higher than the dip at twice the period (which sits
      // closer to a whole lag by chance), handing the octave below the threshold mass.
      const left = dn[tau - 1];
      const mid = dn[tau];
      const right = dn[tau + 1];
      const bend = left - 2 * mid + right;
      dipValue[dips] = bend > 0 ? Math.max(0, mid - ((left - right) * (left - right)) / (8 * bend)) : mid;
      // YIN step 5: parabolic interpolation of d around the dip.
      const a = d[tau - 1];
      const b = d[tau];
      const c = d[tau + 1];
      const curvature = a - 2 * b + c;
      const shift = curvature > 0 ? (0.5 * (a - c)) / curvature : 0;
      dipTau[dips] = tau + Math.max(-0.5, Math.min(0.5, shift));
      dips++;
    }
  }
  if (dips === 0) return;

  // pYIN stage 1: with thresholds s ~ Beta, YIN picks the first dip below s. Dip i therefore
  // receives the prior mass of s in (d′_i, min_{j<i} d′_j]; thresholds below every dip fall back
  // to the global minimum with probability p_a.
  const betaShape = s.betaShape;
  let prefixMin = 1;
  let globalMin = 0;
  for (let i = 0; i < dips; i++) {
    dipMass[i] = 0;
    if (dipValue[i] < prefixMin && harmonicLock(s, i, dips, total)) continue; // no threshold picks it
    if (dipValue[i] < prefixMin) {
      dipMass[i] = thresholdCdf(prefixMin, betaShape) - thresholdCdf(dipValue[i], betaShape);
      prefixMin = dipValue[i];
    }
    if (dipValue[i] < dipValue[globalMin]) globalMin = i;
  }
  dipMass[globalMin] += s.fallbackProbability * thresholdCdf(dipValue[globalMin], betaShape);

  // Keep the likeliest `slots` dips.
  const slots = out.slots;
  let kept = 0;
  for (let i = 0; i < dips; i++) {
    if (dipMass[i] <= 1e-6) continue;
    if (kept < slots) {
      dipIndex[kept++] = i;
    } else {
      let weakest = 0;
      for (let j = 1; j < kept; j++) if (dipMass[dipIndex[j]] < dipMass[dipIndex[weakest]]) weakest = j;
      if (dipMass[i] > dipMass[dipIndex[weakest]]) dipIndex[weakest] = i;
    }
  }
  const base = k * slots;
  for (let j = 0; j < kept; j++) {
    const i = dipIndex[j];
    const f = s.rate / dipTau[i];
    out.hz[base + j] = f;
    out.log2Hz[base + j] = Math.log2(f);
    out.probability[base + j] = dipMass[i];
  }
  out.count[k] = kept;
}

/**
 * A dip at a harmonic's period (T/2, T/3 of the true period T) that a later dip at a whole multiple
 * of its lag undercuts by far is the harmonic, not the note (see harmonicLockRatio): whether dip i of
 * the current frame (of `dips`; `total` its segment's energy) is one.
 */
function harmonicLock(s: CandidateSearch, i: number, dips: number, total: number): boolean {
  const { dipTau, dipValue } = s;
  if (dipValue[i] < s.harmonicLockFloor || dipValue[i] > HARMONIC_LOCK_CEILING) return false;
  for (let j = i + 1; j < dips; j++) {
    const ratio = dipTau[j] / dipTau[i];
    const whole = Math.round(ratio);
    const multiple = whole >= 2 && whole <= HARMONIC_LOCK_MAX_MULTIPLE && Math.abs(ratio - whole) <= HARMONIC_LOCK_LAG_TOLERANCE * whole;
    // The whole-lag depths screen (cheap); the fractional ones decide.
    if (multiple && dipValue[j] <= s.harmonicLockRatio * dipValue[i]) {
      const own = refinedDepth(s, i, total);
      return own >= s.harmonicLockFloor && refinedDepth(s, j, total) <= s.harmonicLockRatio * own;
    }
  }
  return false;
}

/** The lowest d′ within half a lag of dip i, in steps of 0.1 lag. */
function refinedDepth(s: CandidateSearch, i: number, total: number): number {
  const centre = Math.round(s.dipTau[i]);
  let best = s.dipValue[i];
  for (let f = -5; f <= 5; f++) best = Math.min(best, fractionalDn(s, centre + f / 10, total));
  return best;
}

/**
 * d′ at a fractional lag τ, read where a whole-lag depth would mislead: a high note's dip is narrower
 * than one lag, and its depth read at whole lags (even through the parabola of the dip search) can be
 * 0.05–0.2 too high, which made a clean C#5 (and bright reed and brass notes) look like a lock on the
 * octave above. r(τ) = (1/N)·Σ_k w_k·P_k·cos(2πkτ/N) from the power spectrum still in `spectrum` (the
 * inverse transform leaves it), the energy sums and the cumulative mean interpolated between whole lags
 * (they vary slowly with τ). Equal to dn at whole lags.
 */
function fractionalDn(s: CandidateSearch, tau: number, total: number): number {
  const { spectrum, squares, n } = s;
  const theta = (2 * Math.PI * tau) / n;
  const step = 2 * Math.cos(theta);
  let previous = 1;
  let current = Math.cos(theta);
  let r = spectrum[0];
  for (let k = 1; k < n / 2; k++) {
    r += 2 * spectrum[2 * k] * current;
    const following = step * current - previous;
    previous = current;
    current = following;
  }
  r = (r + spectrum[n] * Math.cos(Math.PI * tau)) / n;
  const overlap = s.length - tau;
  const value = Math.max(0, (squaresAt(squares, overlap) + (total - squaresAt(squares, tau)) - 2 * r) / overlap);
  const whole = Math.floor(tau);
  const sum = s.cumulative[whole] + (tau - whole) * value;
  return sum > 0 ? (value * tau) / sum : 1;
}

/** The running sum of squares at a fractional index, interpolated linearly. */
function squaresAt(squares: Float64Array, a: number): number {
  const whole = Math.floor(a);
  return squares[whole] + (a - whole) * (squares[whole + 1] - squares[whole]);
}

/**
 * Voicing prior from loudness, the product of three ramps:
 *  - global: 1 down to (loud level − relativeFloorDb), falling linearly to 0 over the next 10 dB.
 *    The loud level is the 95th percentile of frame levels above the silence gate, so a few loud
 *    transients do not set it.
 *  - local: 1 while the central 20 ms of the segment is at least as loud as the segment less 6 dB,
 *    falling to 0 at 12 dB less. A segment only partly filled by the end (or start) of a note still
 *    looks periodic; this keeps such frames unvoiced once the note has left the frame's centre,
 *    and sharpens voicing edges to about one hop whatever the segment length.
 *  - tail: 1 down to tailDropDb below the loudest frame of the last 300 ms, falling to 0 over the
 *    next 10 dB. A reverberation tail repeats the note it follows and stays periodic, so YIN alone
 *    keeps it voiced; it decays at 60 dB per RT60 (120 dB/s for RT60 = 0.5 s), far faster than a held
 *    note (a piano string loses ≲ 10 dB in its first 300 ms), so it crosses this ramp within
 *    ~0.2–0.3 s of the note's end.
 */
function applyLoudnessPrior(c: Candidates, o: ResolvedOptions): void {
  const levels: number[] = [];
  for (let k = 0; k < c.frames; k++) if (c.levelDb[k] > o.silenceDbfs) levels.push(c.levelDb[k]);
  if (levels.length === 0) return;
  levels.sort((a, b) => a - b);
  const loud = levels[Math.min(levels.length - 1, Math.floor(0.95 * levels.length))];
  const floor = loud - o.relativeFloorDb;
  const tailFrames = Math.max(1, Math.round(0.3 / o.hopSeconds));
  for (let k = 0; k < c.frames; k++) {
    const level = c.levelDb[k];
    if (level <= o.silenceDbfs) continue;
    const global = clamp01((level - (floor - 10)) / 10);
    const local = clamp01((c.centreDb[k] - level + 12) / 6);
    let recent = level;
    for (let j = Math.max(0, k - tailFrames); j < k; j++) if (c.levelDb[j] > recent) recent = c.levelDb[j];
    const tail = clamp01((level - (recent - o.tailDropDb - 10)) / 10);
    c.prior[k] = global * local * tail;
  }
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * pYIN stage 2 on a sparse state space: Viterbi over {candidates of frame k} ∪ {unvoiced}.
 * Emission costs are −log of the candidate's probability (times the loudness prior) and
 * −log(1 − voiced mass) for the unvoiced state; a pitch move costs jumpCostPerSemitone per
 * semitone up to maxJumpCost; a voicing switch costs voicingSwitchCost.
 */
function* decode(c: Candidates, o: ResolvedOptions, hzOut: Float32Array, voicedOut: Float32Array): Sliced<void> {
  const { frames, slots } = c;
  const states = slots + 1; // slot `slots` is the unvoiced state
  const back = new Uint8Array(frames * states);
  let prev = new Float64Array(states);
  let next = new Float64Array(states);
  const tiny = 1e-9;
  const jumpPerOctave = o.jumpCostPerSemitone * 12;

  const emission = (k: number, s: number): number => {
    const prior = c.prior[k];
    if (s === slots) {
      let mass = 0;
      for (let j = 0; j < c.count[k]; j++) mass += c.probability[k * slots + j];
      return -Math.log(1 - prior * Math.min(mass, 1) + tiny);
    }
    return -Math.log(prior * c.probability[k * slots + s] + tiny);
  };

  for (let s = 0; s < states; s++) prev[s] = Infinity;
  prev[slots] = emission(0, slots);
  for (let j = 0; j < c.count[0]; j++) prev[j] = emission(0, j) + o.voicingSwitchCost * 0.5;

  for (let k = 1; k < frames; k++) {
    if (k % FRAMES_PER_SLICE === 0) yield;
    const base = k * slots;
    const prevBase = (k - 1) * slots;
    const prevCount = c.count[k - 1];
    for (let s = 0; s < states; s++) next[s] = Infinity;
    // Unvoiced: from unvoiced (free) or from any voiced candidate (switch).
    {
      let best = prev[slots];
      let arg = slots;
      for (let j = 0; j < prevCount; j++) {
        const cost = prev[j] + o.voicingSwitchCost;
        if (cost < best) {
          best = cost;
          arg = j;
        }
      }
      next[slots] = best + emission(k, slots);
      back[k * states + slots] = arg;
    }
    for (let i = 0; i < c.count[k]; i++) {
      const here = c.log2Hz[base + i];
      let best = prev[slots] + o.voicingSwitchCost;
      let arg = slots;
      for (let j = 0; j < prevCount; j++) {
        const move = Math.min(o.maxJumpCost, Math.abs(here - c.log2Hz[prevBase + j]) * jumpPerOctave);
        const cost = prev[j] + move;
        if (cost < best) {
          best = cost;
          arg = j;
        }
      }
      next[i] = best + emission(k, i);
      back[k * states + i] = arg;
    }
    const swap = prev;
    prev = next;
    next = swap;
  }

  // Trace back.
  let state = slots;
  let best = prev[slots];
  for (let j = 0; j < c.count[frames - 1]; j++) {
    if (prev[j] < best) {
      best = prev[j];
      state = j;
    }
  }
  for (let k = frames - 1; k >= 0; k--) {
    hzOut[k] = state === slots ? 0 : c.hz[k * slots + state];
    let mass = 0;
    for (let j = 0; j < c.count[k]; j++) mass += c.probability[k * slots + j];
    voicedOut[k] = Math.min(1, mass) * c.prior[k];
    if (k > 0) state = back[k * states + state];
  }
}

/** Longest stretch of unvoiced frames voiced in front of a voiced run by {@link extendAttacks} (100 ms at the default hop). */
const ATTACK_REACH = 10;
/** A candidate within this many cents of the run's first pitch continues it backwards. */
const ATTACK_CENTS = 50;
/** Frames more than this many dB below the run's first frame are not part of its attack. */
const ATTACK_DROP_DB = 12;

/**
 * Voices the attack of a note that the decoder left unvoiced (not in pYIN). The first 30–70 ms of a
 * struck or bowed note are less periodic than what follows: hammer or bow noise, partials that
 * settle, the previous note's release still sounding, and for the first frames a segment that is
 * half silence. Their dip at the note's period is real but shallow (d′ 0.2–0.4), pYIN gives it
 * little voiced mass, and the path turns voiced only once the note has settled (the piano fixture's
 * notes began 30–70 ms late). Walking back from the start of each voiced run, an unvoiced frame that is
 * loud (loudness prior ≥ 0.5, within ATTACK_DROP_DB of the run's first frame) and holds a candidate
 * within ATTACK_CENTS of the pitch it leads into takes that candidate; the walk stops at the first
 * frame that does not, or after ATTACK_REACH frames. Noise, rests and other notes have no such
 * candidate, so they stay unvoiced.
 */
function extendAttacks(c: Candidates, hz: Float32Array): void {
  const tolerance = ATTACK_CENTS / 1200;
  for (let k = 1; k < c.frames; k++) {
    if (!(hz[k] > 0) || hz[k - 1] > 0) continue;
    let target = Math.log2(hz[k]);
    const level = c.levelDb[k];
    for (let j = k - 1; j >= 0 && j >= k - ATTACK_REACH && !(hz[j] > 0); j--) {
      if (c.prior[j] < 0.5 || c.levelDb[j] < level - ATTACK_DROP_DB) break;
      const best = nearestCandidate(c, j, target, tolerance);
      if (best < 0) break;
      hz[j] = c.hz[j * c.slots + best];
      target = c.log2Hz[j * c.slots + best];
    }
  }
}

/** Longest stretch of unvoiced frames voiced after a voiced run by {@link extendReleases} (100 ms at the default hop). */
const RELEASE_REACH = 10;
/** Frames more than this many dB below the run's last frame are not part of its release. */
const RELEASE_DROP_DB = 10;
/** Frames whose voiced mass (times the loudness prior) is below this are not voiced by {@link extendReleases}. */
const RELEASE_MASS = 0.2;
/** Only a run followed by at least this many unvoiced frames (a rest, not a consonant between two notes) is extended. */
const RELEASE_MIN_GAP = 10;

/**
 * Voices the end of a note that the decoder left unvoiced (not in pYIN; the counterpart of
 * {@link extendAttacks}). A sung note ending before a rest often turns breathy: the voice goes on at its
 * pitch for 50–150 ms while air noise grows, pYIN's voiced mass falls to 0.2–0.5, and the decoder, which
 * pays a switch cost only once, leaves voicing as soon as the unvoiced state is the cheaper one. On SSVD
 * train&valid 1.3 % of the frames inside annotated notes were unvoiced in the note's last 100 ms, most of
 * them within 10 dB of the note's level (issue 12, seventh pass). Walking forward from the end of each
 * voiced run followed by at least RELEASE_MIN_GAP unvoiced frames, an unvoiced frame that is loud (loudness
 * prior ≥ 0.5, within RELEASE_DROP_DB of the run's last frame), keeps a voiced mass of RELEASE_MASS and
 * holds a candidate within ATTACK_CENTS of the pitch it continues takes that candidate; the walk stops at
 * the first frame that does not, after RELEASE_REACH frames, or one frame before the next run. Shorter gaps
 * are left alone: there the next note starts, and a bowed legato change of the cello and violin fixtures,
 * read with the old pitch for a few frames more, moved the next note's onset late (note F at 50 ms
 * 0.69 → 0.62 and 0.85 → 0.79). A reverberation tail has a loudness prior under 0.5 and stays unvoiced.
 */
function extendReleases(c: Candidates, hz: Float32Array, voiced: Float32Array): void {
  const tolerance = ATTACK_CENTS / 1200;
  for (let k = 0; k + 1 < c.frames; k++) {
    if (!(hz[k] > 0) || hz[k + 1] > 0) continue;
    let target = Math.log2(hz[k]);
    const level = c.levelDb[k];
    let end = k + 1;
    while (end < c.frames && !(hz[end] > 0)) end++;
    if (end < c.frames && end - k - 1 < RELEASE_MIN_GAP) continue;
    const last = Math.min(k + RELEASE_REACH, end - 2);
    let j = k + 1;
    for (; j <= last; j++) {
      if (c.prior[j] < 0.5 || c.levelDb[j] < level - RELEASE_DROP_DB || voiced[j] < RELEASE_MASS) break;
      const best = nearestCandidate(c, j, target, tolerance);
      if (best < 0) break;
      hz[j] = c.hz[j * c.slots + best];
      target = c.log2Hz[j * c.slots + best];
    }
    k = j - 1;
  }
}

/** Index of frame j's candidate nearest to `target` (log2 Hz) within `tolerance` octaves; −1 when there is none. */
function nearestCandidate(c: Candidates, j: number, target: number, tolerance: number): number {
  let best = -1;
  let bestDistance = tolerance;
  for (let i = 0; i < c.count[j]; i++) {
    const distance = Math.abs(c.log2Hz[j * c.slots + i] - target);
    if (distance <= bestDistance) {
      bestDistance = distance;
      best = i;
    }
  }
  return best;
}

/** Frames compared on each side when looking for a pitch change (30 ms at the default hop). */
const TRANSITION_REACH = 3;
/** A frame whose pitch differs from a frame TRANSITION_REACH away by more than this (cents) is re-read. */
const TRANSITION_CENTS = 30;
/** Frames compared on each side when looking for a low island (120 ms at the default hop). */
const ISLAND_REACH = 12;
/** A frame below this share of the pitch ISLAND_REACH frames away on both sides (a fifth and more) is re-read. */
const ISLAND_RATIO = 0.67;

/**
 * Re-reads frames at pitch changes with a short window. A 47 ms segment that straddles two notes
 * holds both periods: for close intervals the two dips merge into one in between (a 2-semitone step
 * reads ~1 semitone off for 2–3 frames), and across an octave leap the longer period stays periodic
 * in both notes, so the lower note wins too early or too late. Where the decoded pitch moves by
 * more than TRANSITION_CENTS within ±TRANSITION_REACH frames, the frame's own period and those of
 * the frames TRANSITION_REACH away are compared over two periods of the longest (5–35 ms)
 * centred on the frame, with the normalised difference D(τ) = Σ(x_j − x_{j+τ})² / Σ(x_j² + x_{j+τ}²)
 * (0 for a perfectly periodic signal, ≈ 1 for noise). As in YIN's threshold rule the shortest
 * period within 0.05 of the best D wins (a note an octave up is also periodic at the lower note's
 * period), then it is refined by parabolic interpolation. Frames where no period reaches D < 0.3
 * keep their first reading.
 */
function* refineTransitions(x: Float32Array, rate: number, o: ResolvedOptions, hz: Float32Array): Sliced<void> {
  const frames = hz.length;
  const semitoneShare = TRANSITION_CENTS / 1200;
  const original = Float32Array.from(hz);
  const periods = new Float64Array(8);
  const minLag = Math.max(2, Math.floor(rate / o.maxHz));
  const maxLag = Math.ceil(rate / o.minHz);
  const resolved = resolveMixtures(x, rate, o, original, hz, minLag, maxLag);
  original.set(hz);
  yield;
  for (let k = 0; k < frames; k++) {
    if (k % FRAMES_PER_SLICE === FRAMES_PER_SLICE - 1) yield;
    const here = original[k];
    if (here <= 0 || resolved[k]) continue;
    const before = k >= TRANSITION_REACH ? original[k - TRANSITION_REACH] : 0;
    const after = k + TRANSITION_REACH < frames ? original[k + TRANSITION_REACH] : 0;
    const moves =
      (before > 0 && Math.abs(Math.log2(here / before)) > semitoneShare) ||
      (after > 0 && Math.abs(Math.log2(here / after)) > semitoneShare);
    // A low island: well below the pitch both ISLAND_REACH frames before and after. Where two
    // notes overlap (a legato change, a release ringing into the next note) the mixture repeats
    // only at their common period — a fourth (3:4) reads two octaves below the upper note — and
    // that dip wins while the overlap lasts.
    const farBefore = k >= ISLAND_REACH ? original[k - ISLAND_REACH] : 0;
    const farAfter = k + ISLAND_REACH < frames ? original[k + ISLAND_REACH] : 0;
    const island = farBefore > 0 && farAfter > 0 && here < ISLAND_RATIO * farBefore && here < ISLAND_RATIO * farAfter;
    if (!moves && !island) continue;
    let count = 0;
    for (const f of [here, before, after]) if (f > 0) periods[count++] = rate / f;
    if (island) {
      for (const f of [farBefore, farAfter, 2 * here, 3 * here, 4 * here]) if (f <= o.maxHz) periods[count++] = rate / f;
    }
    let longest = 0;
    for (let i = 0; i < count; i++) longest = Math.max(longest, periods[i]);
    const width = Math.max(40, Math.ceil(2 * longest));
    const centre = Math.round(k * o.hopSeconds * rate);

    let bestTau = 0;
    let bestD = Infinity;
    let chosenTau = 0;
    // Local minimum of D near each period, then the YIN-style choice among them.
    const margin = island ? 0.3 : 0.05;
    const minima: number[] = [];
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const tau = nearestMinimum(x, centre, width, periods[i], minLag, maxLag);
      const value = normalisedDifference(x, centre, width, tau);
      minima.push(tau);
      values.push(value);
      if (value < bestD) {
        bestD = value;
        bestTau = tau;
      }
    }
    if (!(bestD < 0.3)) continue;
    chosenTau = bestTau;
    for (let i = 0; i < minima.length; i++) {
      if (values[i] <= bestD + margin && minima[i] < chosenTau) {
        chosenTau = minima[i];
      }
    }
    hz[k] = rate / interpolatedPeriod(x, centre, width, chosenTau, minLag, maxLag);
  }
}

/** Largest ratio error (cents) for a frame's pitch to count as a subharmonic of a neighbouring note. */
const SUBHARMONIC_CENTS = 50;

/**
 * Re-reads low islands that are mixtures of the notes on either side. Where a release rings into
 * the next note (a legato change on a bowed string), the two notes sound together for 30–100 ms
 * and their sum repeats only at their common period: C4 + E4 (4:5) repeats at C2, A4 + E4 (4:3)
 * at A2. That dip is the deepest of all, so the decoder and the YIN rule of
 * {@link refineTransitions} both keep it (the violin fixture read 65 Hz for 90 ms between C4 and
 * E4). A frame well below the pitch ISLAND_REACH frames before and after (ISLAND_RATIO), where
 * those two pitches differ (a note change) and the frame's pitch is within SUBHARMONIC_CENTS of an
 * integer subharmonic (÷2…÷8) of both, is read at the later note's period instead (its local minimum
 * of D within one lag, over two of its periods, as in {@link refineTransitions}). The later note,
 * because the common period appears only once both sound: the overlap lies after the new note's
 * onset, in the old note's release. `hz` is rewritten in place; `original` is the decoded contour the
 * islands are found on.
 * @returns 1 for each frame rewritten (refineTransitions leaves them alone), 0 elsewhere.
 */
function resolveMixtures(
  x: Float32Array,
  rate: number,
  o: ResolvedOptions,
  original: Float32Array,
  hz: Float32Array,
  minLag: number,
  maxLag: number,
): Uint8Array {
  const frames = hz.length;
  const resolved = new Uint8Array(frames);
  const tolerance = SUBHARMONIC_CENTS / 1200;
  const subharmonic = (note: number, f: number): boolean => {
    const ratio = note / f;
    const whole = Math.round(ratio);
    return whole >= 2 && whole <= 8 && Math.abs(Math.log2(ratio / whole)) <= tolerance;
  };
  for (let k = ISLAND_REACH; k + ISLAND_REACH < frames; k++) {
    const here = original[k];
    if (!(here > 0)) continue;
    const earlier = original[k - ISLAND_REACH];
    const later = original[k + ISLAND_REACH];
    if (!(earlier > 0 && later > 0) || Math.abs(Math.log2(earlier / later)) < 0.5 / 12) continue;
    if (!(here < ISLAND_RATIO * earlier && here < ISLAND_RATIO * later)) continue;
    if (!subharmonic(earlier, here) || !subharmonic(later, here)) continue;
    const width = Math.max(80, Math.ceil((2 * rate) / later));
    const centre = Math.round(k * o.hopSeconds * rate);
    const tau = nearestMinimum(x, centre, width, rate / later, minLag, maxLag, 1);
    hz[k] = rate / interpolatedPeriod(x, centre, width, tau, minLag, maxLag);
    resolved[k] = 1;
  }
  return resolved;
}

/** The local minimum of D reached by walking downhill (at most `steps` lags) from the lag nearest `period`. */
function nearestMinimum(x: Float32Array, centre: number, width: number, period: number, minLag: number, maxLag: number, steps = 4): number {
  let tau = Math.min(maxLag, Math.max(minLag, Math.round(period)));
  let value = normalisedDifference(x, centre, width, tau);
  for (let step = 0; step < steps; step++) {
    const down = tau > minLag ? normalisedDifference(x, centre, width, tau - 1) : Infinity;
    const up = tau < maxLag ? normalisedDifference(x, centre, width, tau + 1) : Infinity;
    if (down < value && down <= up) {
      tau -= 1;
      value = down;
    } else if (up < value) {
      tau += 1;
      value = up;
    } else break;
  }
  return tau;
}

/** YIN step 5 on the short-window D: the period at the vertex of a parabola through τ − 1, τ, τ + 1. */
function interpolatedPeriod(x: Float32Array, centre: number, width: number, tau: number, minLag: number, maxLag: number): number {
  const b = normalisedDifference(x, centre, width, tau);
  const a = tau > minLag ? normalisedDifference(x, centre, width, tau - 1) : b;
  const c = tau < maxLag ? normalisedDifference(x, centre, width, tau + 1) : b;
  const curvature = a - 2 * b + c;
  const shift = curvature > 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (a - c)) / curvature)) : 0;
  return tau + shift;
}

/**
 * D(τ) = Σ_{i<width} (x_{s+i} − x_{s+i+τ})² / Σ_{i<width} (x²_{s+i} + x²_{s+i+τ}), with the pair of
 * windows centred on `centre` (s = centre − ⌊(width + τ)/2⌋); samples outside the signal read 0.
 */
function normalisedDifference(x: Float32Array, centre: number, width: number, tau: number): number {
  const start = centre - ((width + tau) >> 1);
  let diff = 0;
  let energy = 0;
  if (start >= 0 && start + width + tau <= x.length) {
    for (let i = start; i < start + width; i++) {
      const a = x[i];
      const b = x[i + tau];
      const e = a - b;
      diff += e * e;
      energy += a * a + b * b;
    }
  } else {
    for (let i = start; i < start + width; i++) {
      const a = i >= 0 && i < x.length ? x[i] : 0;
      const j = i + tau;
      const b = j >= 0 && j < x.length ? x[j] : 0;
      const e = a - b;
      diff += e * e;
      energy += a * a + b * b;
    }
  }
  return energy > 0 ? diff / energy : 1;
}
