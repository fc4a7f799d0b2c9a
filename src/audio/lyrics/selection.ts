/**
 * Selectional preferences of the embedded writer (lyrics round 10): which adjectives a noun of each
 * WordNet class can take, which verbs can be told to someone, which verbs take `for`, and which content
 * words share a root. The noun and verb classes are WordNet's lexicographer files (the lexicon's `cls`,
 * noun.person → `being`, noun.phenomenon → `weather` … see scripts/build-lexicon.ts); the tables of which
 * adjective suits which class are ours, written by reading the writer's output (docs/decisions.md,
 * "Lyrics round 10"): `the lost rain`, `my black friend`, `the night is high` and `Miss the rain` read as
 * nonsense to a person although each parses.
 */
import nlp from 'compromise';
import { lexicon } from './lexicon.js';
import type { NounItem } from './grammar-words.js';

const words = (s: string): string[] => s.split(/\s+/).filter(Boolean);
const classes = (s: string): ReadonlySet<string> => new Set(words(s));

/**
 * Adjectives by kind, and the noun classes they can describe (attributively or after `be`). An adjective
 * not listed describes any class it is offered for (the pools already keep a person's feelings off things).
 * `thing` is a prompt's noun of unknown class: a colour or a height may suit it, so it stays allowed there.
 */
const ADJECTIVE_KINDS: [string, ReadonlySet<string>][] = [
  // Colours and metals describe what one sees: not a person (`my black friend`), a feeling or a word.
  [
    'black white red blue green gray grey yellow purple golden silver scarlet crimson emerald velvet crystal',
    classes('artifact nature plant weather matter body time place food thing'),
  ],
  // The weather of a day or a place (`a rainy afternoon`), not of the weather itself or of a person.
  ['rainy stormy windy misty foggy snowy cloudy sunny starry shady', classes('time place nature artifact thing')],
  // Height and level: hills, walls, voices; not a time (`the night is high`) nor the weather (`the low snow`).
  ['high low', classes('nature artifact place word matter body thing')],
  // Dry and wet: land, water, skin and things, not a time or a feeling (`the wild night was dry`).
  ['dry wet muddy dusty', classes('nature matter body place artifact plant weather food thing')],
  // What can be lost: not the weather or nature (`the lost rain`, `my lost ocean`), nor a sense (`my lost smell`).
  ['lost', classes('being place time artifact feeling word state act event body thing')],
  // Holy things are places, words and days, not the snow (`the sacred snow`).
  ['sacred holy', classes('place word time artifact event feeling mind thing')],
  ['secret hidden', classes('word place artifact feeling mind being thing')],
  // Bitter words, winds and winters, not an ocean or the stars.
  ['bitter', classes('feeling word weather food time being state mind')],
  ['painful', classes('feeling word mind event act time state body')],
  ['open', classes('artifact place nature body thing')],
  ['true', classes('being feeling word mind state')],
  ['easy', classes('time act event word')],
  ['rare', classes('artifact plant matter food')],
  ['painted', classes('artifact nature body place thing')],
  ['heavy', classes('artifact weather body feeling time matter')],
  ['deep', classes('nature feeling mind place time word')],
  ['clear', classes('nature weather word time matter')],
  ['empty', classes('place artifact time body thing')],
  ['endless', classes('time place nature weather feeling')],
  ['hollow', classes('artifact body word feeling')],
  ['faded', classes('artifact word feeling plant time body')],
  ['young', classes('being time plant body')],
  ['frozen', classes('nature matter body place weather time')],
  ['broken', classes('artifact body feeling word being state mind place thing')],
  ['fallen', classes('being plant nature')],
  ['stolen', classes('artifact time act feeling word thing')],
  ['wild', classes('being nature plant weather place feeling time')],
  ['wide', classes('nature place artifact body thing')],
  ['rusty', classes('artifact matter')],
  ['dirty', classes('artifact body place matter thing')],
  ['naked', classes('being body plant nature')],
  ['narrow', classes('place artifact thing')],
];
const ADJECTIVE_CLASSES = new Map<string, ReadonlySet<string>>();
for (const [list, cls] of ADJECTIVE_KINDS) for (const w of words(list)) ADJECTIVE_CLASSES.set(w, cls);

/**
 * Whether an adjective can describe a noun: the adjective's kind allows the noun's class, and a person
 * (`being`) takes only the adjectives that can say how a person is (`personAdjs`: `my old friend`,
 * `the lonely soldier`, never `the yellow friends` or `the dry lover`).
 */
export function adjectiveSuits(adjective: string, noun: NounItem, personAdjs: ReadonlySet<string>): boolean {
  if (noun.cls === 'being' && !noun.name && !personAdjs.has(adjective) && !PERSON_DESCRIBERS.has(adjective)) return false;
  const allowed = ADJECTIVE_CLASSES.get(adjective);
  return !allowed || allowed.has(noun.cls);
}

/** Words that describe a person besides how one feels (`my old friend`, `the last soldier`). */
const PERSON_DESCRIBERS = new Set(words('old young new little first last final only dear distant familiar faithful ancient'));

/**
 * Verbs no one is told to do: a line does not open on their imperative (`Miss the lost rain`, `Want a
 * house`, `Need me`). One misses or wants; one is asked to hold, call, remember, come back.
 */
export const NOT_IMPERATIVE = new Set(
  words('miss want need lose regret mourn grieve hate know own deserve lack win reach fear envy suffer hurt fail'),
);

/**
 * Whether `for` may follow a verb (`I wait for you`, `we pray for the soldier`): not after a verb of
 * moving or of light and change (WordNet verb.motion, verb.weather, verb.change: `cross for my friend`,
 * `we glow for you`), which take `with` or `to`.
 */
export function takesFor(verb: { cls: string }): boolean {
  return verb.cls !== 'move' && verb.cls !== 'weather' && verb.cls !== 'change';
}

/**
 * Prepositions of a path (lyrics round 15): `toward the lake`, `into the snow`, `across the city` need a verb that moves
 * along it (WordNet verb.motion, `move`). After any other verb the phrase says where, with the preposition of place
 * each maps to: `Touch me by the hill`, not `Touch me toward the hill`; `I played records in the snow`, not `into`.
 */
const PATH_TO_PLACE: Readonly<Record<string, string>> = {
  toward: 'by',
  towards: 'by',
  into: 'in',
  across: 'through',
  along: 'by',
  beyond: 'by',
  down: 'on',
};

/** The preposition a phrase after this verb takes: a path's own after a verb of motion, its place's after any other. */
export function prepositionAfter(prep: string, verb: { cls: string }): string {
  return verb.cls === 'move' ? prep : (PATH_TO_PLACE[prep] ?? prep);
}

/**
 * Verbs of a state, not an action (lyrics round 15): they take no progressive (`we were knowing`, `I was seeing`), and
 * with their object they take no place or weather after it (`You miss your war in the light`, `lose love by the skies`,
 * `I forget my records in the snow`): one knows, misses or loses a thing, not somewhere. A time may follow (`I knew
 * the music in the night`). Vendler's states among our verbs; WordNet's classes do not mark them (verb.cognition
 * holds `know` and `read`, verb.perception `see` and `watch`).
 */
export const STATE_VERBS = new Set(
  words(
    'know believe understand remember forget recognize realize mean doubt own possess belong deserve need want prefer love hate like miss lose find see hear regret mourn envy fear',
  ),
);

/** Whether a verb reads in the progressive (`we were dancing`, not `we were knowing`): not a verb of a state. */
export function takesProgressive(verb: { base: string }): boolean {
  return !STATE_VERBS.has(verb.base) || PROGRESSIVE_STATES.has(verb.base);
}

/** States that still read in the progressive, as something going on: `I was missing you`, `we were losing`, `they are mourning`. */
const PROGRESSIVE_STATES = new Set(words('miss lose mourn'));

/**
 * Nouns there is one of (lyrics round 16): `the sun`, never `a sun` (`There is a sun in the spring`, `we reach a quiet
 * sky`). A short list: WordNet marks the sun and the moon as instances but not the sky or the world, and compromise
 * tags none of them; these are the ones our pools hold (the plural `skies` still reads).
 */
export const ONE_OF_A_KIND = new Set(words('sun moon sky earth world horizon'));

/** Whether a noun is one there is only one of (`ONE_OF_A_KIND`): it takes `the`, and `there is` does not introduce it. */
export function oneOfAKind(noun: { singular: string; name?: boolean }): boolean {
  return !noun.name && ONE_OF_A_KIND.has(noun.singular);
}

/**
 * Verb classes of a person's deeds (lyrics round 16): WordNet's verb.communication, verb.social, verb.emotion,
 * verb.cognition, verb.consumption, verb.possession and verb.competition (the lexicon's `say`, `social`, `feel`,
 * `mind`, `consume`, `have`, `compete`). WordNet gives many of them the frame `Something ----s` (`cry`, `act`), so a
 * thing could do them: `the stone cries`, `the new winter cries`, `the tree was screaming`.
 */
const PERSON_DEED_CLASSES = classes('say social feel mind consume have compete');
/** Sounds a thing makes, though their class is a person's (verb.communication): `the hall echoes`, `the wind howls`. */
const THING_SOUNDS = new Set(words('echo roar sound ring hum howl moan whisper sing'));

/** Whether a thing (not a being) may be the subject of this verb: not of a person's deeds (`PERSON_DEED_CLASSES`). */
export function thingMay(verb: { base: string; cls: string }): boolean {
  return !PERSON_DEED_CLASSES.has(verb.cls) || THING_SOUNDS.has(verb.base);
}

/**
 * Verbs that need their object (lyrics round 16): WordNet gives them the frame `Somebody ----s` for a sense we do not
 * mean (`see`: understand, `meet`: assemble), so a clause could end on them: `Later, in the morning, we see`, `In the
 * night, I could not meet`. They are written with an object only. A short list, of our verbs.
 */
const NEEDS_OBJECT = new Set(words('see meet find catch hold carry lift touch bring take reach greet need want'));

/**
 * Whether the verb reads without an object (`we wait`, not `we see`: `NEEDS_OBJECT`); `meet` does for a plural
 * subject (`we meet in the rain`, not `I meet`).
 */
export function standsAlone(verb: { base: string }, plural = false): boolean {
  return !NEEDS_OBJECT.has(verb.base) || (plural && verb.base === 'meet');
}

const rootCache = new Map<string, readonly string[]>();

/**
 * Roots of a content word's key (`a:lost` → lost, lose; `a:fallen` → fallen, fall; `v:lose` → lose): the
 * word, the verbs and nouns any of whose forms it is (the lexicon's inflections: past, gerund), and for an
 * adjective the verb it is a participle of (compromise's infinitive of `have <word>`). Two keys of a line
 * sharing a root say one thing twice (`I will lose my lost smell`).
 */
export function rootsOf(key: string): readonly string[] {
  let roots = rootCache.get(key);
  if (!roots) {
    const word = key.slice(key.indexOf(':') + 1).toLowerCase();
    const out = new Set([word]);
    for (const w of lexicon().byForm.get(word) ?? []) if (w.pos === 'v' || w.pos === 'n') out.add(w.word);
    if (key.startsWith('a:') && /(en|ed|n|t)$/.test(word)) {
      const verb = (nlp(`we have ${word}`).verbs().toInfinitive().text() as string).toLowerCase().replace(/^we have /, '');
      if (verb && verb !== word && verb !== 'have' && !verb.includes(' ') && lexicon().byKey.has(`v:${verb}`)) out.add(verb);
    }
    roots = [...out];
    rootCache.set(key, roots);
  }
  return roots;
}

/** Whether two of these keys (a line's content words) share a root (see `rootsOf`); the same key twice counts. */
export function repeatsRoot(keys: readonly string[]): boolean {
  const seen = new Set<string>();
  for (const k of keys) {
    const roots = rootsOf(k);
    for (const r of roots) if (seen.has(r)) return true;
    for (const r of roots) seen.add(r);
  }
  return false;
}
