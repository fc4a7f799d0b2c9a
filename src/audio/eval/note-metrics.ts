/**
 * Note-level transcription metrics: precision, recall and F-measure of estimated notes against
 * reference notes, onsets and pitch only (offsets ignored), following MIREX "Note Tracking" and
 * mir_eval.transcription.precision_recall_f1_overlap with offset_ratio = None.
 *
 * A reference and an estimated note may be matched when their onsets differ by at most
 * `onsetToleranceSeconds` and their pitches by at most `pitchToleranceCents`. Matching is
 * one-to-one and MAXIMUM (as many pairs as possible), found with augmenting paths (Kuhn's
 * algorithm for bipartite matching), as mir_eval does; greedy matching can undercount.
 */

export interface NoteLike {
  /** Onset in seconds. */
  start: number;
  /** Offset in seconds (ignored by this metric). */
  end: number;
  /** Pitch as a (float) MIDI number. */
  midi: number;
}

export interface NoteMetricOptions {
  /**
   * Largest onset difference for a match, in seconds; default 0.1 (the product target).
   * mir_eval's and MIREX's default is 0.05: pass it to compare with published figures.
   */
  onsetToleranceSeconds?: number;
  /** Largest pitch difference for a match, in cents; default 50 (a quarter tone). */
  pitchToleranceCents?: number;
}

export interface NoteFMeasure {
  /** matched / estimated notes (0 when there are no estimates). */
  precision: number;
  /** matched / reference notes (0 when there are no references). */
  recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  f: number;
  /** Number of matched pairs. */
  matched: number;
  /** The matched pairs as [referenceIndex, estimatedIndex], sorted by reference index. */
  pairs: [number, number][];
}

/**
 * Scores `estimated` notes against `reference` notes.
 * Differences are rounded to 0.1 ms / 0.01 cent before comparison (as mir_eval rounds onset
 * distances to 4 decimals) so that a tolerance edge is not decided by floating-point noise.
 */
export function noteFMeasure(reference: NoteLike[], estimated: NoteLike[], options: NoteMetricOptions = {}): NoteFMeasure {
  const onsetTolerance = options.onsetToleranceSeconds ?? 0.1;
  const pitchTolerance = options.pitchToleranceCents ?? 50;

  // Candidate edges: for each reference, the estimates it may match.
  const order = estimated.map((_, index) => index).sort((a, b) => estimated[a].start - estimated[b].start);
  const sortedStarts = order.map((index) => estimated[index].start);
  const edges: number[][] = reference.map((ref) => {
    const list: number[] = [];
    // Binary search for the first estimate that could be within the onset tolerance.
    let lo = 0;
    let hi = sortedStarts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sortedStarts[mid] < ref.start - onsetTolerance - 1e-3) lo = mid + 1;
      else hi = mid;
    }
    for (let p = lo; p < sortedStarts.length && sortedStarts[p] <= ref.start + onsetTolerance + 1e-3; p++) {
      const est = estimated[order[p]];
      const onset = Math.round(Math.abs(est.start - ref.start) * 1e4) / 1e4;
      const cents = Math.round(Math.abs(est.midi - ref.midi) * 100 * 100) / 100;
      if (onset <= onsetTolerance && cents <= pitchTolerance) list.push(order[p]);
    }
    return list;
  });

  // Kuhn's augmenting-path maximum bipartite matching (iterative to avoid deep recursion).
  const matchOfEstimate = new Int32Array(estimated.length).fill(-1);
  const matchOfReference = new Int32Array(reference.length).fill(-1);
  const visited = new Int32Array(estimated.length).fill(-1);
  for (let r = 0; r < reference.length; r++) {
    if (edges[r].length) augment(r, edges, matchOfEstimate, matchOfReference, visited);
  }

  const pairs: [number, number][] = [];
  for (let r = 0; r < reference.length; r++) if (matchOfReference[r] >= 0) pairs.push([r, matchOfReference[r]]);
  const matched = pairs.length;
  const precision = estimated.length ? matched / estimated.length : 0;
  const recall = reference.length ? matched / reference.length : 0;
  const f = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f, matched, pairs };
}

/** Searches an augmenting path from reference `root`; `visited` marks estimates per root. */
function augment(root: number, edges: number[][], matchOfEstimate: Int32Array, matchOfReference: Int32Array, visited: Int32Array): boolean {
  // Depth-first search with an explicit stack of (reference, next edge position).
  const stackRef: number[] = [root];
  const stackPos: number[] = [0];
  const via: number[] = [];
  while (stackRef.length) {
    const depth = stackRef.length - 1;
    const r = stackRef[depth];
    const position = stackPos[depth];
    if (position >= edges[r].length) {
      stackRef.pop();
      stackPos.pop();
      via.length = stackRef.length;
      continue;
    }
    stackPos[depth] = position + 1;
    const e = edges[r][position];
    if (visited[e] === root) continue;
    visited[e] = root;
    via[depth] = e;
    const owner = matchOfEstimate[e];
    if (owner < 0) {
      // Flip the path: each reference on the stack takes the estimate it reached.
      for (let d = 0; d <= depth; d++) {
        matchOfEstimate[via[d]] = stackRef[d];
        matchOfReference[stackRef[d]] = via[d];
      }
      return true;
    }
    stackRef.push(owner);
    stackPos.push(0);
  }
  return false;
}

/**
 * Note-sequence accuracy: 1 − (Levenshtein edit distance between the reference and estimated pitch
 * sequences) / (reference length), floored at 0. Notes are taken in onset order, timing ignored;
 * two pitches are the same symbol when they differ by at most `pitchToleranceCents` (default 50).
 * Insertions, deletions and substitutions each cost 1. This is the "note accuracy" of query-by-
 * humming transcription studies (e.g. Molina et al. 2014, "Evaluation framework for automatic
 * singing transcription", which reports edit-distance-based scores next to note F). NaN without
 * reference notes.
 */
export function noteSequenceAccuracy(reference: NoteLike[], estimated: NoteLike[], pitchToleranceCents = 50): number {
  const n = reference.length;
  if (n === 0) return NaN;
  const ref = [...reference].sort((a, b) => a.start - b.start).map((note) => note.midi);
  const est = [...estimated].sort((a, b) => a.start - b.start).map((note) => note.midi);
  const tolerance = pitchToleranceCents / 100 + 1e-6;
  let previous = new Float64Array(est.length + 1);
  let current = new Float64Array(est.length + 1);
  for (let j = 0; j <= est.length; j++) previous[j] = j;
  for (let i = 1; i <= n; i++) {
    current[0] = i;
    for (let j = 1; j <= est.length; j++) {
      const substitution = previous[j - 1] + (Math.abs(ref[i - 1] - est[j - 1]) <= tolerance ? 0 : 1);
      current[j] = Math.min(substitution, previous[j] + 1, current[j - 1] + 1);
    }
    [previous, current] = [current, previous];
  }
  return Math.max(0, 1 - previous[est.length] / n);
}
