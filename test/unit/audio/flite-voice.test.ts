/**
 * The `flite` singing engine with the real Flite WebAssembly program: the in-memory WASI host runs it,
 * its phone timing comes back, and the sung result holds the score's pitches, is deterministic for a
 * seed and has no clicks at its joins.
 */
import { singScore, type SingResult } from '../../../src/audio/voice/voice.js';
import { runFlite } from '../../../src/audio/voice/flite/flite-run.js';
import { runWasiProgram } from '../../../src/audio/voice/flite/wasi-memory.js';
import { sungPitchAccuracy } from '../../../src/audio/quality/quality.js';
import { vowelClarity } from '../../../src/audio/quality/clarity.js';
import { loadFliteProgram } from '../../../src/platform/flite-program.js';
import { decodeWav } from '../../../src/audio/decode/wav.js';
import { ValidationError } from '../../../src/audio/errors.js';
import type { Score } from '../../../src/audio/types.js';
import { sungNote } from '../../support/sung-note.js';
import { getRealFft, type RealFft } from '../../../src/audio/dsp/fft.js';
import { singWithFliteSliced, type FliteSingOptions } from '../../../src/audio/voice/flite/flite-singer.js';
import { planTimeline } from '../../../src/audio/voice/timeline.js';
import { runSliced } from '../../../src/audio/sliced.js';

const RATE = 44100;
const flite = loadFliteProgram();

const note = sungNote;

/** "Hold on to the summer night / and sing" with a melisma, legato notes and a rest between phrases. */
const SONG: Score = {
  tempo: null,
  key: null,
  notes: [
    note(0.5, 1.1, 60, ['HH', 'OW', 'L', 'D']),
    note(1.1, 1.4, 62, ['AA', 'N']),
    note(1.4, 1.7, 64, ['T', 'UW']),
    note(1.7, 1.9, 65, ['DH', 'AH']),
    note(1.9, 2.4, 67, ['S', 'AH']),
    note(2.4, 2.8, 65, ['M', 'ER']),
    note(2.8, 3.6, 64, ['N', 'AY', 'T']),
    note(4.3, 4.8, 62, ['AE', 'N', 'D'], { phraseIndex: 1 }),
    note(4.8, 5.4, 64, ['S', 'IH', 'NG'], { phraseIndex: 1 }),
    note(5.4, 6.2, 60, [], { continuation: true, phraseIndex: 1 }),
  ],
};

/**
 * A song at the top of a soprano's range (E4–F5; "walk the home, we dance at the true wave / in to the
 * rain we walk the high home"), the writer's lyric for song 2 on the flute fixture as `bench:voice`
 * sang it before the `high` voice's range was lowered (round 5; it now places this song an octave
 * lower, so the tests sing it with `transpose: 0`): its held F5 on IY ("we", 7.5–8.2 s) read an octave
 * low (F4) before the first formant followed the fundamental (0.931 of frames within 50 cents).
 */
const HIGH_SONG: Score = {
  tempo: null,
  key: null,
  notes: [
    note(0.295, 1.035, 62, ['W', 'AO', 'K']),
    note(1.035, 1.405, 66, [], { continuation: true }),
    note(1.405, 1.765, 69, ['DH', 'AH']),
    note(1.765, 2.855, 74, ['HH', 'OW', 'M']),
    note(2.855, 3.185, 73, ['W', 'IY']),
    note(3.185, 3.555, 71, ['D', 'AE', 'N', 'S']),
    note(3.555, 3.905, 69, ['AE', 'T']),
    note(3.905, 4.265, 67, ['DH', 'AH']),
    note(4.265, 4.615, 66, ['T', 'R', 'UW']),
    note(4.615, 5.745, 64, ['W', 'EY', 'V']),
    ...(
      [
        [6.005, 6.395, 69, ['IH', 'N']],
        [6.395, 6.765, 71, ['T', 'UW']],
        [6.765, 7.125, 73, ['DH', 'AH']],
        [7.125, 7.495, 76, ['R', 'EY', 'N']],
        [7.495, 8.205, 77, ['W', 'IY']],
        [8.205, 8.565, 76, ['W', 'AO', 'K']],
        [8.565, 8.905, 74, ['DH', 'AH']],
        [8.905, 9.615, 69, ['HH', 'AY']],
        [9.615, 11.065, 74, ['HH', 'OW', 'M']],
      ] as const
    ).map(([start, end, midi, phonemes]) => note(start, end, midi, [...phonemes], { phraseIndex: 1 })),
  ],
};

function sing(voice: string, seed = 1): SingResult {
  return singScore(SONG, { engine: 'flite', flite, voice, sampleRate: RATE, seed });
}

/**
 * For each join (phoneme boundary): the largest sample-to-sample step within ±3 ms of it, over the
 * largest step of the signal around it (3–25 ms either side). A click (a step discontinuity at the
 * join) stands far above what the same sound does just before and after; a smooth join does not.
 * Returns the worst ratio over the joins.
 */
/**
 * Worst join step over the neighbourhood's that counts as a click. The voice's own glottal pulses and
 * its rebuilt 8–12 kHz band already make steps of a sixth of its peak, so a clean join measures about
 * 0.8–1.1 and a −14 dBFS cut about 2.
 */
const CLICK_RATIO = 1.4;

/**
 * The spectrum (re/im interleaved, `getRealFft`'s layout) of `size` samples of `samples` from `from` under a Hann
 * window. The array is reused by the next call of the same size: read it before asking for another.
 */
function hannSpectrum(samples: Float32Array, from: number, size: number): Float64Array {
  let work = spectra.get(size);
  if (!work) {
    const fft = getRealFft(size);
    work = { fft, frame: new Float64Array(size), spectrum: fft.createSpectrum() };
    spectra.set(size, work);
  }
  const { fft, frame, spectrum } = work;
  for (let n = 0; n < size; n++) frame[n] = samples[from + n] * (0.5 - 0.5 * Math.cos((2 * Math.PI * n) / size));
  fft.forward(frame, spectrum);
  return spectrum;
}
const spectra = new Map<number, { fft: RealFft; frame: Float64Array; spectrum: Float64Array }>();

/** The highest bin power of `spectrum` (of a `size`-point transform) within ±`halfWidth` Hz of `hz`, bin by bin. */
function peakPower(spectrum: Float64Array, size: number, hz: number, halfWidth: number): number {
  let most = 0;
  for (let f = hz - halfWidth; f <= hz + halfWidth; f += RATE / size) {
    const k = Math.round((f * size) / RATE);
    most = Math.max(most, spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2);
  }
  return most;
}

function worstJoinStep(samples: Float32Array, joins: readonly number[]): number {
  const near = Math.round(0.003 * RATE);
  const far = Math.round(0.025 * RATE);
  const maxStep = (from: number, to: number) => {
    let m = 0;
    for (let n = Math.max(1, from); n < Math.min(samples.length, to); n++) m = Math.max(m, Math.abs(samples[n] - samples[n - 1]));
    return m;
  };
  let worst = 0;
  for (const t of joins) {
    const at = Math.round(t * RATE);
    const around = Math.max(maxStep(at - far, at - near), maxStep(at + near, at + far), 1e-3);
    worst = Math.max(worst, maxStep(at - near, at + near) / around);
  }
  return worst;
}

describe('the in-memory WASI host', () => {
  it('runs Flite and captures what it prints, with no file system', () => {
    const run = runWasiProgram(flite.module, { args: ['-lv'] });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/Voices available: .*\bslt\b/);
    expect(run.stdout).toMatch(/\bawb\b/);
    expect(run.files.size).toBe(0);
  });

  it('gives the same speech from its reused instance as from a fresh one, call after call', () => {
    const request = { voice: 'slt' as const, phones: ['pau', 's', 'iy', 'pau'], f0Hz: 300 };
    const first = runFlite(flite, request);
    runFlite(flite, { voice: 'awb', phones: ['pau', 'w', 'er', 'l', 'd', 'pau'], f0Hz: 120 });
    const again = runFlite(flite, request);
    const fresh = runWasiProgram(flite.module, {
      args: [
        '-voice',
        'slt',
        '--setf',
        'int_f0_target_mean=300.00',
        '--setf',
        'int_f0_target_stddev=0',
        '--setf',
        'duration_stretch=1.3',
        '-psdur',
        '-o',
        '/out/speech.wav',
        '-p',
        'pau s iy pau',
      ],
    });
    const freshWav = decodeWav(fresh.files.get('speech.wav') as Uint8Array).channels[0];
    expect(Buffer.from(again.samples.buffer).equals(Buffer.from(first.samples.buffer))).toBe(true);
    expect(Buffer.from(freshWav.buffer).equals(Buffer.from(first.samples.buffer))).toBe(true);
  });

  it('hands back the phones Flite spoke with their end times, and its 16 kHz samples', () => {
    const speech = runFlite(flite, { voice: 'slt', phones: ['pau', 'hh', 'ow', 'l', 'd', 'pau'], f0Hz: 220 });
    expect(speech.sampleRate).toBe(16000);
    expect(speech.segments.map((s) => s.phone)).toEqual(['pau', 'hh', 'ow', 'l', 'd', 'pau']);
    const last = speech.segments[speech.segments.length - 1];
    expect(Math.abs(last.end - speech.samples.length / 16000)).toBeLessThan(0.02);
    for (const s of speech.segments) expect(s.end).toBeGreaterThan(s.start);
  });
});

describe('the flite singing engine', () => {
  it.each(['high', 'low'])("keeps at least 95 %% of the %s voice's voiced frames within 50 cents of the notes", (voice) => {
    const sung = sing(voice);
    expect(sung.engine).toBe('flite');
    expect(sung.voice).toBe(voice);
    const intended = sung.intendedPitch.midi.filter((m) => m > 0).length;
    // A good part of the notes' length is a held vowel reported as intended pitch (this song's notes are
    // short: consonants, sung 1.5× Flite's length since round 4, vowel transitions and diphthong glides
    // take the rest; `high` holds 0.33 of it).
    expect(intended * 0.01).toBeGreaterThan(0.3 * SONG.notes.reduce((sum, n) => sum + n.end - n.start, 0));
    expect(sungPitchAccuracy(sung.samples, RATE, sung.intendedPitch)).toBeGreaterThanOrEqual(0.95);
  });

  it('keeps a high song on pitch: a held F5 on a close vowel is not read an octave low', () => {
    // As written (the voice's range would now place this song an octave lower): the F5 is the point.
    const sung = singScore(HIGH_SONG, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 });
    expect(sung.intendedPitch.midi.some((m) => m === 77)).toBe(true);
    expect(sungPitchAccuracy(sung.samples, RATE, sung.intendedPitch)).toBeGreaterThanOrEqual(0.95);
  });

  it("fills the bands between a high note's harmonics with breath above 1.5 kHz, and stays on pitch", () => {
    // A held D5 on AA: harmonics 587 Hz apart. Peak power at the midpoints between harmonics 3–6
    // (2.1–3.8 kHz) over the peak power at the harmonics, summed over eight 93 ms windows of the held
    // note: −32 dB without the breath (the harmonics stand alone), −20 dB with it.
    const f0 = 587.33;
    const score: Score = { tempo: null, key: null, notes: [note(0.5, 2.5, 74, ['M', 'AA'])] };
    const sung = singScore(score, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 });
    let at = 0;
    let between = 0;
    for (let w = 0; w < 8; w++) {
      const spectrum = hannSpectrum(sung.samples, Math.round((1 + 0.12 * w) * RATE), 4096);
      // Peak within ±60 Hz: vibrato moves the upper harmonics by up to ±50 Hz.
      for (let h = 3; h * f0 < 4000; h++) {
        at += peakPower(spectrum, 4096, h * f0, 60);
        between += peakPower(spectrum, 4096, (h + 0.5) * f0, 60);
      }
    }
    expect(10 * Math.log10(between / at)).toBeGreaterThan(-25);
    expect(sungPitchAccuracy(sung.samples, RATE, sung.intendedPitch)).toBeGreaterThanOrEqual(0.95);
  });

  it("tunes the first formant through a melisma at its highest note's strength, not each note's", () => {
    // "ma" held over D5–B4 as a melisma against "ma ma" on the same notes: in the B4 part the fundamental
    // over the second harmonic (peaks, six 93 ms windows) is 2.2 dB for the two syllables, where the
    // tuning follows B4 (+3 dB at f0); in the melisma it keeps the D5's +8 dB: 6.6 dB (2.1 before
    // issue 11 round 13).
    const melisma: Score = {
      tempo: null,
      key: null,
      notes: [note(0.5, 1.5, 74, ['M', 'AA']), note(1.5, 2.7, 71, [], { continuation: true })],
    };
    const syllables: Score = { tempo: null, key: null, notes: [note(0.5, 1.5, 74, ['M', 'AA']), note(1.5, 2.7, 71, ['M', 'AA'])] };
    const f0 = 493.88;
    const firstOverSecond = (score: Score) => {
      const sung = singScore(score, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 });
      let first = 0;
      let second = 0;
      for (let w = 0; w < 6; w++) {
        const spectrum = hannSpectrum(sung.samples, Math.round((1.85 + 0.1 * w) * RATE), 4096);
        first += peakPower(spectrum, 4096, f0, 40);
        second += peakPower(spectrum, 4096, 2 * f0, 40);
      }
      return 10 * Math.log10(first / second);
    };
    expect(firstOverSecond(melisma) - firstOverSecond(syllables)).toBeGreaterThan(3);
  });

  it("moves a held vowel's spectrum down with the formant stretch, and a stretch of 1 changes no sample", () => {
    // "ma" held 1.5 s on A3 (220 Hz: harmonics dense enough to show the envelope), sung by the singer
    // itself on a flat contour. The power-weighted mean frequency over 0.3–4 kHz of the held vowel falls
    // a little more than the stretch alone moves it (0.91 at 1.04, 0.69 at 1.1): a stretched grain also
    // carries its source's neighbouring pulses at the stretched spacing, a comb the sung harmonics
    // sample off its peaks (harmonics 5–7 of this note 1–2 dB lower at 1.04, 11–13 dB at 1.1).
    const notes = [note(0.3, 1.8, 57, ['M', 'AA'])];
    const length = Math.round(2.2 * RATE);
    const step = 32 / RATE;
    const options: FliteSingOptions = {
      program: flite,
      voice: 'slt',
      sampleRate: RATE,
      length,
      seed: 1,
      contour: new Float32Array(Math.ceil(length / 32) + 1).fill(57),
      step,
    };
    const render = (formantStretch?: number) =>
      runSliced(singWithFliteSliced(planTimeline(notes, { breath: false, duration: 2.2 }), { ...options, formantStretch })).samples;
    const size = 4096;
    const meanHz = (samples: Float32Array) => {
      let weighted = 0;
      let total = 0;
      for (let w = 0; w < 8; w++) {
        const spectrum = hannSpectrum(samples, Math.round((0.7 + 0.1 * w) * RATE), size);
        for (let k = Math.round((300 * size) / RATE); k <= Math.round((4000 * size) / RATE); k++) {
          const power = spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2;
          weighted += power * ((k * RATE) / size);
          total += power;
        }
      }
      return weighted / total;
    };
    const plain = render();
    expect(render(1)).toEqual(plain);
    const ratio = meanHz(render(1.04)) / meanHz(plain);
    expect(ratio).toBeGreaterThan(0.86);
    expect(ratio).toBeLessThan(0.96);
  });

  it('keeps the vowels of a phrase around C5 apart: Flite speaks it a fifth lower and the grains are shifted up', () => {
    // Twelve syllables on six vowels (IY AA UW EH OW AE, twice) around C5, median C5 (above G4): the
    // quality report's vowel separation is 0.75 of the vowels told apart; 0.50 when Flite spoke the phrase
    // at C5 itself (its sparse harmonics and 1.9 ms periods blur the vowels' envelopes).
    const syllables = [
      ['S', 'IY'],
      ['M', 'AA'],
      ['T', 'UW'],
      ['B', 'EH'],
      ['N', 'OW'],
      ['K', 'AE'],
      ['L', 'IY'],
      ['D', 'AA'],
      ['F', 'UW'],
      ['P', 'EH'],
      ['G', 'OW'],
      ['R', 'AE'],
    ];
    const steps = [0, 2, 0, -1, 2, 0, -3, 0, 2, 0, -1, 0];
    const score: Score = {
      tempo: null,
      key: null,
      notes: syllables.map((phonemes, i) => note(0.5 + 0.6 * i, 1.1 + 0.6 * i, 72 + steps[i], phonemes)),
    };
    const sung = singScore(score, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 });
    expect(vowelClarity(sung.samples, RATE, sung.phonemes).vowelSeparation).toBeGreaterThanOrEqual(0.7);
    expect(sungPitchAccuracy(sung.samples, RATE, sung.intendedPitch)).toBeGreaterThanOrEqual(0.95);
  });

  it('starts a vowel-initial word after a short rest on its beat, at its full level and pitch', () => {
    // "… the light / I move": Flite speaks the AY after the rest with ~110 ms some 22 dB under the vowel;
    // sung from the beat as it came, the note's first 70 ms were −24 dB under its held part and 0.63 of
    // its frames within 50 cents (our tracker called the faint start unvoiced); −4 dB and 1.00 with the
    // lead-in timed from where the vowel becomes audible.
    const score: Score = {
      tempo: null,
      key: null,
      notes: [
        note(0.5, 1.12, 57, ['DH', 'AH']),
        note(1.12, 1.38, 58, ['DH', 'AH']),
        note(1.38, 1.89, 62, ['L', 'AY', 'T']),
        note(1.92, 2.42, 58, ['AY']),
        note(2.45, 3.17, 65, ['M', 'UW', 'V']),
      ],
    };
    const sung = singScore(score, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 });
    const db = (from: number, to: number) => {
      let sum = 0;
      for (let n = Math.round(from * RATE); n < Math.round(to * RATE); n++) sum += sung.samples[n] ** 2;
      return 10 * Math.log10(sum / Math.round((to - from) * RATE));
    };
    expect(db(1.95, 2.02) - db(2.15, 2.35)).toBeGreaterThan(-10);
    const { times, midi } = sung.intendedPitch;
    const inNote = [...times.keys()].filter((k) => times[k] >= 1.92 && times[k] < 2.42);
    const note4 = { times: Float64Array.from(inNote, (k) => times[k]), midi: Float32Array.from(inNote, (k) => midi[k]) };
    expect(note4.midi.filter((m) => m > 0).length).toBeGreaterThan(15);
    expect(sungPitchAccuracy(sung.samples, RATE, note4)).toBeGreaterThanOrEqual(0.95);
  });

  it('holds a long vowel without ticks where its source moves on to the next pitch period', () => {
    // "we are walking", "-ing" held 1.4 s on G4: the held vowel creeps through 30 ms of Flite's vowel,
    // one source period every ~0.15 s. Switching from one grain to the next at once made a faint tick
    // each time, seen as bursts under the fundamental: the share of a 46 ms frame's power in 60–250 Hz
    // rose to −31 dB at each switch (−44 dB between them); with the grains interpolated its highest is −41 dB.
    const score: Score = {
      tempo: null,
      key: null,
      notes: [
        note(0.5, 0.9, 72, ['W', 'IY']),
        note(0.9, 1.3, 74, ['AA', 'R']),
        note(1.3, 2.4, 70, ['W', 'AO', 'K']),
        note(2.4, 3.8, 67, ['IH', 'NG']),
      ],
    };
    const sung = singScore(score, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 });
    const size = 2048;
    let highest = -Infinity;
    for (let from = Math.round(2.6 * RATE); from < 3.4 * RATE; from += Math.round(0.005 * RATE)) {
      const spectrum = hannSpectrum(sung.samples, from, size);
      let low = 0;
      let all = 0;
      for (let k = 1; k < size / 2; k++) {
        const power = spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2;
        const hz = (k * RATE) / size;
        if (hz > 60 && hz < 250) low += power;
        all += power;
      }
      highest = Math.max(highest, 10 * Math.log10(low / all));
    }
    expect(highest).toBeLessThan(-37);
    expect(sungPitchAccuracy(sung.samples, RATE, sung.intendedPitch)).toBeGreaterThanOrEqual(0.95);
  });

  it('gives bit-identical samples for the same seed and different ones for another seed', () => {
    const a = sing('high', 7);
    const b = sing('high', 7);
    const c = sing('high', 8);
    expect(Buffer.from(a.samples.buffer).equals(Buffer.from(b.samples.buffer))).toBe(true);
    expect(Buffer.from(a.samples.buffer).equals(Buffer.from(c.samples.buffer))).toBe(false);
  });

  it('joins phonemes, notes and phrases without clicks', () => {
    const songs = [
      sing('high'),
      sing('low'),
      singScore(HIGH_SONG, { engine: 'flite', flite, voice: 'high', sampleRate: RATE, seed: 1, transpose: 0 }),
    ];
    for (const sung of songs) {
      // A plosive's burst is a transient by nature (the release of the closure): its edges are not joins.
      const bursts = sung.phonemes.filter((p) => p.phoneme.endsWith(':burst')).flatMap((p) => [p.start, p.end]);
      const joins = sung.phonemes.flatMap((p) => [p.start, p.end]).filter((t) => bursts.every((b) => Math.abs(b - t) > 0.004));
      expect(worstJoinStep(sung.samples, joins)).toBeLessThan(CLICK_RATIO);
    }
  });

  it("would notice a click: a step inserted at a join stands far above the signal's own steps", () => {
    const sung = sing('high');
    const samples = sung.samples.slice();
    // In the middle of the longest held vowel, where PSOLA joins grains.
    const vowel = sung.phonemes.filter((p) => /^[AEIOU]/.test(p.phoneme)).sort((a, b) => b.end - b.start - (a.end - a.start))[0];
    const join = (vowel.start + vowel.end) / 2;
    const at = Math.round(join * RATE);
    // A step of 0.2 (−14 dBFS, well under the voice's −3 dBFS peak) that stays: a cut in the waveform.
    for (let n = at; n < samples.length; n++) samples[n] += 0.2;
    expect(worstJoinStep(samples, [join])).toBeGreaterThan(CLICK_RATIO);
  });

  it('sings vowels that can be told apart by their spectra and consonants that stand out', () => {
    const sung = sing('high');
    const clarity = vowelClarity(sung.samples, RATE, sung.phonemes);
    expect(clarity.vowelClasses).toBeGreaterThanOrEqual(5);
    expect(clarity.consonantContrastDb).toBeGreaterThan(3);
  });

  it('holds the vowel for the note: the sound lasts until the last note ends, silence in the rest', () => {
    const sung = sing('high');
    const rms = (from: number, to: number) => {
      let sum = 0;
      for (let n = Math.round(from * RATE); n < Math.round(to * RATE); n++) sum += sung.samples[n] ** 2;
      return Math.sqrt(sum / ((to - from) * RATE));
    };
    expect(rms(5.8, 6.1)).toBeGreaterThan(0.05);
    expect(rms(3.75, 3.85)).toBeLessThan(0.005);
  });

  it('refuses the flite engine without the Flite program', () => {
    expect(() => singScore(SONG, { engine: 'flite', voice: 'high' })).toThrow(ValidationError);
  });
});
