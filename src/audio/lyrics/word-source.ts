/**
 * Feeds the grammar (grammar.ts `GrammarSource`) from a request's word pools (word-pools.ts): weighted
 * picks, the line's end word meeting the rhyme, repetition discouraged, the hook's subject offered first.
 */
import { wordWeights } from './fit.js';
import { valence } from './lexicon.js';
import type { AdjItem, GrammarSource, NounItem, Token, VerbForm, VerbItem } from './grammar.js';
import { adjectiveSuits } from './selection.js';
import { BIG_THINGS, OPENINGS, PERSON_ADJS, SONG_NOUNS, WAYS } from './song-words.js';
import { endSceneTaste, rhymeOf, type PoolWord, type Pools } from './word-pools.js';

/** Weight factors at a line's end of a word of the song's scene and of any other word (lyrics round 11). */
const SCENE_END_FACTOR = 3;
const FILLER_END_FACTOR = 0.3;
/** How much smaller a rhyme family a scene word may open than a filler (see `fits`). */
const SCENE_FAMILY_SLACK = 3;

/** Noun classes that make good line ends (images one can see or feel); others end lines less often. */
const IMAGE_CLASSES = new Set(['nature', 'weather', 'time', 'place', 'body', 'feeling', 'plant', 'being']);
/**
 * Whether a noun can be the object of a verb that handles it (hold, carry, lift, swing): not a building,
 * an opening, a way or a landmark (`carry your house`), and not a prompt's own thing of unknown size.
 */
function handleable(noun: NounItem): boolean {
  if (noun.cls !== 'artifact') return true;
  const w = noun.singular;
  if (BIG_THINGS.has(w) || OPENINGS.has(w) || WAYS.has(w)) return false;
  return !noun.prompt || SONG_NOUNS.has(w);
}

/** One word of a list as a line end: its form there and what `fits` asks of it, worked out once per request. */
interface EndEntry<T> {
  p: PoolWord<T>;
  form: string;
  rhyme: string;
  /** Size of the rhyme's family in the pools. */
  family: number;
  /** A word of the song's scene (`endSceneTaste` > 0). */
  scene: boolean;
  /** The weights at a line end (see `endList`): with a free end (no rhyme given, a pair's family) and with a bound one. */
  freeWord: PoolWord<T> | null;
  boundWord: PoolWord<T> | null;
}

/**
 * Lists drawn from one request's pools: the same for every variant of its song (a short song writes eight),
 * so they are built once per pools, not once per variant's `WordSource`.
 */
interface PoolLists {
  byClasses: Map<ReadonlySet<string>, Drawable<NounItem>>;
  handledByClasses: Map<ReadonlySet<string>, Drawable<NounItem>>;
  byFrames: Map<number, Drawable<VerbItem>>;
  /** Per list and end form (`plural`, `past`, `adj` …), its words as line ends (`EndEntry`). */
  ends: Map<readonly PoolWord<unknown>[], Map<string, EndEntry<unknown>[]>>;
  /** Per entries (`ends`) and rhyme need (`needKey`), the entries the need alone lets end a line (`NeedList`). */
  needLists: Map<readonly EndEntry<unknown>[], Map<string, NeedList<unknown>>>;
  /** Per unfiltered entries, the subsets kept by a filter (`endEntries`'s `suits`), by the kept positions. */
  keptEntries: Map<readonly EndEntry<unknown>[], Map<string, EndEntry<unknown>[]>>;
  /** Adjectives of a list that suit a noun (`suitingList`), per list and noun key. */
  suiting: Map<PoolWord<AdjItem>[], Map<string, Drawable<AdjItem>>>;
  /** Attributive adjectives by syllable count (negative: a thing's), see `fillAdjective`. */
  adjsBySize: Map<number, Drawable<AdjItem>>;
  /** Of those, the ones that suit a noun, per size key and noun key. */
  sizedSuiting: Map<number, Map<string, Drawable<AdjItem>>>;
  /** The pools' nouns by key. */
  nounKeys: Map<string, NounItem> | null;
  /** Verbs of the given base forms (`verbAmong`), per bases joined by spaces. */
  verbLists: Map<string, Drawable<VerbItem>>;
  /** The pools' own adjective lists (`adj`) as drawn from. */
  adjLists: Map<PoolWord<AdjItem>[], Drawable<AdjItem>>;
}
const poolLists = new WeakMap<Pools, PoolLists>();
function listsOf(pools: Pools): PoolLists {
  let lists = poolLists.get(pools);
  if (!lists) {
    lists = {
      byClasses: new Map(),
      handledByClasses: new Map(),
      byFrames: new Map(),
      ends: new Map(),
      needLists: new Map(),
      keptEntries: new Map(),
      suiting: new Map(),
      adjsBySize: new Map(),
      sizedSuiting: new Map(),
      nounKeys: null,
      verbLists: new Map(),
      adjLists: new Map(),
    };
    poolLists.set(pools, lists);
  }
  return lists;
}

/**
 * The words a rhyme need alone lets end a line (before the line's avoided ends and worn rhymes), with their
 * end forms and rhyme parts: the same for every line and variant of a song, so built once per pools.
 */
interface NeedList<T> {
  words: Drawable<T>;
  forms: string[];
  rhymes: string[];
  /** Built on first use: the forms and rhyme parts as sets. */
  formSet: Set<string> | null;
  rhymeSet: Set<string> | null;
}

/**
 * A list of words drawn from (never changed once made) with its cumulative weights and its items' keys, for
 * `WordSource.choose`: a song draws from the same lists tens of thousands of times, its variants too, so
 * each list is indexed once where it is made and kept.
 */
interface Drawable<T> {
  list: readonly PoolWord<T>[];
  cumulative: Float64Array;
  keys: string[];
  /** Where a must-hold key sits in the list (-1: not there), per key asked for. */
  mustAt: Map<string, number>;
}
function drawable<T extends { key: string }>(list: readonly PoolWord<T>[]): Drawable<T> {
  const cumulative = new Float64Array(list.length);
  const keys = new Array<string>(list.length);
  let total = 0;
  for (let i = 0; i < list.length; i++) {
    cumulative[i] = total += list[i].weight;
    keys[i] = list[i].item.key;
  }
  return { list, cumulative, keys, mustAt: new Map() };
}

/** A noun's form at a line end, in the singular and in the plural (a name or a noun without a plural keeps its one form). */
/** The adjectives of `list` that suit `noun` (`adjectiveSuits`), kept in `cache` under `key` and the noun. */
function suitingIn<K>(
  cache: Map<K, Map<string, Drawable<AdjItem>>>,
  key: K,
  list: readonly PoolWord<AdjItem>[],
  noun: NounItem,
): Drawable<AdjItem> {
  let byNoun = cache.get(key);
  if (!byNoun) {
    byNoun = new Map();
    cache.set(key, byNoun);
  }
  let out = byNoun.get(noun.key);
  if (!out) {
    out = drawable(list.filter((p) => adjectiveSuits(p.item.word, noun, PERSON_ADJS)));
    byNoun.set(noun.key, out);
  }
  return out;
}

const singularEnd = (item: NounItem): string => (item.pluralOnly && item.plural && !item.name ? item.plural : item.singular);
const pluralEnd = (item: NounItem): string => (item.plural && !item.name ? item.plural : item.singular);
/** A verb's form at a line end, per form. */
const VERB_FORMS: Record<VerbForm, (item: VerbItem) => string> = {
  base: (item) => item.base,
  s3: (item) => item.s3,
  past: (item) => item.past,
  ger: (item) => item.ger,
};
const adjEnd = (item: AdjItem): string => item.word;

/** The tag of a list's unfiltered end entries (no caller's tag is empty). */
const UNFILTERED = '';

/** Rhyme constraint on a line's last word: a rhyme part, or a family at least this large. */
export type RhymeNeed = { rhyme: string } | { family: number } | null;

/** Feeds the grammar: weighted picks from the pools, the end word meeting the rhyme, repetition discouraged. */
export class WordSource implements GrammarSource {
  private needValue: RhymeNeed = null;
  private avoidValue: ReadonlySet<string> = new Set();
  /**
   * Lists already filtered for a line end, per rhyme need (`needKey`): a line's searches go back and forth
   * between its rhyme and none, so each need's lists are kept until the avoided ends or the rhyme counts
   * change (then all are dropped), not rebuilt at each pass.
   */
  private readonly endListsByNeed = new Map<string, Map<unknown, unknown>>();
  private endLists = new Map<unknown, unknown>();
  /** Whether a word of the pools can end the line, per rhyme need (see `canEnd`). */
  private readonly endableByNeed = new Map<string, boolean>();

  get need(): RhymeNeed {
    return this.needValue;
  }
  set need(value: RhymeNeed) {
    this.needValue = value;
    this.needKey = !value ? '' : 'rhyme' in value ? `r${value.rhyme}` : `f${value.family}`;
    this.selectEndLists();
  }
  get avoidEnds(): ReadonlySet<string> {
    return this.avoidValue;
  }
  set avoidEnds(value: ReadonlySet<string>) {
    this.avoidValue = value;
    this.forgetEnds();
  }

  /** Counts a line end on `rhyme` (see `usedRhymes`). */
  countRhyme(rhyme: string): void {
    const count = (this.rhymeCounts.get(rhyme) ?? 0) + 1;
    this.rhymeCounts.set(rhyme, count);
    if (count >= 6) this.worn.add(rhyme);
    this.forgetEnds();
  }

  /** The need as a string (`r<rhyme>`, `f<family>`, '' for none), set with it. */
  private needKey = '';
  private forgetEnds(): void {
    this.endListsByNeed.clear();
    this.endableByNeed.clear();
    this.selectEndLists();
  }
  private selectEndLists(): void {
    const key = this.needKey;
    let lists = this.endListsByNeed.get(key);
    if (!lists) {
      lists = new Map();
      this.endListsByNeed.set(key, lists);
    }
    this.endLists = lists;
  }

  /**
   * Whether any word of the pools can end the line under the current rhyme need: a noun (either
   * number), a verb (any form), an adjective or an adverb that meets it and is not an end to avoid.
   * When none can, every derivation fails at its last slot, so a search pass for it is skipped.
   */
  canEnd(): boolean {
    if (!this.need) return true;
    let endable = this.endableByNeed.get(this.needKey);
    if (endable === undefined) {
      const ok = (form: string, rhymes: Map<string, string>): boolean => !!form && this.fits(form, rhymes.get(form));
      endable =
        this.pools.nouns.some((p) => ok(p.item.singular, p.rhymes) || ok(p.item.plural, p.rhymes)) ||
        this.pools.verbs.some(
          (p) => ok(p.item.base, p.rhymes) || ok(p.item.s3, p.rhymes) || ok(p.item.past, p.rhymes) || ok(p.item.ger, p.rhymes),
        ) ||
        this.pools.adjs.some((p) => ok(p.item.word, p.rhymes)) ||
        [...this.pools.objects.values()].some((n) => this.fits(n.singular, undefined)) ||
        this.pools.adverbs.some((w) => this.fits(w, undefined));
      this.endableByNeed.set(this.needKey, endable);
    }
    return endable;
  }

  /**
   * The words of `list` (`formOf`: each one's form at a line end; `tag` names that choice, and `suits`, if
   * given) that may end the line (`fits`), once per line end, then the list is reused. What `fits` asks of a
   * word (its rhyme, the rhyme's family, whether it is of the scene) is worked out once per request and
   * list (`EndEntry`): a song's lines and variants filter the same lists again and again.
   */
  private endList<T extends { key: string }>(
    list: readonly PoolWord<T>[],
    tag: string,
    formOf: (item: T) => string,
    suits: ((p: PoolWord<T>) => boolean) | null = null,
  ): Drawable<T> {
    let byTag = this.endLists.get(list) as Map<string, Drawable<T>> | undefined;
    if (!byTag) {
      byTag = new Map();
      this.endLists.set(list, byTag);
    }
    let out = byTag.get(tag);
    if (!out) {
      out = this.withoutAvoided(this.needList(this.endEntries(list, tag, formOf, suits)));
      byTag.set(tag, out);
    }
    return out;
  }

  /**
   * The entries that the current rhyme need alone lets end a line (`endFits` but for the avoided ends and the
   * worn rhymes), as their words at a line end (`endWord`), in list order; once per pools, entries and need.
   */
  private needList<T extends { key: string }>(entries: EndEntry<T>[]): NeedList<T> {
    let byNeed = this.lists.needLists.get(entries);
    if (!byNeed) {
      byNeed = new Map();
      this.lists.needLists.set(entries, byNeed);
    }
    const key = this.needKey;
    let made = byNeed.get(key) as NeedList<T> | undefined;
    if (!made) {
      const need = this.need;
      // (Not when the rhyme is given, nor for a group of three or four: then any word that meets it is
      // welcome, hip-hop's AAAA needs them all.)
      const free = !need || ('family' in need && need.family < 8);
      let from: EndEntry<T>[] = entries;
      if (need && 'rhyme' in need) {
        // One pass over the entries (their order kept): a need list is made once per entries and rhyme, and an index of
        // every rhyme part per entries cost more to build and to keep than the few rhymes a song asks of each.
        const rhyme = need.rhyme;
        from = entries.filter((e) => e.rhyme === rhyme);
      } else if (need) {
        // Only for a pair (family 7, writer.ts): a group of three or four (hip-hop's AAAA) needs the larger family.
        const wanted = need.family;
        const slack = wanted < 8 ? SCENE_FAMILY_SLACK : 0;
        from = entries.filter((e) => e.family >= wanted - (e.scene ? slack : 0));
      }
      made = {
        words: drawable(from.map((e) => this.endWord(e, free))),
        forms: from.map((e) => e.form),
        rhymes: from.map((e) => e.rhyme),
        formSet: null,
        rhymeSet: null,
      };
      byNeed.set(key, made as NeedList<unknown>);
    }
    return made;
  }

  /**
   * A need list's words without the line's avoided ends and, for a family need, the rhymes already worn
   * (`endFits`); the need list's own array when it holds none of them, so its index (`indexOf`) is reused.
   */
  private withoutAvoided<T extends { key: string }>(made: NeedList<T>): Drawable<T> {
    const need = this.need;
    const family = !!need && 'family' in need;
    const avoid = this.avoidEnds;
    let hit = false;
    if (made.forms.length <= avoid.size) {
      for (const f of made.forms) if (avoid.has(f)) hit = true;
    } else if (avoid.size) {
      made.formSet ??= new Set(made.forms);
      for (const f of avoid) if (made.formSet.has(f)) hit = true;
    }
    if (!hit && family && this.worn.size) {
      made.rhymeSet ??= new Set(made.rhymes);
      for (const r of this.worn) if (made.rhymeSet.has(r)) hit = true;
    }
    if (!hit) return made.words;
    const words = made.words.list;
    const out: PoolWord<T>[] = [];
    for (let i = 0; i < words.length; i++) {
      if (avoid.has(made.forms[i])) continue;
      if (family && (this.rhymeCounts.get(made.rhymes[i]) ?? 0) >= 6) continue;
      out.push(words[i]);
    }
    return drawable(out);
  }

  /**
   * An entry's word with its weight at a line end. Images make better line ends than abstractions: their
   * weight is raised at the end of a line; and the song's own words (the prompt's, their relatives, the mood's
   * images) are offered as rhyme words far more often than fillers of the rhyme (lyrics round 11; the line's
   * score weighs the same, line-search.ts).
   */
  private endWord<T>(e: EndEntry<T>, free: boolean): PoolWord<T> {
    const made = free ? e.freeWord : e.boundWord;
    if (made) return made;
    const cls = (e.p.item as { cls?: string }).cls;
    const own = !free ? 1 : e.scene ? SCENE_END_FACTOR : FILLER_END_FACTOR;
    const word = { ...e.p, weight: (cls && IMAGE_CLASSES.has(cls) ? 2 : 1) * own * e.p.weight };
    if (free) e.freeWord = word;
    else e.boundWord = word;
    return word;
  }

  /** The entries of `list` for an end form (`tag`), built on first use for the request's pools. */
  private endEntries<T extends { key: string }>(
    list: readonly PoolWord<T>[],
    tag: string,
    formOf: (item: T) => string,
    suits: ((p: PoolWord<T>) => boolean) | null,
  ): EndEntry<T>[] {
    const ends = listsOf(this.pools).ends;
    let byTag = ends.get(list);
    if (!byTag) {
      byTag = new Map();
      ends.set(list, byTag);
    }
    let entries = byTag.get(tag) as EndEntry<T>[] | undefined;
    if (!entries && suits) {
      // The list's entries once, then those that suit, shared by every tag (an adjective list's nouns) that keeps the
      // same ones: its need lists and their indexes are then built once for all of them.
      const all = this.endEntries(list, UNFILTERED, formOf, null);
      const kept: EndEntry<T>[] = [];
      let signature = '';
      for (let i = 0; i < all.length; i++) {
        if (!suits(all[i].p)) continue;
        kept.push(all[i]);
        signature += `${i},`;
      }
      let bySignature = this.lists.keptEntries.get(all);
      if (!bySignature) {
        bySignature = new Map();
        this.lists.keptEntries.set(all, bySignature);
      }
      entries = (bySignature.get(signature) as EndEntry<T>[] | undefined) ?? kept;
      bySignature.set(signature, entries as EndEntry<unknown>[]);
      byTag.set(tag, entries as EndEntry<unknown>[]);
    }
    if (!entries) {
      entries = [];
      for (const p of list) {
        const form = formOf(p.item);
        const rhyme = p.rhymes.get(form) ?? rhymeOf(form);
        entries.push({
          p,
          form,
          rhyme,
          family: this.pools.families.get(rhyme) ?? 0,
          scene: endSceneTaste(this.pools, p.item.key) > 0,
          freeWord: null,
          boundWord: null,
        });
      }
      byTag.set(tag, entries as EndEntry<unknown>[]);
    }
    return entries;
  }
  /** Force this key into the line (the hook's subject): the pools offer it first. */
  get must(): string | null {
    return this.mustValue;
  }
  set must(value: string | null) {
    this.mustValue = value;
  }
  private mustValue: string | null = null;
  private readonly lists: PoolLists;

  constructor(
    readonly random: () => number,
    private readonly pools: Pools,
    private readonly used: Map<string, number>,
  ) {
    this.lists = listsOf(pools);
  }

  /** Whether `form` may end the line (see `endFits`); its rhyme part, when the caller has it, is `rhyme`. */
  private fits(form: string, rhyme: string | undefined): boolean {
    if (!this.need) return !this.avoidEnds.has(form);
    const r = rhyme ?? rhymeOf(form);
    return this.endFits(form, r, this.pools.families.get(r) ?? 0, false);
  }

  /**
   * Whether a word may end the line: not an end to avoid, and on the rhyme or in a family (`family`, its
   * size in the pools) large enough for the rhyme group; a word of the song's scene (`scene`, lyrics round 11)
   * may open a pair's family smaller by SCENE_FAMILY_SLACK, so a prompt word like `lake` can set the rhyme.
   */
  private endFits(form: string, rhyme: string, family: number, scene: boolean): boolean {
    if (this.avoidEnds.has(form)) return false;
    const need = this.need;
    if (!need) return true;
    if ('rhyme' in need) return rhyme === need.rhyme;
    // Only for a pair (family 7, writer.ts): a group of three or four (hip-hop's AAAA) needs the larger family.
    const slack = need.family < 8 && scene ? SCENE_FAMILY_SLACK : 0;
    return family >= need.family - slack && (this.rhymeCounts.get(rhyme) ?? 0) < 6;
  }
  /**
   * Keys not drawn any more (the must-hold word aside): words whose root, not the prompt's, is already in two
   * of the song's lines (lyrics round 12: `light` in a third line, where the line score's penalty did not
   * stop a rhyme that only it met).
   */
  spent: ReadonlySet<string> = new Set();
  /**
   * Keys never drawn (the must-hold word aside): people the song has no reason to name (`There is a father in
   * the nights` in a song about summer nights; lyrics round 17, `strangerKeys`).
   */
  withheld: ReadonlySet<string> = new Set();
  /** Line ends per rhyme sound so far: a sound used four times is not picked for a new pair (not `snow`/`glow` all song long). */
  get usedRhymes(): ReadonlyMap<string, number> {
    return this.rhymeCounts;
  }
  private readonly rhymeCounts = new Map<string, number>();
  /** Rhyme parts ending six lines or more: no family need's line ends on them (`endFits`). */
  private readonly worn = new Set<string>();

  /**
   * A weighted pick. Without a filter, a binary search on the list's cumulative weights, a word used
   * before kept with probability 1 / (1 + 3 × uses); with one (line ends), a pass over the list.
   */
  private choose<T extends { key: string }>(index: Drawable<T>, ok: ((p: PoolWord<T>) => boolean) | null): T | null {
    const list = index.list;
    const must = this.mustValue;
    if (must && this.random() < 0.8) {
      let at = index.mustAt.get(must);
      if (at === undefined) {
        at = index.keys.indexOf(must);
        index.mustAt.set(must, at);
      }
      const forced = at >= 0 ? list[at] : undefined;
      if (forced && (!ok || ok(forced))) return forced.item;
    }
    const keys = index.keys;
    if (!ok) {
      const cum = index.cumulative;
      if (!list.length || !(cum[list.length - 1] > 0)) return null;
      for (let attempt = 0; attempt < 6; attempt++) {
        const r = this.random() * cum[list.length - 1];
        let lo = 0;
        let hi = list.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cum[mid] > r) hi = mid;
          else lo = mid + 1;
        }
        const key = keys[lo];
        if (this.spent.has(key) || this.withheld.has(key)) continue;
        const used = this.used.get(key) ?? 0;
        if (used === 0 || this.random() < 1 / (1 + 3 * used)) return list[lo].item;
      }
      return null;
    }
    let total = 0;
    const weights = new Float64Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (!ok(p) || this.spent.has(keys[i]) || this.withheld.has(keys[i])) continue;
      const w = p.weight / (1 + 3 * (this.used.get(keys[i]) ?? 0));
      weights[i] = w;
      total += w;
    }
    if (!(total > 0)) return null;
    let r = this.random() * total;
    for (let i = 0; i < list.length; i++) {
      r -= weights[i];
      if (r < 0 && weights[i] > 0) return list[i].item;
    }
    for (let i = list.length - 1; i >= 0; i--) if (weights[i] > 0) return list[i].item;
    return null;
  }

  noun(classes: ReadonlySet<string>, end: boolean, plural: boolean, handled = false): NounItem | null {
    const cache = handled ? this.lists.handledByClasses : this.lists.byClasses;
    let list = cache.get(classes);
    if (!list) {
      // The prompt's nouns and names only where their class fits (not `read the house`, not `show Monday`);
      // a verb that handles its object (hold, carry, lift) takes small things, not houses, roads or a
      // prompt's thing of unknown size (`lift my factory`).
      list = drawable(this.pools.nouns.filter((n) => classes.has(n.item.cls) && (!handled || handleable(n.item))));
      cache.set(classes, list);
    }
    // The word a line must hold (the hook's subject) goes where a phrase head or a subject goes, whatever its class.
    if (this.must && !end && !handled && this.random() < 0.3 && classes.has('place')) {
      const forced = this.mustNoun();
      if (forced) return forced;
    }
    if (!end) return this.choose(list, null);
    const ends = this.endList(list.list, plural ? 'plural' : 'singular', plural ? pluralEnd : singularEnd);
    return this.choose(ends, null);
  }

  verb(frames: number, end: boolean, form: VerbForm): VerbItem | null {
    let list = this.lists.byFrames.get(frames);
    if (!list) {
      list = drawable(this.pools.verbs.filter((p) => (p.item.frames & frames) !== 0));
      this.lists.byFrames.set(frames, list);
    }
    if (!end) return this.choose(list, null);
    const ends = this.endList(list.list, form, VERB_FORMS[form]);
    return this.choose(ends, null);
  }

  adj(end: boolean, person = false, attributive = false, noun?: NounItem): AdjItem | null {
    const own = attributive && noun ? this.pools.described.get(noun.key) : undefined;
    if (own && !end && this.random() < 0.6) return own;
    const list = attributive
      ? noun && noun.cls !== 'being'
        ? this.pools.attributiveThingAdjs
        : this.pools.attributiveAdjs
      : person && this.pools.personAdjs.length
        ? this.pools.personAdjs
        : this.pools.thingAdjs.length
          ? this.pools.thingAdjs
          : this.pools.adjs;
    // Only adjectives that can describe the noun (`the lost rain`, `my black friend`, `the night is high`: selection.ts).
    if (!end) return this.choose(noun ? this.suitingList(list, noun) : this.adjList(list), null);
    // (An end list per noun, tagged by the noun's key: no other tag of these lists has a colon.)
    const suits = noun ? (p: PoolWord<AdjItem>) => adjectiveSuits(p.item.word, noun, PERSON_ADJS) : null;
    return this.choose(this.endList(list, noun ? noun.key : 'adj', adjEnd, suits), null);
  }

  /** One of the pools' adjective lists as drawn from. */
  private adjList(list: PoolWord<AdjItem>[]): Drawable<AdjItem> {
    let made = this.lists.adjLists.get(list);
    if (!made) {
      made = drawable(list);
      this.lists.adjLists.set(list, made);
    }
    return made;
  }

  /** `list` narrowed to the adjectives that suit `noun` (`adjectiveSuits`), once per list and noun. */
  private suitingList(list: PoolWord<AdjItem>[], noun: NounItem): Drawable<AdjItem> {
    return suitingIn(this.lists.suiting, list, list, noun);
  }

  /**
   * An attributive adjective of `syllables` syllables whose metrical weights pass `ok` (where its
   * stress would land), not already in `line`; a weighted pick, null when none fits.
   */
  fillAdjective(syllables: number, ok: (weights: readonly number[]) => boolean, line: readonly Token[], nounKey?: string): AdjItem | null {
    // A thing takes no person's adjective (`this proud playground`), a person no colour (selection.ts).
    const noun = nounKey ? this.nounByKey().get(nounKey) : undefined;
    const thing = !!noun && noun.cls !== 'being';
    const sizeKey = thing ? -syllables : syllables;
    let sized = this.lists.adjsBySize.get(sizeKey);
    if (!sized) {
      const from = thing ? this.pools.attributiveThingAdjs : this.pools.attributiveAdjs;
      sized = drawable(from.filter((p) => wordWeights(p.item.word).length === syllables));
      this.lists.adjsBySize.set(sizeKey, sized);
    }
    // Those that suit the noun first, once per noun: the pick over what remains is the same (same order, same weights).
    return this.choose(
      noun ? this.suitingSized(sizeKey, sized, noun) : sized,
      (p) => ok(wordWeights(p.item.word)) && !line.some((t) => t.key === p.item.key),
    );
  }

  /** The adjectives of `sized` (`adjsBySize` at `sizeKey`) that suit `noun` (`adjectiveSuits`), once per size and noun. */
  private suitingSized(sizeKey: number, sized: Drawable<AdjItem>, noun: NounItem): Drawable<AdjItem> {
    return suitingIn(this.lists.sizedSuiting, sizeKey, sized.list, noun);
  }
  /** The pools' nouns by key (built on first use). */
  private nounByKey(): Map<string, NounItem> {
    let keys = this.lists.nounKeys;
    if (!keys) {
      keys = new Map();
      for (const n of this.pools.nouns) if (!keys.has(n.item.key)) keys.set(n.item.key, n.item);
      this.lists.nounKeys = keys;
    }
    return keys;
  }

  mustNoun(): NounItem | null {
    if (!this.must) return null;
    if (this.mustCache?.key !== this.must) this.mustCache = { key: this.must, noun: this.nounByKey().get(this.must) ?? null };
    return this.mustCache.noun;
  }
  private mustCache: { key: string; noun: NounItem | null } | null = null;

  verbAmong(bases: readonly string[]): VerbItem | null {
    const key = bases.join(' ');
    let list = this.lists.verbLists.get(key);
    if (!list) {
      const wanted = new Set(bases);
      list = drawable(this.pools.verbs.filter((p) => wanted.has(p.item.base)));
      this.lists.verbLists.set(key, list);
    }
    return this.choose(list, null);
  }

  opposesMood(word: string): boolean {
    return this.pools.polarity * valence(word) < 0;
  }

  fitsEnd(form: string): boolean {
    return this.fits(form, undefined);
  }

  objectOf(verbKey: string, end: boolean): NounItem | null {
    const noun = this.pools.objects.get(verbKey);
    if (!noun) return null;
    if (end && !this.fits(noun.singular, undefined)) return null;
    return noun;
  }

  adverb(end: boolean): string | null {
    const options = this.pools.adverbs.filter((a) => !end || this.fits(a, undefined));
    return options.length ? options[Math.floor(this.random() * options.length)] : null;
  }
}
