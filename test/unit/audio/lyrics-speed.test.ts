import { analyzedPrompt, analyzePrompt } from '../../../src/audio/lyrics/prompt.js';
import { genreProfile, moodProfile } from '../../../src/audio/lyrics/moods.js';
import { poolsFor } from '../../../src/audio/lyrics/word-pools.js';
import { WordSource } from '../../../src/audio/lyrics/word-source.js';
import { createRandom } from '../../../src/audio/random.js';

describe('the lyric writer reuses work across requests and variants (issue 13 speed)', () => {
  it('remembers a prompt analysis: the same object again, equal to a fresh analysis', () => {
    const prompt = 'a lighthouse keeper alone through the winter';
    const first = analyzedPrompt(prompt);
    expect(analyzedPrompt(prompt)).toBe(first);
    expect(first).toEqual(analyzePrompt(prompt));
  });

  it('keeps only the last prompts it was asked for', () => {
    const first = analyzedPrompt('the first prompt about a river');
    for (let i = 0; i < 40; i++) analyzedPrompt(`another prompt number ${i} about the sea`);
    expect(analyzedPrompt('the first prompt about a river')).not.toBe(first);
  });

  it('draws the same words from a fresh word source as from one whose pools were drawn from before', () => {
    const prompt = 'snow falling on an empty playground';
    const pools = poolsFor(prompt, analyzePrompt(prompt), moodProfile('sad'), genreProfile('folk'));
    const draw = () => {
      const source = new WordSource(createRandom(3), pools, new Map());
      const out: (string | undefined)[] = [];
      for (let i = 0; i < 200; i++) {
        source.need = i % 3 === 0 ? { family: 7 } : null;
        out.push(source.noun(new Set(['nature', 'place', 'time']), i % 2 === 0, false)?.key);
        out.push(source.verb(2, i % 4 === 0, 'base')?.key);
      }
      return out;
    };
    // The second source finds the pools' lists already built (shared per pools): its draws must not change.
    expect(draw()).toEqual(draw());
  });
});
