/**
 * What the CMU dictionary cannot say about a word: how its spelling splits into the syllables shown
 * under the notes (`splitSpelling`), and a letter-to-sound guess of the phones of a word it does not
 * know (`guessPhones`). Used by pronouncing.ts.
 */

/**
 * Normalizes a written word to a dictionary key: lower case, diacritics removed, curly apostrophes
 * straightened, everything but a–z and `'` dropped, leading/trailing apostrophes trimmed.
 */
export function normalizeWord(word: string): string {
  return word
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`´]/g, "'")
    .replace(/[^a-z']/g, '')
    .replace(/^'+|'+$/g, '');
}

/* ------------------------------------------------------------------ spelling → display syllables */

const VOWEL_LETTERS = 'aeiou';
const CONSONANT_DIGRAPHS = ['ch', 'sh', 'th', 'ph', 'wh', 'ck', 'gh', 'qu', 'ng'];
/** Consonant pairs that stay together at the start of a written syllable (ta-ble, se-cret). */
const WRITTEN_BLENDS = new Set(['bl', 'br', 'cl', 'cr', 'dr', 'fl', 'fr', 'gl', 'gr', 'pl', 'pr', 'tr', 'thr', 'chr', 'shr', 'phr', 'wr']);

function baseLetter(ch: string): string {
  const c = ch.normalize('NFD').charAt(0).toLowerCase();
  return c >= 'a' && c <= 'z' ? c : '-';
}

function letterIsVowel(a: string[], i: number): boolean {
  const c = a[i];
  if (VOWEL_LETTERS.includes(c)) return true;
  if (c !== 'y') return false;
  if (i === 0) return false;
  const prevVowel = VOWEL_LETTERS.includes(a[i - 1]);
  const next = a[i + 1];
  // `y` between vowels is a consonant (be-yond); after a vowel it closes a vowel group (play, boy).
  return !(prevVowel && next !== undefined && VOWEL_LETTERS.includes(next));
}

interface Group {
  start: number;
  end: number;
}

function consonantUnits(a: string[], from: number, to: number): Group[] {
  const units: Group[] = [];
  let i = from;
  while (i < to) {
    const pair = a.slice(i, Math.min(i + 2, to)).join('');
    if (pair.length === 2 && CONSONANT_DIGRAPHS.includes(pair)) {
      units.push({ start: i, end: i + 2 });
      i += 2;
    } else {
      units.push({ start: i, end: i + 1 });
      i += 1;
    }
  }
  return units;
}

/**
 * Splits the spelling of a word into exactly `count` display syllables for the score (sum-mer,
 * beau-ti-ful, lit-tle). Heuristic, not a hyphenation dictionary: vowel-letter groups are the nuclei,
 * silent final `e` and interior `e` are dropped or merged until the group count matches the phonetic
 * syllable count, then consonants between nuclei are divided V-CV (one consonant), VC-CV (two or more,
 * keeping digraphs and l/r blends together), with the `-Cle` ending kept whole.
 * The parts concatenate back to the word exactly.
 */
export function splitSpelling(word: string, count: number): string[] {
  const chars = Array.from(word);
  if (count <= 1 || chars.length === 0) return [word];
  const a = chars.map(baseLetter);
  const n = a.length;
  let groups: Group[] = [];
  for (let i = 0; i < n;) {
    if (letterIsVowel(a, i)) {
      let j = i + 1;
      while (j < n && letterIsVowel(a, j)) j++;
      groups.push({ start: i, end: j });
      i = j;
    } else i++;
  }
  const leEnding = n >= 4 && a[n - 1] === 'e' && a[n - 2] === 'l' && !letterIsVowel(a, n - 3) && a[n - 3] !== 'l' && a[n - 3] !== '-';
  const removed: Group[] = [];
  const last = groups[groups.length - 1];
  if (!leEnding && groups.length > 1 && last && last.start === n - 1 && a[n - 1] === 'e') {
    removed.push(groups.pop() as Group);
  }
  if (groups.length > count && groups.length > 1) {
    const g = groups[groups.length - 1];
    if (g.start === n - 2 && g.end === n - 1 && a[n - 2] === 'e' && (a[n - 1] === 's' || a[n - 1] === 'd')) {
      removed.push(groups.pop() as Group);
    }
  }
  while (groups.length > count && groups.length > 1) {
    // Prefer dropping an interior single `e` (ev-ery, love-ly); otherwise merge the closest pair.
    let victim = -1;
    for (let k = groups.length - 1; k >= 1; k--) {
      const g = groups[k];
      if (g.end - g.start === 1 && a[g.start] === 'e' && !(leEnding && k === groups.length - 1)) {
        victim = k;
        break;
      }
    }
    if (victim >= 0) {
      groups.splice(victim, 1);
      continue;
    }
    let best = 1;
    let bestGap = Infinity;
    for (let k = 1; k < groups.length; k++) {
      const gap = groups[k].start - groups[k - 1].end;
      if (gap < bestGap) {
        bestGap = gap;
        best = k;
      }
    }
    groups[best - 1] = { start: groups[best - 1].start, end: groups[best].end };
    groups.splice(best, 1);
  }
  while (groups.length < count) {
    if (removed.length) {
      groups.push(removed.pop() as Group);
      groups.sort((x, y) => x.start - y.start);
      continue;
    }
    let longest = -1;
    for (let k = 0; k < groups.length; k++) {
      if (
        groups[k].end - groups[k].start >= 2 &&
        (longest < 0 || groups[k].end - groups[k].start > groups[longest].end - groups[longest].start)
      )
        longest = k;
    }
    if (longest < 0) break;
    const g = groups[longest];
    groups.splice(longest, 1, { start: g.start, end: g.start + 1 }, { start: g.start + 1, end: g.end });
  }
  if (groups.length === 0) groups = [{ start: 0, end: n }];

  const cuts: number[] = [0];
  for (let k = 1; k < groups.length; k++) {
    const lo = groups[k - 1].end;
    const hi = groups[k].start;
    let cut: number;
    if (leEnding && k === groups.length - 1 && n - 3 >= lo) {
      cut = n - 3;
    } else if (hi <= lo) {
      cut = lo;
    } else {
      const units = consonantUnits(a, lo, hi);
      if (units.length === 1) {
        const u = a.slice(units[0].start, units[0].end).join('');
        cut = u === 'x' || u === 'ck' || u === 'ng' ? units[0].end : units[0].start;
      } else {
        const lastTwo = units.slice(-2);
        const blend = a.slice(lastTwo[0].start, lastTwo[1].end).join('');
        cut = WRITTEN_BLENDS.has(blend) ? lastTwo[0].start : lastTwo[1].start;
      }
    }
    cuts.push(Math.max(cut, cuts[cuts.length - 1] + 1));
  }
  const parts: string[] = [];
  for (let k = 0; k < cuts.length; k++) {
    const from = cuts[k];
    const to = k + 1 < cuts.length ? cuts[k + 1] : n;
    if (from < n && to > from) parts.push(chars.slice(from, to).join(''));
  }
  // Still short (abbreviations, `rhythm`): halve the longest part; words shorter than their syllable
  // count (`w` = double-u) get `-` placeholders so every syllable has display text.
  while (parts.length < count) {
    let longest = 0;
    for (let k = 1; k < parts.length; k++) if (Array.from(parts[k]).length > Array.from(parts[longest]).length) longest = k;
    const p = Array.from(parts[longest]);
    if (p.length < 2) {
      parts.push('-');
      continue;
    }
    const mid = Math.ceil(p.length / 2);
    parts.splice(longest, 1, p.slice(0, mid).join(''), p.slice(mid).join(''));
  }
  return parts.slice(0, count);
}

/* ------------------------------------------------------------------ letter-to-sound fallback */

const VOWEL_DIGRAPHS: Record<string, string> = {
  ee: 'IY',
  ea: 'IY',
  ie: 'IY',
  ei: 'EY',
  ai: 'EY',
  ay: 'EY',
  oa: 'OW',
  oe: 'OW',
  oo: 'UW',
  ou: 'AW',
  ow: 'OW',
  oi: 'OY',
  oy: 'OY',
  au: 'AO',
  aw: 'AO',
  ew: 'UW',
  ue: 'UW',
  ui: 'UW',
  eu: 'UW',
  ey: 'IY',
};
const LONG_VOWEL: Record<string, string> = { a: 'EY', e: 'IY', i: 'AY', o: 'OW', u: 'UW', y: 'AY' };
const SHORT_VOWEL: Record<string, string> = { a: 'AE', e: 'EH', i: 'IH', o: 'AA', u: 'AH', y: 'IH' };
const CONSONANT_SOUNDS: Record<string, string[]> = {
  b: ['B'],
  c: ['K'],
  d: ['D'],
  f: ['F'],
  g: ['G'],
  h: ['HH'],
  j: ['JH'],
  k: ['K'],
  l: ['L'],
  m: ['M'],
  n: ['N'],
  p: ['P'],
  q: ['K'],
  r: ['R'],
  s: ['S'],
  t: ['T'],
  v: ['V'],
  w: ['W'],
  x: ['K', 'S'],
  y: ['Y'],
  z: ['Z'],
  ch: ['CH'],
  sh: ['SH'],
  th: ['TH'],
  ph: ['F'],
  wh: ['W'],
  ck: ['K'],
  gh: [],
  qu: ['K', 'W'],
  ng: ['NG'],
};

/**
 * A rough letter-to-sound guess for words missing from the dictionary, so any word can be sung.
 * Vowel groups become nuclei (digraph table, magic-e lengthening, r-colouring), consonants map one to
 * one with common digraphs; the first syllable takes primary stress (the commonest English pattern).
 */
export function guessPhones(word: string): string[] {
  const a = Array.from(normalizeWord(word).replace(/'/g, ''));
  const n = a.length;
  if (n === 0) return [];
  const phones: string[] = [];
  let vowelsSeen = 0;
  const groupsTotal = (() => {
    let c = 0;
    for (let i = 0; i < n; i++) if (letterIsVowel(a, i) && (i === 0 || !letterIsVowel(a, i - 1))) c++;
    const silentE = n > 2 && a[n - 1] === 'e' && !letterIsVowel(a, n - 2) && c > 1;
    return silentE ? c - 1 : c;
  })();
  const pushVowel = (v: string) => {
    phones.push(`${v}${vowelsSeen === 0 ? '1' : '0'}`);
    vowelsSeen++;
  };
  let i = 0;
  while (i < n) {
    if (letterIsVowel(a, i)) {
      let j = i + 1;
      while (j < n && letterIsVowel(a, j)) j++;
      const group = a.slice(i, j).join('');
      const silentFinalE = group === 'e' && j === n && i > 0 && vowelsSeen > 0;
      if (silentFinalE) {
        i = j;
        continue;
      }
      let nucleus: string;
      if (group.length >= 2) nucleus = VOWEL_DIGRAPHS[group.slice(0, 2)] ?? SHORT_VOWEL[group[0]] ?? 'AH';
      else if (a[j] === 'r' && (j + 1 >= n || !letterIsVowel(a, j + 1))) {
        nucleus = group === 'a' ? 'AA' : group === 'o' ? 'AO' : 'ER';
        if (nucleus === 'ER') j++; // the r is part of the r-coloured vowel
      } else if (j + 1 < n && a[j + 1] === 'e' && j + 2 === n && !letterIsVowel(a, j)) nucleus = LONG_VOWEL[group] ?? 'AH';
      else if (j === n && (group === 'o' || group === 'e' || group === 'i')) nucleus = group === 'e' ? 'IY' : group === 'o' ? 'OW' : 'IY';
      else if (j === n && group === 'y') nucleus = groupsTotal <= 1 ? 'AY' : 'IY';
      else nucleus = SHORT_VOWEL[group] ?? 'AH';
      pushVowel(nucleus);
      i = j;
      continue;
    }
    const pair = a.slice(i, i + 2).join('');
    if (i === 0 && (pair === 'kn' || pair === 'wr')) {
      phones.push(pair === 'kn' ? 'N' : 'R');
      i += 2;
      continue;
    }
    if (pair.length === 2 && CONSONANT_SOUNDS[pair] && CONSONANT_DIGRAPHS.includes(pair)) {
      phones.push(...CONSONANT_SOUNDS[pair]);
      i += 2;
      continue;
    }
    const c = a[i];
    if (i > 0 && a[i - 1] === c) {
      i++; // doubled consonant: one sound
      continue;
    }
    if (c === 'c') phones.push('eiy'.includes(a[i + 1] ?? '') ? 'S' : 'K');
    else if (CONSONANT_SOUNDS[c]) phones.push(...CONSONANT_SOUNDS[c]);
    i++;
  }
  if (vowelsSeen === 0) phones.push('AH1'); // `hmm`, `shh`: give the consonants a neutral vowel to sing on
  return phones;
}
