/**
 * What a prompt is about, for the embedded writer: its subject, content words with their part of
 * speech and inflections, and named things kept as written.
 *
 * Tagging is compromise's (a rule-and-lexicon part-of-speech tagger, ~30 MB of heap once per
 * process); inflections come from the lexicon when the word is in it, else from compromise.
 */
import nlp from 'compromise';
import { FRAME, lexicon, type LexWord } from './lexicon.js';
import { isKnownWord } from './pronouncing.js';
import { sanitizeText } from './sanitize.js';

/** A word of the prompt the song should use. */
export interface PromptTerm {
  /** Lemma in lower case (`promise`, `dance`), or the name as written (`New York`). */
  lemma: string;
  pos: 'n' | 'v' | 'a' | 'name';
  /** Nouns: the form the prompt used is plural. */
  plural: boolean;
  /** Lexicon entry, when the lemma is in the vocabulary. */
  lex: LexWord | null;
  /** Nouns: [plural]; verbs: [3rd person, past, gerund] (from the lexicon or compromise). */
  forms: string[];
  /** Noun class (`place`, `being` …) for names and nouns; verb frames for verbs. */
  cls: string;
  frames: number;
  /** Lexicon relatives (ids) of the word. */
  related: number[];
}

export interface PromptAnalysis {
  /** The song's main subject (first noun or name after `about`/`of`, else the first one), or null. */
  subject: PromptTerm | null;
  /** Content words in prompt order, subject included, at most 8. */
  terms: PromptTerm[];
  /** Verb lemma → the lemma of the noun or name the prompt gives it as object (`ride a bicycle`). */
  objects: Map<string, string>;
  /** Noun lemma → the adjective the prompt puts before it (`quiet lake`, `empty house`). */
  described: Map<string, string>;
}

/** Words that talk about the song rather than what it is about. */
const META = new Set([
  'song',
  'songs',
  'lyric',
  'lyrics',
  'track',
  'tune',
  'ballad',
  'anthem',
  'piece',
  'story',
  'something',
  'thing',
  'things',
  'kind',
  'lot',
  'way',
  'someone',
  'somebody',
  'anyone',
  'anybody',
  'everyone',
  'everybody',
  'nobody',
  'anything',
  'everything',
  'nothing',
]);

interface Term {
  text: string;
  normal: string;
  tags: Set<string>;
}

function termsOf(text: string): Term[] {
  const out: Term[] = [];
  for (const sentence of nlp(text).json() as { terms: { text: string; normal: string; tags: string[] }[] }[]) {
    for (const t of sentence.terms)
      out.push({ text: t.text.replace(/[^\p{L}\p{M}'-]/gu, ''), normal: t.normal.replace(/[^a-z'-]/g, ''), tags: new Set(t.tags) });
  }
  return out;
}

/**
 * compromise's answer for one word, remembered per process: each `nlp()` call costs a millisecond or more,
 * a prompt asks for a few, and prompts share their words (`love`, `dancing`). The answers depend on the word alone.
 */
function remembered(kind: string, word: string, ask: () => string): string {
  const key = `${kind}:${word}`;
  let answer = wordAnswers.get(key);
  if (answer === undefined) {
    answer = ask();
    if (wordAnswers.size >= 10_000) wordAnswers.clear();
    wordAnswers.set(key, answer);
  }
  return answer;
}
const wordAnswers = new Map<string, string>();

/** Singular of a plural noun the lexicon does not know: compromise on the phrase `the X`, which tags it as a noun. */
function singularOf(plural: string): string {
  const singular = remembered('singular', plural, () => nlp(`the ${plural}`).nouns().toSingular().text())
    .replace(/^the /, '')
    .toLowerCase();
  return singular && isKnownWord(singular) ? singular : plural;
}

function nounTerm(word: string, plural: boolean, cls: string): PromptTerm | null {
  const lex = lexicon().byKey.get(`n:${word}`) ?? null;
  let pl = lex?.forms[0] || '';
  if (!pl) pl = (remembered('plural', word, () => nlp(word).nouns().toPlural().text()) || '').toLowerCase();
  if (!isKnownWord(pl) || pl === word) pl = '';
  return {
    lemma: word,
    pos: 'n',
    plural: plural && !!pl,
    lex,
    forms: [pl],
    cls: lex?.cls ?? headClass(word) ?? cls,
    frames: 0,
    related: lex?.related ?? [],
  };
}

/**
 * Class of a compound the lexicon lacks, from its head (`thunderstorm` → storm: weather, `lighthouse`
 * → house, `bookshop` → shop: artifact): the longest ending of at least 4 letters that is a lexicon
 * noun after at least 3 letters; null when there is none.
 */
function headClass(word: string): string | null {
  for (let i = 3; i + 4 <= word.length; i++) {
    const head = lexicon().byKey.get(`n:${word.slice(i)}`);
    if (head) return head.cls;
  }
  return null;
}

function verbTerm(word: string): PromptTerm | null {
  const lex = lexicon().byKey.get(`v:${word}`) ?? null;
  let forms = lex?.forms ?? [];
  if (!lex) {
    forms = remembered('forms', word, () => {
      const c = (nlp(word).verbs().conjugate()[0] ?? {}) as Record<string, string>;
      return [c.PresentTense, c.PastTense, c.Gerund].map((f) => (f ?? '').toLowerCase()).join('\n');
    }).split('\n');
    if (forms.some((f) => !f || !isKnownWord(f))) return null;
  }
  return {
    lemma: word,
    pos: 'v',
    plural: false,
    lex,
    forms,
    cls: lex?.cls ?? 'move',
    frames: lex?.frames ?? FRAME.personIntransitive,
    related: lex?.related ?? [],
  };
}

/**
 * Analyses a prompt (already sanitized or not). Deterministic; never throws.
 * Adjectives that describe the song itself (`a sad song`) are left out, as are stop words.
 */
export function analyzePrompt(prompt: string): PromptAnalysis {
  const clean = sanitizeText(prompt).slice(0, 600);
  const terms = termsOf(clean);
  const out: PromptTerm[] = [];
  const seen = new Set<string>();
  let subject: PromptTerm | null = null;
  let afterAbout = false;
  const objects = new Map<string, string>();
  let lastVerb: { lemma: string; at: number } | null = null;
  let lastAdj: { lemma: string; at: number } | null = null;
  const described = new Map<string, string>();
  let at = 0;
  const push = (t: PromptTerm | null, topical: boolean): void => {
    if (!t) return;
    if (t.pos === 'a') lastAdj = { lemma: t.lemma, at };
    else if ((t.pos === 'n' || t.pos === 'name') && lastAdj && lastAdj.at === at - 1 && !described.has(t.lemma))
      described.set(t.lemma, lastAdj.lemma);
    if (t.pos === 'v') lastVerb = { lemma: t.lemma, at };
    else if ((t.pos === 'n' || t.pos === 'name') && lastVerb && at - lastVerb.at <= 4 && !objects.has(lastVerb.lemma))
      objects.set(lastVerb.lemma, t.lemma);
    if (seen.has(`${t.pos}:${t.lemma}`)) return;
    seen.add(`${t.pos}:${t.lemma}`);
    out.push(t);
    if (topical && !subject && t.pos !== 'a' && t.pos !== 'v') subject = t;
  };
  for (let i = 0; i < terms.length; i++) {
    const t = terms[i];
    const prev = terms[i - 1];
    at = i;
    if (/^(about|of|for|on)$/.test(t.normal)) afterAbout = true;
    if (!t.normal || t.normal.length < 3 || META.has(t.normal)) continue;
    if (t.tags.has('ProperNoun') || t.tags.has('Person') || t.tags.has('Place') || t.tags.has('WeekDay') || t.tags.has('Month')) {
      // Names: consecutive proper nouns form one name, kept as the user wrote it.
      let name = t.text;
      while (
        i + 1 < terms.length &&
        (terms[i + 1].tags.has('ProperNoun') || terms[i + 1].tags.has('Place')) &&
        /^\p{Lu}/u.test(terms[i + 1].text)
      )
        name += ` ${terms[++i].text}`;
      if (!/^\p{Lu}/u.test(name) || !name.split(' ').every((w) => isKnownWord(w) || /^\p{L}+$/u.test(w))) continue;
      // Days and months are times (`on Monday`, `until Sunday`), not people one holds or shows.
      const cls =
        t.tags.has('WeekDay') || t.tags.has('Month')
          ? 'time'
          : t.tags.has('Place') || t.tags.has('City') || t.tags.has('Country')
            ? 'place'
            : 'being';
      push({ lemma: name, pos: 'name', plural: false, lex: null, forms: [], cls, frames: 0, related: [] }, afterAbout || !subject);
      continue;
    }
    if (
      !isKnownWord(t.normal) ||
      /^(all|every|some|many|much|more|most|very|just|really|about|into|with|without|from|over|under|down|up|out|off|inside|outside|away|back)$/.test(
        t.normal,
      )
    )
      continue;
    // Pronouns and possessives (`his`, `her`, `my`) are not topics, whatever the tagger calls them.
    if (t.tags.has('Pronoun') || t.tags.has('Possessive') || t.tags.has('Preposition') || t.tags.has('Determiner')) continue;
    const prevIsDet = prev && (prev.tags.has('Determiner') || prev.tags.has('Possessive') || prev.tags.has('Adjective'));
    if (t.tags.has('Noun') || (t.tags.has('Verb') && prevIsDet && lexicon().byKey.has(`n:${t.normal}`))) {
      const plural = t.tags.has('Plural');
      const known = plural
        ? lexicon()
            .byForm.get(t.normal)
            ?.find((w) => w.pos === 'n' && w.forms[0] === t.normal)
        : undefined;
      const lemma = known ? known.word : plural ? singularOf(t.normal) : t.normal;
      if (META.has(lemma) || !isKnownWord(lemma)) continue;
      const cls = t.tags.has('Actor') || t.tags.has('Person') ? 'being' : t.tags.has('Place') ? 'place' : 'thing';
      push(nounTerm(lemma, plural, cls), afterAbout || !subject);
    } else if (t.tags.has('Verb') && !t.tags.has('Auxiliary') && !t.tags.has('Copula')) {
      const lemma = (remembered('infinitive', t.normal, () => nlp(t.normal).verbs().toInfinitive().text()) || t.normal).toLowerCase();
      if (/^(be|have|do|get|make|want|let|write|sing)$/.test(lemma)) continue;
      push(verbTerm(lemma), false);
    } else if (t.tags.has('Adjective')) {
      const next = terms[i + 1];
      // `a sad song`, `an angry ballad`: the adjective is the mood, not the topic.
      if (next && META.has(next.normal)) continue;
      const lex = lexicon().byKey.get(`a:${t.normal}`) ?? null;
      push({ lemma: t.normal, pos: 'a', plural: false, lex, forms: [], cls: 'quality', frames: 0, related: lex?.related ?? [] }, false);
    }
  }
  const first = out.find((t) => t.pos === 'n' || t.pos === 'name') ?? null;
  // A prompt with only a verb (`dancing all night`) is about the act: the gerund is the subject.
  return { subject: subject ?? first ?? out.find((t) => t.pos === 'v') ?? null, terms: out.slice(0, 8), objects, described };
}

/** Prompts whose analysis `analyzedPrompt` keeps (the last ones asked for). */
const ANALYSES_KEPT = 32;
const analyses = new Map<string, PromptAnalysis>();

/**
 * {@link analyzePrompt}, remembered for the last ANALYSES_KEPT prompts: the same prompt is often written
 * again with another seed, mood or genre, and the tagger (compromise) takes milliseconds a prompt. The
 * analysis is shared: callers read it and never change it.
 */
export function analyzedPrompt(prompt: string): PromptAnalysis {
  let analysis = analyses.get(prompt);
  if (analysis) {
    // Most recently used last, so the oldest is dropped first.
    analyses.delete(prompt);
  } else {
    analysis = analyzePrompt(prompt);
    if (analyses.size >= ANALYSES_KEPT) analyses.delete(analyses.keys().next().value as string);
  }
  analyses.set(prompt, analysis);
  return analysis;
}
