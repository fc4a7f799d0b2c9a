/**
 * Stage 3 of the pipeline (pipeline.ts): the lyrics, aligned from the user's, written by a remote
 * provider (checked, maybe repaired) or by the embedded writer.
 */
import type { MelodyAnalysis } from './types.js';
import {
  alignLyrics,
  buildLyricsRequest,
  checkLyrics,
  extractPromptWords,
  fitProviderLyrics,
  writeLyricsSliced,
  type LyricsResult,
} from './lyrics/lyrics.js';
import type { LyricsProvider } from './providers.js';
import type { CleanRequest } from './validate/request.js';
import { callProvider, fallBackOrThrow, label, type Run } from './pipeline-run.js';

/** Stage 3 with a provider: its lyrics when they pass the checks (maybe repaired), else null (warnings say why). */
async function providerLyrics(
  run: Run,
  provider: LyricsProvider,
  clean: CleanRequest,
  analysis: MelodyAnalysis,
  promptWords: string[],
): Promise<{ lyrics: LyricsResult; provider: string } | null> {
  run.progress('lyrics', 0, `Asking the ${provider.name} lyrics provider`);
  const what = `The lyrics provider "${provider.name}"`;
  let draft;
  try {
    const request = buildLyricsRequest(clean, analysis);
    draft = await run.timed('lyrics', () => callProvider(run, (options) => provider.writeLyrics(request, options)));
  } catch (error) {
    fallBackOrThrow(run, error, 'lyrics', 'LYRICS_PROVIDER_FALLBACK', what, 'The embedded writer wrote the lyrics instead.');
    return null;
  }
  run.progress('lyrics', 0.5, "Checking the provider's lyrics");
  const verdict = await run.timed('lyrics', () => fitProviderLyrics(draft, analysis, { prompt: clean.prompt, promptWords }));
  if (!verdict.accepted) {
    run.warnings.push({
      code: 'LYRICS_PROVIDER_REJECTED',
      message: `${what} wrote lyrics that were not used (${verdict.reason}): ${verdict.message} The embedded writer wrote the lyrics instead.`,
      stage: 'lyrics',
    });
    return null;
  }
  if (verdict.repairs.length)
    run.warnings.push({
      code: 'LYRICS_PROVIDER_REPAIRED',
      message: `${what}'s lyrics were repaired: ${verdict.repairs.join('; ')}.`,
      stage: 'lyrics',
    });
  for (const w of verdict.result.warnings) run.warnings.push({ code: w.code, message: w.message, stage: 'lyrics' });
  for (const issue of verdict.issues) run.warnings.push({ code: `LYRICS_${issue.code}`, message: issue.message, stage: 'lyrics' });
  return { lyrics: verdict.result, provider: label(draft?.source, provider.name) };
}

/** Stage 3: align the user's lyrics, or have the provider write them, or write them with the embedded writer. */
export async function lyricsFor(
  run: Run,
  clean: CleanRequest,
  analysis: MelodyAnalysis,
): Promise<{ lyrics: LyricsResult; provider: string | null }> {
  const promptWords = extractPromptWords(clean.prompt);
  const provider = run.ports.providers?.lyrics;
  if (!clean.lyrics && provider) {
    const fromProvider = await providerLyrics(run, provider, clean, analysis, promptWords);
    if (fromProvider) {
      run.progress(
        'lyrics',
        1,
        `Lyrics by ${fromProvider.provider}: ${fromProvider.lyrics.sections.reduce((n, s) => n + s.lines.length, 0)} lines`,
      );
      return fromProvider;
    }
  }
  run.progress('lyrics', 0, clean.lyrics ? 'Fitting your lyrics to the notes' : 'Writing lyrics');
  const lyrics = await run.timed('lyrics', () =>
    clean.lyrics
      ? alignLyrics(clean.lyrics, analysis.notes, analysis.phrases, { tempo: analysis.tempo, promptWords })
      : run.drive(
          writeLyricsSliced({
            prompt: clean.prompt,
            genre: clean.genre,
            mood: clean.mood,
            notes: analysis.notes,
            phrases: analysis.phrases,
            tempo: analysis.tempo,
            seed: clean.seed,
          }),
        ),
  );
  for (const w of lyrics.warnings) run.warnings.push({ code: w.code, message: w.message, stage: 'lyrics' });
  if (lyrics.source === 'writer') {
    const verdict = checkLyrics(lyrics, { prompt: clean.prompt, promptWords, noteCount: analysis.notes.length });
    for (const issue of verdict.issues) run.warnings.push({ code: `LYRICS_${issue.code}`, message: issue.message, stage: 'lyrics' });
  }
  run.progress('lyrics', 1, `Lyrics: ${lyrics.sections.reduce((n, s) => n + s.lines.length, 0)} lines`);
  return { lyrics, provider: null };
}
