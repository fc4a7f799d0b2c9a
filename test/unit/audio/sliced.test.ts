/**
 * The long pure steps as sliced computations (src/audio/sliced.ts): on a long recording each one
 * yields many times, and however it is driven (straight through by the synchronous API, or slice by
 * slice interleaved with another run of the same step, as a pipeline pausing between slices would)
 * the result is the same to the last bit.
 */
import { runSliced, type Sliced } from '../../../src/audio/sliced.js';
import { trackPitch, trackPitchSliced } from '../../../src/audio/pitch/pitch.js';
import { resample, resampleSliced } from '../../../src/audio/dsp/resample.js';
import { measureLoudness, measureLoudnessSliced } from '../../../src/audio/loudness/loudness.js';
import { normalizeLoudness, normalizeLoudnessSliced } from '../../../src/audio/loudness/normalize.js';
import { truePeakBlockEnvelope, truePeakBlockEnvelopeSliced } from '../../../src/audio/loudness/true-peak.js';
import { checkVocals, checkVocalsSliced, sungPitchAccuracy, sungPitchAccuracySliced } from '../../../src/audio/quality/quality.js';
import { computeOnsetEnvelope, computeOnsetEnvelopeSliced } from '../../../src/audio/notes/onsets.js';
import { segmentNotes, segmentNotesSliced } from '../../../src/audio/notes/notes.js';
import { decodeWav, decodeWavSliced, encodeWav, encodeWavSliced } from '../../../src/audio/decode/wav.js';
import { singScore, singScoreSliced } from '../../../src/audio/voice/voice.js';
import { analysisSteps, analyzeMelody } from '../../../src/audio/analyze.js';
import type { DecodedAudio, Score, SungNote } from '../../../src/audio/types.js';
import { renderMelody, repeatedTwinkle } from '../../support/signals.js';

const RATE = 44100;
/** 20 s of a voice-like melody: long enough for every step to run in many slices. */
const MELODY = renderMelody(repeatedTwinkle(20, [60, 64, 57]), {
  sampleRate: RATE,
  duration: 20,
  timbre: 'voice',
  vibrato: { rateHz: 5.5, depthCents: 40 },
  noiseDb: -50,
  seed: 3,
});
/** The same melody an octave and a bit up and louder, so the two interleaved runs differ. */
const OTHER = renderMelody(repeatedTwinkle(20, [67, 62]), {
  sampleRate: RATE,
  duration: 20,
  timbre: 'bright',
  amplitude: 0.9,
  noiseDb: -45,
  seed: 4,
});

/** A value as text, typed arrays by their bytes, so that equal text means equal to the last bit (NaN and -0 included). */
function bits(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (ArrayBuffer.isView(v)) return `${v.constructor.name}:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
    if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
    if (typeof v === 'number' && Object.is(v, -0)) return '-0';
    return v;
  });
}

/** Drives two sliced computations alternately, one slice each in turn; returns both results and how often each yielded. */
function interleave<A, B>(a: Sliced<A>, b: Sliced<B>): { a: A; b: B; slices: [number, number] } {
  let nextA = a.next();
  let nextB = b.next();
  const slices: [number, number] = [0, 0];
  while (!nextA.done || !nextB.done) {
    if (!nextA.done) {
      slices[0]++;
      nextA = a.next();
    }
    if (!nextB.done) {
      slices[1]++;
      nextB = b.next();
    }
  }
  return { a: nextA.value, b: nextB.value, slices };
}

/**
 * Runs `sliced` on both inputs interleaved and checks each result against the synchronous API, to
 * the bit; returns how many times the first run yielded.
 */
function expectSameWhenInterleaved<I, T>(inputs: [I, I], sliced: (input: I) => Sliced<T>, whole: (input: I) => T): number {
  const { a, b, slices } = interleave(sliced(inputs[0]), sliced(inputs[1]));
  expect(bits(a)).toBe(bits(whole(inputs[0])));
  expect(bits(b)).toBe(bits(whole(inputs[1])));
  return slices[0];
}

const mono = (samples: Float32Array) => ({ sampleRate: RATE, samples });

describe('sliced computations', () => {
  it('track pitch in many slices, with the same track as trackPitch', () => {
    const slices = expectSameWhenInterleaved(
      [mono(MELODY.samples), mono(OTHER.samples)],
      (a) => trackPitchSliced(a),
      (a) => trackPitch(a),
    );
    expect(slices).toBeGreaterThan(40);
  });

  it('resample in many slices, with the same samples as resample', () => {
    const slices = expectSameWhenInterleaved(
      [MELODY.samples, OTHER.samples],
      (x) => resampleSliced(x, RATE, 8000),
      (x) => resample(x, RATE, 8000),
    );
    expect(slices).toBeGreaterThan(10);
  });

  it('measure loudness (levels, gated loudness, true peak) in many slices, with the same report', () => {
    const slices = expectSameWhenInterleaved(
      [[MELODY.samples], [OTHER.samples, MELODY.samples]],
      (channels) => measureLoudnessSliced(channels, RATE),
      (channels) => measureLoudness(channels, RATE),
    );
    expect(slices).toBeGreaterThan(20);
  });

  it('normalise with and without the limiter in many slices, with the same samples and figures', () => {
    // MELODY needs no limiting to reach -20 LUFS; OTHER at -8 LUFS does.
    const plain = normalizeLoudness([MELODY.samples], RATE, { targetLufs: -20 });
    const limited = normalizeLoudness([OTHER.samples], RATE, { targetLufs: -8 });
    expect([plain.limited, limited.limited]).toEqual([false, true]);
    const slices = expectSameWhenInterleaved(
      [
        { x: MELODY.samples, target: -20 },
        { x: OTHER.samples, target: -8 },
      ],
      ({ x, target }) => normalizeLoudnessSliced([x], RATE, { targetLufs: target }),
      ({ x, target }) => normalizeLoudness([x], RATE, { targetLufs: target }),
    );
    expect(slices).toBeGreaterThan(20);
    expectSameWhenInterleaved(
      [MELODY.samples, OTHER.samples],
      (x) => truePeakBlockEnvelopeSliced([x], RATE, 32, { floor: 0.01 }),
      (x) => truePeakBlockEnvelope([x], RATE, 32, { floor: 0.01 }),
    );
  });

  it('check sung vocals in place in many slices, with the same result as checkVocals', () => {
    const intended = {
      times: MELODY.truthTimes,
      midi: Float32Array.from(MELODY.truthHz, (hz) => (hz > 0 ? 69 + 12 * Math.log2(hz / 440) : 0)),
    };
    expect(bits(runSliced(sungPitchAccuracySliced(MELODY.samples, RATE, intended)))).toBe(
      bits(sungPitchAccuracy(MELODY.samples, RATE, intended)),
    );
    // In place: each run gets its own copy.
    const copies = () => [Float32Array.from(MELODY.samples), Float32Array.from(OTHER.samples)] as const;
    const [a, b] = copies();
    const {
      a: first,
      b: second,
      slices,
    } = interleave(checkVocalsSliced(a, RATE, { intended, inPlace: true }), checkVocalsSliced(b, RATE, { targetLufs: -8, inPlace: true }));
    const [c, d] = copies();
    expect(bits(first)).toBe(bits(checkVocals(c, RATE, { intended, inPlace: true })));
    expect(bits(second)).toBe(bits(checkVocals(d, RATE, { targetLufs: -8, inPlace: true })));
    expect(slices[0]).toBeGreaterThan(40);
  });

  it('find onsets and notes in many slices, with the same envelope and notes', () => {
    const slices = expectSameWhenInterleaved(
      [mono(MELODY.samples), mono(OTHER.samples)],
      (a) => computeOnsetEnvelopeSliced(a),
      (a) => computeOnsetEnvelope(a),
    );
    expect(slices).toBeGreaterThan(5);
    const tracks = [trackPitch(mono(MELODY.samples)), trackPitch(mono(OTHER.samples))] as const;
    const noteSlices = expectSameWhenInterleaved(
      [0, 1],
      (i) => segmentNotesSliced(tracks[i], mono(i ? OTHER.samples : MELODY.samples)),
      (i) => segmentNotes(tracks[i], mono(i ? OTHER.samples : MELODY.samples)),
    );
    // One slice per voiced run: the melody has a note every half second.
    expect(noteSlices).toBeGreaterThan(20);
  });

  it('analyse a melody step by step and slice by slice, with the same analysis as analyzeMelody', () => {
    const audio: DecodedAudio = {
      format: 'wav',
      codec: 'pcm_f32le',
      sampleRate: RATE,
      channels: [MELODY.samples],
      bitrate: null,
      bitsPerSample: 32,
    };
    const steps = analysisSteps(audio);
    const names: string[] = [];
    let pauses = 0;
    let next = steps.next();
    for (; !next.done; next = steps.next()) {
      if (next.value === undefined) pauses++;
      else names.push(next.value);
    }
    expect(names).toEqual(['loudness', 'pitch', 'notes', 'key', 'tempo', 'phrases']);
    expect(pauses).toBeGreaterThan(50);
    expect(bits(next.value)).toBe(bits(analyzeMelody(audio)));
  });

  it('encode and decode WAV in many slices, with the same bytes and samples at every bit depth', () => {
    for (const bitDepth of [8, 16, 24, 32, '32f', '64f'] as const) {
      const channels = [MELODY.samples, OTHER.samples];
      const slices = expectSameWhenInterleaved(
        [channels, [OTHER.samples]],
        (c) => encodeWavSliced(c, RATE, { bitDepth }),
        (c) => encodeWav(c, RATE, { bitDepth }),
      );
      expect(slices).toBeGreaterThan(10);
      const wavs = [encodeWav(channels, RATE, { bitDepth }), encodeWav([OTHER.samples], RATE, { bitDepth })] as const;
      expectSameWhenInterleaved(
        [wavs[0], wavs[1]],
        (bytes) => decodeWavSliced(bytes),
        (bytes) => decodeWav(bytes),
      );
    }
  });

  it('sing a score in many slices, with the same voice as singScore', () => {
    const sung = (notes: { start: number; end: number; midi: number }[], phraseIndex: number): SungNote[] =>
      notes.map((n, i) => ({
        ...n,
        confidence: 1,
        syllable: i % 2 ? 'la' : 'lo',
        continuation: false,
        syllabic: 'single',
        phonemes: i % 2 ? ['L', 'AA'] : ['L', 'OW'],
        stressed: i % 2 === 0,
        phraseIndex,
      }));
    const scores: [Score, Score] = [
      { tempo: null, key: null, notes: sung(repeatedTwinkle(12, [60]), 0) },
      { tempo: null, key: null, notes: sung(repeatedTwinkle(8, [55, 62]), 1) },
    ];
    const slices = expectSameWhenInterleaved(
      scores,
      (s) => singScoreSliced(s, { voice: 'high', seed: 9 }),
      (s) => singScore(s, { voice: 'high', seed: 9 }),
    );
    expect(slices).toBeGreaterThan(50);
  });
});
