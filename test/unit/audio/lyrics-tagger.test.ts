import { tagLine } from '../../../src/audio/lyrics/tag-line.js';
import { lineGrammaticality } from '../../../src/audio/lyrics/sense.js';

/** The tag of each word that carries one of `wanted`, or `-`. */
function tagsOf(line: string, ...wanted: string[]): string[] {
  return tagLine(line).map((t) => wanted.find((w) => t.tags.has(w)) ?? '-');
}

describe('part-of-speech tags for the grammaticality judge', () => {
  it('reads a third-person verb after a noun subject as a verb, not a plural noun', () => {
    expect(tagsOf('Through the fields, the summer glows', 'Verb', 'Noun')).toEqual(['-', '-', 'Noun', '-', 'Noun', 'Verb']);
    expect(tagsOf('the children walk home', 'Verb', 'Noun')).toEqual(['-', 'Noun', 'Verb', 'Noun']);
  });

  it('reads a line-initial base verb before its object as an imperative, and a noun before a verb as the subject', () => {
    expect(tagsOf('Love the lost June', 'Imperative', 'Adjective', 'Noun')).toEqual(['Imperative', '-', 'Adjective', 'Noun']);
    expect(tagsOf('Rain falls on my window', 'Verb', 'Noun')).toEqual(['Noun', 'Verb', '-', 'Noun', 'Noun']);
  });

  it('keeps the base form after he/she/it as an infinitive, so the judge sees the disagreement', () => {
    expect(tagsOf('she walk home', 'Infinitive')).toEqual(['-', 'Infinitive', '-']);
    expect(tagsOf('we can walk home', 'Modal', 'Infinitive')).toEqual(['-', 'Modal', 'Infinitive', '-']);
  });

  it('tags adjectives coordinated with adjectives, plurals after an article, and verbs the lexicon leaves out', () => {
    expect(tagsOf('The winter was long and cold', 'Copula', 'Adjective', 'Noun')).toEqual([
      '-',
      'Noun',
      'Copula',
      'Adjective',
      '-',
      'Adjective',
    ]);
    expect(tagsOf('a apples fall', 'Plural')).toEqual(['-', 'Plural', '-']);
    expect(tagsOf('He kept the letters', 'PastTense')).toEqual(['-', 'PastTense', '-', '-']);
  });

  it('judges plain human lines as clauses and the issue salad as salad', () => {
    for (const line of [
      'The lights went out across the town',
      'He kept the letters in a box',
      'The winter was long and cold',
      'I do not want to fight tonight',
    ])
      expect(lineGrammaticality(line)).toBe(1);
    for (const line of ['Angry and tide', 'Endless moon', 'Happy game', 'blue and river', 'I is lonely', 'she walk home'])
      expect(lineGrammaticality(line)).toBeLessThan(0.5);
  });
});
