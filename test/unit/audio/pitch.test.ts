/**
 * The pitch tracker against rendered melodies with known f0 (test/support/signals.ts). Accuracy is
 * the MIREX raw pitch accuracy (share of voiced truth frames within 50 cents, unvoiced estimates
 * counting as misses). Bounds sit a little under the measured values (noted per test), so a
 * regression fails but run-to-run arithmetic noise does not.
 */
import { trackPitch, type PitchOptions } from '../../../src/audio/pitch/pitch.js';
import { rawChromaAccuracy, rawPitchAccuracy, voicingFalseAlarm } from '../../../src/audio/eval/pitch-metrics.js';
import { getRealFft, nextPowerOfTwo } from '../../../src/audio/dsp/fft.js';
import { createRandom, gaussian } from '../../../src/audio/random.js';
import { renderMelody, twinkle, type RenderOptions, type RenderedMelody, type TruthNote } from '../../support/signals.js';
import type { PitchTrack } from '../../../src/audio/types.js';

/** Renders at 22.05 kHz unless told otherwise: half the synthesis time of 44.1 kHz, same analysis path (resampled to 8 kHz). */
function render(notes: TruthNote[], options: RenderOptions = {}): RenderedMelody {
  return renderMelody(notes, { sampleRate: 22050, ...options });
}

function track(melody: RenderedMelody, samples = melody.samples): PitchTrack {
  return trackPitch({ sampleRate: melody.sampleRate, samples });
}

function rpa(melody: RenderedMelody, pitch: PitchTrack): number {
  return rawPitchAccuracy(melody.truthTimes, melody.truthHz, pitch.times, pitch.hz);
}

function voicedShare(pitch: PitchTrack): number {
  let voiced = 0;
  for (const hz of pitch.hz) if (hz > 0) voiced++;
  return voiced / pitch.hz.length;
}

/**
 * Truth-unvoiced frames at least 30 ms from any voiced truth frame: the middle of gaps and rests,
 * where breath noise or nothing is heard (a frame straddling a note edge is ambiguous by nature).
 */
function restFrames(melody: RenderedMelody): number[] {
  const out: number[] = [];
  const t = melody.truthHz;
  for (let i = 0; i < t.length; i++) {
    let near = false;
    for (let j = Math.max(0, i - 3); j <= Math.min(t.length - 1, i + 3); j++) if (t[j] > 0) near = true;
    if (!near) out.push(i);
  }
  return out;
}

/**
 * Adds a synthetic room: the dry signal plus its convolution with exponentially decaying Gaussian
 * noise (energy falling 60 dB over `rt60` seconds) scaled so the reverberant energy is `wet`² of the
 * dry one. Overlap-add FFT convolution.
 */
function reverberate(dry: Float32Array, rate: number, rt60: number, wet: number, seed = 7): Float32Array {
  const length = Math.round(rt60 * rate);
  const random = createRandom(seed);
  const impulse = new Float64Array(length);
  let energy = 0;
  for (let i = 0; i < length; i++) {
    impulse[i] = gaussian(random) * Math.pow(10, (-3 * i) / length);
    energy += impulse[i] * impulse[i];
  }
  const n = nextPowerOfTwo(2 * length);
  const fft = getRealFft(n);
  const response = fft.createSpectrum();
  const padded = new Float64Array(n);
  for (let i = 0; i < length; i++) padded[i] = (impulse[i] * wet) / Math.sqrt(energy);
  fft.forward(padded, response);
  const out = Float32Array.from(dry);
  const block = n - length;
  const spectrum = fft.createSpectrum();
  const y = new Float64Array(n);
  for (let start = 0; start < dry.length; start += block) {
    padded.fill(0);
    for (let i = 0; i < block && start + i < dry.length; i++) padded[i] = dry[start + i];
    fft.forward(padded, spectrum);
    for (let i = 0; i < n + 2; i += 2) {
      const [ar, ai, br, bi] = [spectrum[i], spectrum[i + 1], response[i], response[i + 1]];
      spectrum[i] = ar * br - ai * bi;
      spectrum[i + 1] = ar * bi + ai * br;
    }
    fft.inverse(spectrum, y);
    for (let i = 0; i < n && start + i < dry.length; i++) out[start + i] += y[i];
  }
  return out;
}

describe('trackPitch output', () => {
  it('gives one frame per 10 ms hop centred at k·hop from t = 0, with hz 0 exactly where unvoiced', () => {
    const melody = render([{ start: 0.2, end: 0.8, midi: 60 }], { duration: 1.005 });
    const pitch = track(melody);
    expect(pitch.hopSeconds).toBe(0.01);
    expect(pitch.times.length).toBe(101);
    expect(pitch.hz.length).toBe(101);
    expect(pitch.voicedProbability.length).toBe(101);
    for (let k = 0; k < pitch.times.length; k++) {
      expect(pitch.times[k]).toBeCloseTo(k * 0.01, 12);
      expect(pitch.voicedProbability[k]).toBeGreaterThanOrEqual(0);
      expect(pitch.voicedProbability[k]).toBeLessThanOrEqual(1);
    }
    // Silence before and after the note is unvoiced; the note's middle is voiced and likely.
    expect(pitch.hz[10]).toBe(0);
    expect(pitch.hz[95]).toBe(0);
    expect(pitch.hz[50]).toBeGreaterThan(0);
    expect(pitch.voicedProbability[50]).toBeGreaterThan(0.8);
    expect(pitch.voicedProbability[10]).toBeLessThan(0.05);
  });

  it('returns an empty track for empty input and rejects inconsistent options', () => {
    const empty = trackPitch({ sampleRate: 44100, samples: new Float32Array(0) });
    expect(empty.times.length).toBe(0);
    const audio = { sampleRate: 44100, samples: new Float32Array(4410) };
    expect(() => trackPitch(audio, { minHz: 500, maxHz: 400 })).toThrow(RangeError);
    expect(() => trackPitch(audio, { maxHz: 5000 })).toThrow(RangeError);
    expect(() => trackPitch(audio, { hopSeconds: 0 })).toThrow(RangeError);
  });

  it('gives the same contour whatever the input sample rate (16, 44.1, 48 kHz) to within 5 cents', () => {
    const notes = twinkle(62).slice(0, 4);
    const tracks = [16000, 44100, 48000].map((rate) => {
      const melody = render(notes, { sampleRate: rate, timbre: 'voice' });
      return track(melody);
    });
    let compared = 0;
    for (let k = 0; k < tracks[0].hz.length; k++) {
      const [a, b, c] = tracks.map((t) => t.hz[k]);
      if (a > 0 && b > 0 && c > 0) {
        compared++;
        expect(Math.abs(1200 * Math.log2(b / a))).toBeLessThan(5);
        expect(Math.abs(1200 * Math.log2(c / a))).toBeLessThan(5);
      }
    }
    expect(compared).toBeGreaterThan(150);
  });
});

describe('trackPitch accuracy on clean melodies', () => {
  // Measured: sine 1.000, voice 0.992, hum 1.000, bright 0.992; misses are single frames at note edges.
  it.each<[string, TruthNote[], RenderOptions]>([
    ['a played sine melody', twinkle(60), { timbre: 'sine' }],
    ['a sung (vowel-like) melody at 44.1 kHz', twinkle(60), { timbre: 'voice', sampleRate: 44100 }],
    ['a hummed melody', twinkle(55), { timbre: 'hum' }],
    ['a reed/brass-like melody with a weak fundamental', twinkle(60), { timbre: 'bright' }],
    ['a quiet sung melody peaking at -40 dBFS', twinkle(60), { timbre: 'voice', amplitude: 0.01 }],
  ])('tracks %s with raw pitch accuracy ≥ 0.97', (_name, notes, options) => {
    const melody = render(notes, options);
    expect(rpa(melody, track(melody))).toBeGreaterThanOrEqual(0.97);
  });

  it('makes no octave errors on a bright timbre whose second harmonic is twice the fundamental (chroma − raw ≤ 0.005)', () => {
    // Measured at 0.987 raw and chroma (low register) and 0.992 (middle register).
    for (const start of [48, 60]) {
      const melody = render(twinkle(start), { timbre: 'bright' });
      const pitch = track(melody);
      const raw = rpa(melody, pitch);
      const chroma = rawChromaAccuracy(melody.truthTimes, melody.truthHz, pitch.times, pitch.hz);
      expect(raw).toBeGreaterThanOrEqual(0.97);
      expect(chroma - raw).toBeLessThanOrEqual(0.005);
    }
  });

  it('tracks a low bass (65–110 Hz) with accuracy ≥ 0.92 and a held 60 Hz note with ≥ 0.97', () => {
    // Measured 0.934 and 0.975. A 47 ms analysis segment holds only ~3 periods at 65 Hz, so the two
    // or three frames at each note edge (half the segment in silence) read unvoiced: ~5 of 54 frames
    // per short note here.
    const bass = render(twinkle(36), { timbre: 'voice' });
    expect(rpa(bass, track(bass))).toBeGreaterThanOrEqual(0.92);
    const held = render([{ start: 0.3, end: 2.3, midi: 34.8 }], { timbre: 'voice' });
    expect(rpa(held, track(held))).toBeGreaterThanOrEqual(0.97);
  });

  it('tracks a whistled melody up to 1.4 kHz (831–1397 Hz) with accuracy ≥ 0.97', () => {
    // Measured 1.000.
    const melody = render(twinkle(80), { timbre: 'whistle' });
    expect(rpa(melody, track(melody))).toBeGreaterThanOrEqual(0.97);
  });

  it('follows ±100-cent 6 Hz vibrato: every frame 30 ms or more inside a note within 30 cents of the truth', () => {
    // Measured: worst frame 14 cents, mean 3 cents.
    const melody = render(twinkle(64), { timbre: 'voice', vibrato: { rateHz: 6, depthCents: 100 } });
    const pitch = track(melody);
    const t = melody.truthHz;
    let checked = 0;
    let worst = 0;
    for (let i = 3; i < t.length - 3; i++) {
      if (!(t[i - 3] > 0 && t[i] > 0 && t[i + 3] > 0)) continue;
      checked++;
      worst = Math.max(worst, pitch.hz[i] > 0 ? Math.abs(1200 * Math.log2(pitch.hz[i] / t[i])) : Infinity);
    }
    expect(checked).toBeGreaterThan(500);
    expect(worst).toBeLessThanOrEqual(30);
  });

  it('follows legato steps and octave leaps, missing at most the frame on each change', () => {
    // Measured 0.915 (2-semitone steps every 100 ms: the frame centred on each change reads
    // between the notes) and 0.972 raw / 0.981 chroma (octave and two-octave leaps every 400 ms).
    const steps = Array.from({ length: 40 }, (_, i) => ({
      start: 0.3 + i * 0.1,
      end: 0.4 + i * 0.1,
      midi: 60 + [0, 2, 4, 5, 7, 5, 4, 2][i % 8],
    }));
    const legato = render(steps, { timbre: 'hum' });
    expect(rpa(legato, track(legato))).toBeGreaterThanOrEqual(0.89);
    const leaps = [0, 12, 0, 12, -12, 0, 7, 19, 7].map((d, i) => ({ start: 0.3 + i * 0.4, end: 0.7 + i * 0.4, midi: 57 + d }));
    const leaping = render(leaps, { timbre: 'voice' });
    expect(rpa(leaping, track(leaping))).toBeGreaterThanOrEqual(0.95);
  });
});

describe('trackPitch on a vowel with one strong harmonic (issue 12)', () => {
  /** One second of a steady vowel: harmonic h (1-based) has amplitude amplitudes[h − 1]; 22.05 kHz. */
  function vowel(f0: number, amplitudes: number[]): Float32Array {
    const rate = 22050;
    return Float32Array.from({ length: rate }, (_, i) =>
      amplitudes.reduce((sum, a, h) => sum + 0.2 * a * Math.sin(2 * Math.PI * f0 * (h + 1) * (i / rate) + 0.7 * h), 0),
    );
  }
  /** Share of the voiced frames 0.1–0.9 s within 50 cents of f0. */
  function onPitch(samples: Float32Array, f0: number, options: PitchOptions = {}): number {
    const pitch = trackPitch({ sampleRate: 22050, samples }, options);
    let voiced = 0;
    let right = 0;
    for (let k = 10; k < 90; k++) {
      if (!(pitch.hz[k] > 0)) continue;
      voiced++;
      if (Math.abs(1200 * Math.log2(pitch.hz[k] / f0)) <= 50) right++;
    }
    return voiced >= 70 ? right / voiced : 0;
  }

  // A phone's weak low end and a formant on the 2nd or 3rd harmonic, 14 dB above the rest: the vowel
  // also repeats, roughly, at that harmonic's period, and YIN's first dip under the threshold read it
  // at 2× or 3× f0 for as long as it lasted (measured: every frame, before the harmonic-lock rule).
  it.each<[string, number, number[]]>([
    ['third', 175, [0.2, 0.2, 1, 0.1]],
    ['third', 262, [0.2, 0.2, 1, 0.1]],
    ['second', 175, [0.2, 1, 0.2, 0.1]],
    ['second', 262, [0.2, 1, 0.2, 0.1]],
  ])('reads f0, not its strong %s harmonic, on a %d Hz vowel', (_name, f0, amplitudes) => {
    const samples = vowel(f0, amplitudes);
    expect(onPitch(samples, f0)).toBeGreaterThanOrEqual(0.95);
    // The same vowel with the rule switched off locks on the harmonic: the test sees the failure it guards.
    expect(onPitch(samples, f0, { harmonicLockFloor: Infinity })).toBeLessThan(0.05);
  });

  it('does not read a plain periodic high vowel an octave low (its period dips as deep at 2× and 3× its lag)', () => {
    // A plain periodic vowel at 523 Hz (narrow dips at 8 kHz): its period also dips at 2× and 3×,
    // as deep, so nothing is passed over and no frame reads an octave low.
    const f0 = 523.25;
    expect(onPitch(vowel(f0, [1, 0.7, 0.9, 0.6, 0.5, 0.3]), f0)).toBeGreaterThanOrEqual(0.99);
  });
});

describe('trackPitch robustness', () => {
  it('keeps accuracy ≥ 0.97 under breath noise at -30 dB and leaves the rests between notes unvoiced', () => {
    // Measured 0.992 (voice) and 1.000 (hum); no rest frame voiced.
    for (const options of [
      { timbre: 'voice', noiseDb: -30 },
      { timbre: 'hum', noiseDb: -30 },
    ] as RenderOptions[]) {
      const melody = render(twinkle(58), options);
      const pitch = track(melody);
      expect(rpa(melody, pitch)).toBeGreaterThanOrEqual(0.97);
      const rests = restFrames(melody);
      expect(rests.length).toBeGreaterThan(100);
      const voicedRests = rests.filter((i) => pitch.hz[i] > 0).length;
      expect(voicedRests / rests.length).toBeLessThanOrEqual(0.02);
    }
  });

  it('keeps accuracy ≥ 0.95 in a reverberant room (RT60 0.5 s) and unvoices tails that fade 20 dB', () => {
    // Measured 0.991 (voice) and 0.988 (bright). Tails in 60 ms gaps are still loud and stay voiced
    // (they repeat the note); the long rests are silent again 0.25 s after the note.
    for (const [start, timbre] of [
      [60, 'voice'],
      [52, 'bright'],
    ] as const) {
      const melody = render(twinkle(start), { timbre });
      const wet = reverberate(melody.samples, melody.sampleRate, 0.5, 0.5);
      const pitch = track(melody, wet);
      expect(rpa(melody, pitch)).toBeGreaterThanOrEqual(0.95);
      const lastEnd = twinkle(start)[6].end; // the rest after the seventh note lasts 0.66 s
      const late = Math.round((lastEnd + 0.3) / 0.01);
      expect(pitch.hz.slice(late, late + 20).every((hz) => hz === 0)).toBe(true);
    }
  });

  it('reports silence and white noise as unvoiced (voiced share ≤ 5 %)', () => {
    const silence = trackPitch({ sampleRate: 44100, samples: new Float32Array(44100 * 2) });
    expect(voicedShare(silence)).toBe(0);
    const random = createRandom(3);
    for (const level of [0.3, 0.01]) {
      const noise = Float32Array.from({ length: 44100 * 4 }, () => level * gaussian(random));
      expect(voicedShare(trackPitch({ sampleRate: 44100, samples: noise }))).toBeLessThanOrEqual(0.05);
    }
  });

  it('does not report voicing in the rests of a clean melody beyond the frame at each note end', () => {
    // Measured false alarm 0.056 on clean voice: exactly the frame centred on each note's end.
    const melody = render(twinkle(60), { timbre: 'voice' });
    const pitch = track(melody);
    expect(voicingFalseAlarm(melody.truthTimes, melody.truthHz, pitch.times, pitch.hz)).toBeLessThanOrEqual(0.07);
    expect(restFrames(melody).every((i) => pitch.hz[i] === 0)).toBe(true);
  });
});

describe("trackPitch at a sung note's breathy end (issue 12, seventh pass)", () => {
  const RATE = 16000;
  /**
   * A 220 Hz vowel (8 harmonics, 1/h) from 0.2 s, held 0.5 s, then 0.12 s in which air noise grows linearly
   * to the vowel's level while the vowel fades by half (a sung note running out of breath), then silence or,
   * from `nextAt` seconds on, a second vowel at 247 Hz for 0.3 s.
   */
  function breathyEnd(nextAt: number | null): Float32Array {
    const x = new Float32Array(Math.round(1.4 * RATE));
    const random = createRandom(7);
    const end = 0.82;
    for (let i = 0; i < x.length; i++) {
      const t = i / RATE;
      const f0 = nextAt !== null && t >= nextAt ? 247 : 220;
      if (t < 0.2 || (t >= end && (nextAt === null || t < nextAt || t >= nextAt + 0.3))) continue;
      let v = 0;
      for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
      const noise = t >= 0.7 && t < end ? (t - 0.7) / 0.12 : 0;
      x[i] = 0.3 * ((1 - 0.5 * noise) * v + 1.5 * noise * (2 * random() - 1));
    }
    return x;
  }
  /** Frames 0.70–0.82 s (the breathy end) read within 50 cents of 220 Hz. */
  function endOnPitch(samples: Float32Array): number {
    const pitch = trackPitch({ sampleRate: RATE, samples });
    let count = 0;
    for (let k = 70; k < 82; k++) if (pitch.hz[k] > 0 && Math.abs(1200 * Math.log2(pitch.hz[k] / 220)) <= 50) count++;
    return count;
  }

  it('keeps the breathy end of a note before a rest voiced at its pitch', () => {
    // Measured: 10 of the 12 frames (8 before the release rule: the decoder left voicing as soon as pYIN's
    // voiced mass fell under 0.5; the last two frames are under the rule's 0.2).
    expect(endOnPitch(breathyEnd(null))).toBeGreaterThanOrEqual(10);
  });

  it('leaves the end of a note followed by the next one within 100 ms as the decoder read it', () => {
    // The next note starts 40 ms after the breath: the gap is a consonant, not a rest (8 of 12 frames, as before).
    expect(endOnPitch(breathyEnd(0.86))).toBeLessThanOrEqual(8);
  });
});
