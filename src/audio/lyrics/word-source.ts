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

/** Rhyme constraint on a line's last word: a rhyme part, or a family at least this large. */
export type RhymeNeed = { rhyme: string } | { family: number } | null;

/** Feeds the grammar: weighted picks from the pools, the end word meeting the rhyme, repetition discouraged. */
export class WordSource implements GrammarSource {
  private needValue: RhymeNeed = null;
  private avoidValue: ReadonlySet<string> = new Set();
  /** Lists already filtered for the current line end (cleared when the rhyme or the avoided ends change). */
  private readonly endLists = new Map<unknown, unknown>();

  get need(): RhymeNeed {
    return this.needValue;
  }
  set need(value: RhymeNeed) {
    this.needValue = value;
    this.endLists.clear();
    this.endable = null;
  }
  get avoidEnds(): ReadonlySet<string> {
    return this.avoidValue;
  }
  set avoidEnds(value: ReadonlySet<string>) {
    this.avoidValue = value;
    this.endLists.clear();
    this.endable = null;
  }

  /** Whether a word of the pools can end the line under the current rhyme need (cleared with it). */
  private endable: boolean | null = null;

  /**
   * Whether any word of the pools can end the line under the current rhyme need: a noun (either
   * number), a verb (any form), an adjective or an adverb that meets it and is not an end to avoid.
   * When none can, every derivation fails at its last slot, so a search pass for it is skipped.
   */
  canEnd(): boolean {
    if (!this.need) return true;
    if (this.endable === null) {
      const ok = (form: string, rhymes: Map<string, string>): boolean => !!form && this.fits(form, rhymes.get(form));
      this.endable =
        this.pools.nouns.some((p) => ok(p.item.singular, p.rhymes) || ok(p.item.plural, p.rhymes)) ||
        this.pools.verbs.some(
          (p) => ok(p.item.base, p.rhymes) || ok(p.item.s3, p.rhymes) || ok(p.item.past, p.rhymes) || ok(p.item.ger, p.rhymes),
        ) ||
        this.pools.adjs.some((p) => ok(p.item.word, p.rhymes)) ||
        [...this.pools.objects.values()].some((n) => this.fits(n.singular, undefined)) ||
        this.pools.adverbs.some((w) => this.fits(w, undefined));
    }
    return this.endable;
  }

  /** `list` filtered by `ok` once per line end, then the filtered list is reused. */
  private endList<T>(list: readonly PoolWord<T>[], tag: string, ok: (p: PoolWord<T>) => boolean): PoolWord<T>[] {
    let byTag = this.endLists.get(list) as Map<string, PoolWord<T>[]> | undefined;
    if (!byTag) {
      byTag = new Map();
      this.endLists.set(list, byTag);
    }
    let out = byTag.get(tag);
    if (!out) {
      // Images make better line ends than abstractions: their weight is raised at the end of a line; and the
      // song's own words (the prompt's, their relatives, the mood's images) are offered as rhyme words far
      // more often than fillers of the rhyme (lyrics round 11; the line's score weighs the same, line-search.ts).
      out = list.filter(ok).map((p) => {
        const cls = (p.item as { cls?: string }).cls;
        // (Not when the rhyme is given, nor for a group of three or four: then any word that meets it is
        // welcome, hip-hop's AAAA needs them all.)
        const scene = endSceneTaste(this.pools, (p.item as { key?: string }).key) > 0;
        const free = !this.need || ('family' in this.need && this.need.family < 8);
        const own = !free ? 1 : scene ? SCENE_END_FACTOR : FILLER_END_FACTOR;
        return { ...p, weight: (cls && IMAGE_CLASSES.has(cls) ? 2 : 1) * own * p.weight };
      });
      byTag.set(tag, out);
    }
    return out;
  }
  /** Force this key into the line (the hook's subject): the pools offer it first. */
  get must(): string | null {
    return this.mustValue;
  }
  set must(value: string | null) {
    if (value !== this.mustValue) this.mustAt.clear();
    this.mustValue = value;
  }
  private mustValue: string | null = null;
  /** Where the must-hold key sits in each list offered so far (-1: not there). */
  private readonly mustAt = new Map<readonly PoolWord<unknown>[], number>();
  private readonly classCache = new Map<ReadonlySet<string>, PoolWord<NounItem>[]>();
  private readonly handledCache = new Map<ReadonlySet<string>, PoolWord<NounItem>[]>();

  constructor(
    readonly random: () => number,
    private readonly pools: Pools,
    private readonly used: Map<string, number>,
  ) {}

  /**
   * Whether `form` may end the line: not an end to avoid, and on the rhyme or in a family large enough for
   * the rhyme group; a word of the song's scene (`key`, lyrics round 11) may open a pair's family smaller by
   * SCENE_FAMILY_SLACK, so a prompt word like `lake` can set the rhyme.
   */
  private fits(form: string, rhyme: string | undefined, key?: string): boolean {
    if (this.avoidEnds.has(form)) return false;
    const need = this.need;
    if (!need) return true;
    const r = rhyme ?? rhymeOf(form);
    if ('rhyme' in need) return r === need.rhyme;
    // Only for a pair (family 7, writer.ts): a group of three or four (hip-hop's AAAA) needs the larger family.
    const slack = need.family < 8 && key !== undefined && endSceneTaste(this.pools, key) > 0 ? SCENE_FAMILY_SLACK : 0;
    return (this.pools.families.get(r) ?? 0) >= need.family - slack && (this.usedRhymes.get(r) ?? 0) < 6;
  }
  /**
   * Keys not drawn any more (the must-hold word aside): words whose root, not the prompt's, is already in two
   * of the song's lines (lyrics round 12: `light` in a third line, where the line score's penalty did not
   * stop a rhyme that only it met).
   */
  spent: ReadonlySet<string> = new Set();
  /** Line ends per rhyme sound so far: a sound used four times is not picked for a new pair (not `snow`/`glow` all song long). */
  readonly usedRhymes = new Map<string, number>();

  private readonly cumulative = new Map<readonly PoolWord<unknown>[], Float64Array>();

  /**
   * A weighted pick. Without a filter, a binary search on the list's cumulative weights, a word used
   * before kept with probability 1 / (1 + 3 × uses); with one (line ends), a pass over the list.
   */
  private choose<T extends { key: string }>(list: readonly PoolWord<T>[], ok: ((p: PoolWord<T>) => boolean) | null): T | null {
    if (this.must && this.random() < 0.8) {
      let at = this.mustAt.get(list);
      if (at === undefined) {
        at = list.findIndex((p) => p.item.key === this.must);
        this.mustAt.set(list, at);
      }
      const forced = at >= 0 ? list[at] : undefined;
      if (forced && (!ok || ok(forced))) return forced.item;
    }
    if (!ok) {
      let cum = this.cumulative.get(list);
      if (!cum) {
        cum = new Float64Array(list.length);
        let total = 0;
        for (let i = 0; i < list.length; i++) cum[i] = total += list[i].weight;
        this.cumulative.set(list, cum);
      }
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
        if (this.spent.has(list[lo].item.key)) continue;
        const used = this.used.get(list[lo].item.key) ?? 0;
        if (used === 0 || this.random() < 1 / (1 + 3 * used)) return list[lo].item;
      }
      return null;
    }
    let total = 0;
    const weights = new Float64Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const p = list[i];
      if (!ok(p) || this.spent.has(p.item.key)) continue;
      const w = p.weight / (1 + 3 * (this.used.get(p.item.key) ?? 0));
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

  private readonly verbCache = new Map<number, PoolWord<VerbItem>[]>();

  noun(classes: ReadonlySet<string>, end: boolean, plural: boolean, handled = false): NounItem | null {
    const cache = handled ? this.handledCache : this.classCache;
    let list = cache.get(classes);
    if (!list) {
      // The prompt's nouns and names only where their class fits (not `read the house`, not `show Monday`);
      // a verb that handles its object (hold, carry, lift) takes small things, not houses, roads or a
      // prompt's thing of unknown size (`lift my factory`).
      list = this.pools.nouns.filter((n) => classes.has(n.item.cls) && (!handled || handleable(n.item)));
      cache.set(classes, list);
    }
    // The word a line must hold (the hook's subject) goes where a phrase head or a subject goes, whatever its class.
    if (this.must && !end && !handled && this.random() < 0.3 && classes.has('place')) {
      const forced = this.mustNoun();
      if (forced) return forced;
    }
    if (!end) return this.choose(list, null);
    const ends = this.endList(list, plural ? 'plural' : 'singular', (p) => {
      const form = (plural || p.item.pluralOnly) && p.item.plural && !p.item.name ? p.item.plural : p.item.singular;
      return this.fits(form, p.rhymes.get(form), p.item.key);
    });
    return this.choose(ends, null);
  }

  verb(frames: number, end: boolean, form: VerbForm): VerbItem | null {
    let list = this.verbCache.get(frames);
    if (!list) {
      list = this.pools.verbs.filter((p) => (p.item.frames & frames) !== 0);
      this.verbCache.set(frames, list);
    }
    if (!end) return this.choose(list, null);
    const ends = this.endList(list, form, (p) => {
      const f = p.item[form];
      return this.fits(f, p.rhymes.get(f), p.item.key);
    });
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
    const suits = noun ? (p: PoolWord<AdjItem>) => adjectiveSuits(p.item.word, noun, PERSON_ADJS) : null;
    if (!end) return suits ? this.choose(this.suitingList(list, noun as NounItem, suits), null) : this.choose(list, null);
    return this.choose(
      this.endList(
        list,
        noun ? `adj:${noun.key}` : 'adj',
        (p) => (!suits || suits(p)) && this.fits(p.item.word, p.rhymes.get(p.item.word), p.item.key),
      ),
      null,
    );
  }

  /** `list` narrowed to the adjectives that suit `noun`, once per list and noun. */
  private suitingList(list: PoolWord<AdjItem>[], noun: NounItem, ok: (p: PoolWord<AdjItem>) => boolean): PoolWord<AdjItem>[] {
    let byNoun = this.suiting.get(list);
    if (!byNoun) {
      byNoun = new Map();
      this.suiting.set(list, byNoun);
    }
    let out = byNoun.get(noun.key);
    if (!out) {
      out = list.filter(ok);
      byNoun.set(noun.key, out);
    }
    return out;
  }
  private readonly suiting = new Map<PoolWord<AdjItem>[], Map<string, PoolWord<AdjItem>[]>>();

  /**
   * An attributive adjective of `syllables` syllables whose metrical weights pass `ok` (where its
   * stress would land), not already in `line`; a weighted pick, null when none fits.
   */
  fillAdjective(syllables: number, ok: (weights: readonly number[]) => boolean, line: readonly Token[], nounKey?: string): AdjItem | null {
    // A thing takes no person's adjective (`this proud playground`), a person no colour (selection.ts).
    const noun = nounKey ? this.nounByKey().get(nounKey) : undefined;
    const thing = !!noun && noun.cls !== 'being';
    const sizeKey = thing ? -syllables : syllables;
    let sized = this.adjsBySize.get(sizeKey);
    if (!sized) {
      const from = thing ? this.pools.attributiveThingAdjs : this.pools.attributiveAdjs;
      sized = from.filter((p) => wordWeights(p.item.word).length === syllables);
      this.adjsBySize.set(sizeKey, sized);
    }
    return this.choose(
      sized,
      (p) =>
        ok(wordWeights(p.item.word)) &&
        !line.some((t) => t.key === p.item.key) &&
        (!noun || adjectiveSuits(p.item.word, noun, PERSON_ADJS)),
    );
  }
  private readonly adjsBySize = new Map<number, PoolWord<AdjItem>[]>();
  private nounKeys: Map<string, NounItem> | null = null;
  /** The pools' nouns by key (built on first use). */
  private nounByKey(): Map<string, NounItem> {
    if (!this.nounKeys) {
      this.nounKeys = new Map();
      for (const n of this.pools.nouns) if (!this.nounKeys.has(n.item.key)) this.nounKeys.set(n.item.key, n.item);
    }
    return this.nounKeys;
  }

  mustNoun(): NounItem | null {
    if (!this.must) return null;
    if (this.mustCache?.key !== this.must) this.mustCache = { key: this.must, noun: this.nounByKey().get(this.must) ?? null };
    return this.mustCache.noun;
  }
  private mustCache: { key: string; noun: NounItem | null } | null = null;

  verbAmong(bases: readonly string[]): VerbItem | null {
    const key = bases.join(' ');
    let list = this.verbLists.get(key);
    if (!list) {
      const wanted = new Set(bases);
      list = this.pools.verbs.filter((p) => wanted.has(p.item.base));
      this.verbLists.set(key, list);
    }
    return this.choose(list, null);
  }
  private readonly verbLists = new Map<string, PoolWord<VerbItem>[]>();

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
