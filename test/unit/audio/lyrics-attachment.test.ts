import { grammarLines } from '../../support/grammar-lines.js';
import { renderTokens, type Token } from '../../../src/audio/lyrics/grammar.js';
import { lexicon } from '../../../src/audio/lyrics/lexicon.js';
import { prepositionAfter, STATE_VERBS, takesProgressive } from '../../../src/audio/lyrics/selection.js';

/**
 * Lyrics round 15: what a phrase may be attached to. Lines of the grammar over real pools (the prompts of the
 * committed examples and two of the bench's), read token by token: each token of a content word carries its
 * lexicon key, so a verb's class and a noun's class are the lexicon's, not guessed from the text.
 */
const REQUESTS = [
  { prompt: 'a lullaby for a sleepy cat by the fire', mood: 'calm', genre: 'lullaby' },
  { prompt: 'an old sailor singing about the sea at dawn', mood: 'nostalgic', genre: 'folk' },
  { prompt: 'a sad song about rain in the city and a lost love', mood: 'sad', genre: 'ballad' },
  { prompt: 'a lighthouse keeper alone through the winter', mood: 'hopeful', genre: 'pop' },
];
const lines: Token[][] = grammarLines(REQUESTS, 11);

const PLACE_PREPOSITIONS = new Set(
  'in by near beside beneath among around through across into toward towards beyond along down inside on at'.split(' '),
);
const PATHS = new Set(['toward', 'towards', 'into', 'across', 'along', 'beyond']);
const lex = (key: string | undefined) => (key ? lexicon().byKey.get(key) : undefined);
const nounAfter = (tokens: Token[], i: number): Token | undefined => tokens.slice(i + 1).find((t) => t.key?.startsWith('n:'));
/** Where the clause holding position i starts: after the last comma before it (`…, and we see the rain`). */
const clauseStart = (tokens: Token[], i: number): number =>
  tokens
    .slice(0, i)
    .map((t) => t.text)
    .lastIndexOf(',') + 1;
/** The clause's verb before position i: the last token keyed as a verb since the clause began. */
const verbBefore = (tokens: Token[], i: number): Token | undefined =>
  tokens
    .slice(clauseStart(tokens, i), i)
    .reverse()
    .find((t) => t.key?.startsWith('v:'));
const offending = (test: (tokens: Token[]) => boolean): string[] => lines.filter(test).map(renderTokens);

describe('what a phrase is attached to (lyrics round 15)', () => {
  it('writes enough lines to judge', () => {
    expect(lines.length).toBeGreaterThan(3000);
  });

  it('says where once and when once: after a fronted place a time, after a fronted time a place (`In the daylight, we grew in the snow`)', () => {
    const kind = (t: Token | undefined): string | null => {
      const cls = lex(t?.key)?.cls;
      return cls === undefined || cls === 'being' ? null : cls === 'time' ? 'time' : 'place';
    };
    const twice = (tokens: Token[]): boolean => {
      const comma = tokens.findIndex((t) => t.text === ',');
      if (comma < 0 || !PLACE_PREPOSITIONS.has(tokens[0].text)) return false;
      const fronted = kind(nounAfter(tokens, 0));
      const rest = tokens.slice(comma + 1);
      return rest.some((t, i) => PLACE_PREPOSITIONS.has(t.text) && kind(nounAfter(rest, i)) === fronted);
    };
    expect(offending(twice)).toEqual([]);
  });

  it('takes a path (toward, into, across) only after a verb of motion (`Touch me toward the hill`, `I played records into the snow`)', () => {
    const pathWithoutMotion = (tokens: Token[]): boolean =>
      tokens.some((t, i) => {
        if (!PATHS.has(t.text)) return false;
        const verb = verbBefore(tokens, i);
        return !verb || lex(verb.key)?.cls !== 'move';
      });
    expect(offending(pathWithoutMotion)).toEqual([]);
  });

  it('adds no person to a verb that has its object (`Touch me with my cat`, `Carry me for my little sailor`)', () => {
    const objects = new Set(['me', 'us', 'you']);
    const personAfterObject = (tokens: Token[]): boolean =>
      tokens.some((t, i) => {
        if (!/^(with|for|without)$/.test(t.text) || i < 2) return false;
        const before = tokens[i - 1];
        const hasObject = objects.has(before.text) || (before.key?.startsWith('n:') && tokens[i - 2]?.text !== 'there');
        const afterVerb = verbBefore(tokens, i - 1) !== undefined;
        return !!hasObject && afterVerb && lex(nounAfter(tokens, i)?.key)?.cls === 'being' && tokens[i + 1]?.text !== 'you';
      });
    expect(offending(personAfterObject)).toEqual([]);
  });

  it('puts only a time after a verb of a state and its object (`lose love by the skies`, `You miss your war in the light`)', () => {
    const placeAfterState = (tokens: Token[]): boolean =>
      tokens.some((t, i) => {
        if (!PLACE_PREPOSITIONS.has(t.text) || i === 0) return false;
        const verb = verbBefore(tokens, i);
        const noun = lex(nounAfter(tokens, i)?.key);
        // The object sits between the verb and the phrase; a fronted phrase (before the verb) is not after it.
        const at = verb ? tokens.indexOf(verb) : -1;
        return !!verb && STATE_VERBS.has(verb.key!.slice(2)) && at < i - 1 && !!noun && noun.cls !== 'time';
      });
    expect(offending(placeAfterState)).toEqual([]);
  });

  it('puts no verb of a state in the progressive (`we were knowing`, `I was seeing`)', () => {
    const progressiveState = (tokens: Token[]): boolean =>
      tokens.some((t) => {
        const verb = lex(t.key);
        return !!verb && verb.pos === 'v' && t.text === verb.forms[2] && !takesProgressive({ base: verb.word });
      });
    expect(offending(progressiveState)).toEqual([]);
  });

  it('says `there is` of a thing, a person or the weather, never of a time (`there is a day by the rose`)', () => {
    const thereTime = (tokens: Token[]): boolean => {
      const i = tokens.findIndex((t) => t.text === 'there');
      return i >= 0 && lex(nounAfter(tokens, i)?.key)?.cls === 'time';
    };
    expect(offending(thereTime)).toEqual([]);
  });

  it('sings no plural that people rarely say (`the daylights`, `through the dawns`, `in the homes`)', () => {
    const rare = (tokens: Token[]): boolean =>
      tokens.some((t) => {
        const noun = lex(t.key);
        return !!noun && noun.pos === 'n' && noun.rarePlural && t.text === noun.forms[0] && t.text !== noun.word;
      });
    expect(offending(rare)).toEqual([]);
  });
});

describe('the selection rules behind it', () => {
  it('turns a path into a place after a verb that does not move, and keeps it after one that does', () => {
    expect(prepositionAfter('toward', { cls: 'touch' })).toBe('by');
    expect(prepositionAfter('into', { cls: 'make' })).toBe('in');
    expect(prepositionAfter('across', { cls: 'sense' })).toBe('through');
    expect(prepositionAfter('toward', { cls: 'move' })).toBe('toward');
    expect(prepositionAfter('in', { cls: 'touch' })).toBe('in');
  });

  it('keeps the progressive for actions and a few states of a while, not for knowing or seeing', () => {
    for (const base of ['know', 'see', 'want', 'believe']) expect(takesProgressive({ base })).toBe(false);
    for (const base of ['dance', 'wait', 'miss', 'read']) expect(takesProgressive({ base })).toBe(true);
  });

  it('marks plurals people rarely say from SUBTLEX-US, and keeps common ones and people', () => {
    const rarePlural = (w: string) => lexicon().byKey.get(`n:${w}`)?.rarePlural;
    for (const w of ['daylight', 'dawn', 'home', 'sun', 'morning', 'fog']) expect(rarePlural(w)).toBe(true);
    for (const w of ['friend', 'father', 'year', 'star', 'tear', 'day']) expect(rarePlural(w)).toBe(false);
  });
});
