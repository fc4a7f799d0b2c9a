import type { NounItem } from '../../../src/audio/lyrics/grammar.js';
import type { LyricsResult } from '../../../src/audio/lyrics/lyrics-result.js';
import { adjectiveSuits, NOT_IMPERATIVE, repeatsRoot, rootsOf, takesFor } from '../../../src/audio/lyrics/selection.js';
import { PERSON_ADJS } from '../../../src/audio/lyrics/song-words.js';
import { writeLyrics } from '../../../src/audio/lyrics/writer.js';
import { phraseMelody, SIXTEEN_PHRASES, steppedPitch } from '../../support/phrase-melody.js';

/**
 * Lyrics round 10: lines a reader would not keep although they parse. The requests and melodies below
 * are those on which the round-9 writer wrote `Miss the lost rain`, `I will lose my lost smell` and `Let
 * us cross for my black friend` (and 60 more lines of the same kinds over these seeds).
 */
const threePhrases = phraseMelody([5, 4, 6], { bpm: 96, longBeats: 1, pitch: steppedPitch });
const REQUESTS = [
  { prompt: 'a sad song about rain in the city and a lost love', genre: 'ballad', mood: 'sad' },
  { prompt: 'the smell of bread in my grandmother kitchen', genre: 'hip-hop', mood: 'sad' },
  { prompt: 'a friend who lied to me for years', genre: 'folk', mood: 'nostalgic' },
];
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

const noun = (singular: string, cls: string): NounItem => ({ key: `n:${singular}`, singular, plural: '', cls, name: false });
const lines = (r: LyricsResult): string[] => r.sections.flatMap((s) => s.lines.map((l) => l.text));

const songs: { request: string; seed: number; result: LyricsResult }[] = [];
beforeAll(() => {
  for (const request of REQUESTS)
    for (const melody of [SIXTEEN_PHRASES, threePhrases])
      for (const seed of SEEDS) songs.push({ request: request.prompt, seed, result: writeLyrics({ ...request, ...melody, seed }) });
});

describe('selectional preferences (selection.ts)', () => {
  it('keeps colours off people, loss off the weather, height off times', () => {
    expect(adjectiveSuits('black', noun('friend', 'being'), PERSON_ADJS)).toBe(false);
    expect(adjectiveSuits('golden', noun('friend', 'being'), PERSON_ADJS)).toBe(false);
    expect(adjectiveSuits('lost', noun('rain', 'weather'), PERSON_ADJS)).toBe(false);
    expect(adjectiveSuits('lost', noun('smell', 'mind'), PERSON_ADJS)).toBe(false);
    expect(adjectiveSuits('high', noun('night', 'time'), PERSON_ADJS)).toBe(false);
    // What still may be said.
    expect(adjectiveSuits('lost', noun('love', 'feeling'), PERSON_ADJS)).toBe(true);
    expect(adjectiveSuits('black', noun('night', 'time'), PERSON_ADJS)).toBe(true);
    expect(adjectiveSuits('old', noun('friend', 'being'), PERSON_ADJS)).toBe(true);
    expect(adjectiveSuits('lonely', noun('soldier', 'being'), PERSON_ADJS)).toBe(true);
    expect(adjectiveSuits('high', noun('hill', 'nature'), PERSON_ADJS)).toBe(true);
  });

  it('finds one root in two words of a line (lose, lost) and not in unrelated ones', () => {
    expect(rootsOf('a:lost')).toContain('lose');
    expect(repeatsRoot(['v:lose', 'a:lost', 'n:smell'])).toBe(true);
    expect(repeatsRoot(['v:fall', 'a:fallen'])).toBe(true);
    expect(repeatsRoot(['v:miss', 'a:lost', 'n:rain'])).toBe(false);
  });

  it('tells nobody to miss or want, and puts no `for` after a verb of moving', () => {
    for (const v of ['miss', 'want', 'lose', 'need']) expect(NOT_IMPERATIVE.has(v)).toBe(true);
    expect(NOT_IMPERATIVE.has('hold')).toBe(false);
    expect(takesFor({ cls: 'move' })).toBe(false);
    expect(takesFor({ cls: 'feel' })).toBe(true);
  });
});

describe('lines the round-9 writer wrote for these requests', () => {
  it('never sings a lost rain or smell, a black or golden friend, or `cross for`', () => {
    const bad = songs.flatMap((s) =>
      lines(s.result).filter((l) => /\blost (rain|smell|ocean)\b|\b(black|yellow|golden) friends?\b|\bcross(es|ed)? for\b/i.test(l)),
    );
    expect(bad).toEqual([]);
  });

  it('never says one root twice in a line (`I will lose my lost smell`)', () => {
    const bad = songs.flatMap((s) => lines(s.result).filter((l) => /\blos[et]\b.*\blost\b|\blost\b.*\blos[et]\b/i.test(l)));
    expect(bad).toEqual([]);
  });

  it('opens no line on the imperative of miss, want, lose or need (`Miss the lost rain`)', () => {
    const bad = songs.flatMap((s) => lines(s.result).filter((l) => /^(miss|want|lose|need)\b/i.test(l)));
    expect(bad).toEqual([]);
  });

  it('keeps one first person in a stanza: `I, me, my` or `we, us, our`, never both', () => {
    const mixed: string[] = [];
    for (const s of songs)
      for (const section of s.result.sections) {
        const words =
          section.lines
            .map((l) => l.text.toLowerCase())
            .join(' ')
            .match(/[a-z']+/g) ?? [];
        const singer = words.some((w) => w === 'i' || w === 'me' || w === 'my');
        const group = words.some((w) => w === 'we' || w === 'us' || w === 'our');
        if (singer && group) mixed.push(section.lines.map((l) => l.text).join(' / '));
      }
    expect(mixed).toEqual([]);
  });
});
