/**
 * Whether lyric lines make sense, for the quality score: grammaticality from part-of-speech tags of the
 * text (tag-line.ts, not the writer's own grammar, so the writer cannot grade itself), and
 * agreement of the words' AFINN-165 valence with the requested mood.
 */
import { lexicon, valence } from './lexicon.js';
import { moodProfile } from './moods.js';
import { startsWithVowelSound } from './grammar.js';
import { tagLine, type TaggedTerm } from './tag-line.js';

const SUBJECT_PRONOUNS: Record<string, 'plain' | 'third'> = {
  i: 'plain',
  you: 'plain',
  we: 'plain',
  they: 'plain',
  he: 'third',
  she: 'third',
  it: 'third',
};
const BE_AGREES: Record<string, string[]> = {
  i: ['am', 'was'],
  you: ['are', 'were'],
  we: ['are', 'were'],
  they: ['are', 'were'],
  he: ['is', 'was'],
  she: ['is', 'was'],
  it: ['is', 'was'],
};

/**
 * Grammaticality of one line, 0..1. A clause with a finite verb scores 1, a fragment that reads as a
 * phrase (`Dancing in the rain`, `Under the old bridge`) 0.7, a determiner-led noun phrase (also after `only`,
 * `no`, or an `oh,` lead, which is judged on what follows) 0.6, other
 * verbless strings 0.25, a single word 0. Multiplied down for the errors a tagger can see: coordination
 * of an adjective with a noun (`Angry and tide`), a bare adjective + noun opening without a verb
 * (`Endless moon`), `a` before a plural or the wrong `a`/`an`, subject–verb disagreement (`I is`,
 * `she walk`, `they walks`), the same content word twice in a row.
 */
export function lineGrammaticality(line: string): number {
  let g = grammarCache.get(line);
  if (g === undefined) {
    g = judge(line);
    if (grammarCache.size > 20_000) grammarCache.clear();
    grammarCache.set(line, g);
  }
  return g;
}

/** Judgements by line text: choruses and re-scored variants repeat lines. */
const grammarCache = new Map<string, number>();

function judge(line: string): number {
  // A line led in by `oh,` is judged on what follows (`Oh, the lighthouse` is the fragment `the lighthouse`).
  const rest = /^\s*oh\s*,\s*/i.exec(line);
  if (rest && line.length > rest[0].length) return judge(line.slice(rest[0].length));
  const terms: TaggedTerm[] = tagLine(line);
  if (terms.length <= 1) return 0;
  const has = (t: TaggedTerm, ...tags: string[]) => tags.some((x) => t.tags.has(x));
  // A subject pronoun followed by a verb form is a clause even where the tagger reads the verb as a
  // noun (a word outside the lexicon, or one that is both: `I miss you`).
  const afterPronoun = terms.some(
    (t, i) =>
      SUBJECT_PRONOUNS[t.text] &&
      terms[i + 1] &&
      (has(terms[i + 1], 'Verb') ||
        lexicon()
          .byForm.get(terms[i + 1].text)
          ?.some((w) => w.pos === 'v')),
  );
  const finite =
    afterPronoun || terms.some((t) => (has(t, 'Verb') && !has(t, 'Gerund', 'Infinitive')) || has(t, 'Copula', 'Modal', 'Auxiliary'));
  const imperative = has(terms[0], 'Verb', 'Imperative') && !has(terms[0], 'Gerund');
  let score: number;
  if (finite || imperative) score = 1;
  else if (
    (has(terms[0], 'Preposition', 'Gerund') || terms.some((t) => has(t, 'Gerund'))) &&
    terms.length >= 3 &&
    terms.some((t) => has(t, 'Noun'))
  )
    score = 0.7;
  else if (
    (has(terms[0], 'Determiner', 'Possessive') && terms.length >= 3) ||
    // `Only the lake`, `No more love`: a noun phrase after a focusing word.
    (/^(only|no)$/.test(terms[0].text) && terms.length >= 3 && has(terms[terms.length - 1], 'Noun'))
  )
    score = 0.6;
  else score = 0.25;
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    const next = terms[i + 1];
    const after = terms[i + 2];
    if (
      next &&
      after &&
      next.text === 'and' &&
      ((has(t, 'Adjective') && has(after, 'Noun') && !has(after, 'Adjective')) ||
        (has(t, 'Noun') && !has(t, 'Pronoun') && has(after, 'Adjective') && !has(after, 'Noun')))
    )
      score *= 0.2;
    if (next && (t.text === 'a' || t.text === 'an')) {
      if (has(next, 'Plural')) score *= 0.5;
      const vowel = startsWithVowelSound(next.text);
      if ((t.text === 'a') === vowel) score *= 0.6;
    }
    const person = SUBJECT_PRONOUNS[t.text];
    if (person && next && (i === 0 || !has(terms[i - 1], 'Verb', 'Preposition'))) {
      const be = BE_AGREES[t.text];
      if (/^(am|is|are|was|were)$/.test(next.text) && !be.includes(next.text)) score *= 0.3;
      else if (has(next, 'PresentTense') && !has(next, 'Copula', 'Modal', 'Auxiliary', 'Gerund')) {
        const s = /[^s]s$/.test(next.text) || /(ches|shes|sses|xes|ies)$/.test(next.text);
        if (person === 'plain' && s && !has(next, 'Noun')) score *= 0.4;
        if (person === 'third' && !s && has(next, 'Infinitive')) score *= 0.4;
      }
    }
    if (next && t.text === next.text && has(t, 'Noun', 'Verb', 'Adjective')) score *= 0.5;
  }
  if (!finite && !imperative && has(terms[0], 'Adjective') && terms.length <= 3) score *= 0.5;
  return Math.max(0, Math.min(1, score));
}

/** Mean grammaticality of the distinct lines (repeated choruses count once). */
export function grammaticality(lines: readonly string[]): number {
  const distinct = [...new Set(lines.map((l) => l.trim()).filter(Boolean))];
  if (!distinct.length) return 0;
  let sum = 0;
  for (const l of distinct) sum += lineGrammaticality(l);
  return sum / distinct.length;
}

const NEGATORS = new Set(['not', "n't", 'never', 'no', 'cannot', "can't", "won't", "don't", 'nothing', 'without']);

/**
 * Signed AFINN-165 valence of each rated word of a text, a negation (`not`, `never`, `cannot`,
 * `without` …) flipping the next three words' sign (Hutto & Gilbert's VADER uses the same window).
 */
export function valences(text: string): number[] {
  return valencesOfWords(wordsOf(text));
}

/** The words `valences` rates in a text, lower case, in order. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().match(/[a-z']+/g) ?? [];
}

/** `valences` of a text's words (`wordsOf`). */
export function valencesOfWords(words: readonly string[]): number[] {
  const out: number[] = [];
  let flip = 0;
  for (const w of words) {
    if (NEGATORS.has(w) || w.endsWith("n't")) {
      flip = 3;
      continue;
    }
    const v = valence(w);
    if (v !== 0) out.push(flip > 0 ? -v : v);
    if (flip > 0) flip--;
  }
  return out;
}

/**
 * How well the words' valence agrees with a mood, 0..1: the share of the rated words' valence mass
 * whose sign is the mood's (1 for moods without a sign such as `nostalgic`, 0.5 when no word is
 * rated, since then the words do not carry the mood either way).
 */
export function moodAgreement(lines: readonly string[], mood: string): number {
  const polarity = moodProfile(mood).polarity;
  if (polarity === 0) return 1;
  let total = 0;
  let agree = 0;
  for (const v of valences(lines.join('\n'))) {
    total += Math.abs(v);
    if (v * polarity > 0) agree += Math.abs(v);
  }
  return total ? agree / total : 0.5;
}

/** Largest mean valence (either sign) a song of a mood without a sign (`nostalgic`) may have: bittersweet, not cheerful or grim. */
export const MIXED_MOOD_MAX_MEAN = 2;

/**
 * Whether a song's sung lines (chorus repeats included, as they are heard) carry a mood: the mean
 * AFINN valence of their rated words (negations flipped) has the mood's sign; for a mood without a
 * sign, its size is at most MIXED_MOOD_MAX_MEAN. A song without rated words carries no signed mood.
 */
export function moodCarried(lines: readonly string[], mood: string): boolean {
  const polarity = moodProfile(mood).polarity;
  const v = valences(lines.join('\n'));
  const mean = v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
  return polarity === 0 ? Math.abs(mean) <= MIXED_MOOD_MAX_MEAN : mean * polarity > 0;
}

/** Below this Zipf value (SUBTLEX-US, see lexicon.ts) a word is rare in speech: `cape` 3.9, `rain` 4.7. */
export const RARE_ZIPF = 4;
/** Function words never count as content (they are in the lexicon as odd nouns or verbs: `will`, `can`). */
const FUNCTION_WORDS = new Set(
  `a an the my your our his her their its this these those that all some no not and but or so oh if when while because as than then
  i you we they he she it me us him them am is are was were be been being do does did will would can could must shall should may might
  there here now tonight today again away never ever still just let to of in on at by for with without from into through across around
  near beside beyond toward towards beneath among along down up until after before inside over under`.split(/\s+/),
);
/**
 * What a preposition of place or time can stand before, as noun classes (lexicon.ts): one is by the
 * river or in the kitchen, not in the bread or through the hello. Prepositions not listed (with, for,
 * without, of) take anything.
 */
const PREPOSITION_FITS: Record<string, ReadonlySet<string>> = (() => {
  const where = ['place', 'nature', 'weather', 'artifact', 'plant', 'time', 'matter'];
  const set = (...c: string[]) => new Set(c);
  return {
    in: set(...where, 'feeling', 'state', 'body', 'being', 'mind'),
    into: set(...where, 'being', 'body'),
    through: set(...where, 'feeling', 'state', 'event', 'body'),
    across: set(...where),
    around: set(...where, 'being'),
    by: set(...where, 'being'),
    near: set(...where, 'being'),
    beside: set(...where, 'being'),
    beyond: set(...where),
    toward: set(...where, 'being'),
    towards: set(...where, 'being'),
    beneath: set(...where),
    among: set(...where, 'being'),
    along: set(...where),
    down: set(...where),
    inside: set(...where, 'body', 'mind'),
    until: set('time', 'event'),
    after: set('time', 'event', 'act'),
    before: set('time', 'event', 'act', 'being'),
  };
})();

/** Lexicon nouns a surface form can be (`capes` → cape). */
function nounsOf(form: string): { cls: string; zipf: number }[] {
  return (lexicon().byForm.get(form) ?? []).filter((w) => w.pos === 'n');
}

/**
 * Whether a line's words could mean something together, 0..1: 1 minus the share of its content words
 * that are rare in speech (Zipf < 4 in SUBTLEX-US and not in the prompt: `capes`, `deposit`) or sit
 * after a preposition that cannot take them (`in the bread`, `through the hello`: the noun's WordNet
 * class against what the preposition of place or time allows), each such word counting twice.
 * Frequency and WordNet classes, not the writer's word lists, so the writer cannot grade itself.
 */
export function linePlausibility(line: string, promptWords: ReadonlySet<string> = new Set()): number {
  const words = line.toLowerCase().match(/[a-z']+/g) ?? [];
  let content = 0;
  let bad = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    if (FUNCTION_WORDS.has(w)) continue;
    content++;
    if (promptWords.has(w) || promptWords.has(w.replace(/s$/, ''))) continue;
    const entries = lexicon().byForm.get(w) ?? [];
    const zipf = entries.length ? Math.max(...entries.map((e) => e.zipf)) : 0;
    if (entries.length && zipf < RARE_ZIPF) {
      bad++;
      continue;
    }
    // The head noun of a prepositional phrase: the first noun after the preposition and its determiners/adjectives.
    let j = i - 1;
    while (
      j >= 0 &&
      (FUNCTION_WORDS.has(words[j])
        ? /^(the|a|an|my|your|our|his|her|their|this|these|those|all|some)$/.test(words[j])
        : !nounsOf(words[j]).length)
    )
      j--;
    const fits = j >= 0 ? PREPOSITION_FITS[words[j]] : undefined;
    const nouns = nounsOf(w);
    const isHead = nouns.length && !(words[i + 1] && nounsOf(words[i + 1]).length && !FUNCTION_WORDS.has(words[i + 1]));
    if (fits && isHead && !nouns.some((n) => fits.has(n.cls))) bad++;
  }
  return content ? Math.max(0, 1 - (2 * bad) / content) : 1;
}

/** Mean plausibility of the distinct lines (see {@link linePlausibility}). */
export function plausibility(lines: readonly string[], promptWords: readonly string[] = []): number {
  const distinct = [...new Set(lines.map((l) => l.trim()).filter(Boolean))];
  if (!distinct.length) return 0;
  const prompt = new Set(promptWords.map((w) => w.toLowerCase()));
  let sum = 0;
  for (const l of distinct) sum += linePlausibility(l, prompt);
  return sum / distinct.length;
}

/** Words that mark time moving on at the start of a stanza (`Now, …`, `Since then …`, `Tomorrow …`). */
const TIME_TURNS = new Set(['now', 'then', 'since', 'today', 'tonight', 'tomorrow', 'someday', 'after', 'later', 'still', 'anymore']);
const DETERMINERS = new Set([
  'a',
  'an',
  'the',
  'my',
  'your',
  'our',
  'his',
  'her',
  'their',
  'its',
  'this',
  'these',
  'that',
  'those',
  'every',
  'some',
  'no',
]);
const PAST_AUXILIARIES = new Set(['was', 'were', 'had', 'did', 'could', 'would']);
const PRESENT_AUXILIARIES = new Set(['am', 'is', 'are', 'do', 'does', 'can', 'cannot', 'must']);

/**
 * The tense a stanza is told in, from its verbs: `past` (was, had, walked), `future` (will), `present`
 * (am, walks), or null when it shows none. The most frequent wins; ties go to the earliest seen.
 */
export function stanzaTense(lines: readonly string[]): 'past' | 'present' | 'future' | null {
  const counts = { past: 0, present: 0, future: 0 };
  let previous = '';
  let before = '';
  for (const w of lines
    .join(' ')
    .toLowerCase()
    .match(/[a-z']+/g) ?? []) {
    // After a determiner (and an adjective) a verb form is a noun or an adjective, not a tense
    // (`by the rose`, `your lost eye`, `your last lies`).
    const inNounPhrase =
      DETERMINERS.has(previous) || (DETERMINERS.has(before) && (lexicon().byForm.get(previous) ?? []).some((x) => x.pos === 'a'));
    before = previous;
    previous = w;
    if (inNounPhrase) continue;
    if (w === 'will' || w === "won't") counts.future++;
    else if (PAST_AUXILIARIES.has(w)) counts.past++;
    else if (PRESENT_AUXILIARIES.has(w)) counts.present++;
    else {
      const verbs = (lexicon().byForm.get(w) ?? []).filter((x) => x.pos === 'v');
      if (verbs.some((x) => x.forms[1] === w && x.word !== w)) counts.past++;
      else if (verbs.some((x) => x.forms[0] === w && x.word !== w)) counts.present++;
    }
  }
  const best = (['past', 'present', 'future'] as const).reduce((a, b) => (counts[b] > counts[a] ? b : a));
  return counts[best] > 0 ? best : null;
}

/** Content words of a stanza as rough lemmas (lower case, a plural or 3rd-person `s` taken off), function words out. */
function contentWords(lines: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const w of lines
    .join(' ')
    .toLowerCase()
    .match(/[a-z']+/g) ?? []) {
    if (FUNCTION_WORDS.has(w) || w.length < 3) continue;
    out.add(w.replace(/(?<=[^s])s$/, ''));
  }
  return out;
}

/**
 * Whether a song's verses move its story on, 0..1: for each verse or bridge after the first verse, 0.7 ×
 * the share of its content words not sung in the stanzas before it (the prompt's words left out: they
 * recur on purpose) + 0.3 when it turns in time (another tense than the stanza before it, or it opens on
 * `now`, `since`, `tomorrow` …). A verse 2 that reshuffles verse 1's words scores near 0; a song with one
 * verse has nothing to move on and scores 1. Choruses repeat by design and are not judged.
 */
export function storyProgression(
  stanzas: readonly { kind: string; lines: readonly string[] }[],
  promptWords: readonly string[] = [],
): number {
  const prompt = new Set(promptWords.map((w) => w.toLowerCase().replace(/(?<=[^s])s$/, '')));
  const told = stanzas.filter((s) => s.kind === 'verse' || s.kind === 'bridge');
  const firstVerse = told.findIndex((s) => s.kind === 'verse');
  if (firstVerse < 0 || told.length - firstVerse < 2) return 1;
  const seen = new Set<string>();
  for (const w of contentWords(told[firstVerse].lines)) seen.add(w);
  let total = 0;
  for (let i = firstVerse + 1; i < told.length; i++) {
    const words = [...contentWords(told[i].lines)].filter((w) => !prompt.has(w));
    const novelty = words.length ? words.filter((w) => !seen.has(w)).length / words.length : 0;
    const before = stanzaTense(told[i - 1].lines);
    const now = stanzaTense(told[i].lines);
    const opener = (told[i].lines[0]?.toLowerCase().match(/[a-z']+/) ?? [''])[0];
    const turns = (before !== null && now !== null && before !== now) || TIME_TURNS.has(opener);
    total += 0.7 * novelty + (turns ? 0.3 : 0);
    for (const w of contentWords(told[i].lines)) seen.add(w);
  }
  return total / (told.length - firstVerse - 1);
}
