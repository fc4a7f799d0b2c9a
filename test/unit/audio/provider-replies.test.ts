/**
 * The pure rules for provider replies, on hand-built melodies and rendered takes: what a lyrics
 * provider is asked, how its lines are repaired, accepted or rejected, the intended pitch a remote
 * take is held to, and how a take is judged.
 */
import { buildLyricsRequest, fitProviderLyrics } from '../../../src/audio/lyrics/lyrics.js';
import { countLineSyllables } from '../../../src/audio/lyrics/fit.js';
import { checkTake, intendedPitchOf } from '../../../src/audio/voice/remote-take.js';
import type { NoteEvent, Phrase } from '../../../src/audio/types.js';
import { renderTake } from '../../support/provider-replies.js';

/** Phrases of `counts` notes at 100 BPM: eighth notes, the last note of each phrase a half note; rests between phrases. */
function melody(counts: number[]): { notes: NoteEvent[]; phrases: Phrase[]; tempo: { bpm: number; confidence: number }; key: null } {
  const beat = 0.6;
  const notes: NoteEvent[] = [];
  const phrases: Phrase[] = [];
  let t = 0.2;
  for (const count of counts) {
    const first = notes.length;
    for (let i = 0; i < count; i++) {
      const length = i === count - 1 ? 2 * beat : beat / 2;
      notes.push({ start: t, end: t + length * 0.95, midi: 64 + (i % 5), confidence: 1 });
      t += length;
    }
    phrases.push({ start: notes[first].start, end: notes[notes.length - 1].end, firstNote: first, noteCount: count });
    t += 2 * beat;
  }
  return { notes, phrases, tempo: { bpm: 100, confidence: 1 }, key: null };
}

const PROMPT = 'a song about summer nights by the sea';
const TEXT = { prompt: PROMPT, genre: 'pop', mood: 'happy', seed: 3 };
const fit = (lines: string[], counts = [6, 6]) =>
  fitProviderLyrics({ lines, source: 'llm:t' }, melody(counts), { prompt: PROMPT, promptWords: ['summer', 'nights', 'sea'] });

describe('buildLyricsRequest', () => {
  it('asks for one slot per phrase: notes as syllables, a stress letter per note (the long last note strong), the phrase length', () => {
    const m = melody([6, 4]);
    const request = buildLyricsRequest(TEXT, m);
    expect(request.phrases.map((p) => p.syllables)).toEqual([6, 4]);
    for (const slot of request.phrases) {
      expect(slot.stresses).toHaveLength(slot.syllables);
      expect(slot.stresses.at(-1)).toBe('S');
    }
    expect(request.phrases[0].seconds).toBeCloseTo(m.notes[5].end - m.notes[0].start, 3);
    expect(request).toMatchObject({ prompt: PROMPT, genre: 'pop', mood: 'happy', seed: 3, key: null, tempo: { bpm: 100 } });
  });
});

describe('fitProviderLyrics', () => {
  it('accepts lines that fit, unrepaired, as provider lyrics', () => {
    const verdict = fit(['We sing of warm summer nights', 'And dream by the sea']);
    expect(verdict.accepted).toBe(true);
    if (!verdict.accepted) return;
    expect(verdict.repairs).toEqual([]);
    expect(verdict.result.source).toBe('provider');
    expect(verdict.result.sections.flatMap((s) => s.lines.map((l) => l.text))).toEqual([
      'We sing of warm summer nights',
      'And dream by the sea',
    ]);
    expect(verdict.result.sungNotes).toHaveLength(12);
  });

  it("trims a line over 1.5 times its phrase at a word boundary to at most the phrase's notes, and leaves a slightly long line to the alignment", () => {
    const verdict = fit(['We sing of warm nights by the sea and dream of light so bright', 'We sing of warm summer nights by']);
    expect(verdict.accepted).toBe(true);
    if (!verdict.accepted) return;
    const lines = verdict.result.sections.flatMap((s) => s.lines.map((l) => l.text));
    expect(lines[0]).toBe('We sing of warm nights by');
    expect(countLineSyllables(lines[0])).toBe(6);
    // 8 syllables for 6 notes is not "far" too long: kept whole, two syllables share notes.
    expect(lines[1]).toBe('We sing of warm summer nights by');
    expect(verdict.repairs).toEqual(['1 line(s) far too long for their phrase were shortened']);
  });

  it('drops lines beyond the phrases and fills missing phrases by repeating the reply in order', () => {
    const extra = fit(['We sing of warm summer nights', 'And dream by the sea', 'One more line to drop']);
    expect(extra.accepted && extra.repairs).toEqual(['1 line(s) beyond the 2 phrase(s) were dropped']);
    const short = fit(['We sing of warm summer nights'], [6, 6, 6]);
    expect(short.accepted).toBe(true);
    if (!short.accepted) return;
    expect(short.result.sections.flatMap((s) => s.lines.map((l) => l.text))).toEqual(Array(3).fill('We sing of warm summer nights'));
    expect(short.repairs).toEqual(["2 phrase(s) without a line were filled by repeating the reply's lines"]);
  });

  it.each([
    [[] as string[], 'EMPTY'],
    [['!!! ???', '...'], 'EMPTY'],
    [['Xqzv blorpt fnargh zzyzx', 'Wuxtl prandoo kvetchz ploo'], 'GARBAGE'],
    [['Sea', 'Night'], 'SYLLABLE_FIT'],
    [['Oh the sea is sooooo blue', 'We sing of warm nights by'], 'REPEATED_CHARACTERS'],
  ])('rejects %j as %s', (lines, reason) => {
    const verdict = fit(lines);
    expect(verdict.accepted).toBe(false);
    if (verdict.accepted) return;
    expect(verdict.reason).toBe(reason);
    expect(verdict.message.length).toBeGreaterThan(5);
  });

  it('rejects lyrics that cannot all be sung even after repair (TOO_LONG)', () => {
    // One note per phrase and one long word each: trimming keeps a line's first word, and no note holds five syllables.
    const verdict = fit(['Unbelievably', 'Unconditionally'], [1, 1]);
    expect(verdict.accepted).toBe(false);
    if (!verdict.accepted) expect(verdict.reason).toBe('TOO_LONG');
  });

  it("counts the prompt's words as known, so a name from the prompt is not garbage", () => {
    const verdict = fitProviderLyrics({ lines: ['Zyxlandia we sing of warm', 'Zyxlandia by the sea'], source: 'x' }, melody([6, 6]), {
      prompt: 'a song about Zyxlandia by the sea',
      promptWords: [],
    });
    expect(verdict.accepted).toBe(true);
  });
});

describe('remote takes', () => {
  const notes = [
    { start: 0.2, end: 0.8, midi: 69 },
    { start: 1.0, end: 1.5, midi: 72 },
  ];

  it("holds a take to each note's pitch inside the note, away from its onset and release, on the 10 ms grid", () => {
    const intended = intendedPitchOf(notes);
    expect(intended.times[10]).toBeCloseTo(0.1, 10);
    expect(intended.times.length).toBe(Math.floor((1.5 + 0.35) / 0.01) + 1);
    expect(intended.midi[27]).toBe(0); // 0.27 s: within 80 ms of the onset
    expect(intended.midi[28]).toBe(69);
    expect(intended.midi[76]).toBe(69);
    expect(intended.midi[77]).toBe(0); // 0.77 s: within 40 ms of the end
    expect(intended.midi[90]).toBe(0); // the rest
    expect(intended.midi[120]).toBe(72);
  });

  const request = { notes: notes.map((n) => ({ midi: n.midi, start: n.start, duration: n.end - n.start })) };

  it('accepts an in-tune take in any layout and rate, mixed down and resampled to the output rate', () => {
    const result = checkTake(renderTake(request, { sampleRate: 22_050, channels: 3 }), intendedPitchOf(notes), 44_100);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.sampleRate).toBe(44_100);
    expect(result.samples.length).toBeCloseTo((1.5 + 0.5) * 44_100, -2);
    expect(result.pitchAccuracy).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    ['a take a tritone off', { shiftSemitones: 6 }, 'PITCH'],
    ['noise', { kind: 'noise' as const }, 'PITCH'],
    ['silence', { kind: 'silence' as const }, 'SILENT'],
  ])('rejects %s (%s)', (_what, options, reason) => {
    const result = checkTake(renderTake(request, options), intendedPitchOf(notes), 44_100);
    expect(result).toMatchObject({ ok: false, reason });
  });

  it('rejects bytes that are not a WAV file without throwing', () => {
    expect(checkTake(new Uint8Array([1, 2, 3, 4]), intendedPitchOf(notes), 44_100)).toMatchObject({ ok: false, reason: 'BAD_WAV' });
  });
});
