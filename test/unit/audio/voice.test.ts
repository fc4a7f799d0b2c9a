/**
 * The singing voice: every check compares the rendered audio against what the score asked for
 * (pitch, timing, options), with the tolerances stated in each test.
 */
import { singScore, transposeToRange, VOICES, type SingResult } from '../../../src/audio/voice/voice.js';
import { isVowel, splitSyllable } from '../../../src/audio/voice/phonemes.js';
import { ValidationError } from '../../../src/audio/errors.js';
import type { Score, SungNote } from '../../../src/audio/types.js';
import { createRandom } from '../../../src/audio/random.js';
import { sungNote } from '../../support/sung-note.js';

const RATE = 44100;

const note = sungNote;

function score(notes: SungNote[]): Score {
  return { notes, tempo: null, key: null };
}

/**
 * f0 of samples [from, to) by YIN (de Cheveigné & Kawahara 2002, steps 2–5): cumulative-mean-
 * normalised difference, first dip under 0.1 (else the global minimum), parabolic refinement.
 */
function estimateF0(samples: Float32Array, from: number, to: number, minHz = 60, maxHz = 1200): number {
  const start = Math.round(from * RATE);
  const maxLag = Math.ceil(RATE / minHz);
  const minLag = Math.floor(RATE / maxHz);
  const window = Math.round(to * RATE) - start - maxLag;
  if (window < 256) throw new Error('window too short');
  const d = new Float64Array(maxLag + 2);
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    let sum = 0;
    for (let i = 0; i < window; i++) {
      const diff = samples[start + i] - samples[start + i + lag];
      sum += diff * diff;
    }
    d[lag] = sum;
  }
  const cmnd = new Float64Array(maxLag + 2);
  let running = 0;
  for (let lag = 1; lag <= maxLag + 1; lag++) {
    running += d[lag];
    cmnd[lag] = (d[lag] * lag) / running;
  }
  let best = -1;
  for (let lag = minLag; lag <= maxLag; lag++) {
    if (cmnd[lag] < 0.1) {
      while (lag + 1 <= maxLag && cmnd[lag + 1] < cmnd[lag]) lag++;
      best = lag;
      break;
    }
  }
  if (best < 0) {
    best = minLag;
    for (let lag = minLag; lag <= maxLag; lag++) if (cmnd[lag] < cmnd[best]) best = lag;
  }
  const [a, b, c] = [cmnd[best - 1], cmnd[best], cmnd[best + 1]];
  const shift = a - 2 * b + c !== 0 ? (0.5 * (a - c)) / (a - 2 * b + c) : 0;
  return RATE / (best + shift);
}

const midiToHz = (midi: number) => 440 * Math.pow(2, (midi - 69) / 12);
const cents = (hz: number, midi: number) => 1200 * Math.log2(hz / midiToHz(midi));

function rms(samples: Float32Array, from: number, to: number): number {
  const a = Math.max(0, Math.round(from * RATE));
  const b = Math.min(samples.length, Math.round(to * RATE));
  let sum = 0;
  for (let i = a; i < b; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / Math.max(1, b - a));
}

const db = (x: number) => 20 * Math.log10(x + 1e-12);

/** RMS of the second difference (a crude high-pass: +12 dB/octave) over [from, to). */
function highPassRms(samples: Float32Array, from: number, to: number): number {
  const a = Math.max(2, Math.round(from * RATE));
  const b = Math.min(samples.length, Math.round(to * RATE));
  let sum = 0;
  for (let i = a; i < b; i++) {
    const h = samples[i] - 2 * samples[i - 1] + samples[i - 2];
    sum += h * h;
  }
  return Math.sqrt(sum / Math.max(1, b - a));
}

/** A melody over an octave and a half with mixed syllables and lengths (seconds), starting at `base`. */
function melody(base: number): SungNote[] {
  const syllables = [
    ['L', 'AA'],
    ['M', 'IY'],
    ['S', 'OW'],
    ['T', 'EY', 'K'],
    ['D', 'R', 'IY', 'M'],
    ['S', 'T', 'AA', 'R'],
    ['HH', 'UW'],
    ['W', 'ER', 'L', 'D'],
    ['B', 'L', 'UW'],
    ['N', 'AY', 'T'],
    ['F', 'AY', 'ER'],
    ['K', 'IH', 'S'],
  ];
  const steps = [0, 2, 4, 5, 7, 9, 11, 12, 14, 16, 17, 19, 17, 14, 12, 7, 4, 0, -1, -3];
  const lengths = [0.35, 0.5, 0.3, 0.7, 0.45];
  const notes: SungNote[] = [];
  let t = 0.4;
  steps.forEach((step, i) => {
    const length = lengths[i % lengths.length];
    notes.push(
      note(t, t + length - (i % 3 === 0 ? 0.06 : 0), base + step, syllables[i % syllables.length], {
        phraseIndex: Math.floor(i / 7),
        stressed: i % 2 === 0,
      }),
    );
    t += length + (i % 7 === 6 ? 0.5 : 0);
  });
  return notes;
}

describe('singScore', () => {
  const renders = new Map<string, { notes: SungNote[]; result: SingResult }>();
  const rendered = (voice: string, vibrato: boolean) => {
    const key = `${voice}:${vibrato}`;
    let entry = renders.get(key);
    if (!entry) {
      const notes = melody(VOICES[voice].range.low);
      entry = { notes, result: singScore(score(notes), { voice, vibrato: vibrato ? {} : false }) };
      renders.set(key, entry);
    }
    return entry;
  };

  describe.each(['low', 'high'])('the %s voice', (voice) => {
    it('renders mono samples at 44.1 kHz lasting until the last note ends plus a 0.35 s tail', () => {
      const { notes, result } = rendered(voice, true);
      expect(result.sampleRate).toBe(RATE);
      expect(result.voice).toBe(voice);
      expect(result.samples.length).toBe(Math.ceil((notes[notes.length - 1].end + 0.35) * RATE));
    });

    it('puts sound in the middle of every note (RMS within 30 dB of the loudest note)', () => {
      const { notes, result } = rendered(voice, true);
      const levels = notes.map((n) => db(rms(result.samples, (n.start + n.end) / 2 - 0.05, (n.start + n.end) / 2 + 0.05)));
      const loudest = Math.max(...levels);
      for (const level of levels) expect(level).toBeGreaterThan(loudest - 30);
    });

    it('sings the middle of ≥ 95 % of vowels within 30 cents of the intended note (YIN, no vibrato)', () => {
      const { notes, result } = rendered(voice, false);
      const errors = notes.map((n) => {
        const middle = (n.start + n.end) / 2;
        return Math.abs(cents(estimateF0(result.samples, middle - 0.04, middle + 0.04), n.midi + result.transposeSemitones));
      });
      const within = errors.filter((e) => e <= 30).length;
      expect(within / notes.length).toBeGreaterThanOrEqual(0.95);
    });

    it('holds the intended pitch within 50 cents in ≥ 95 % of the frames it reports as sung, with vibrato on', () => {
      const { result } = rendered(voice, true);
      const { times, midi } = result.intendedPitch;
      let frames = 0;
      let within = 0;
      for (let f = 0; f < midi.length; f += 3) {
        if (midi[f] <= 0 || times[f] < 0.03) continue;
        frames++;
        if (Math.abs(cents(estimateF0(result.samples, times[f] - 0.02, times[f] + 0.02 + 1 / 60), midi[f])) <= 50) within++;
      }
      expect(frames).toBeGreaterThan(100);
      expect(within / frames).toBeGreaterThanOrEqual(0.95);
    });

    it('moves the melody by whole octaves so its median lies in the voice range', () => {
      const { range } = VOICES[voice];
      for (const base of [36, 48, 60, 72, 84]) {
        const notes = melody(base);
        const result = singScore(score(notes.slice(0, 6)), { voice });
        expect(Math.abs(result.transposeSemitones % 12)).toBe(0);
        const shifted = notes
          .slice(0, 6)
          .map((n) => n.midi + result.transposeSemitones)
          .sort((a, b) => a - b);
        const median = shifted[Math.floor(shifted.length / 2)];
        expect(median).toBeGreaterThanOrEqual(range.low);
        expect(median).toBeLessThanOrEqual(range.high);
      }
    });
  });

  it('gives the two voices different ranges and tract sizes', () => {
    expect(VOICES.high.range.low).toBeGreaterThan(VOICES.low.range.low);
    expect(VOICES.high.range.high).toBeGreaterThan(VOICES.low.range.high);
    expect(VOICES.high.formantScale).toBeGreaterThan(VOICES.low.formantScale);
  });

  it('modulates f0 at the vibrato rate when vibrato is on and holds it flat when off', () => {
    const notes = [note(0.2, 2.4, 60, ['AA'])];
    const track = (vibrato: false | { rateHz: number; depthCents: number; delaySeconds: number }) => {
      const { samples } = singScore(score(notes), { voice: 'high', vibrato, transpose: 0, seed: 5 });
      const values: number[] = [];
      for (let t = 0.9; t < 2.2; t += 0.01) values.push(cents(estimateF0(samples, t - 0.015, t + 0.015), 60));
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const deviation = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      let crossings = 0;
      for (let i = 1; i < values.length; i++) if (values[i - 1] - mean < 0 !== values[i] - mean < 0) crossings++;
      return { deviation, rateHz: crossings / 2 / (values.length * 0.01) };
    };
    const on = track({ rateHz: 5.5, depthCents: 40, delaySeconds: 0.25 });
    const deep = track({ rateHz: 5.5, depthCents: 80, delaySeconds: 0.25 });
    const off = track(false);
    // A sine of peak depth D has standard deviation D/√2 (28 cents for 40).
    expect(on.deviation).toBeGreaterThan(20);
    expect(on.deviation).toBeLessThan(36);
    expect(deep.deviation).toBeGreaterThan(1.7 * on.deviation);
    expect(on.rateHz).toBeGreaterThan(4.5);
    expect(on.rateHz).toBeLessThan(6.5);
    expect(off.deviation).toBeLessThan(5);
  });

  it('starts the vibrato only after its delay', () => {
    const notes = [note(0.2, 2.2, 60, ['AA'])];
    const { samples } = singScore(score(notes), {
      voice: 'high',
      vibrato: { rateHz: 5.5, depthCents: 50, delaySeconds: 0.8 },
      transpose: 0,
    });
    const spread = (from: number, to: number) => {
      const values: number[] = [];
      for (let t = from; t < to; t += 0.01) values.push(cents(estimateF0(samples, t - 0.015, t + 0.015), 60));
      return Math.max(...values) - Math.min(...values);
    };
    expect(spread(0.35, 0.95)).toBeLessThan(20);
    expect(spread(1.3, 2.0)).toBeGreaterThan(60);
  });

  it('is deterministic for a seed and varies with the seed', () => {
    const notes = melody(60).slice(0, 5);
    const a = singScore(score(notes), { seed: 42 });
    const b = singScore(score(notes), { seed: 42 });
    const c = singScore(score(notes), { seed: 43 });
    expect(Buffer.from(a.samples.buffer).equals(Buffer.from(b.samples.buffer))).toBe(true);
    expect(Buffer.from(a.samples.buffer).equals(Buffer.from(c.samples.buffer))).toBe(false);
  });

  it('joins notes without clicks: high-pass energy near joins stays within that inside notes', () => {
    // Legato vowels with leaps, a rest, and a re-attack: the joins that could click.
    const notes = [
      note(0.3, 0.8, 57, ['AA']),
      note(0.8, 1.3, 64, ['AA']),
      note(1.3, 1.8, 60, ['IY']),
      note(2.2, 2.7, 67, ['AA']),
      note(2.7, 2.9, 55, ['OW']),
      note(2.9, 3.5, 62, ['AA']),
    ];
    for (const voice of ['low', 'high']) {
      const { samples } = singScore(score(notes), { voice, transpose: 0, portamento: false });
      const windowed = (from: number, to: number) => {
        let max = 0;
        for (let t = from; t + 0.005 <= to; t += 0.0025) max = Math.max(max, highPassRms(samples, t, t + 0.005));
        return max;
      };
      const inside = Math.max(...notes.map((n) => windowed(n.start + 0.06, n.end - 0.06)));
      const joins = [0.3, 0.8, 1.3, 1.8, 2.2, 2.7, 2.9, 3.5].map((t) => windowed(t - 0.04, t + 0.04));
      for (const join of joins) expect(join).toBeLessThanOrEqual(1.25 * inside);
      // And no single-sample jump larger than the largest inside a note.
      const jump = (from: number, to: number) => {
        let max = 0;
        for (let i = Math.round(from * RATE) + 1; i < Math.round(to * RATE); i++)
          max = Math.max(max, Math.abs(samples[i] - samples[i - 1]));
        return max;
      };
      const insideJump = Math.max(...notes.map((n) => jump(n.start + 0.06, n.end - 0.06)));
      // (A 12-semitone leap sweeps harmonics through F1 and may swell a little; a click would be many times larger.)
      for (const t of [0.3, 0.8, 1.3, 1.8, 2.2, 2.7, 2.9, 3.5]) expect(jump(t - 0.04, t + 0.04)).toBeLessThanOrEqual(1.5 * insideJump);
    }
  });

  it('places onset consonants before the note onset so the vowel starts on the beat', () => {
    const start = 1.0;
    const notes = [note(start, 1.6, 60, ['S', 'T', 'AA', 'R'])];
    const result = singScore(score(notes), { voice: 'high', transpose: 0, breath: false });
    const s = result.phonemes.find((p) => p.phoneme === 'S');
    const vowel = result.phonemes.find((p) => p.phoneme === 'AA');
    expect(s!.start).toBeLessThan(start - 0.05);
    expect(vowel!.start).toBeCloseTo(start, 6);
    expect(result.phonemes.find((p) => p.phoneme === 'R')!.end).toBeCloseTo(1.6, 6);
    // Audio: hiss before the onset where there was silence, and the voice from the onset.
    const peak = result.samples.reduce((max, x) => Math.max(max, Math.abs(x)), 0);
    expect(db(highPassRms(result.samples, s!.start + 0.01, s!.end - 0.01) / peak)).toBeGreaterThan(-40);
    expect(db(highPassRms(result.samples, 0.2, 0.6) / peak)).toBeLessThan(-90);
    expect(db(rms(result.samples, start + 0.02, start + 0.12) / peak)).toBeGreaterThan(-15);
    expect(Math.abs(cents(estimateF0(result.samples, start + 0.05, start + 0.12), 60))).toBeLessThan(30);
  });

  it('keeps consonants short and lets the vowel carry the note', () => {
    const notes = melody(60);
    const result = singScore(score(notes), { voice: 'high' });
    const consonants = result.phonemes.filter((p) => p.phoneme !== 'breath' && !isVowel(p.phoneme));
    expect(consonants.length).toBeGreaterThan(30);
    for (const c of consonants) expect(c.end - c.start).toBeLessThanOrEqual(0.1);
    for (const n of notes) {
      const vowelTime = result.phonemes
        .filter((p) => isVowel(p.phoneme))
        .reduce((sum, p) => sum + Math.max(0, Math.min(p.end, n.end) - Math.max(p.start, n.start)), 0);
      expect(vowelTime / (n.end - n.start)).toBeGreaterThanOrEqual(0.5);
    }
  });

  it('breathes audibly before a phrase when breath is on, and is silent there when off', () => {
    const notes = [note(0.3, 1.2, 60, ['L', 'AA']), note(2.4, 3.2, 62, ['L', 'AA'], { phraseIndex: 1 })];
    const on = singScore(score(notes), { voice: 'high', transpose: 0, breath: true });
    const off = singScore(score(notes), { voice: 'high', transpose: 0, breath: false });
    const peak = on.samples.reduce((max, x) => Math.max(max, Math.abs(x)), 0);
    const before = (r: SingResult) => db(rms(r.samples, 1.8, 2.25) / peak);
    expect(before(on)).toBeGreaterThan(-45);
    expect(before(off)).toBeLessThan(-80);
    expect(on.phonemes.some((p) => p.phoneme === 'breath' && p.start > 1.2 && p.end < 2.4)).toBe(true);
  });

  it('glides between legato notes with portamento and jumps without it', () => {
    const notes = [note(0.3, 1.0, 60, ['AA']), note(1.0, 1.7, 67, ['AA'])];
    const at = (portamento: boolean, t: number) => {
      const { samples } = singScore(score(notes), {
        voice: 'high',
        transpose: 0,
        vibrato: false,
        portamento: portamento ? { seconds: 0.2 } : false,
      });
      return cents(estimateF0(samples, t - 0.01, t + 0.01 + 1 / 200), 60) / 100;
    };
    // Half-way through a 0.2 s glide centred on the onset, the pitch is between the notes.
    const middle = at(true, 1.0);
    expect(middle).toBeGreaterThan(2);
    expect(middle).toBeLessThan(5);
    expect(Math.abs(at(false, 1.03) - 7)).toBeLessThan(0.3);
    expect(Math.abs(at(true, 1.15) - 7)).toBeLessThan(0.3);
  });

  it('holds the vowel through a melisma: no new consonants, the pitch follows each note', () => {
    const notes = [
      note(0.3, 0.8, 60, ['L', 'AA', 'V']),
      note(0.8, 1.2, 62, [], { continuation: true, syllable: '' }),
      note(1.2, 1.8, 64, [], { continuation: true, syllable: '' }),
    ];
    const result = singScore(score(notes), { voice: 'high', transpose: 0, vibrato: false });
    expect(result.phonemes.map((p) => p.phoneme).filter((p) => p !== 'breath')).toEqual(['L', 'AA', 'V']);
    expect(result.phonemes.find((p) => p.phoneme === 'V')!.start).toBeGreaterThan(1.5);
    for (const n of notes)
      expect(Math.abs(cents(estimateF0(result.samples, (n.start + n.end) / 2 - 0.04, (n.start + n.end) / 2 + 0.04), n.midi))).toBeLessThan(
        30,
      );
  });

  it('puts vowel formants where expected: IY bright (F2 high), UW dark, AA with a high F1', () => {
    const band = (samples: Float32Array, lowHz: number, highHz: number) => {
      // Goertzel sum of the harmonics of C4 inside the band over 0.5 s of steady vowel.
      const f0 = midiToHz(60);
      let power = 0;
      for (let k = 1; k * f0 < highHz; k++) {
        if (k * f0 < lowHz) continue;
        let re = 0;
        let im = 0;
        for (let n = Math.round(0.6 * RATE); n < Math.round(1.1 * RATE); n++) {
          const w = (2 * Math.PI * k * f0 * n) / RATE;
          re += samples[n] * Math.cos(w);
          im += samples[n] * Math.sin(w);
        }
        power += re * re + im * im;
      }
      return power;
    };
    const sing = (vowel: string) => singScore(score([note(0.3, 1.4, 60, [vowel])]), { voice: 'low', transpose: 0, vibrato: false }).samples;
    const ratio = (vowel: string) => {
      const s = sing(vowel);
      return { f2: db(Math.sqrt(band(s, 1700, 3000) / band(s, 200, 1200))), f1: db(Math.sqrt(band(s, 550, 950) / band(s, 200, 450))) };
    };
    const iy = ratio('IY');
    const aa = ratio('AA');
    const uw = ratio('UW');
    expect(iy.f2).toBeGreaterThan(aa.f2 + 6);
    expect(aa.f2).toBeGreaterThan(uw.f2 + 6);
    expect(aa.f1).toBeGreaterThan(iy.f1 + 10);
    expect(aa.f1).toBeGreaterThan(uw.f1 + 10);
  });

  it('snaps a consistently sharp melody to semitones keeping its intervals, or sings it exactly', () => {
    const notes = [note(0.3, 0.8, 60.4, ['AA']), note(0.8, 1.3, 62.45, ['AA']), note(1.3, 1.8, 64.35, ['AA'])];
    const rounded = singScore(score(notes), { voice: 'high', transpose: 0 });
    const sung = new Set(Array.from(rounded.intendedPitch.midi).filter((m) => m > 0));
    expect([...sung].sort()).toEqual([60, 62, 64]);
    const exact = singScore(score(notes), { voice: 'high', transpose: 0, pitch: 'exact', vibrato: false });
    expect(Math.abs(cents(estimateF0(exact.samples, 1.5, 1.6), 64.35))).toBeLessThan(10);
  });

  it('survives odd input: unknown and missing phonemes, overlaps, a melisma first, a consonant at t = 0, very short notes', () => {
    const notes = [
      note(0, 0.3, 60, ['S', 'T', 'R', 'EH', 'NG', 'K', 'TH', 'S']),
      note(0.0, 0.2, 62, [], { continuation: true }),
      note(0.25, 0.3, 64, ['XX', 'ih1', 'Q']),
      note(0.3, 0.33, 65, ['B', 'R']),
      note(0.33, 0.6, 67, []),
      note(0.6, 0.64, 69, ['AX', 'EL']),
      note(0.9, 1.0, 108, ['AA']),
      note(1.0, 1.2, 12, ['AA']),
    ];
    for (const voice of Object.keys(VOICES)) {
      const result = singScore(score(notes), { voice });
      let peak = 0;
      let nonFinite = 0;
      for (const x of result.samples) {
        if (!Number.isFinite(x)) nonFinite++;
        peak = Math.max(peak, Math.abs(x));
      }
      expect(nonFinite).toBe(0);
      expect(peak).toBeLessThanOrEqual(1);
      expect(peak).toBeGreaterThan(0.5);
    }
    expect(singScore(score([])).samples.length).toBe(0);
  });

  it('keeps phonemes in order without overlaps and the output finite for 40 random crowded scores', () => {
    const random = createRandom(2024);
    const problems: string[] = [];
    const symbols = ['AA', 'IY', 'UW', 'AY', 'ER', 'S', 'T', 'R', 'K', 'L', 'M', 'NG', 'CH', 'DH', 'HH', 'P', 'ZH', 'W', '??'];
    for (let trial = 0; trial < 40; trial++) {
      const notes: SungNote[] = [];
      let t = random() * 0.3;
      for (let i = 0; i < 1 + Math.floor(random() * 10); i++) {
        const length = 0.02 + random() * (random() < 0.5 ? 0.12 : 0.8);
        const phonemes = Array.from({ length: Math.floor(random() * 7) }, () => symbols[Math.floor(random() * symbols.length)]);
        notes.push(note(t, t + length, 35 + random() * 50, phonemes, { continuation: random() < 0.15, phraseIndex: Math.floor(i / 3) }));
        t += length * (random() < 0.2 ? 0.6 : 1) + (random() < 0.3 ? random() * 0.4 : 0);
      }
      const result = singScore(score(notes), { voice: trial % 2 ? 'low' : 'high', seed: trial, portamento: random() < 0.5 });
      const p = result.phonemes;
      for (let i = 0; i < p.length; i++)
        if (p[i].end <= p[i].start || (i > 0 && p[i].start < p[i - 1].end - 1e-9))
          problems.push(`trial ${trial}: ${p[i].phoneme} at ${p[i].start}`);
      let finite = true;
      for (let i = 0; i < result.samples.length; i++) if (!Number.isFinite(result.samples[i])) finite = false;
      if (!finite) problems.push(`trial ${trial}: non-finite samples`);
    }
    expect(problems).toEqual([]);
  });

  it('rejects an unknown voice and an impossible sample rate', () => {
    expect(() => singScore(score(melody(60)), { voice: 'tenorino' })).toThrow(ValidationError);
    expect(() => singScore(score(melody(60)), { sampleRate: 100 })).toThrow(ValidationError);
  });

  it('renders at another sample rate when asked', () => {
    const notes = [note(0.2, 0.7, 60, ['AA'])];
    const result = singScore(score(notes), { sampleRate: 22050, transpose: 0 });
    expect(result.sampleRate).toBe(22050);
    expect(result.samples.length).toBe(Math.ceil(1.05 * 22050));
  });
});

describe('transposeToRange', () => {
  it('shifts by whole octaves, reports the shift and leaves the input untouched', () => {
    const notes = [note(0, 1, 84, ['AA']), note(1, 2, 86, ['AA']), note(2, 3, 88, ['AA'])];
    const { notes: shifted, semitones, outOfRange } = transposeToRange(notes, VOICES.low);
    expect(semitones).toBe(-36);
    expect(shifted.map((n) => n.midi)).toEqual([48, 50, 52]);
    expect(notes[0].midi).toBe(84);
    expect(outOfRange).toBe(0);
  });

  it('weights the median by duration and counts notes that still fall outside', () => {
    // A long note and two short grace notes an octave and a half up: the long note decides (an
    // unweighted median, 84, would shift down an octave and push the long note out of range).
    const notes = [note(0, 0.05, 84, ['AA']), note(0.05, 3, 64, ['AA']), note(3, 3.05, 86, ['AA'])];
    const { semitones, outOfRange } = transposeToRange(notes, VOICES.high);
    expect(semitones).toBe(0);
    expect(outOfRange).toBe(2);
  });
});

describe('splitSyllable', () => {
  it('splits onset, vowel and coda, strips stress digits and maps dialect symbols', () => {
    expect(splitSyllable(['S', 'T', 'R', 'IY1', 'T', 'S'])).toEqual({ onset: ['S', 'T', 'R'], nucleus: 'IY', coda: ['T', 'S'] });
    expect(splitSyllable(['AX', 'N'])).toEqual({ onset: [], nucleus: 'AH', coda: ['N'] });
    expect(splitSyllable(['HH', 'M'])).toEqual({ onset: ['HH'], nucleus: 'M', coda: [] });
    expect(splitSyllable([])).toEqual({ onset: [], nucleus: 'AH', coda: [] });
  });
});
