/**
 * Loudness (ITU-R BS.1770-4 / EBU R 128), true peak and loudness normalisation against known truth.
 *
 * The EBU Tech 3341 (v4) minimum-requirement signals are generated in code from the published
 * description of cases 1-6 (1 kHz sines, levels given as sine peak in dBFS); they were written down
 * from our knowledge of the document, not copied from the distributed WAV files.
 */
import {
  BS1770_PREFILTER_48K,
  BS1770_RLB_48K,
  K_WEIGHTING_PROTOTYPES,
  accumulateKWeightedEnergy,
  createKWeightedEnergyAccumulator,
  kWeightingFilters,
  type AnalogBiquad,
  type Biquad,
} from '../../../src/audio/loudness/k-weighting.js';
import { channelWeights, measureIntegratedLoudness, measureLoudness } from '../../../src/audio/loudness/loudness.js';
import { measureLevels } from '../../../src/audio/loudness/levels.js';
import {
  LIMITER_BLOCK_LENGTH,
  applyBlockGains,
  limiterBlockGains,
  measureBlockGainedLoudness,
  normalizeLoudness,
} from '../../../src/audio/loudness/normalize.js';
import {
  interpolatorFor,
  measureTruePeak,
  oversamplingFactor,
  truePeakAmplitude,
  truePeakBlockEnvelope,
  truePeakEnvelope,
} from '../../../src/audio/loudness/true-peak.js';
import { createRandom, gaussian } from '../../../src/audio/random.js';
import { renderMelody, twinkle } from '../../support/signals.js';

const dbToAmplitude = (db: number): number => Math.pow(10, db / 20);

/**
 * Adds amplitude·sin(ω·n + φ) for n = 0..out.length−1 into `out`. Rotates a phasor and re-seeds it from
 * Math.sin/cos every 1024 samples (error < 1e-12): Math.sin per sample is very slow inside jest's VM.
 */
function addSine(out: Float32Array | Float64Array, omega: number, phase: number, amplitude: number): void {
  const c = Math.cos(omega);
  const s = Math.sin(omega);
  for (let start = 0; start < out.length; start += 1024) {
    let re = Math.cos(omega * start + phase);
    let im = Math.sin(omega * start + phase);
    const end = Math.min(out.length, start + 1024);
    for (let i = start; i < end; i++) {
      out[i] += amplitude * im;
      const next = re * c - im * s;
      im = re * s + im * c;
      re = next;
    }
  }
}

/** A sine (1 kHz by default) whose peak is `dbfs`, `seconds` long. */
function tone(dbfs: number, seconds: number, sampleRate: number, hz = 1000): Float32Array {
  const out = new Float32Array(Math.round(seconds * sampleRate));
  addSine(out, (2 * Math.PI * hz) / sampleRate, 0, dbToAmplitude(dbfs));
  return out;
}

/** Consecutive 1 kHz segments [dBFS, seconds]. */
function segments(parts: [number, number][], sampleRate: number): Float32Array {
  const pieces = parts.map(([db, s]) => tone(db, s, sampleRate));
  const out = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** |H(e^{jω})| in dB of a biquad at `hz`. */
function digitalGainDb(f: Biquad, hz: number, sampleRate: number): number {
  const w = (2 * Math.PI * hz) / sampleRate;
  const re = (b0: number, b1: number, b2: number): [number, number] => [
    b0 + b1 * Math.cos(w) + b2 * Math.cos(2 * w),
    -b1 * Math.sin(w) - b2 * Math.sin(2 * w),
  ];
  const [nr, ni] = re(f.b0, f.b1, f.b2);
  const [dr, di] = re(1, f.a1, f.a2);
  return 10 * Math.log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

/** |H(jΩ)| in dB of the analog prototype, with the same pre-warping the bilinear transform uses at `sampleRate`. */
function prewarpedAnalogGainDb(a: AnalogBiquad, hz: number, sampleRate: number): number {
  // The bilinear transform maps digital frequency f to analog tan(πf/fs); p is that over tan(πf0/fs).
  const p = Math.tan((Math.PI * hz) / sampleRate) / Math.tan((Math.PI * a.f0) / sampleRate);
  const nr = a.n0 - a.n2 * p * p;
  const ni = a.n1 * p;
  const dr = 1 - p * p;
  const di = p / a.q;
  return 10 * Math.log10((nr * nr + ni * ni) / (dr * dr + di * di));
}

describe('K-weighting filters', () => {
  it('reproduce the 48 kHz coefficients of BS.1770-4 Tables 1 and 2 to 1e-12', () => {
    const [pre, rlb] = kWeightingFilters(48000);
    for (const key of ['b0', 'b1', 'b2', 'a1', 'a2'] as const) {
      expect(Math.abs(pre[key] - BS1770_PREFILTER_48K[key])).toBeLessThan(1e-12);
      expect(Math.abs(rlb[key] - BS1770_RLB_48K[key])).toBeLessThan(1e-12);
    }
  });

  it('come from the familiar analog prototypes: a +4 dB shelf near 1682 Hz and a 38 Hz high-pass', () => {
    const { prefilter, rlb } = K_WEIGHTING_PROTOTYPES;
    expect(prefilter.f0).toBeCloseTo(1681.97, 1);
    expect(prefilter.q).toBeCloseTo(0.7072, 3);
    expect(20 * Math.log10(prefilter.n2)).toBeCloseTo(4.0, 2); // shelf gain at high frequencies
    expect(prefilter.n0).toBeCloseTo(1, 10); // unity at DC
    expect(rlb.f0).toBeCloseTo(38.135, 2);
    expect(rlb.q).toBeCloseTo(0.5003, 3);
    expect(rlb.n0).toBeCloseTo(0, 10);
    expect(rlb.n1).toBeCloseTo(0, 10);
  });

  it.each([8000, 16000, 22050, 32000, 44100, 96000])(
    'at %d Hz follow the analog prototype to 1e-8 dB (bilinear transform with pre-warping)',
    (rate) => {
      const [pre, rlb] = kWeightingFilters(rate);
      for (const hz of [20, 100, 997, 1681.97, 3000, 0.45 * rate]) {
        expect(Math.abs(digitalGainDb(pre, hz, rate) - prewarpedAnalogGainDb(K_WEIGHTING_PROTOTYPES.prefilter, hz, rate))).toBeLessThan(
          1e-8,
        );
        expect(Math.abs(digitalGainDb(rlb, hz, rate) - prewarpedAnalogGainDb(K_WEIGHTING_PROTOTYPES.rlb, hz, rate))).toBeLessThan(1e-8);
      }
    },
  );

  it('at 44.1 kHz weigh 1 kHz within 0.01 dB of the 48 kHz filters', () => {
    const gain = (rate: number): number => kWeightingFilters(rate).reduce((db, f) => db + digitalGainDb(f, 1000, rate), 0);
    expect(Math.abs(gain(44100) - gain(48000))).toBeLessThan(0.01);
  });
});

describe('integrated loudness: EBU Tech 3341 minimum requirements (cases 1-6), ±0.1 LU', () => {
  const stereoCases: [string, [number, number][], number][] = [
    ['case 1: 1 kHz at -23 dBFS, 20 s', [[-23, 20]], -23],
    ['case 2: 1 kHz at -33 dBFS, 20 s', [[-33, 20]], -33],
    [
      'case 3: -36/-23/-36 dBFS for 10/60/10 s',
      [
        [-36, 10],
        [-23, 60],
        [-36, 10],
      ],
      -23,
    ],
    [
      'case 4: -72/-36/-23/-36/-72 dBFS for 10/10/60/10/10 s',
      [
        [-72, 10],
        [-36, 10],
        [-23, 60],
        [-36, 10],
        [-72, 10],
      ],
      -23,
    ],
    [
      'case 5: -26/-20/-26 dBFS for 20/20.1/20 s',
      [
        [-26, 20],
        [-20, 20.1],
        [-26, 20],
      ],
      -23,
    ],
  ];

  for (const rate of [48000, 44100]) {
    it.each(stereoCases)(`${rate} Hz stereo %s`, (_name, parts, expected) => {
      const x = segments(parts, rate);
      expect(Math.abs(measureIntegratedLoudness([x, x], rate) - expected)).toBeLessThanOrEqual(0.1);
    });
  }

  it('48 kHz case 6: 5.0 channels L R C Ls Rs at -28/-28/-24/-30/-30 dBFS read -23 LUFS', () => {
    const rate = 48000;
    const [l, c, s] = [tone(-28, 20, rate), tone(-24, 20, rate), tone(-30, 20, rate)];
    expect(Math.abs(measureIntegratedLoudness([l, l, c, s, s], rate) + 23)).toBeLessThanOrEqual(0.1);
  });

  it('ignores the LFE channel of 5.1 (L R C LFE Ls Rs): the same case 6 with a loud LFE still reads -23 LUFS', () => {
    const rate = 48000;
    const [l, c, s, lfe] = [tone(-28, 20, rate), tone(-24, 20, rate), tone(-30, 20, rate), tone(-6, 20, rate, 60)];
    expect(Math.abs(measureIntegratedLoudness([l, l, c, lfe, s, s], rate) + 23)).toBeLessThanOrEqual(0.1);
    expect(channelWeights(6)).toEqual([1, 1, 1, 0, 1.41, 1.41]);
    expect(channelWeights(2)).toEqual([1, 1]);
  });
});

describe('integrated loudness: gating and edge cases', () => {
  it('reads -Infinity for digital silence, for a signal entirely under the -70 LUFS gate, and for no samples', () => {
    expect(measureIntegratedLoudness([new Float32Array(48000 * 3)], 48000)).toBe(-Infinity);
    expect(measureIntegratedLoudness([tone(-75, 3, 48000)], 48000)).toBe(-Infinity);
    expect(measureIntegratedLoudness([new Float32Array(0)], 48000)).toBe(-Infinity);
    expect(measureIntegratedLoudness([], 48000)).toBe(-Infinity);
  });

  it('measures a mono 1 kHz sine at its peak level minus 3.01 dB (one channel carries half the power of stereo)', () => {
    expect(measureIntegratedLoudness([tone(-20, 5, 44100)], 44100)).toBeCloseTo(-23.01, 1);
  });

  it('drops blocks of digital silence (absolute gate) and of a passage 20 dB down (relative gate), keeping only the tone and its edge blocks', () => {
    const rate = 44100;
    const toneOnly = measureIntegratedLoudness([tone(-23, 10, rate)], rate); // 97 whole blocks
    // The tone starts and ends on the 100 ms grid, so besides its 97 whole blocks, 3 blocks at each edge
    // hold 75 %, 50 % and 25 % of tone and pass both gates.
    const edgeOffset = (quiet: number): number => {
      const edges = [0.75, 0.5, 0.25].reduce((sum, share) => sum + share + (1 - share) * quiet, 0);
      return 10 * Math.log10((97 + 2 * edges) / 103);
    };
    const withSilence = segments(
      [
        [-200, 30],
        [-23, 10],
        [-200, 30],
      ],
      rate,
    );
    const withQuiet = segments(
      [
        [-43, 30],
        [-23, 10],
        [-43, 30],
      ],
      rate,
    );
    expect(Math.abs(measureIntegratedLoudness([withSilence], rate) - (toneOnly + edgeOffset(0)))).toBeLessThan(0.005);
    expect(Math.abs(measureIntegratedLoudness([withQuiet], rate) - (toneOnly + edgeOffset(0.01)))).toBeLessThan(0.005);
  });

  it('measures a signal shorter than one 400 ms block as a single block', () => {
    expect(Math.abs(measureIntegratedLoudness([tone(-20, 0.3, 44100)], 44100) + 23.01)).toBeLessThan(0.1);
  });

  it('reports peak, mean and clipped share exactly as measureLevels does, honouring the clip threshold', () => {
    const x = tone(-1, 2, 44100);
    const report = measureLoudness([x], 44100, { clipThresholdDbfs: -2 });
    const levels = measureLevels([x], -2);
    expect(report.samplePeakDbfs).toBe(levels.samplePeakDbfs);
    expect(report.meanDbfs).toBe(levels.meanDbfs);
    expect(report.clippedRatio).toBe(levels.clippedRatio);
    expect(report.clippedRatio).toBeGreaterThan(0.2);
    expect(report.truePeakDbtp).toBe(measureTruePeak([x], 44100));
    expect(report.integratedLufs).toBeCloseTo(-4.01, 1);
  });
});

/**
 * Sum of 12 random sinusoids up to `maxFraction`·fs under a raised-cosine fade-in/out: a band-limited
 * test signal with a closed form. Returns the samples and the reference true peak: the continuous
 * signal itself evaluated on a 16× grid.
 */
function randomBandLimited(seed: number, sampleRate: number, seconds: number, maxFraction: number) {
  const random = createRandom(seed);
  const partials = Array.from({ length: 12 }, () => ({
    hz: (0.01 + random() * (maxFraction - 0.01)) * sampleRate,
    amplitude: 0.05 + random() * 0.1,
    phase: 2 * Math.PI * random(),
  }));
  const fade = Math.min(0.05, seconds / 5);
  const render = (rate: number, length: number): Float64Array => {
    const out = new Float64Array(length);
    for (const p of partials) addSine(out, (2 * Math.PI * p.hz) / rate, p.phase, p.amplitude);
    for (let i = 0; i < length; i++) {
      const edge = Math.min(i / rate, seconds - i / rate);
      if (edge < fade) out[i] *= edge <= 0 ? 0 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / fade);
    }
    return out;
  };
  const n = Math.round(seconds * sampleRate);
  const samples = Float32Array.from(render(sampleRate, n));
  const fine = render(16 * sampleRate, (n - 1) * 16 + 1);
  let reference = 0;
  for (let m = 0; m < fine.length; m++) reference = Math.max(reference, Math.abs(fine[m]));
  return { samples, referenceDb: 20 * Math.log10(reference) };
}

describe('true peak', () => {
  it('finds the peak between samples of an fs/4 sine at 45° phase: sample peak 0.707·A, true peak A (+3.01 dB)', () => {
    for (const rate of [44100, 48000]) {
      const a = 0.5;
      const x = new Float32Array(rate);
      for (let i = 0; i < x.length; i++) x[i] = a * Math.sin((Math.PI / 2) * i + Math.PI / 4);
      // 10 ms raised-cosine fades: an abrupt start would (rightly) overshoot between the first samples.
      const fade = Math.round(0.01 * rate);
      for (let i = 0; i < fade; i++) {
        const w = 0.5 - 0.5 * Math.cos((Math.PI * i) / fade);
        x[i] *= w;
        x[x.length - 1 - i] *= w;
      }
      const truePeak = measureTruePeak([x], rate);
      const samplePeak = measureLevels([x]).samplePeakDbfs;
      expect(samplePeak).toBeCloseTo(20 * Math.log10(a) - 3.01, 2);
      expect(Math.abs(truePeak - 20 * Math.log10(a))).toBeLessThan(0.05);
    }
  });

  it.each([1, 2, 3, 4, 5, 6])(
    'matches the continuous signal sampled 16× within ±0.2 dB on random band-limited signals up to 0.4·fs (seed %d)',
    (seed) => {
      const rate = seed % 2 ? 44100 : 48000;
      const { samples, referenceDb } = randomBandLimited(seed, rate, 0.2, 0.4);
      expect(Math.abs(measureTruePeak([samples], rate) - referenceDb)).toBeLessThanOrEqual(0.2);
    },
  );

  it('gives exactly the same answer with and without pruning (noise, melody, sines, peaks at the very edges, stereo)', () => {
    const rate = 44100;
    const random = createRandom(7);
    const noise = Float32Array.from({ length: rate * 2 }, () => 0.2 * gaussian(random));
    const melody = renderMelody(twinkle().slice(0, 4), { sampleRate: rate, timbre: 'voice' }).samples;
    const quietSine = tone(-30, 3, rate, 440);
    const edgeStart = quietSine.slice();
    edgeStart[0] = 0.9;
    edgeStart[1] = -0.9;
    const edgeEnd = quietSine.slice();
    edgeEnd[edgeEnd.length - 1] = 0.9;
    edgeEnd[edgeEnd.length - 3] = -0.9;
    const bursts = segments(
      [
        [-40, 1],
        [-6, 0.01],
        [-40, 1],
      ],
      rate,
    );
    for (const channels of [
      [noise],
      [melody],
      [quietSine],
      [edgeStart],
      [edgeEnd],
      [bursts],
      [melody, edgeEnd.subarray(0, melody.length)],
    ]) {
      expect(measureTruePeak(channels, rate)).toBe(measureTruePeak(channels, rate, { prune: false }));
    }
    for (const rate2x of [96000]) {
      const x = randomBandLimited(3, rate2x, 0.1, 0.4).samples;
      expect(measureTruePeak([x], rate2x)).toBe(measureTruePeak([x], rate2x, { prune: false }));
    }
  });

  it('gives the same answer with and without pruning on very short signals (1 to 60 samples, edge paths only or mostly)', () => {
    const random = createRandom(21);
    for (let length = 1; length <= 60; length++) {
      const x = Float32Array.from({ length }, () => random() * 2 - 1);
      expect(measureTruePeak([x], 44100)).toBe(measureTruePeak([x], 44100, { prune: false }));
      expect(measureTruePeak([x], 96000)).toBe(measureTruePeak([x], 96000, { prune: false }));
    }
  });

  it('never reads below the sample peak (the interpolator passes through the samples)', () => {
    const random = createRandom(11);
    const x = Float32Array.from({ length: 10000 }, () => random() * 2 - 1);
    expect(measureTruePeak([x], 44100)).toBeGreaterThanOrEqual(measureLevels([x]).samplePeakDbfs);
    expect(interpolatorFor(4).bound).toBeGreaterThan(1);
  });

  it('oversamples 4× below 88.2 kHz, 2× up to 176.4 kHz and not at all above, still finding the peak at 96 kHz', () => {
    expect([44100, 48000, 88200, 96000, 176400, 192000].map(oversamplingFactor)).toEqual([4, 4, 2, 2, 1, 1]);
    const { samples, referenceDb } = randomBandLimited(4, 96000, 0.1, 0.2);
    expect(Math.abs(measureTruePeak([samples], 96000) - referenceDb)).toBeLessThanOrEqual(0.2);
    const x = tone(-6, 0.1, 192000, 1000);
    expect(measureTruePeak([x], 192000)).toBe(measureLevels([x]).samplePeakDbfs);
  });

  it('reads -Infinity for silence and for no samples', () => {
    expect(measureTruePeak([new Float32Array(1000)], 44100)).toBe(-Infinity);
    expect(measureTruePeak([new Float32Array(0)], 44100)).toBe(-Infinity);
    expect(measureTruePeak([], 44100)).toBe(-Infinity);
  });

  it('has a per-sample envelope whose maximum is the true peak', () => {
    const { samples } = randomBandLimited(5, 44100, 0.1, 0.4);
    const envelope = truePeakEnvelope([samples], 44100);
    expect(20 * Math.log10(Math.max(...envelope))).toBeCloseTo(measureTruePeak([samples], 44100), 5);
  });
});

describe('loudness normalisation', () => {
  it('brings a voice-like melody to -14 LUFS (±0.5 LU) with the true peak at or under -1 dBTP, leaving the input untouched', () => {
    const rate = 44100;
    const voice = renderMelody(twinkle().slice(0, 7), {
      sampleRate: rate,
      timbre: 'voice',
      amplitude: 0.1,
      vibrato: { rateHz: 5.5, depthCents: 30 },
    }).samples;
    const before = voice.slice();
    const result = normalizeLoudness([voice], rate);
    const measured = measureIntegratedLoudness(result.channels, rate);
    expect(Math.abs(measured + 14)).toBeLessThanOrEqual(0.5);
    expect(measureTruePeak(result.channels, rate)).toBeLessThanOrEqual(-1);
    expect(result.integratedLufs).toBe(measured);
    expect(result.channels[0]).not.toBe(voice);
    expect(voice).toEqual(before);
    expect(result.gainDb).toBeCloseTo(-14 - measureIntegratedLoudness([voice], rate), 6);
  });

  it('limits a high-crest-factor signal (quiet tone with full-scale clicks): target met within ±0.5 LU, true peak ≤ -1 dBTP', () => {
    const rate = 44100;
    const x = tone(-30, 10, rate, 220);
    for (let t = 0.25; t < 10; t += 0.5) {
      const i = Math.round(t * rate);
      x[i] = 0.95;
      x[i + 1] = -0.95; // a sharp click: its inter-sample peak is above its samples
    }
    const stereo = [x, x.slice()];
    const result = normalizeLoudness(stereo, rate);
    expect(result.limited).toBe(true);
    expect(Math.abs(measureIntegratedLoudness(result.channels, rate) + 14)).toBeLessThanOrEqual(0.5);
    expect(measureTruePeak(result.channels, rate)).toBeLessThanOrEqual(-1);
    expect(result.truePeakDbtp).toBeLessThanOrEqual(-1);
  });

  it('reports where it landed when a dense signal cannot reach the target without heavy limiting', () => {
    const rate = 44100;
    const dense = renderMelody(twinkle().slice(0, 4), { sampleRate: rate, timbre: 'bright', amplitude: 0.9 }).samples;
    const result = normalizeLoudness([dense], rate, { targetLufs: -6 });
    expect(result.limited).toBe(true);
    expect(result.truePeakDbtp).toBeLessThanOrEqual(-1);
    expect(result.integratedLufs).toBeLessThan(-6.5); // short of the target, and says so
    expect(result.integratedLufs).toBe(measureIntegratedLoudness(result.channels, rate));
    expect(result.gainDb).toBeLessThanOrEqual(-6 - measureIntegratedLoudness([dense], rate) + 3 + 1e-9); // make-up capped at +3 dB
  });

  it('does not limit when the gain alone respects the ceiling, and honours a custom target and ceiling', () => {
    const rate = 48000;
    const x = tone(-30, 5, rate, 440);
    const result = normalizeLoudness([x], rate, { targetLufs: -23, maxTruePeakDbtp: -2 });
    expect(result.limited).toBe(false);
    expect(Math.abs(result.integratedLufs + 23)).toBeLessThan(0.01);
    expect(result.truePeakDbtp).toBeLessThanOrEqual(-2);
  });

  it('returns silence unchanged with 0 dB gain', () => {
    const result = normalizeLoudness([new Float32Array(44100)], 44100);
    expect(result.gainDb).toBe(0);
    expect(result.integratedLufs).toBe(-Infinity);
    expect(result.limited).toBe(false);
  });
});

/** Block maxima of a per-sample array. */
function blockMaxima(values: Float32Array, blockLength: number): Float32Array {
  const out = new Float32Array(Math.ceil(values.length / blockLength));
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor(i / blockLength);
    if (values[i] > out[b]) out[b] = values[i];
  }
  return out;
}

/** Index of the first element where two arrays differ (or of the shorter one's end), -1 when identical. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!Object.is(a[i], b[i])) return i;
  return a.length === b.length ? -1 : n;
}

/** A quiet 220 Hz tone with full-scale two-sample clicks every 0.5 s: needs limiting at -14 LUFS. */
function clicks(seconds: number, rate: number): Float32Array {
  const x = tone(-30, seconds, rate, 220);
  for (let t = 0.25; t < seconds; t += 0.5) {
    const i = Math.round(t * rate);
    x[i] = 0.95;
    x[i + 1] = -0.95;
  }
  return x;
}

describe('block-resolution limiter pieces', () => {
  it('has a block true-peak envelope equal, block by block and exactly, to the maximum of the per-sample envelope', () => {
    const rate = 44100;
    const random = createRandom(31);
    const noise = Float32Array.from({ length: rate + 13 }, () => 0.2 * gaussian(random));
    const melody = renderMelody(twinkle().slice(0, 3), { sampleRate: rate, timbre: 'voice' }).samples;
    const edges = tone(-30, 0.5, rate, 440);
    edges[0] = 0.9;
    edges[1] = -0.9;
    edges[edges.length - 1] = 0.9;
    edges[edges.length - 3] = -0.9;
    const cases: [Float32Array[], number][] = [
      [[noise], rate],
      [[melody], rate],
      [[edges], rate],
      [[clicks(1, rate)], rate],
      [[noise, melody.subarray(0, noise.length)], rate], // linked across channels
      [[randomBandLimited(3, 48000, 0.3, 0.45).samples], 48000],
      [[randomBandLimited(5, 96000, 0.3, 0.4).samples], 96000], // 2×
      [[randomBandLimited(6, 192000, 0.1, 0.4).samples], 192000], // no oversampling
    ];
    for (const [channels, sampleRate] of cases) {
      const perSample = truePeakEnvelope(channels, sampleRate);
      for (const blockLength of [1, 7, 32, 100]) {
        expect(firstDifference(truePeakBlockEnvelope(channels, sampleRate, blockLength), blockMaxima(perSample, blockLength))).toBe(-1);
      }
    }
    for (let length = 1; length <= 70; length++) {
      const x = Float32Array.from({ length }, () => random() * 2 - 1);
      expect(firstDifference(truePeakBlockEnvelope([x], rate, 32), blockMaxima(truePeakEnvelope([x], rate), 32))).toBe(-1);
    }
    expect(truePeakBlockEnvelope([new Float32Array(0)], rate, 32)).toEqual(new Float32Array(0));
    expect(() => truePeakBlockEnvelope([noise], rate, 0)).toThrow(RangeError);
  });

  it('skips only blocks that provably stay at or under a floor: the others are exact, the skipped ones read between their sample peak and the floor', () => {
    const rate = 44100;
    const x = clicks(2, rate);
    const exact = truePeakBlockEnvelope([x], rate, 32);
    const samplePeaks = blockMaxima(Float32Array.from(x, Math.abs), 32);
    const floor = 0.1;
    const pruned = truePeakBlockEnvelope([x], rate, 32, { floor });
    let skipped = 0;
    for (let b = 0; b < exact.length; b++) {
      if (exact[b] > floor) expect(pruned[b]).toBe(exact[b]);
      else {
        expect(pruned[b]).toBeLessThanOrEqual(floor);
        expect(pruned[b]).toBeGreaterThanOrEqual(samplePeaks[b]);
        if (pruned[b] !== exact[b]) skipped++;
      }
    }
    expect(skipped).toBeGreaterThan(exact.length / 2); // the quiet tone between the clicks is skipped
  });

  it('K-weights a channel fed in pieces of any sizes to exactly the energies of the whole channel at once', () => {
    const rate = 44100;
    const random = createRandom(41);
    const melody = renderMelody(twinkle().slice(0, 3), { sampleRate: rate, timbre: 'voice' }).samples;
    const step = Math.round(0.1 * rate);
    const whole = new Float64Array(Math.floor(melody.length / step));
    accumulateKWeightedEnergy(melody, rate, step, 1.41, whole);
    for (const maxPiece of [1, 100, step, 3 * step + 17, melody.length]) {
      const pieces = new Float64Array(whole.length);
      const accumulator = createKWeightedEnergyAccumulator(rate, step, 1.41, pieces);
      for (let from = 0; from < melody.length;) {
        const to = Math.min(melody.length, from + 1 + Math.floor(random() * maxPiece));
        accumulator.push(melody.subarray(from, to));
        from = to;
      }
      expect(firstDifference(pieces, whole)).toBe(-1);
    }
  });

  it('measures the limited signal chunk by chunk within 1e-6 LU of measuring it stored (mono, stereo, 5.1, shorter than a block, gated, silent)', () => {
    const random = createRandom(51);
    const randomGains = (length: number): Float64Array =>
      Float64Array.from({ length: Math.ceil(length / LIMITER_BLOCK_LENGTH) }, () => (random() < 0.1 ? 0.2 + 0.8 * random() : 1));
    const melody = renderMelody(twinkle().slice(0, 4), { sampleRate: 44100, timbre: 'voice' }).samples;
    const quiet = segments(
      [
        [-200, 2],
        [-23, 3],
        [-45, 2],
      ],
      48000,
    );
    const surround = [0, 1, 2, 3, 4, 5].map((c) => tone(-30 + c, 1.3, 48000, 300 + 100 * c));
    const cases: [Float32Array[], number, number][] = [
      [[melody], 44100, 2.5],
      [[clicks(3, 44100), melody.subarray(0, 3 * 44100)], 44100, 1.7],
      [surround, 48000, 1],
      [[tone(-20, 0.3, 44100)], 44100, 0.5], // one block of its own length
      [[quiet], 48000, 1.2],
      [[new Float32Array(44100)], 44100, 1],
      [[tone(-90, 1, 44100)], 44100, 1], // under the absolute gate
    ];
    for (const [channels, rate, gain] of cases) {
      const gains = randomGains(channels[0].length);
      const streamed = measureBlockGainedLoudness(channels, rate, gain, gains);
      const stored = measureIntegratedLoudness(applyBlockGains(channels, gain, gains), rate);
      if (Number.isFinite(stored)) expect(Math.abs(streamed - stored)).toBeLessThanOrEqual(1e-6);
      else expect(streamed).toBe(stored);
    }
  });

  it("applies at every sample at most the gain that sample's own true peak requires, and lets go between peaks", () => {
    const rate = 44100;
    const x = clicks(3, rate);
    const dense = renderMelody(twinkle().slice(0, 3), { sampleRate: rate, timbre: 'bright', amplitude: 0.9 }).samples;
    for (const [channels, gain] of [
      [[x], 4],
      [[dense, x.subarray(0, dense.length)], 2.5],
    ] as [Float32Array[], number][]) {
      const threshold = 0.87;
      const perSample = truePeakEnvelope(channels, rate);
      const blocks = truePeakBlockEnvelope(channels, rate, LIMITER_BLOCK_LENGTH);
      const curve = new Float64Array(blocks.length);
      limiterBlockGains(blocks, gain, threshold, 7, 1 - Math.exp(-LIMITER_BLOCK_LENGTH / (0.1 * rate)), curve);
      // The per-sample gain the output receives (Float32, hence the 1e-6 relative allowance).
      const applied = applyBlockGains([new Float32Array(perSample.length).fill(1)], 1, curve)[0];
      let worst = 0;
      let lowest = 1;
      for (let i = 0; i < applied.length; i++) {
        const required = Math.min(1, threshold / (gain * perSample[i]));
        worst = Math.max(worst, applied[i] / required);
        lowest = Math.min(lowest, applied[i]);
      }
      expect(worst).toBeLessThanOrEqual(1 + 1e-6);
      expect(lowest).toBeLessThan(0.5);
    }
    // Between clicks the gain recovers (0.1 s release): 50 ms before each next click it is back above 0.98.
    const gain = 4;
    const curve = new Float64Array(Math.ceil(x.length / LIMITER_BLOCK_LENGTH));
    limiterBlockGains(
      truePeakBlockEnvelope([x], rate, LIMITER_BLOCK_LENGTH),
      gain,
      0.87,
      7,
      1 - Math.exp(-LIMITER_BLOCK_LENGTH / (0.1 * rate)),
      curve,
    );
    const applied = applyBlockGains([new Float32Array(x.length).fill(1)], 1, curve)[0];
    for (let t = 0.7; t < 3; t += 0.5) expect(applied[Math.round(t * rate)]).toBeGreaterThan(0.98);
  });

  it('limits at 96 kHz (2× oversampling) too, meeting the target within ±0.5 LU and the ceiling', () => {
    const rate = 96000;
    const result = normalizeLoudness([clicks(4, rate)], rate);
    expect(result.limited).toBe(true);
    expect(Math.abs(measureIntegratedLoudness(result.channels, rate) + 14)).toBeLessThanOrEqual(0.5);
    expect(measureTruePeak(result.channels, rate)).toBeLessThanOrEqual(-1);
    expect(result.integratedLufs).toBe(measureIntegratedLoudness(result.channels, rate));
    expect(20 * Math.log10(truePeakAmplitude(result.channels, rate))).toBe(result.truePeakDbtp);
  });
});

describe('normalizeLoudness in place', () => {
  it('writes the same result over its input as it returns in new arrays', () => {
    const signal = renderMelody(twinkle(60), { timbre: 'voice', sampleRate: 44100, seed: 4 }).samples;
    const copy = Float32Array.from(signal);
    const fresh = normalizeLoudness([copy], 44100, { targetLufs: -14, maxTruePeakDbtp: -1 });
    expect(copy).toEqual(signal); // the default leaves the input alone
    const inPlace = normalizeLoudness([copy], 44100, { targetLufs: -14, maxTruePeakDbtp: -1, inPlace: true });
    expect(inPlace.channels[0]).toBe(copy);
    expect(copy).toEqual(fresh.channels[0]);
    expect(inPlace.integratedLufs).toBe(fresh.integratedLufs);
  });
});
