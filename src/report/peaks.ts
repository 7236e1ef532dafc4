/** The peak metrics, `peak_gpus` and `peak_npus` (report.md §3). Pure. */

/**
 * Numbers per interval: start, end, gpus, npus, and the ids of the 6 groups the interval is in
 * (the total, its flavor, pool and flavor×pool; its source and source×flavor×pool).
 */
export const SPAN = 10;

/**
 * One sweep over a day's intervals in time order gives the peak of every group at once: the
 * largest sums of GPUs and NPUs held at one instant. Intervals are half-open, so at equal
 * times ends are applied before starts (a job ending at t and one starting at t never
 * overlap). `spans` holds SPAN numbers per interval; `groups` is the number of group slots.
 */
export function sweepPeaks(spans: ArrayLike<number>, groups: number): Float64Array {
  const n = spans.length / SPAN;
  const current = new Float64Array(groups * 2);
  const peak = new Float64Array(groups * 2);
  if (n === 0) return peak;
  const byStart = sortedBy(spans, n, 0);
  const byEnd = sortedBy(spans, n, 1);
  const apply = (i: number, sign: number) => {
    const o = i * SPAN;
    const gpus = (spans[o + 2] as number) * sign;
    const npus = (spans[o + 3] as number) * sign;
    for (let k = 4; k < SPAN; k++) {
      const g = (spans[o + k] as number) * 2;
      const cg = (current[g] as number) + gpus;
      const cn = (current[g + 1] as number) + npus;
      current[g] = cg;
      current[g + 1] = cn;
      if (sign > 0) {
        if (cg > (peak[g] as number)) peak[g] = cg;
        if (cn > (peak[g + 1] as number)) peak[g + 1] = cn;
      }
    }
  };
  let e = 0;
  for (let k = 0; k < n; k++) {
    const s = byStart[k] as number;
    const start = spans[s * SPAN] as number;
    while (e < n && (spans[(byEnd[e] as number) * SPAN + 1] as number) <= start)
      apply(byEnd[e++] as number, -1);
    apply(s, 1);
  }
  return peak;
}

/** The peak GPUs and NPUs of one set of [start, end, gpus, npus] intervals. */
export function peaks(intervals: readonly number[]): [gpus: number, npus: number] {
  const spans: number[] = [];
  // One group in slot 0; the other group ids point at unused slots.
  for (let i = 0; i < intervals.length; i += 4)
    spans.push(...intervals.slice(i, i + 4), 0, 1, 2, 3, 4, 5);
  const peak = sweepPeaks(spans, 6);
  return [peak[0] as number, peak[1] as number];
}

const INDEX_BITS = 2 ** 26;
const MAX_OFFSET = 2 ** 27;

/**
 * Interval indices ordered by their start (field 0) or end (field 1). The hot path packs
 * (time − earliest) and the index into one float (27 + 26 bits: a day's window and 67 M
 * intervals fit exactly) and lets the engine's numeric typed-array sort do the work, several
 * times faster than a comparator.
 */
function sortedBy(spans: ArrayLike<number>, n: number, field: 0 | 1): ArrayLike<number> {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const t = spans[i * SPAN + field] as number;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (max - min < MAX_OFFSET && n < INDEX_BITS) {
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++)
      keys[i] = ((spans[i * SPAN + field] as number) - min) * INDEX_BITS + i;
    keys.sort();
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = (keys[i] as number) % INDEX_BITS;
    return order;
  }
  const order = Array.from({ length: n }, (_, i) => i);
  return order.sort(
    (a, b) => (spans[a * SPAN + field] as number) - (spans[b * SPAN + field] as number),
  );
}
