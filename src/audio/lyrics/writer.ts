/**
 * The embedded lyrics writer: deterministic for a given seed, no network.
 *
 * 1. Content words are taken from the prompt (dictionary-known, stop words removed) and given a
 *    part of speech (bank entry, else suffix heuristics, capitalised mid-sentence words as names).
 * 2. A vocabulary is built from the general bank plus genre/mood banks (weighted up) and the prompt words.
 * 3. Phrases are grouped into sections (verse/chorus/bridge/outro, `planSections`) and each section's
 *    lines get rhyme groups from the genre's scheme (`rhymeSchemeForGenre`, `schemeGroups`).
 * 4. Each line is a search: many random instantiations of the line templates whose syllable count
 *    equals the phrase's note count (fewer only when no exact fit exists), rhyming where the scheme
 *    says so; each candidate is fitted to the notes (`fitSyllablesToNotes`, which rewards stressed
 *    syllables on long/strong-beat notes) and scored; the best wins. The first chorus is written
 *    before the verses so it gets the prompt's words first; later choruses repeat it.
 * 5. The result is checked (`checkLyrics`); on failure the next seed-derived variant is tried.
 */
import { createRandom } from '../random.js';
import type { NoteEvent, Phrase, SungNote, TempoEstimate } from '../types.js';
import { checkLyrics, lineFits, rhymeSchemeForGenre, schemeGroups, scoreLyrics } from './checks.js';
import { fitSyllablesToNotes, normalizePhrases, noteStrengths, planMelisma, relativeStrengths, syllabifyLine, wordWeights, type NoteSpan } from './fit.js';
import { LINE_TEMPLATES, type LineTemplate } from './line-templates.js';
import type { LyricLine, LyricSection, LyricsResult, LyricsWarning, RhymeScheme, SectionKind } from './lyrics-result.js';
import { isVowelPhone, lookupPhones, pronounce, rhymePart } from './pronouncing.js';
import { extractPromptWords, sanitizeText } from './sanitize.js';
import { bankWords, GENERAL_BANK, GENRE_BANKS, MOOD_BANKS, type SlotPos, type WordBank } from './word-banks.js';

export type { LyricsResult } from './lyrics-result.js';

export interface WriteLyricsRequest {
  /** What the song is about, 10–500 characters expected; anything is tolerated (sanitized). */
  prompt: string;
  /** e.g. `pop`, `folk`, `hip-hop`; picks the rhyme scheme and themed words. */
  genre: string;
  /** e.g. `happy`, `sad`, `romantic`; picks themed words. */
  mood: string;
  notes: NoteEvent[];
  phrases: Phrase[];
  tempo?: TempoEstimate | null;
  /** Any integer; the same seed and request give the same lyrics. */
  seed: number;
}

/** Variants tried when the output fails its own checks. */
const MAX_VARIANTS = 6;
/** Template instantiations tried per line and target length. */
const ATTEMPTS_PER_LINE = 36;
/** Longest single clause in syllables; longer phrases get several clauses joined by commas. */
const MAX_CLAUSE_SYLLABLES = 10;

interface VocabWord {
  key: string;
  /** Display form (names capitalised). */
  text: string;
  pos: SlotPos;
  syllables: number;
  rhyme: string;
  weight: number;
  prompt: boolean;
}

interface Vocabulary {
  byPos: Map<SlotPos, VocabWord[]>;
  pools: Map<SlotPos, SlotPool>;
  /** Rhyme part → number of distinct words with it. */
  families: Map<string, number>;
}

interface PromptWord {
  key: string;
  text: string;
  pos: SlotPos;
}

/* ------------------------------------------------------------------ vocabulary */

function posOfBanks(key: string): SlotPos | null {
  for (const pos of ['N', 'A', 'VI', 'G', 'X'] as SlotPos[]) if (bankWords(GENERAL_BANK, pos).includes(key)) return pos;
  for (const bank of [...Object.values(MOOD_BANKS), ...Object.values(GENRE_BANKS)]) {
    for (const pos of ['N', 'A', 'VI', 'G', 'X'] as SlotPos[]) if (bankWords(bank, pos).includes(key)) return pos;
  }
  return null;
}

/** Part of speech of a prompt word: bank entry, name, suffix heuristics, else noun. */
function guessPos(key: string, isName: boolean): SlotPos {
  const known = posOfBanks(key);
  if (known) return known;
  if (isName) return 'P';
  if (/ing$/.test(key) && key.length > 5) return 'G';
  if (/ly$/.test(key)) return 'X';
  // rainy, sunny, windy: a noun plus -y is an adjective.
  if (key.length >= 5 && key.endsWith('y') && (lookupPhones(key.slice(0, -1)) || (key.at(-2) === key.at(-3) && lookupPhones(key.slice(0, -2))))) return 'A';
  if (/(ful|ous|ive|less|ish|able|ible|ic|ed|est)$/.test(key)) return 'A';
  return 'N';
}

/** Prompt content words with their slot type; capitalised words not at a sentence start count as names. */
function promptWordsWithPos(prompt: string): PromptWord[] {
  const clean = sanitizeText(prompt);
  const keys = extractPromptWords(clean, 8);
  const tokens = [...clean.matchAll(/[\p{L}][\p{L}\p{M}'\u2019]*/gu)];
  const capitalisedShare = tokens.length ? tokens.filter((m) => /^\p{Lu}/u.test(m[0])).length / tokens.length : 0;
  return keys.map((key) => {
    let isName = false;
    if (capitalisedShare < 0.5) {
      isName = tokens.some((m) => {
        if (m[0].toLowerCase() !== key || !/^\p{Lu}\p{Ll}/u.test(m[0])) return false;
        const before = clean.slice(0, m.index ?? 0).trimEnd();
        return before.length > 0 && !/[.!?:;"\n]$/.test(before);
      });
    }
    const pos = guessPos(key, isName);
    return { key, text: pos === 'P' ? key.charAt(0).toUpperCase() + key.slice(1) : key, pos };
  });
}

const generalCache = new Map<string, VocabWord | null>();

function makeWord(key: string, pos: SlotPos, weight: number, prompt: boolean, text = key): VocabWord | null {
  const cacheKey = `${pos}:${key}`;
  let base = generalCache.get(cacheKey);
  if (base === undefined) {
    const phones = lookupPhones(key);
    base = phones ? { key, text: key, pos, syllables: pronounce(key).syllables.length, rhyme: rhymePart(phones), weight: 1, prompt: false } : null;
    generalCache.set(cacheKey, base);
  }
  return base ? { ...base, text, weight, prompt } : null;
}

function buildVocabulary(genre: string, mood: string, promptWords: readonly PromptWord[]): Vocabulary {
  const g = sanitizeText(genre).toLowerCase();
  const m = sanitizeText(mood).toLowerCase();
  const themed: WordBank[] = [
    ...Object.entries(GENRE_BANKS).filter(([k]) => g.includes(k)).map(([, b]) => b),
    ...Object.entries(MOOD_BANKS).filter(([k]) => m.includes(k)).map(([, b]) => b),
  ];
  const entries = new Map<string, VocabWord>();
  const add = (w: VocabWord | null) => {
    if (!w) return;
    const id = `${w.pos}:${w.key}`;
    const prev = entries.get(id);
    if (!prev) entries.set(id, w);
    else entries.set(id, { ...prev, weight: Math.max(prev.weight, w.weight), prompt: prev.prompt || w.prompt, text: w.prompt ? w.text : prev.text });
  };
  const allPos: SlotPos[] = ['N', 'A', 'VI', 'VT', 'G', 'X', 'B', 'BS'];
  for (const pos of allPos) for (const key of bankWords(GENERAL_BANK, pos)) add(makeWord(key, pos, 1, false));
  for (const bank of themed) for (const pos of allPos) for (const key of bankWords(bank, pos)) add(makeWord(key, pos, 4, false));
  const promptKeys = new Set(promptWords.map((p) => p.key));
  for (const p of promptWords) add(makeWord(p.key, p.pos, 6, true, p.text));
  // A prompt word already in the banks under another part of speech is a prompt word there too.
  for (const [id, w] of entries) if (promptKeys.has(w.key) && !w.prompt) entries.set(id, { ...w, prompt: true, weight: 6 });

  const byPos = new Map<SlotPos, VocabWord[]>();
  const familyWords = new Map<string, Set<string>>();
  for (const w of entries.values()) {
    if (w.syllables < 1) continue;
    const list = byPos.get(w.pos) ?? [];
    list.push(w);
    byPos.set(w.pos, list);
    const fam = familyWords.get(w.rhyme) ?? new Set<string>();
    fam.add(w.key);
    familyWords.set(w.rhyme, fam);
  }
  const families = new Map<string, number>();
  for (const [rhyme, set] of familyWords) families.set(rhyme, set.size);
  const pools = new Map<SlotPos, SlotPool>();
  for (const [pos, words] of byPos) pools.set(pos, poolOf(words));
  return { byPos, pools, families };
}

/* ------------------------------------------------------------------ sections */

interface PlannedSection {
  kind: SectionKind;
  count: number;
}

/**
 * Groups `lines` phrases into sections: blocks of 4 lines from 12 phrases up, of 2 from 4, else of 1.
 * Block kinds: 1 verse; 2 verse chorus; 3 chorus verse chorus; 4 verse chorus verse chorus;
 * 5 verse chorus verse bridge chorus; 6+ alternating verse/chorus, then bridge and a last chorus.
 * Leftover phrases form an outro.
 */
export function planSections(lines: number): PlannedSection[] {
  if (lines <= 0) return [];
  const block = lines >= 12 ? 4 : lines >= 4 ? 2 : 1;
  const blocks = Math.floor(lines / block);
  let kinds: SectionKind[];
  if (blocks === 1) kinds = ['verse'];
  else if (blocks === 2) kinds = ['verse', 'chorus'];
  else if (blocks === 3) kinds = ['chorus', 'verse', 'chorus'];
  else if (blocks === 4) kinds = ['verse', 'chorus', 'verse', 'chorus'];
  else if (blocks === 5) kinds = ['verse', 'chorus', 'verse', 'bridge', 'chorus'];
  else {
    kinds = [];
    for (let i = 0; i < blocks - 2; i++) kinds.push(i % 2 === 0 ? 'verse' : 'chorus');
    kinds.push('bridge', 'chorus');
  }
  const plan: PlannedSection[] = kinds.map((kind) => ({ kind, count: block }));
  const rest = lines - blocks * block;
  if (rest > 0) plan.push({ kind: 'outro', count: rest });
  return plan;
}

/** A lone phrase of 4+ notes is split in two at its widest gap so the lyrics have two lines. */
function lineSpans(notes: readonly NoteEvent[], phrases: readonly Phrase[]): NoteSpan[] {
  const spans = normalizePhrases(notes.length, phrases);
  if (spans.length !== 1 || spans[0].noteCount < 4) return spans;
  const s = spans[0];
  let cut = s.firstNote + Math.floor(s.noteCount / 2);
  let widest = -Infinity;
  for (let i = s.firstNote + 2; i <= s.firstNote + s.noteCount - 2; i++) {
    const gap = notes[i].start - notes[i - 1].end;
    const centred = -Math.abs(i - (s.firstNote + s.noteCount / 2)) * 1e-3;
    if (gap + centred > widest) {
      widest = gap + centred;
      cut = i;
    }
  }
  return [
    { firstNote: s.firstNote, noteCount: cut - s.firstNote, phraseIndex: s.phraseIndex },
    { firstNote: cut, noteCount: s.firstNote + s.noteCount - cut, phraseIndex: s.phraseIndex },
  ];
}

/* ------------------------------------------------------------------ line search */

interface WriterContext {
  random: () => number;
  vocab: Vocabulary;
  templates: LineTemplate[];
  /** `templates` with their reachable syllable ranges, any last word allowed. */
  freeTemplates: RangedTemplate[];
  notes: readonly NoteEvent[];
  strengths: Float64Array;
  /** Prompt words not used yet. */
  pending: Set<string>;
  promptPos: Map<string, SlotPos>;
  /** How often each word has been used so far. */
  used: Map<string, number>;
}

interface Candidate {
  text: string;
  endWord: VocabWord | null;
  syllables: number;
  score: number;
  keys: string[];
}

/** Rhyme constraint on a line's last word: a rhyme part, or a family at least this large. */
type RhymeNeed = { rhyme: string } | { family: number } | null;

const literalSyllables = new Map<string, number>();
function syllablesOfLiteral(word: string): number {
  let n = literalSyllables.get(word);
  if (n === undefined) {
    n = pronounce(word).syllables.length;
    literalSyllables.set(word, n);
  }
  return n;
}

function pickWeighted<T>(items: readonly T[], weight: (t: T) => number, random: () => number): T | undefined {
  let total = 0;
  for (const it of items) total += weight(it);
  if (!(total > 0)) return undefined;
  let r = random() * total;
  for (const it of items) {
    r -= weight(it);
    if (r < 0) return it;
  }
  return items[items.length - 1];
}

type Part = { literal: string } | { word: VocabWord };

function satisfies(vocab: Vocabulary, w: VocabWord, need: RhymeNeed): boolean {
  if (!need) return true;
  return 'rhyme' in need ? w.rhyme === need.rhyme : (vocab.families.get(w.rhyme) ?? 0) >= need.family;
}

/** Words for one slot, grouped by syllable count. */
interface SlotPool {
  bySyllables: Map<number, VocabWord[]>;
  counts: number[];
}

function poolOf(words: readonly VocabWord[]): SlotPool {
  const bySyllables = new Map<number, VocabWord[]>();
  for (const w of words) {
    const list = bySyllables.get(w.syllables) ?? [];
    list.push(w);
    bySyllables.set(w.syllables, list);
  }
  return { bySyllables, counts: [...bySyllables.keys()] };
}

/**
 * One random instantiation of a template with exactly `target` syllables, or null when the chosen
 * template cannot reach it. `endPools` holds the (rhyme-filtered) words allowed in the last slot.
 */
/** A template with the syllable range it can reach given the slot pools. */
interface RangedTemplate {
  template: LineTemplate;
  min: number;
  max: number;
}

/** Syllable range of each template given the pools (templates with an empty required slot are left out). */
function rangeTemplates(templates: readonly LineTemplate[], pools: ReadonlyMap<SlotPos, SlotPool>, endPools: ReadonlyMap<SlotPos, SlotPool>): RangedTemplate[] {
  const out: RangedTemplate[] = [];
  for (const template of templates) {
    let min = 0;
    let max = 0;
    let ok = true;
    template.tokens.forEach((tok, i) => {
      if (tok.kind === 'literal') {
        const lengths = tok.options.map((o) => o.reduce((a, w) => a + syllablesOfLiteral(w), 0));
        if (!tok.optional) min += Math.min(...lengths);
        max += Math.max(...lengths);
        return;
      }
      const pool = (i === template.tokens.length - 1 ? endPools : pools).get(tok.pos);
      if (!pool || pool.counts.length === 0) {
        if (!tok.optional) ok = false;
        return;
      }
      if (!tok.optional) min += Math.min(...pool.counts);
      max += Math.max(...pool.counts);
    });
    if (ok) out.push({ template, min, max });
  }
  return out;
}

function tryClause(ctx: WriterContext, target: number, endPools: ReadonlyMap<SlotPos, SlotPool>, ranged: readonly RangedTemplate[]): Part[] | null {
  const { random, vocab } = ctx;
  let templates = ranged.filter((r) => r.min <= target && target <= r.max).map((r) => r.template);
  if (!templates.length) return null;
  if (ctx.pending.size && random() < 0.6) {
    const pending = [...ctx.pending];
    const wanted = ctx.promptPos.get(pending[Math.floor(random() * pending.length)]);
    const matching = templates.filter((t) => t.tokens.some((tok) => tok.kind === 'slot' && tok.pos === wanted));
    if (matching.length) templates = matching;
  }
  const template = pickWeighted(templates, (t) => t.weight, random);
  if (!template) return null;
  const shape: ({ literal: string } | { pos: SlotPos; end: boolean })[] = [];
  template.tokens.forEach((tok, i) => {
    if (tok.optional && random() < 0.5) return;
    if (tok.kind === 'literal') {
      const option = tok.options[Math.floor(random() * tok.options.length)];
      for (const w of option) shape.push({ literal: w });
    } else shape.push({ pos: tok.pos, end: i === template.tokens.length - 1 });
  });
  let fixed = 0;
  for (const s of shape) if ('literal' in s) fixed += syllablesOfLiteral(s.literal);
  const slots = shape.filter((s): s is { pos: SlotPos; end: boolean } => 'pos' in s);
  const pools = slots.map((slot) => (slot.end ? endPools.get(slot.pos) : vocab.pools.get(slot.pos)));
  if (pools.some((p) => !p || p.counts.length === 0)) return null;
  const countSets = pools.map((p) => (p as SlotPool).counts);
  // Allocate syllables to slots so the clause has exactly `target`.
  let remaining = target - fixed;
  const mins = countSets.map((c) => Math.min(...c));
  const maxs = countSets.map((c) => Math.max(...c));
  const counts: number[] = [];
  for (let i = 0; i < slots.length; i++) {
    let minRest = 0;
    let maxRest = 0;
    for (let j = i + 1; j < slots.length; j++) {
      minRest += mins[j];
      maxRest += maxs[j];
    }
    const options = countSets[i].filter((c) => remaining - c >= minRest && remaining - c <= maxRest);
    if (!options.length) return null;
    const c = options[Math.floor(random() * options.length)];
    counts.push(c);
    remaining -= c;
  }
  if (remaining !== 0) return null;
  const chosen: VocabWord[] = [];
  for (let i = 0; i < slots.length; i++) {
    const pool = ((pools[i] as SlotPool).bySyllables.get(counts[i]) ?? []).filter((w) => !chosen.includes(w));
    let word: VocabWord | undefined;
    if (ctx.pending.size && random() < 0.75) {
      const pendingHere = pool.filter((w) => ctx.pending.has(w.key));
      if (pendingHere.length) word = pendingHere[Math.floor(random() * pendingHere.length)];
    }
    word ??= pickWeighted(pool, (w) => w.weight / (1 + 2 * (ctx.used.get(w.key) ?? 0)), random);
    if (!word) return null;
    chosen.push(word);
  }
  let k = 0;
  return shape.map((s) => ('literal' in s ? { literal: s.literal } : { word: chosen[k++] }));
}

function startsWithVowelSound(word: string): boolean {
  const phones = pronounce(word).phones;
  return phones.length > 0 && isVowelPhone(phones[0]);
}

function renderClauses(clauses: Part[][]): string {
  const text = clauses
    .map((parts) => {
      const words = parts.map((p) => ('literal' in p ? p.literal : p.word.text));
      for (let i = 0; i + 1 < words.length; i++) if (words[i] === 'a' && startsWithVowelSound(words[i + 1])) words[i] = 'an';
      return words.join(' ').replace(/ ,/g, ',');
    })
    .join(', ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function splitTarget(target: number, random: () => number): number[] {
  const clauses = Math.ceil(target / MAX_CLAUSE_SYLLABLES);
  if (clauses <= 1) return [target];
  const parts = new Array<number>(clauses).fill(Math.floor(target / clauses));
  for (let i = 0; i < target - Math.floor(target / clauses) * clauses; i++) parts[i]++;
  if (clauses === 2 && random() < 0.5 && parts[0] > 3 && parts[1] < MAX_CLAUSE_SYLLABLES) {
    parts[0]--;
    parts[1]++;
  }
  return parts;
}

function scoreCandidate(ctx: WriterContext, cost: number, syllables: number, span: NoteSpan, keys: readonly string[]): number {
  let score = -cost - 0.8 * Math.max(0, span.noteCount - syllables);
  const seen = new Set<string>();
  for (const key of keys) {
    if (ctx.pending.has(key) && !seen.has(key)) score += 2.5;
    if (seen.has(key)) score -= 1.5;
    score -= 0.7 * (ctx.used.get(key) ?? 0);
    seen.add(key);
  }
  return score + 0.3 * ctx.random();
}

/**
 * Best line for a span: template instantiations of exactly `maxSyllables` syllables (default the note
 * count), then one fewer and so on down to half the notes when nothing fits, each scored by the cost of
 * its melisma plan on the span's notes plus prompt-word, repetition and variety terms.
 */
function searchLine(ctx: WriterContext, span: NoteSpan, need: RhymeNeed, avoidEnds: ReadonlySet<string>, maxSyllables = span.noteCount): Candidate | null {
  const n = span.noteCount;
  const rel = relativeStrengths(ctx.strengths, span.firstNote, n);
  let best: Candidate | null = null;
  // Words allowed in the last slot, per part of speech; only templates ending in a non-empty pool are tried.
  const endPools = new Map<SlotPos, SlotPool>();
  for (const [pos, words] of ctx.vocab.byPos) {
    const pool = poolOf(words.filter((w) => !avoidEnds.has(w.key) && satisfies(ctx.vocab, w, need)));
    if (pool.counts.length) endPools.set(pos, pool);
  }
  const endTemplates = rangeTemplates(ctx.templates, ctx.vocab.pools, endPools);
  if (!endTemplates.length) return null;
  for (let target = Math.min(n, maxSyllables); target >= Math.max(1, Math.ceil(n / 2)); target--) {
    const attempts = target === Math.min(n, maxSyllables) ? ATTEMPTS_PER_LINE : Math.ceil(ATTEMPTS_PER_LINE / 2);
    for (let a = 0; a < attempts; a++) {
      const sizes = splitTarget(target, ctx.random);
      const clauses: Part[][] = [];
      let ok = true;
      for (let c = 0; c < sizes.length && ok; c++) {
        const last = c === sizes.length - 1;
        const clause = last ? tryClause(ctx, sizes[c], endPools, endTemplates) : tryClause(ctx, sizes[c], ctx.vocab.pools, ctx.freeTemplates);
        if (clause) clauses.push(clause);
        else ok = false;
      }
      if (!ok) continue;
      const weights: number[] = [];
      const keys: string[] = [];
      for (const clause of clauses) {
        for (const part of clause) {
          const word = 'literal' in part ? part.literal : part.word.key;
          weights.push(...wordWeights(word));
          keys.push(word.toLowerCase());
        }
      }
      if (weights.length !== target) continue;
      const plan = planMelisma(weights, rel);
      const score = scoreCandidate(ctx, plan.cost, target, span, keys) - 1.5 * (ctx.used.get(keys[keys.length - 1]) ?? 0);
      if (!best || score > best.score) {
        const lastParts = clauses[clauses.length - 1];
        const end = lastParts[lastParts.length - 1];
        best = { text: renderClauses(clauses), endWord: 'word' in end ? end.word : null, syllables: target, score, keys };
      }
    }
    if (best) break;
  }
  return best;
}

/** Last resort for a line nothing fits: the vowel `oh` held over the phrase. */
function fallbackLine(): Candidate {
  return { text: 'Oh', endWord: null, syllables: 1, score: -Infinity, keys: ['oh'] };
}

function commit(ctx: WriterContext, candidate: Candidate): void {
  for (const key of candidate.keys) {
    ctx.pending.delete(key);
    ctx.used.set(key, (ctx.used.get(key) ?? 0) + 1);
  }
}

/* ------------------------------------------------------------------ one variant */

interface WrittenLine {
  span: NoteSpan;
  text: string;
  rhymeWord: string;
  syllables: number;
  sung: SungNote[];
}

function writeVariant(request: WriteLyricsRequest, spans: NoteSpan[], strengths: Float64Array, promptWords: PromptWord[], scheme: RhymeScheme, seed: number): LyricsResult {
  const vocab = buildVocabulary(request.genre, request.mood, promptWords);
  const hasNames = (vocab.byPos.get('P') ?? []).length > 0;
  const templates = LINE_TEMPLATES.filter((t) => hasNames || !t.tokens.some((tok) => tok.kind === 'slot' && tok.pos === 'P'));
  const ctx: WriterContext = {
    random: createRandom(seed),
    vocab,
    templates,
    freeTemplates: rangeTemplates(templates, vocab.pools, vocab.pools),
    notes: request.notes,
    strengths,
    pending: new Set(promptWords.map((p) => p.key)),
    promptPos: new Map(promptWords.map((p) => [p.key, p.pos])),
    used: new Map(),
  };
  const plan = planSections(spans.length);
  const sectionSpans: NoteSpan[][] = [];
  let at = 0;
  for (const s of plan) {
    sectionSpans.push(spans.slice(at, at + s.count));
    at += s.count;
  }
  const written: (WrittenLine | undefined)[][] = plan.map((s) => new Array<WrittenLine | undefined>(s.count));
  const firstChorus = plan.findIndex((s) => s.kind === 'chorus');
  const order = plan.map((_, i) => i);
  if (firstChorus > 0) order.sort((x, y) => (x === firstChorus ? -1 : y === firstChorus ? 1 : x - y));

  const chorusCap: number[] = [];
  if (firstChorus >= 0) {
    const instances = plan.map((s, i) => (s.kind === 'chorus' ? sectionSpans[i] : null)).filter((x): x is NoteSpan[] => x !== null);
    for (let li = 0; li < plan[firstChorus].count; li++) {
      const counts = instances.map((spansOf) => spansOf[li]?.noteCount ?? 0).filter((c) => c > 0);
      const shortest = Math.min(...counts);
      const own = sectionSpans[firstChorus][li].noteCount;
      chorusCap.push(counts.every((c) => lineFits(shortest, c)) && lineFits(shortest, own) ? shortest : own);
    }
  }
  for (const si of order) {
    const section = plan[si];
    const groups = schemeGroups(scheme, section.count);
    const groupSize = new Map<number, number>();
    for (const g of groups) groupSize.set(g, (groupSize.get(g) ?? 0) + 1);
    const groupRhyme = new Map<number, string>();
    const groupEnds = new Map<number, Set<string>>();
    const repeatChorus = section.kind === 'chorus' && firstChorus >= 0 && si !== firstChorus;
    for (let li = 0; li < section.count; li++) {
      const span = sectionSpans[si][li];
      const g = groups[li];
      const ends = groupEnds.get(g) ?? new Set<string>();
      groupEnds.set(g, ends);
      if (repeatChorus) {
        const model = written[firstChorus][li];
        if (model && lineFits(model.syllables, span.noteCount)) {
          const syl = syllabifyLine(model.text);
          const fit = fitSyllablesToNotes(syl.syllables, ctx.notes, span, ctx.strengths);
          written[si][li] = { span, text: model.text, rhymeWord: model.rhymeWord, syllables: model.syllables, sung: fit.sung };
          groupRhyme.set(g, rhymePart(pronounce(model.rhymeWord).phones));
          ends.add(model.rhymeWord);
          continue;
        }
      }
      let rhyme = groupRhyme.get(g);
      const model = repeatChorus ? written[firstChorus][li] : undefined;
      if (rhyme === undefined && model) rhyme = rhymePart(pronounce(model.rhymeWord).phones);
      const need: RhymeNeed = rhyme !== undefined ? { rhyme } : (groupSize.get(g) ?? 1) > 1 ? { family: Math.min(5, (groupSize.get(g) ?? 1) + 1) } : null;
      // The first chorus writes each line short enough to be repeated on every chorus's phrase.
      const cap = si === firstChorus ? chorusCap[li] : span.noteCount;
      const candidate = searchLine(ctx, span, need, ends, cap) ?? (need ? searchLine(ctx, span, null, ends, cap) : null) ?? fallbackLine();
      commit(ctx, candidate);
      const endKey = candidate.endWord?.key ?? candidate.keys[candidate.keys.length - 1] ?? '';
      if (!groupRhyme.has(g) && (rhyme !== undefined || candidate.endWord)) groupRhyme.set(g, rhyme ?? (candidate.endWord as VocabWord).rhyme);
      ends.add(endKey);
      const fit = fitSyllablesToNotes(syllabifyLine(candidate.text).syllables, ctx.notes, span, ctx.strengths);
      written[si][li] = { span, text: candidate.text, rhymeWord: endKey, syllables: candidate.syllables, sung: fit.sung };
    }
  }

  const sections: LyricSection[] = [];
  const sungNotes: SungNote[] = [];
  plan.forEach((s, si) => {
    const lines: LyricLine[] = [];
    for (const w of written[si]) {
      if (!w) continue;
      lines.push({
        text: w.text,
        phraseIndex: w.span.phraseIndex,
        rhymeWord: w.rhymeWord,
        firstNote: w.span.firstNote,
        noteCount: w.span.noteCount,
        syllableCount: w.syllables,
      });
      sungNotes.push(...w.sung);
    }
    sections.push({ kind: s.kind, lines });
  });
  const draft: LyricsResult = {
    sections,
    sungNotes,
    quality: { score: 0, syllableFit: 0, stressAlignment: 0, rhyme: 0, promptCoverage: 0, chorusRepeats: 0, variety: 0 },
    warnings: [],
    scheme,
    source: 'writer',
    seed,
  };
  draft.quality = scoreLyrics(draft, { promptWords: promptWords.map((p) => p.key), tempo: request.tempo, scheme });
  return draft;
}

/**
 * Writes lyrics for a melody. Deterministic: the same request and seed give the same lyrics.
 * Every note gets exactly one syllable or a continuation; see the module comment for the method.
 * When a variant fails `checkLyrics`, up to 5 more seed-derived variants are tried; if all fail, the
 * best-scoring one is returned with a `LYRICS_CHECKS_FAILED` warning. Never throws on odd input:
 * no notes give an empty result with a `NO_NOTES` warning.
 */
export function writeLyrics(request: WriteLyricsRequest): LyricsResult {
  const notes = Array.isArray(request.notes) ? request.notes : [];
  const scheme = rhymeSchemeForGenre(typeof request.genre === 'string' ? request.genre : '');
  const empty = (warnings: LyricsWarning[]): LyricsResult => ({
    sections: [],
    sungNotes: [],
    quality: { score: 0, syllableFit: 0, stressAlignment: 0, rhyme: 0, promptCoverage: 0, chorusRepeats: 0, variety: 0 },
    warnings,
    scheme,
    source: 'writer',
    seed: request.seed,
  });
  if (notes.length === 0) return empty([{ code: 'NO_NOTES', message: 'The melody has no notes to write lyrics for.', notes: 0 }]);
  const safe: WriteLyricsRequest = {
    ...request,
    prompt: sanitizeText(request.prompt),
    genre: sanitizeText(request.genre).slice(0, 100),
    mood: sanitizeText(request.mood).slice(0, 100),
    notes,
    phrases: Array.isArray(request.phrases) ? request.phrases : [],
  };
  const spans = lineSpans(notes, safe.phrases);
  const strengths = noteStrengths(notes, spans, safe.tempo);
  const promptWords = promptWordsWithPos(safe.prompt);
  const baseSeed = Number.isFinite(request.seed) ? Math.trunc(request.seed) >>> 0 : 0;
  let best: { result: LyricsResult; issues: string[] } | null = null;
  for (let v = 0; v < MAX_VARIANTS; v++) {
    const seed = (baseSeed + Math.imul(v, 0x9e3779b9)) >>> 0;
    const result = writeVariant(safe, spans, strengths, promptWords, scheme, seed);
    const check = checkLyrics(result, { prompt: safe.prompt, noteCount: notes.length });
    if (check.ok) return result;
    if (!best || result.quality.score > best.result.quality.score) best = { result, issues: check.issues.map((i) => i.code) };
  }
  const chosen = (best as { result: LyricsResult; issues: string[] }).result;
  chosen.warnings.push({
    code: 'LYRICS_CHECKS_FAILED',
    message: `No variant passed the lyric checks (${(best as { issues: string[] }).issues.join(', ')}); the best one is returned.`,
  });
  return chosen;
}
