import { alignLyrics } from '../../../src/audio/lyrics/align.js';
import { checkLyrics, rhymeSchemeForGenre, schemeGroups, scoreLyrics } from '../../../src/audio/lyrics/checks.js';
import { countLineSyllables } from '../../../src/audio/lyrics/fit.js';
import { lexicon } from '../../../src/audio/lyrics/lexicon.js';
import type { LyricsResult } from '../../../src/audio/lyrics/lyrics-result.js';
import {
  countSyllables,
  isKnownWord,
  lookupPhones,
  pronounce,
  rhymePart,
  rhymePartOfWord,
  splitSpelling,
  stressPattern,
  syllabifyPhones,
} from '../../../src/audio/lyrics/pronouncing.js';
import { extractPromptWords, sanitizeText } from '../../../src/audio/lyrics/sanitize.js';
import { planSections, writeLyrics } from '../../../src/audio/lyrics/writer.js';
import { createRandom } from '../../../src/audio/random.js';
import type { NoteEvent, Phrase, TempoEstimate } from '../../../src/audio/types.js';

const ARPABET = new Set('AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH'.split(' '));

/**
 * A melody built by hand: one phrase per entry of `counts`, at `bpm`. Inside a phrase notes are
 * eighths, except every fourth note and the last one, which are half notes (long, on the beat).
 */
function melody(counts: number[], bpm = 100): { notes: NoteEvent[]; phrases: Phrase[]; tempo: TempoEstimate; long: Set<number> } {
  const beat = 60 / bpm;
  const notes: NoteEvent[] = [];
  const phrases: Phrase[] = [];
  const long = new Set<number>();
  let t = 0;
  for (const count of counts) {
    const first = notes.length;
    for (let i = 0; i < count; i++) {
      const isLong = i % 4 === 0 || i === count - 1;
      const d = isLong ? 2 * beat : beat / 2;
      if (isLong) long.add(notes.length);
      notes.push({ start: t, end: t + d * 0.95, midi: 60 + (i % 5), confidence: 0.9 });
      t += d;
    }
    phrases.push({ start: notes[first].start, end: notes[notes.length - 1].end, firstNote: first, noteCount: count });
    t += 2 * beat;
  }
  return { notes, phrases, tempo: { bpm, confidence: 0.9 }, long };
}

function allLines(result: LyricsResult) {
  return result.sections.flatMap((s) => s.lines);
}

/** Asserts the central contract: every note carries exactly one syllable or a continuation. */
function expectEveryNoteSung(result: LyricsResult, notes: NoteEvent[], phrases: Phrase[]): void {
  expect(result.sungNotes).toHaveLength(notes.length);
  result.sungNotes.forEach((n, i) => {
    expect(n.start).toBe(notes[i].start);
    expect(n.midi).toBe(notes[i].midi);
    if (n.continuation) {
      expect(n.syllable).toBe('');
      expect(n.phonemes).toEqual([]);
    } else {
      expect(n.syllable.trim().length).toBeGreaterThan(0);
      expect(n.phonemes.length).toBeGreaterThan(0);
      for (const p of n.phonemes) expect(ARPABET.has(p)).toBe(true);
    }
  });
  for (const p of phrases) expect(result.sungNotes[p.firstNote].continuation).toBe(false);
}

describe('pronouncing dictionary', () => {
  it('counts syllables and lexical stress from the CMU dictionary', () => {
    const beautiful = lookupPhones('beautiful') as string[];
    expect(countSyllables(beautiful)).toBe(3);
    expect(stressPattern(beautiful)).toEqual([1, 0, 0]);
    expect(countSyllables(lookupPhones('Summer') as string[])).toBe(2);
    expect(lookupPhones('qzxv')).toBeNull();
  });

  it('finds rhymes from the last stressed vowel', () => {
    expect(rhymePartOfWord('night')).toBe('AY T');
    expect(rhymePartOfWord('tonight')).toBe(rhymePartOfWord('light'));
    expect(rhymePartOfWord('ocean')).toBe(rhymePartOfWord('motion'));
    expect(rhymePartOfWord('night')).not.toBe(rhymePartOfWord('day'));
    expect(rhymePart(['S', 'AH1', 'M', 'ER0'])).toBe('AH M ER');
  });

  it('splits phones into syllables by onset maximisation', () => {
    expect(syllabifyPhones(lookupPhones('extra') as string[]).map((s) => s.phones.join(' '))).toEqual(['EH1 K', 'S T R AH0']);
    expect(syllabifyPhones(lookupPhones('summer') as string[]).map((s) => s.phones.join(' '))).toEqual(['S AH1', 'M ER0']);
  });

  it('splits spellings into as many display syllables as the word has, rejoining to the word', () => {
    expect(splitSpelling('summer', 2)).toEqual(['sum', 'mer']);
    expect(splitSpelling('beautiful', 3)).toEqual(['beau', 'ti', 'ful']);
    expect(splitSpelling('little', 2)).toEqual(['lit', 'tle']);
    expect(splitSpelling('together', 3)).toEqual(['to', 'ge', 'ther']);
    for (const word of ['morning', 'evening', 'create', 'fire', 'rhythm', 'lovely', 'electric', 'idea', 'w', 'Sommerabend']) {
      const n = pronounce(word).syllables.length;
      const parts = splitSpelling(word, n);
      expect(parts).toHaveLength(n);
      for (const p of parts) expect(p.length).toBeGreaterThan(0);
      if (word !== 'w') expect(parts.join('')).toBe(word);
    }
  });

  it('guesses a pronunciation for words missing from the dictionary', () => {
    const p = pronounce('Zorblaxian');
    expect(p.known).toBe(false);
    expect(p.syllables.length).toBeGreaterThanOrEqual(3);
    for (const s of p.syllables) for (const ph of s.phonemes) expect(ARPABET.has(ph)).toBe(true);
    expect(p.syllables.map((s) => s.text).join('')).toBe('Zorblaxian');
  });

  it('has every lexicon word and inflected form in the dictionary', () => {
    const missing: string[] = [];
    for (const w of lexicon().words) for (const form of [w.word, ...w.forms]) if (form && !isKnownWord(form)) missing.push(form);
    expect(missing).toEqual([]);
    expect(lexicon().words.length).toBeGreaterThan(5000);
  });
});

describe('prompt sanitizing', () => {
  it('keeps dictionary content words and drops stop words, markup and control characters', () => {
    const words = extractPromptWords('Write a song about <b>the ocean</b> at night\u0000 and my dog\uFFFD &amp; the stars');
    expect(words).toEqual(expect.arrayContaining(['ocean', 'night', 'dog', 'stars']));
    expect(words).not.toContain('song');
    expect(words).not.toContain('the');
    expect(words.some((w) => w.includes('<') || w === 'b')).toBe(false);
  });

  it('removes scripts, control characters, replacement characters and lone surrogates', () => {
    const s = sanitizeText('a<script>alert(1)</script>b\u0007c\uFFFDd\uD800e\u200Bf');
    expect(s).toBe('a b cdef');
    expect(sanitizeText(42)).toBe('');
  });
});

describe('lyrics writer', () => {
  const { notes, phrases, tempo } = melody([7, 8, 6, 9, 7, 8, 6, 9, 7, 8, 6, 9]);
  const request = {
    prompt: 'A song about my old dog and the ocean at night',
    genre: 'pop',
    mood: 'nostalgic',
    notes,
    phrases,
    tempo,
    seed: 11,
  };

  it('gives every note exactly one syllable or a continuation, never a continuation first in a phrase', () => {
    const result = writeLyrics(request);
    expectEveryNoteSung(result, notes, phrases);
    expect(result.warnings).toEqual([]);
    for (const line of allLines(result)) {
      const onsets = result.sungNotes.slice(line.firstNote, line.firstNote + line.noteCount).filter((n) => !n.continuation).length;
      expect(onsets).toBe(countLineSyllables(line.text));
      expect(line.syllableCount).toBeLessThanOrEqual(line.noteCount);
    }
  });

  it('fills each phrase with as many syllables as it has notes', () => {
    // Over eight seeds: one seed's fit moves with any change of the random stream (seed 11: 1.00 before
    // lyrics round 7, 0.92 after, while the mean of seeds 1-8 stayed 0.98).
    const fits = [1, 2, 3, 4, 5, 6, 7, 8].map((seed) => writeLyrics({ ...request, seed }).quality.syllableFit);
    expect(fits.reduce((a, b) => a + b, 0) / fits.length).toBeGreaterThan(0.95);
    for (const fit of fits) expect(fit).toBeGreaterThan(0.9);
  });

  it('writes the same lyrics for the same seed and different lyrics for other seeds', () => {
    const a = writeLyrics(request);
    const b = writeLyrics({ ...request });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const texts = new Set(
      [1, 2, 3, 4].map((seed) =>
        allLines(writeLyrics({ ...request, seed }))
          .map((l) => l.text)
          .join('\n'),
      ),
    );
    expect(texts.size).toBeGreaterThan(1);
  });

  it("uses the prompt's content words", () => {
    const result = writeLyrics(request);
    const words = new Set(allLines(result).flatMap((l) => l.text.toLowerCase().split(/[^a-z']+/)));
    for (const w of ['dog', 'ocean', 'night']) expect(words.has(w)).toBe(true);
    expect(result.quality.promptCoverage).toBe(1);
  });

  it.each([
    ['pop', 'AABB'],
    ['folk', 'ABAB'],
    ['hip-hop', 'AAAA'],
  ])('rhymes %s lyrics in the %s scheme', (genre, scheme) => {
    expect(rhymeSchemeForGenre(genre)).toBe(scheme);
    // Over seeds 1–8: one seed's song may miss a pair or two (a rhyme family can run out of words that
    // fit the syllables; seed 11 alone moved between 1.00 and 0.78 with the line shapes of lyrics round 9).
    let rhymeSum = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const result = writeLyrics({ ...request, genre, seed });
      expect(result.scheme).toBe(scheme);
      let pairs = 0;
      let rhymed = 0;
      for (const section of result.sections) {
        const groups = schemeGroups(result.scheme as 'AABB', section.lines.length);
        section.lines.forEach((line, i) => {
          const j = groups.indexOf(groups[i]);
          if (j === i) return;
          pairs++;
          if (rhymePartOfWord(line.rhymeWord) === rhymePartOfWord(section.lines[j].rhymeWord)) rhymed++;
        });
      }
      expect(pairs).toBeGreaterThanOrEqual(6);
      expect({ seed, moreThanTwoMissed: pairs - rhymed > 2 }).toEqual({ seed, moreThanTwoMissed: false });
      rhymeSum += result.quality.rhyme;
    }
    expect(rhymeSum / 8).toBeGreaterThanOrEqual(0.9);
  });

  it('repeats the chorus text when the chorus phrases have the same note counts', () => {
    const result = writeLyrics(request);
    const choruses = result.sections.filter((s) => s.kind === 'chorus');
    expect(choruses.length).toBeGreaterThanOrEqual(2);
    for (const c of choruses.slice(1)) expect(c.lines.map((l) => l.text)).toEqual(choruses[0].lines.map((l) => l.text));
    expect(result.quality.chorusRepeats).toBe(1);
  });

  it('repeats the chorus on phrases of other lengths by holding notes', () => {
    const uneven = melody([6, 6, 8, 8, 7, 7, 9, 9, 8, 8, 6, 6]);
    const result = writeLyrics({ ...request, ...uneven });
    expectEveryNoteSung(result, uneven.notes, uneven.phrases);
    expect(result.quality.chorusRepeats).toBeGreaterThanOrEqual(0.5);
  });

  it('puts stressed syllables on long notes more often than the share of long notes (mean of six seeds)', () => {
    const { long } = melody([7, 8, 6, 9, 7, 8, 6, 9, 7, 8, 6, 9]);
    let margin = 0;
    for (const seed of [11, 12, 13, 14, 15, 16]) {
      const result = writeLyrics({ ...request, seed });
      const onsets = result.sungNotes.map((n, i) => ({ n, i })).filter(({ n }) => !n.continuation);
      const longShare = onsets.filter(({ i }) => long.has(i)).length / onsets.length;
      const stressed = onsets.filter(({ n }) => n.stressed);
      margin += stressed.filter(({ i }) => long.has(i)).length / stressed.length - longShare;
    }
    expect(margin / 6).toBeGreaterThan(0.1);
  });

  it('puts stressed syllables on strong notes in short two-phrase songs, chorus repeats included (stress alignment >= 0.75 over 8 songs)', () => {
    // Two phrases of 7 and 8 notes like the recorded fixtures: a long first and last note, quarter notes between.
    const short = melody([7, 8]);
    let sum = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const [prompt, genre, mood] = [
        ['a soldier writing letters to his wife', 'rock', 'calm'],
        ['snow falling on an empty playground', 'folk', 'sad'],
      ][seed % 2];
      sum += writeLyrics({ prompt, genre, mood, ...short, seed }).quality.stressAlignment;
    }
    expect(sum / 8).toBeGreaterThanOrEqual(0.75);
  });

  it('scores quality between 0 and 1 and passes its own checks', () => {
    const result = writeLyrics(request);
    for (const v of Object.values(result.quality)) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(result.quality.score).toBeGreaterThan(0.7);
    expect(checkLyrics(result, { prompt: request.prompt, noteCount: notes.length })).toEqual({ ok: true, issues: [] });
  });

  it('plans verses, choruses and a bridge over the phrases', () => {
    expect(planSections(12).map((s) => s.kind)).toEqual(['chorus', 'verse', 'chorus']);
    expect(planSections(16).map((s) => s.kind)).toEqual(['verse', 'chorus', 'verse', 'chorus']);
    expect(planSections(26).map((s) => `${s.kind}${s.count}`)).toEqual([
      'verse4',
      'chorus4',
      'verse4',
      'chorus4',
      'bridge4',
      'chorus4',
      'outro2',
    ]);
  });

  it('writes two lines for a melody that is a single phrase, and nothing for no notes', () => {
    const one = melody([10]);
    const result = writeLyrics({ ...request, ...one });
    expectEveryNoteSung(result, one.notes, one.phrases);
    expect(allLines(result).length).toBe(2);
    const none = writeLyrics({ ...request, notes: [], phrases: [] });
    expect(none.sungNotes).toEqual([]);
    expect(none.warnings.map((w) => w.code)).toEqual(['NO_NOTES']);
  });

  it.each([
    ['10 kB of random text', Array.from({ length: 10_000 }, (_, i) => String.fromCharCode(32 + ((i * 7919) % 95))).join('')],
    ['control characters', 'ocean\u0000\u0001\u0002 night\u001b[31m red \u007f\u0085'],
    ['markup', '<script>alert("x")</script><img src=x onerror=alert(1)> <b>river</b> &lt;moon&gt;'],
    ['emoji', '🌊🌙 ocean 🐕‍🦺 dog 👩🏽‍🚀 ✨✨✨✨'],
    ['replacement characters and lone surrogates', '\uFFFD\uFFFD river \uD83D \uDE00 mountain \uFFFD'],
    ['nothing usable', '!!!! ???? ####'],
  ])('survives a hostile prompt: %s', (_name, prompt) => {
    const result = writeLyrics({ ...request, prompt });
    expectEveryNoteSung(result, notes, phrases);
    const text = allLines(result)
      .map((l) => l.text)
      .join(' ');
    // eslint-disable-next-line no-control-regex -- asserting that control characters are gone
    expect(text).not.toMatch(/[<>&\uFFFD\u0000-\u001f]/);
    expect(checkLyrics(result, { prompt }).ok).toBe(true);
  });

  it('writes lyrics for 300 notes quickly (time reported)', () => {
    const random = createRandom(7);
    const counts: number[] = [];
    let total = 0;
    while (total < 300) {
      const c = Math.min(300 - total, 3 + Math.floor(random() * 12));
      counts.push(c);
      total += c;
    }
    const big = melody(counts, 120);
    writeLyrics({ ...request, ...big, seed: 99 }); // warm-up: JIT and caches
    const times: number[] = [];
    let result: LyricsResult | undefined;
    for (let seed = 0; seed < 5; seed++) {
      const t0 = performance.now();
      result = writeLyrics({ ...request, ...big, seed });
      times.push(performance.now() - t0);
    }
    expectEveryNoteSung(result as LyricsResult, big.notes, big.phrases);
    times.sort((a, b) => a - b);
    process.stdout.write(
      `writeLyrics, 300 notes / ${counts.length} phrases: median ${times[2].toFixed(0)} ms, max ${times[4].toFixed(0)} ms\n`,
    );
  });
});

describe('lyric checks', () => {
  const { notes, phrases } = melody([6, 6]);
  const good = alignLyrics('Hold on to the river\nShine like the morning', notes, phrases);

  function withText(lines: string[]): LyricsResult {
    return { ...good, sections: [{ kind: 'verse', lines: lines.map((text, i) => ({ ...good.sections[0].lines[Math.min(i, 1)], text })) }] };
  }

  it('accepts well-formed lyrics', () => {
    expect(checkLyrics(good).ok).toBe(true);
  });

  it('rejects runs of four identical characters', () => {
    expect(checkLyrics(withText(['Hold on to the aaaa', 'Shine like the morning'])).issues.map((i) => i.code)).toContain(
      'REPEATED_CHARACTERS',
    );
  });

  it('rejects lyrics shorter than 10 characters', () => {
    expect(checkLyrics(withText(['Oh', 'yes'])).issues.map((i) => i.code)).toContain('TOO_SHORT');
  });

  it('rejects a single line', () => {
    const single: LyricsResult = { ...good, sections: [{ kind: 'verse', lines: [good.sections[0].lines[0]] }] };
    expect(checkLyrics(single).issues.map((i) => i.code)).toContain('SINGLE_LINE');
  });

  it('rejects words outside the dictionary unless the prompt has them', () => {
    const odd = withText(['Hold on to the zorblax', 'Shine like the morning']);
    expect(checkLyrics(odd).issues.map((i) => i.code)).toContain('UNKNOWN_WORDS');
    expect(checkLyrics(odd, { prompt: 'a song about my zorblax' }).issues.map((i) => i.code)).not.toContain('UNKNOWN_WORDS');
  });

  it('rejects lines whose syllables do not fit their notes', () => {
    const long = withText(['Hold on to the beautiful river tonight forever', 'Shine like the morning']);
    expect(checkLyrics(long).issues.map((i) => i.code)).toContain('SYLLABLE_MISMATCH');
    const broken: LyricsResult = { ...good, sungNotes: good.sungNotes.slice(1) };
    expect(checkLyrics(broken, { noteCount: notes.length }).issues.map((i) => i.code)).toContain('SYLLABLE_MISMATCH');
  });

  it('scores any result between 0 and 1', () => {
    const q = scoreLyrics(good, { promptWords: ['river', 'ocean'] });
    expect(q.promptCoverage).toBe(0.5);
    for (const v of Object.values(q)) expect(v >= 0 && v <= 1).toBe(true);
  });
});

describe('user lyrics alignment', () => {
  it('holds syllables over several notes when there are fewer syllables than notes', () => {
    const { notes, phrases, tempo } = melody([8, 8, 8, 8]);
    const result = alignLyrics('Hello river\nSing to me\nOh the night\nCome on home', notes, phrases, { tempo });
    expectEveryNoteSung(result, notes, phrases);
    expect(allLines(result).map((l) => l.text)).toEqual(['Hello river', 'Sing to me', 'Oh the night', 'Come on home']);
    expect(result.sungNotes.filter((n) => n.continuation)).toHaveLength(32 - 4 - 3 - 3 - 3);
    expect(result.warnings).toEqual([]);
    // The line-final syllable holds to the end of its phrase.
    expect(result.sungNotes[31].continuation).toBe(true);
  });

  it('warns and squeezes syllables together when there are more syllables than notes', () => {
    const { notes, phrases } = melody([5, 5]);
    const result = alignLyrics('Everybody wants a little piece of heaven\nNobody remembers what they had', notes, phrases);
    expectEveryNoteSung(result, notes, phrases);
    const warning = result.warnings.find((w) => w.code === 'LYRICS_TOO_LONG');
    // everybody(4) wants a lit-tle piece of hea-ven = 12, no-bo-dy re-mem-bers what they had = 9
    expect(warning).toMatchObject({ syllables: 21, notes: 10 });
    expect((warning?.merged ?? 0) + (warning?.dropped ?? 0)).toBe(11);
    expect(result.sungNotes.some((n) => n.syllable.includes(' ') || n.phonemes.length > 4)).toBe(true);
  });

  it('drops trailing lines only when squeezing cannot fit them', () => {
    const { notes, phrases } = melody([4, 4]);
    const text = Array.from({ length: 12 }, () => 'Walking in the morning light').join('\n');
    const result = alignLyrics(text, notes, phrases);
    expectEveryNoteSung(result, notes, phrases);
    const warning = result.warnings.find((w) => w.code === 'LYRICS_TOO_LONG');
    expect(warning?.dropped).toBeGreaterThan(0);
    expect(warning?.merged).toBeGreaterThan(0);
  });

  it('sings unknown words with a guessed pronunciation', () => {
    const { notes, phrases } = melody([6, 6]);
    const result = alignLyrics('Zorblax and Quenthia\nDancing in Vrell', notes, phrases);
    expectEveryNoteSung(result, notes, phrases);
    expect(result.sungNotes.map((n) => n.syllable).join('')).toContain('Zor');
  });

  it('repeats short lyrics over many phrases and reads section labels', () => {
    const { notes, phrases } = melody([6, 6, 6, 6, 6, 6]);
    const result = alignLyrics('[Chorus]\nShine on, shine on', notes, phrases);
    expectEveryNoteSung(result, notes, phrases);
    expect(result.warnings.map((w) => w.code)).toContain('LYRICS_REPEATED');
    expect(result.sections.every((s) => s.kind === 'chorus')).toBe(true);
  });

  it('sings empty or hostile lyrics on "ah" without throwing', () => {
    const { notes, phrases } = melody([5, 7]);
    for (const text of ['', '\u0000\uFFFD<br/>', '🎵🎵🎵']) {
      const result = alignLyrics(text, notes, phrases);
      expectEveryNoteSung(result, notes, phrases);
      expect(result.warnings.map((w) => w.code)).toEqual(['LYRICS_EMPTY']);
    }
  });

  it('copes with notes whose times are not numbers', () => {
    const { notes, phrases } = melody([6, 6]);
    const broken = notes.map((n, i) => (i % 3 === 0 ? { ...n, start: NaN, end: Infinity } : n));
    const result = alignLyrics('Hold on to the river\nShine like the morning', broken, phrases, { tempo: { bpm: 100, confidence: 1 } });
    expect(result.sungNotes).toHaveLength(notes.length);
    expect(result.sungNotes.filter((n) => !n.continuation)).toHaveLength(6 + 5);
  });

  it('covers every note even when the phrases leave gaps or overlap', () => {
    const { notes } = melody([10]);
    const phrases: Phrase[] = [
      { start: 0, end: 1, firstNote: 2, noteCount: 3 },
      { start: 1, end: 2, firstNote: 4, noteCount: 2 },
    ];
    const result = alignLyrics('Over the hills and far away\nTo the river', notes, phrases);
    expect(result.sungNotes).toHaveLength(notes.length);
    expect(result.sungNotes[0].continuation).toBe(false);
  });
});
