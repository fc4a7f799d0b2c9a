import { createRandom } from '../../../src/audio/random.js';
import { genreProfile, moodProfile } from '../../../src/audio/lyrics/moods.js';
import { analyzePrompt } from '../../../src/audio/lyrics/prompt.js';
import { poolsFor, rhymeOf, type Pools } from '../../../src/audio/lyrics/word-pools.js';
import { WordSource } from '../../../src/audio/lyrics/word-source.js';
import { storyTurn, writeLyrics } from '../../../src/audio/lyrics/writer.js';
import { phraseMelody } from '../../support/phrase-melody.js';

/** Long notes of one beat, pitches stepping by two semitones within an octave. */
const melody = (counts: number[]) => phraseMelody(counts, { bpm: 96, longBeats: 1, pitch: (i) => 60 + ((i * 2) % 7) });

function pools(prompt: string, mood = 'sad', genre = 'folk'): Pools {
  return poolsFor(prompt, analyzePrompt(prompt), moodProfile(mood), genreProfile(genre));
}

describe('line search: passes that cannot end on their rhyme', () => {
  const p = pools('a small boat lost in the fog');
  const source = new WordSource(createRandom(1), p, new Map());

  it('knows a rhyme no word of the pools meets cannot end a line, and one a pool noun meets can', () => {
    source.need = { rhyme: 'no such rhyme' };
    expect(source.canEnd()).toBe(false);
    const noun = p.nouns[0].item.singular;
    source.need = { rhyme: rhymeOf(noun) };
    source.avoidEnds = new Set();
    expect(source.canEnd()).toBe(true);
    source.need = null;
    expect(source.canEnd()).toBe(true);
  });

  it('forgets the answer when the rhyme or the ends to avoid change', () => {
    const noun = p.nouns[0].item.singular;
    const rhyme = rhymeOf(noun);
    source.need = { rhyme };
    source.avoidEnds = new Set();
    expect(source.canEnd()).toBe(true);
    // Every end form of that rhyme avoided: nothing can end the line any more.
    const forms = new Set<string>();
    for (const w of p.nouns) for (const f of [w.item.singular, w.item.plural]) if (f && rhymeOf(f) === rhyme) forms.add(f);
    for (const w of p.verbs) for (const f of [w.item.base, w.item.s3, w.item.past, w.item.ger]) if (rhymeOf(f) === rhyme) forms.add(f);
    for (const w of p.adjs) if (rhymeOf(w.item.word) === rhyme) forms.add(w.item.word);
    for (const a of p.adverbs) if (rhymeOf(a) === rhyme) forms.add(a);
    expect(forms.has(noun)).toBe(true);
    source.avoidEnds = forms;
    expect(source.canEnd()).toBe(false);
  });
});

describe('a second verse that moves the story on', () => {
  it("draws the turn among the places and times not sung yet, the prompt's own and their WordNet relatives first", () => {
    const p = pools('a long drive home after losing my job', 'calm', 'pop');
    const random = createRandom(5);
    const isTurn = (key: string | null) => p.nouns.some((n) => n.item.key === key && /^(place|time)$/.test(n.item.cls));
    // `home` is the prompt's own place: it is the turn while it has not been sung.
    expect(storyTurn(p, new Map(), random)).toBe('n:home');
    const used = new Map([['n:home', 1]]);
    const turns = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const key = storyTurn(p, used, random);
      expect({ key, turn: isTurn(key) }).toEqual({ key, turn: true });
      turns.add(key as string);
    }
    expect(turns.has('n:home')).toBe(false);
    expect(turns.size).toBeGreaterThan(1);
  });

  it('opens verse 2 on a turn in time and sings a place or time there that verse 1 did not', () => {
    const form = melody([8, 7, 9, 8, 7, 8, 7, 9, 8, 8, 9, 7, 8, 7, 9, 8]);
    const prompts = [
      'my grandfather teaching me to fish on a quiet lake',
      'two strangers meeting on a night train to Vienna',
      'a friend who lied to me for years',
      'the night Maria left without a word',
      'a long drive home after losing my job',
      'snow falling on an empty playground',
    ];
    let moved = 0;
    for (const [i, prompt] of prompts.entries()) {
      const result = writeLyrics({ prompt, genre: 'folk', mood: 'calm', ...form, seed: 900 + i });
      const verses = result.sections.filter((s) => s.kind === 'verse');
      expect(verses.length).toBeGreaterThanOrEqual(2);
      const first = verses[1].lines[0].text;
      expect(first).toMatch(/^(Now|Today|Tonight|Later), /);
      expect(first).not.toMatch(/^(Today|Tonight), .*\b(morning|night|evening|day|year)s?\b/i);
      const p = pools(prompt, 'calm', 'folk');
      const turnWords = p.nouns
        .filter((n) => n.item.cls === 'place' || n.item.cls === 'time')
        .flatMap((n) => [n.item.singular, n.item.plural].filter(Boolean));
      const verse1 = verses[0].lines.map((l) => l.text.toLowerCase()).join(' ');
      const said = first
        .toLowerCase()
        .match(/[a-z']+/g)
        ?.filter((w) => turnWords.includes(w) && !new RegExp(`\\b${w}\\b`).test(verse1));
      if (said?.length) moved++;
    }
    // The turn is what the line must hold; a line that cannot fit it on its notes falls back to another.
    expect(moved).toBeGreaterThanOrEqual(prompts.length - 1);
  });
});
