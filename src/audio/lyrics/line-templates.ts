/**
 * Line templates for the embedded writer: small English clauses with typed word slots.
 *
 * Notation (one template per string):
 * - `{N}` a required slot of that part of speech (see word-banks.ts for the slot types);
 * - `[A]` an optional slot;
 * - `(oh)` an optional literal word;
 * - `<tonight|right now>` a required choice between literals;
 * - anything else is a literal; `a` becomes `an` before a vowel sound.
 * Every template ends in a slot: that word carries the rhyme.
 */
import type { SlotPos } from './word-banks.js';

export type TemplateToken =
  | { kind: 'slot'; pos: SlotPos; optional: boolean }
  | { kind: 'literal'; options: string[][]; optional: boolean };

export interface LineTemplate {
  source: string;
  tokens: TemplateToken[];
  /** Relative chance of being picked. */
  weight: number;
  /** Part of speech of the final (rhyming) slot. */
  endPos: SlotPos;
}

/** [template, weight] — weights favour the more natural, more flexible clauses. */
const SOURCES: [string, number][] = [
  ['I {VT} the [A] {N}', 3],
  ['(and) we {VI} {X}', 3],
  ['{G} in the [A] {N}', 3],
  ['under the [A] {N}', 2],
  ['take me (back) to the [A] {N}', 2],
  ['all I <need|want|see|know> is the [A] {N}', 1.5],
  ['(oh) the [A] {N}', 1],
  ['{A} {N}', 1],
  ['hold on to the [A] {N}', 2],
  ['you and I {VI} {X}', 2],
  ['let the [A] {N} {VI}', 2],
  ['in the [A] {N} of the {N}', 2],
  ['we are {G} {X}', 2],
  ['I can <feel|see|hear> the [A] {N}', 2],
  ['(and) I {VI} {X}', 2],
  ['feel the [A] {N}', 1.5],
  ['{N} and {N}', 1],
  ['I feel so {A}', 1.5],
  ['(oh) my [A] {N}', 1],
  ['through the [A] {N}', 1.5],
  ['with the {N} in my {B}', 2],
  ['I {VT} the [A] {N} in your {B}', 2],
  ['{G} {X}', 1.5],
  ['watch the [A] {N} {VI}', 1.5],
  ['I will {VI} {X}', 2],
  ['no more {N}', 1],
  ["I'm not afraid of the [A] {N}", 1],
  ['we can {VI} {X}', 2],
  ['like a [A] {N}', 1.5],
  ['lost in the [A] {N}', 2],
  ["don't let go of the [A] {N}", 1],
  ['<tonight|today|forever> we are {G}', 1],
  ['<tonight|today|forever> we {VI}', 1.5],
  ['we were {A}', 1],
  ['my {BS} is {A}', 1.5],
  ["there's a [A] {N} in my {B}", 1.5],
  ['{VT} the [A] {N}', 1.5],
  ["<I live for|I wait for|I'm longing for|I'm looking for> the [A] {N}", 1.5],
  ['<here|now|still> in the [A] {N}', 1.5],
  ['<shine|burn|glow|run> like the [A] {N}', 1.5],
  ['{N}', 0.5],
  ['(oh) {X}', 0.5],
  ['(oh) take me (back) <home|down> to {P}', 2],
  ['(and) I <still|will> remember {P}', 2],
  ['(oh) {P}', 0.5],
  ["I'm <dreaming of|thinking of|waiting for|calling for> {P}", 2],
  ['all the way (back) to {P}', 1.5],
  ['in the [A] {N} with {P}', 2],
  ['{G} <with|for> {P}', 1.5],
  ['with {P} in the [A] {N}', 2],
  ['{P} and I {VI} {X}', 2],
  ["{P}, you're my [A] {N}", 1.5],
  ['{P}, I {VT} the [A] {N}', 1.5],
];

/** Parses one template string (see the module comment for the notation). */
export function parseTemplate(source: string, weight = 1): LineTemplate {
  const tokens: TemplateToken[] = [];
  for (const raw of source.match(/\{\w+\}|\[\w+\]|\([^)]*\)|<[^>]*>|\S+/g) ?? []) {
    if (raw.startsWith('{')) tokens.push({ kind: 'slot', pos: raw.slice(1, -1) as SlotPos, optional: false });
    else if (raw.startsWith('[')) tokens.push({ kind: 'slot', pos: raw.slice(1, -1) as SlotPos, optional: true });
    else if (raw.startsWith('(')) tokens.push({ kind: 'literal', options: [raw.slice(1, -1).split(' ')], optional: true });
    else if (raw.startsWith('<')) tokens.push({ kind: 'literal', options: raw.slice(1, -1).split('|').map((o) => o.split(' ')), optional: false });
    else tokens.push({ kind: 'literal', options: [[raw]], optional: false });
  }
  const last = tokens[tokens.length - 1];
  if (!last || last.kind !== 'slot' || last.optional) throw new Error(`Template must end in a required slot: ${source}`);
  return { source, tokens, weight, endPos: last.pos };
}

export const LINE_TEMPLATES: readonly LineTemplate[] = SOURCES.map(([source, weight]) => parseTemplate(source, weight));
