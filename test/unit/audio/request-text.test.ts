/**
 * Encoding checks of the request's text: bytes that were not UTF-8 (decoded to U+FFFD by the HTTP
 * layer) and lone surrogates are refused with INVALID_TEXT_ENCODING naming the field, before any
 * sanitising could drop them silently; well-formed text, astral characters included, passes.
 */
import { textEncodingIssues } from '../../../src/audio/validate/request-text.js';
import { validateRequest } from '../../../src/audio/validate/request.js';
import { ValidationError } from '../../../src/audio/errors.js';

const GOOD = { prompt: 'a song about the sea at night', genre: 'ballad', mood: 'calm' };

function issuesOf(request: Parameters<typeof validateRequest>[0]): { code: string; value?: unknown }[] {
  try {
    validateRequest(request);
  } catch (error) {
    if (error instanceof ValidationError) return error.issues.map((i) => ({ code: i.code, value: i.value }));
    throw error;
  }
  return [];
}

describe('textEncodingIssues', () => {
  it('names each field holding U+FFFD or a lone surrogate, high or low', () => {
    const issues = textEncodingIssues({ prompt: 'sea \uFFFD night', genre: 'pop', mood: 'x\uDC00', lyrics: 'la \uD800 la' });
    expect(issues.map((i) => [i.code, i.value])).toEqual([
      ['INVALID_TEXT_ENCODING', 'prompt'],
      ['INVALID_TEXT_ENCODING', 'mood'],
      ['INVALID_TEXT_ENCODING', 'lyrics'],
    ]);
    expect(issues[0].message).toMatch(/prompt.*UTF-8/);
  });

  it('passes well-formed text, surrogate pairs (emoji) and non-string values', () => {
    expect(textEncodingIssues({ prompt: 'café 🎵 über Straße', lyrics: null, seed: 3 })).toEqual([]);
  });
});

describe('validateRequest', () => {
  it('refuses a prompt with non-UTF-8 bytes with INVALID_TEXT_ENCODING first, even though the cleaned prompt would be long enough', () => {
    expect(issuesOf({ ...GOOD, prompt: 'a song about the sea \uFFFD( at night' })).toEqual([
      { code: 'INVALID_TEXT_ENCODING', value: 'prompt' },
    ]);
  });

  it('lists the encoding issue before the other problems of the request', () => {
    expect(issuesOf({ ...GOOD, prompt: 'short\uFFFD', lyrics: 'la \uD800' }).map((i) => i.code)).toEqual([
      'INVALID_TEXT_ENCODING',
      'INVALID_TEXT_ENCODING',
      'PROMPT_TOO_SHORT',
    ]);
  });

  it('still accepts (and cleans) control characters and markup, tidying the spaces they leave line by line', () => {
    const clean = validateRequest({
      ...GOOD,
      prompt: '<b>a song</b> about\u0007 the sea at night',
      lyrics: '<i>la</i> la\u0000 la \r\n\r\n  <br>  da\tda ',
    });
    expect(clean.prompt).toBe('a song about the sea at night');
    expect(clean.lyrics).toBe('la la la\n\nda da');
  });

  it('treats lyrics that are only markup and control characters as no lyrics', () => {
    expect(validateRequest({ ...GOOD, lyrics: '<p>\u0000</p> \u0007' }).lyrics).toBeNull();
  });
});
