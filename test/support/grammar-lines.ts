import { createRandom } from '../../src/audio/random.js';
import { LineGrammar, type Tense, type Token } from '../../src/audio/lyrics/grammar.js';
import { genreProfile, moodProfile } from '../../src/audio/lyrics/moods.js';
import { analyzePrompt } from '../../src/audio/lyrics/prompt.js';
import { poolsFor } from '../../src/audio/lyrics/word-pools.js';
import { WordSource } from '../../src/audio/lyrics/word-source.js';

export interface GrammarRequest {
  prompt: string;
  mood: string;
  genre: string;
}

const TENSES: Tense[] = ['past', 'present', 'future'];

/**
 * Lines of the lyric grammar over real pools, for tests that read them token by token (each content word's token
 * carries its lexicon key): per request, every tense and both pronouns, `perGrammar` lines each, every third one
 * long; grammar `t` of a tense draws from `createRandom(seed + t)`.
 */
export function grammarLines(requests: readonly GrammarRequest[], seed: number, perGrammar = 400): Token[][] {
  return requests.flatMap(({ prompt, mood, genre }) => {
    const pools = poolsFor(prompt, analyzePrompt(prompt), moodProfile(mood), genreProfile(genre));
    const out: Token[][] = [];
    TENSES.forEach((tense, t) => {
      for (const pronoun of ['I', 'we'] as const) {
        const grammar = new LineGrammar(new WordSource(createRandom(seed + t), pools, new Map()), { tense, pronoun });
        for (let i = 0; i < perGrammar; i++) {
          const tokens = grammar.line(i % 3 === 0, null);
          if (tokens) out.push(tokens);
        }
      }
    });
    return out;
  });
}
