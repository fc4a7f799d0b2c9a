import { grammarLines } from '../../support/grammar-lines.js';
import { renderTokens, type Token } from '../../../src/audio/lyrics/grammar.js';
import { lexicon } from '../../../src/audio/lyrics/lexicon.js';
import { oneOfAKind, standsAlone, thingMay } from '../../../src/audio/lyrics/selection.js';

/**
 * Lyrics round 16: lines that read as nonsense to a listener though each phrase fits — `a sun`, a thing doing a
 * person's deed (`the stone cries`), a verb that needs its object left without one (`Later, in the morning, we
 * see`). Lines of the grammar over real pools, read token by token (each content word carries its lexicon key).
 */
const REQUESTS = [
  { prompt: 'waking up early to watch the sun rise over the mountains', mood: 'hopeful', genre: 'folk' },
  { prompt: 'sailing across the ocean under the stars', mood: 'angry', genre: 'ballad' },
  { prompt: 'a sad song about rain in the city and a lost love', mood: 'sad', genre: 'ballad' },
  { prompt: 'a garden my mother planted before she died', mood: 'hopeful', genre: 'pop' },
];
const lines: Token[][] = grammarLines(REQUESTS, 21);

const lex = (key: string | undefined) => (key ? lexicon().byKey.get(key) : undefined);
const offending = (test: (tokens: Token[]) => boolean): string[] => lines.filter(test).map(renderTokens);
const PREPOSITIONS = new Set(
  'in by near beside beneath among around through across into toward towards beyond along down inside on at with for to until'.split(' '),
);
/** Where the clause holding position i starts: after the last comma before it. */
const clauseStart = (tokens: Token[], i: number): number =>
  tokens
    .slice(0, i)
    .map((t) => t.text)
    .lastIndexOf(',') + 1;

describe('lines a listener reads as sense (lyrics round 16)', () => {
  it('writes enough lines to judge', () => {
    expect(lines.length).toBeGreaterThan(3000);
  });

  it('gives the sun, the moon and the sky `the`, never `a` (`there is a sun in the spring`, `we reach a quiet sky`)', () => {
    const aSun = (tokens: Token[]): boolean =>
      tokens.some((t, i) => {
        const noun = lex(t.key);
        if (!noun || noun.pos !== 'n' || t.text !== noun.word || !['sun', 'moon', 'sky', 'world'].includes(noun.word)) return false;
        let j = i - 1;
        while (j >= 0 && lex(tokens[j].key)?.pos === 'a') j--;
        return j >= 0 && /^(a|an|some|this|every)$/.test(tokens[j].text);
      });
    expect(offending(aSun)).toEqual([]);
  });

  it('has no thing do a person’s deed (`the stone cries`, `the tree was screaming`)', () => {
    const thingDeed = (tokens: Token[]): boolean =>
      tokens.some((t, i) => {
        const verb = lex(t.key);
        if (!verb || verb.pos !== 'v') return false;
        // The clause's subject: its first content word, when no verb comes before this one.
        const clause = tokens.slice(clauseStart(tokens, i), i);
        if (clause.some((x) => x.key?.startsWith('v:')) || clause[0]?.text === 'there') return false;
        const subject = lex(clause.find((x) => x.key?.startsWith('n:'))?.key);
        return (
          !!subject &&
          subject.cls !== 'being' &&
          ['say', 'social', 'feel', 'mind'].includes(verb.cls) &&
          !['echo', 'roar', 'sing', 'whisper'].includes(verb.word)
        );
      });
    expect(offending(thingDeed)).toEqual([]);
  });

  it('leaves no verb that needs its object without one (`we see`, `I meet by the lake`)', () => {
    const bare = (tokens: Token[]): boolean =>
      tokens.some((t, i) => {
        const verb = lex(t.key);
        if (!verb || verb.pos !== 'v' || !['see', 'find', 'hold', 'catch', 'touch', 'meet'].includes(verb.word)) return false;
        const next = tokens[i + 1]?.text;
        const plural = tokens
          .slice(clauseStart(tokens, i), i)
          .some(
            (x) =>
              /^(we|you|us)$/.test(x.text) || (lex(x.key)?.pos === 'n' && lex(x.key)?.forms[0] === x.text && lex(x.key)?.word !== x.text),
          );
        return (next === undefined || next === ',' || PREPOSITIONS.has(next)) && !(verb.word === 'meet' && plural);
      });
    expect(offending(bare)).toEqual([]);
  });
});

describe('the selection rules behind them', () => {
  it('knows the nouns there is one of', () => {
    for (const singular of ['sun', 'moon', 'sky', 'world']) expect(oneOfAKind({ singular })).toBe(true);
    for (const singular of ['star', 'river', 'cloud', 'rain']) expect(oneOfAKind({ singular })).toBe(false);
  });

  it('lets a thing echo or shine but not cry, talk or help', () => {
    expect(thingMay({ base: 'cry', cls: 'say' })).toBe(false);
    expect(thingMay({ base: 'help', cls: 'social' })).toBe(false);
    expect(thingMay({ base: 'echo', cls: 'say' })).toBe(true);
    expect(thingMay({ base: 'shine', cls: 'weather' })).toBe(true);
  });

  it('keeps `see` and `hold` from standing alone, and lets `we meet`', () => {
    expect(standsAlone({ base: 'see' })).toBe(false);
    expect(standsAlone({ base: 'hold' }, true)).toBe(false);
    expect(standsAlone({ base: 'meet' })).toBe(false);
    expect(standsAlone({ base: 'meet' }, true)).toBe(true);
    expect(standsAlone({ base: 'wait' })).toBe(true);
  });
});
