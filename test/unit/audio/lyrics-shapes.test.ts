import { createRandom } from '../../../src/audio/random.js';
import { LineGrammar, renderTokens } from '../../../src/audio/lyrics/grammar.js';
import { lineShape, shapeTaste } from '../../../src/audio/lyrics/line-search.js';
import { genreProfile, moodProfile } from '../../../src/audio/lyrics/moods.js';
import { analyzePrompt } from '../../../src/audio/lyrics/prompt.js';
import { lineGrammaticality } from '../../../src/audio/lyrics/sense.js';
import { poolsFor } from '../../../src/audio/lyrics/word-pools.js';
import { WordSource } from '../../../src/audio/lyrics/word-source.js';
import { writeLyrics } from '../../../src/audio/lyrics/writer.js';
import { phraseMelody } from '../../support/phrase-melody.js';

/** A grammar over a prompt's pools, the line's must-hold noun set to the prompt's subject. */
function grammarFor(prompt: string, mood: string, seed: number, pronoun: 'I' | 'we' | 'you' = 'I') {
  const analysis = analyzePrompt(prompt);
  const pools = poolsFor(prompt, analysis, moodProfile(mood), genreProfile('folk'));
  const source = new WordSource(createRandom(seed), pools, new Map());
  const grammar = new LineGrammar(source, { tense: 'present', pronoun });
  return { grammar, source, subjectKey: pools.subjectKey };
}

describe('line shapes', () => {
  it('keeps the closed-class words of a line and writes every other word as _', () => {
    expect(
      lineShape([{ text: 'in' }, { text: 'the' }, { text: 'desert' }, { text: ',' }, { text: 'I' }, { text: 'am' }, { text: 'warm' }]),
    ).toBe('in the _ i am _');
    // Multi-word tokens are split; a question mark is no word.
    expect(lineShape([{ text: 'I' }, { text: 'will not' }, { text: 'go' }])).toBe('i will not _');
    expect(lineShape([{ text: 'where' }, { text: 'is' }, { text: 'my' }, { text: 'love' }, { text: '?' }])).toBe('where is my _');
  });

  it('gives each shape a taste in [0, 1) that is the same for the same salt and differs between salts', () => {
    const shapes = ['in the _ i am _', 'we _ the _', '_ me in the _', 'i _ for you', 'no _ for me', 'only the _'];
    for (const s of shapes) {
      const t = shapeTaste(s, 7);
      expect(t).toBeGreaterThanOrEqual(0);
      expect(t).toBeLessThan(1);
      expect(shapeTaste(s, 7)).toBe(t);
    }
    const order = (salt: number) => [...shapes].sort((a, b) => shapeTaste(a, salt) - shapeTaste(b, salt)).join('|');
    // Different seeds lean to different shapes: the favourite shape is not the same for every salt.
    const favourites = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((salt) => order(salt).split('|')[5]));
    expect(favourites.size).toBeGreaterThan(2);
  });
});

describe('short lines and hook fragments', () => {
  it('puts a degree word between be and its adjective only as still, so or all, and all only after a plural subject', () => {
    const { grammar } = grammarFor('a small boat lost in the fog', 'sad', 3, 'we');
    let degrees = 0;
    for (let i = 0; i < 1500; i++) {
      const tokens = grammar.clause(true);
      if (!tokens) continue;
      const text = renderTokens(tokens).toLowerCase();
      const m = /\b(am|is|are|was|were) (still|so|all|always|never|not|too) /.exec(text);
      if (!m) continue;
      degrees++;
      expect(['still', 'so', 'all', 'always']).toContain(m[2]);
      if (m[2] === 'all') expect(m[1]).toMatch(/^(are|were)$/);
    }
    expect(degrees).toBeGreaterThan(10);
  });

  it('writes fragments about the subject in several shapes, never led by a conjunction, and what is missing against the mood', () => {
    const { grammar, source, subjectKey } = grammarFor('a lighthouse keeper alone through the winter', 'calm', 5);
    grammar.fragments = true;
    grammar.fragmentWindow = 1;
    source.must = subjectKey;
    const texts = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const tokens = grammar.line(false, null);
      if (tokens) texts.add(renderTokens(tokens));
    }
    for (const t of texts) {
      expect(t).toMatch(/lighthouse/i);
      expect(t).not.toMatch(/^(so|and) /i);
    }
    const shapeOf = (t: string) =>
      lineShape(
        t
          .replace(/[,?]/g, '')
          .split(' ')
          .map((text) => ({ text })),
      );
    const shapes = new Set([...texts].map(shapeOf));
    expect(shapes.size).toBeGreaterThanOrEqual(4);

    // `love` in a sad song: the fragment says it is missing (`No love tonight`, `No more love`, `No love for me`).
    const sad = grammarFor('falling in love in a bookshop on a rainy afternoon', 'sad', 2);
    sad.grammar.fragments = true;
    sad.grammar.fragmentWindow = 1;
    sad.source.must = 'n:love';
    const missing = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const tokens = sad.grammar.line(false, null);
      if (tokens) missing.add(renderTokens(tokens));
    }
    expect(missing.size).toBeGreaterThanOrEqual(3);
    for (const t of missing) expect(t).toMatch(/^(no |where (is|are) )/i);
  });

  it('judges an oh-led line on what follows and a noun phrase after only or no as a fragment, not salad', () => {
    expect(lineGrammaticality('Oh, the quiet lake')).toBe(lineGrammaticality('The quiet lake'));
    expect(lineGrammaticality('Oh, we walk by the river')).toBe(1);
    expect(lineGrammaticality('Only the quiet lake')).toBeGreaterThanOrEqual(0.6);
    expect(lineGrammaticality('No more love')).toBeGreaterThanOrEqual(0.6);
    // Salad stays below 0.5, with or without the lead.
    expect(lineGrammaticality('Oh, angry and tide')).toBeLessThan(0.5);
    expect(lineGrammaticality('So my garden')).toBeLessThan(0.5);
    expect(lineGrammaticality('Oh, oh, oh')).toBe(0);
  });

  it('gives the two seeds of a short song different hooks and never leads a fragment hook in with so or and', () => {
    const melody = phraseMelody([4, 3, 1, 8], { bpm: 100, longBeats: 2 });
    const prompt = 'falling in love in a bookshop on a rainy afternoon';
    const hooks = new Set<string>();
    for (let seed = 1; seed <= 8; seed++) {
      const r = writeLyrics({ prompt, genre: 'pop', mood: 'sad', ...melody, seed });
      const hook = (r.sections.find((s) => s.kind === 'chorus') ?? r.sections[0]).lines[0].text;
      hooks.add(hook);
      for (const s of r.sections) for (const l of s.lines) expect(l.text).not.toMatch(/^(so|and) (my|the|our|your|no) \w+$/i);
    }
    expect(hooks.size).toBeGreaterThanOrEqual(3);
  });
});
