/**
 * The pronouncing dictionary the lyrics stages search (src/audio/lyrics/cmu-dictionary.data.ts) is the
 * npm package's dictionary, entry for entry, written as one sorted string by scripts/build-pronouncing.ts.
 */
import { createRequire } from 'node:module';
import { dictionary } from 'cmu-pronouncing-dictionary';
import { CMU_DICTIONARY_DATA, CMU_DICTIONARY_VERSION } from '../../../src/audio/lyrics/cmu-dictionary.data.js';
import { dictionaryEntry, lookupPhones } from '../../../src/audio/lyrics/pronouncing.js';

const installed = (createRequire(import.meta.url)('cmu-pronouncing-dictionary/package.json') as { version: string }).version;

describe('the pronouncing dictionary data', () => {
  it('was written from the installed package (rerun `npm run pronouncing:build` after upgrading it)', () => {
    expect(CMU_DICTIONARY_VERSION).toBe(installed);
  });

  it('holds every entry of the package, with the same phones, and nothing else', () => {
    const keys = Object.keys(dictionary);
    const wrong = keys.filter((key) => dictionaryEntry(key) !== dictionary[key]);
    expect(wrong).toEqual([]);
    expect(CMU_DICTIONARY_DATA.split('\n')).toHaveLength(keys.length);
  });

  it('finds the first and last entries and misses words that sort between or beyond them', () => {
    const lines = CMU_DICTIONARY_DATA.split('\n');
    const first = lines[0].split(' ')[0];
    const last = lines[lines.length - 1].split(' ')[0];
    expect(dictionaryEntry(first)).toBe(dictionary[first]);
    expect(dictionaryEntry(last)).toBe(dictionary[last]);
    for (const missing of ['', ' ', "'", 'aaaaaaaaaaaaaaaa', 'zzzzzzzzzzzzzzzz', 'singingg', 'hasownproperty', 'valueof'])
      expect(dictionaryEntry(missing)).toBeUndefined();
  });

  it('is what lookupPhones reads', () => {
    expect(lookupPhones('Summer')).toEqual(dictionary.summer.split(' '));
    expect(lookupPhones("singin'")).toEqual(dictionary.singing.split(' '));
    expect(lookupPhones('qwxzv')).toBeNull();
  });
});
