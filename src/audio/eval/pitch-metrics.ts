/**
 * Frame-level melody metrics as defined for MIREX Audio Melody Extraction (and implemented in
 * mir_eval.melody): raw pitch accuracy, raw chroma accuracy, voicing recall and false alarm.
 *
 * Reference and estimate are f0 sequences in Hz on their own time grids, 0 (or a negative value)
 * meaning unvoiced. Each reference frame is compared with the estimate frame nearest in time (both
 * are 10 ms grids in this project, so no resampling of contours is needed). Here an unvoiced
 * estimate frame carries no pitch, so on a voiced reference frame it always counts as a miss
 * (mir_eval would still score a pitch reported with a negative sign).
 */

/** Share (0..1) of voiced reference frames whose nearest estimate is voiced and within `toleranceCents`. NaN without voiced reference frames. */
export function rawPitchAccuracy(
  refTimes: ArrayLike<number>,
  refHz: ArrayLike<number>,
  estTimes: ArrayLike<number>,
  estHz: ArrayLike<number>,
  toleranceCents = 50,
): number {
  return accuracy(refTimes, refHz, estTimes, estHz, toleranceCents, false);
}

/** Like {@link rawPitchAccuracy} but octave errors are forgiven: the cents difference is folded to ±600 first. */
export function rawChromaAccuracy(
  refTimes: ArrayLike<number>,
  refHz: ArrayLike<number>,
  estTimes: ArrayLike<number>,
  estHz: ArrayLike<number>,
  toleranceCents = 50,
): number {
  return accuracy(refTimes, refHz, estTimes, estHz, toleranceCents, true);
}

/** Share (0..1) of voiced reference frames that the estimate marks voiced. NaN without voiced reference frames. */
export function voicingRecall(
  refTimes: ArrayLike<number>,
  refHz: ArrayLike<number>,
  estTimes: ArrayLike<number>,
  estHz: ArrayLike<number>,
): number {
  let voiced = 0;
  let hits = 0;
  const nearest = nearestIndexer(estTimes);
  for (let i = 0; i < refTimes.length; i++) {
    if (!(refHz[i] > 0)) continue;
    voiced++;
    const j = nearest(refTimes[i]);
    if (j >= 0 && estHz[j] > 0) hits++;
  }
  return voiced === 0 ? NaN : hits / voiced;
}

/** Share (0..1) of unvoiced reference frames that the estimate marks voiced. NaN without unvoiced reference frames. */
export function voicingFalseAlarm(
  refTimes: ArrayLike<number>,
  refHz: ArrayLike<number>,
  estTimes: ArrayLike<number>,
  estHz: ArrayLike<number>,
): number {
  let unvoiced = 0;
  let alarms = 0;
  const nearest = nearestIndexer(estTimes);
  for (let i = 0; i < refTimes.length; i++) {
    if (refHz[i] > 0) continue;
    unvoiced++;
    const j = nearest(refTimes[i]);
    if (j >= 0 && estHz[j] > 0) alarms++;
  }
  return unvoiced === 0 ? NaN : alarms / unvoiced;
}

function accuracy(
  refTimes: ArrayLike<number>,
  refHz: ArrayLike<number>,
  estTimes: ArrayLike<number>,
  estHz: ArrayLike<number>,
  toleranceCents: number,
  chroma: boolean,
): number {
  let voiced = 0;
  let hits = 0;
  const nearest = nearestIndexer(estTimes);
  for (let i = 0; i < refTimes.length; i++) {
    const ref = refHz[i];
    if (!(ref > 0)) continue;
    voiced++;
    const j = nearest(refTimes[i]);
    if (j < 0) continue;
    const est = estHz[j];
    if (!(est > 0)) continue;
    let cents = 1200 * Math.log2(est / ref);
    if (chroma) cents -= 1200 * Math.round(cents / 1200);
    if (Math.abs(cents) <= toleranceCents) hits++;
  }
  return voiced === 0 ? NaN : hits / voiced;
}

/**
 * Index of the time in the (ascending) `times` nearest to t, or -1 when `times` is empty. Successive
 * calls with ascending t walk forward, so a whole comparison is linear.
 */
function nearestIndexer(times: ArrayLike<number>): (t: number) => number {
  let j = 0;
  return (t: number): number => {
    if (times.length === 0) return -1;
    if (j > 0 && times[j] > t) j = lowerBound(times, t);
    while (j + 1 < times.length && Math.abs(times[j + 1] - t) <= Math.abs(times[j] - t)) j++;
    return j;
  };
}

/** Largest index whose time is ≤ t (0 when none is). */
function lowerBound(times: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = times.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (times[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
