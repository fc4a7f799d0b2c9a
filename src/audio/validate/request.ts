/**
 * The request's text fields (everything but the audio): checked and sanitised before any audio work,
 * by the pipeline and by the API (convertMelody answers these problems as userErrors).
 */
import type { ValidationIssue } from '../types.js';
import { ValidationError } from '../errors.js';
// The small modules, not lyrics.js and voice.js: the API validates requests without loading the
// lyric writer's language data or the singing engines (its start-up time, issue 16).
import { sanitizeText } from '../lyrics/sanitize-text.js';
import { VOICES, DEFAULT_VOICE } from '../voice/voices.js';
import type { ConvertRequest } from '../pipeline.js';
import { textEncodingIssues } from './request-text.js';

const MAX_LYRICS_CHARACTERS = 5000;

/**
 * The fields of a conversion request that say what to sing (everything but the recording and a
 * melody file). A request is one type, `ConvertRequest` of the pipeline; the API's input, the thread
 * message, the row to insert and the sanitised form below are derived from it.
 */
export type RequestTextField = 'prompt' | 'genre' | 'mood' | 'lyrics' | 'voice' | 'seed';
export type RequestText = Pick<ConvertRequest, RequestTextField>;

/** The request's text fields after sanitising (every default applied; no lyrics is null). */
export type CleanRequest = { [K in RequestTextField]-?: K extends 'lyrics' ? string | null : NonNullable<ConvertRequest[K]> };

/**
 * Checks and sanitises everything in a request but the audio. Control characters and markup are
 * removed before lengths are measured.
 * @throws ValidationError with every issue found (codes INVALID_TEXT_ENCODING (value: the field), PROMPT_TOO_SHORT,
 *   PROMPT_TOO_LONG, INVALID_GENRE, INVALID_MOOD, LYRICS_TOO_LONG, UNKNOWN_VOICE, INVALID_SEED).
 */
export function validateRequest(request: RequestText): CleanRequest {
  // Broken encoding first: sanitising would otherwise quietly drop what the client meant to send.
  const issues: ValidationIssue[] = textEncodingIssues({
    prompt: request.prompt,
    genre: request.genre,
    mood: request.mood,
    lyrics: request.lyrics,
  });
  const prompt = sanitizeText(request.prompt ?? '', 20_000)
    .replace(/\s+/g, ' ')
    .trim();
  if (prompt.length < 10)
    issues.push({
      code: 'PROMPT_TOO_SHORT',
      message: `The prompt has ${prompt.length} characters; write at least 10.`,
      value: prompt.length,
      limit: 10,
    });
  if (prompt.length > 500)
    issues.push({
      code: 'PROMPT_TOO_LONG',
      message: `The prompt has ${prompt.length} characters; the limit is 500.`,
      value: prompt.length,
      limit: 500,
    });
  const word = (raw: unknown, code: string, what: string): string => {
    const clean = sanitizeText(raw ?? '', 200)
      .replace(/\s+/g, ' ')
      .trim()
      .toLowerCase();
    if (clean.length < 1 || clean.length > 40) issues.push({ code, message: `The ${what} must be 1–40 characters.`, value: clean.length });
    return clean;
  };
  const genre = word(request.genre, 'INVALID_GENRE', 'genre');
  const mood = word(request.mood, 'INVALID_MOOD', 'mood');
  let lyrics: string | null = null;
  if (request.lyrics !== undefined && request.lyrics !== null && request.lyrics.trim() !== '') {
    if (request.lyrics.length > MAX_LYRICS_CHARACTERS) {
      issues.push({
        code: 'LYRICS_TOO_LONG',
        message: `The lyrics have ${request.lyrics.length} characters; the limit is ${MAX_LYRICS_CHARACTERS}.`,
        value: request.lyrics.length,
        limit: MAX_LYRICS_CHARACTERS,
      });
    } else {
      // Removed control characters and markup leave runs of spaces: tidy each line, keeping the line
      // breaks (they are the user's phrasing).
      lyrics = sanitizeText(request.lyrics, MAX_LYRICS_CHARACTERS)
        .split('\n')
        .map((line) => line.replace(/\s+/g, ' ').trim())
        .join('\n')
        .trim();
      if (lyrics === '') lyrics = null;
    }
  }
  const voice = request.voice ?? DEFAULT_VOICE;
  if (!Object.hasOwn(VOICES, voice)) {
    issues.push({
      code: 'UNKNOWN_VOICE',
      message: `Unknown voice "${String(voice).slice(0, 40)}"; choose one of ${Object.keys(VOICES).join(', ')}.`,
      value: String(voice).slice(0, 40),
    });
  }
  const seed = request.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    issues.push({ code: 'INVALID_SEED', message: 'The seed must be a whole number from 0 to 4294967295.', value: String(seed) });
  }
  if (issues.length) throw new ValidationError(issues);
  return { prompt, genre, mood, lyrics, voice, seed };
}
