/** Mean, min–max and standard deviation of one metric across the runs of a group, on a shared step grid. */
export interface Band {
  mean: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** Sample standard deviation (n − 1); null where fewer than two runs are covered. */
  sd: (number | null)[];
  /** How many runs the band covers at each step (runs carried forward included). */
  n: number[];
}

/** One run's column for a band. */
export interface BandRun {
  step: ArrayLike<number>;
  values: ArrayLike<number>;
  /**
   * The run ended on purpose before the grid does (it stopped after grokking): its last value
   * stands for the steps after it. Without this, a mean over the runs still training is a mean
   * over survivors: the quick baselines' mean test accuracy *fell* from ~0.8 to ~0.5 as the
   * grokked runs stopped (measured). Runs still training, or stopped by hand, are not carried.
   */
  carryForward?: boolean;
}

/** The steps of a group's runs: the first run's when all share them, else their sorted union. */
export function stepGrid(stepsPerRun: readonly ArrayLike<number>[]): ArrayLike<number> {
  const first = stepsPerRun[0];
  if (first && stepsPerRun.every((s) => sameSteps(s, first))) return first;
  const all = new Set<number>();
  for (const s of stepsPerRun) for (let i = 0; i < s.length; i++) all.add(s[i]);
  return Float64Array.from([...all].sort((a, b) => a - b));
}

function sameSteps(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Mean and min–max of one metric across a group's runs on their step grid, from typed columns
 * (library/series.ts): one pass over each run's values, no per-run maps or row objects. Runs
 * with the grid's own steps (the usual case: one preset, one budget) are added by position;
 * others through a step → index map.
 */
export function bandOf(grid: ArrayLike<number>, runs: readonly BandRun[]): Band {
  const n = grid.length;
  // Welford's running mean and sum of squared deviations: a sum of squares loses the spread of
  // weight norms (~30 ± 0.01) to cancellation.
  const mean = new Float64Array(n);
  const m2 = new Float64Array(n);
  const count = new Uint32Array(n);
  const min = new Float64Array(n).fill(Infinity);
  const max = new Float64Array(n).fill(-Infinity);
  let index: Map<number, number> | null = null;
  const add = (i: number, v: number): void => {
    count[i]++;
    const d = v - mean[i];
    mean[i] += d / count[i];
    m2[i] += d * (v - mean[i]);
    if (v < min[i]) min[i] = v;
    if (v > max[i]) max[i] = v;
  };
  for (const { step, values, carryForward } of runs) {
    const aligned = sameSteps(step, grid);
    if (!aligned && !index) index = new Map(Array.from(grid, (s, i) => [s, i]));
    let lastIndex = -1;
    let lastValue = NaN;
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (!Number.isFinite(v)) continue;
      const i = aligned ? j : index!.get(step[j])!;
      add(i, v);
      lastIndex = i;
      lastValue = v;
    }
    if (carryForward && lastIndex >= 0) for (let i = lastIndex + 1; i < n; i++) add(i, lastValue);
  }
  const out: Band = { mean: new Array(n), min: new Array(n), max: new Array(n), sd: new Array(n), n: Array.from(count) };
  for (let i = 0; i < n; i++) {
    out.mean[i] = count[i] ? mean[i] : null;
    out.sd[i] = count[i] > 1 ? Math.sqrt(m2[i] / (count[i] - 1)) : null;
    out.min[i] = count[i] ? min[i] : null;
    out.max[i] = count[i] ? max[i] : null;
  }
  return out;
}

/**
 * At most this many points per band: a chart is ~1,200 px wide, and 100 runs × 10,000
 * evaluations drew in seconds (docs/benchmarks.md). Consecutive steps are merged into buckets
 * (mean of the means, min of the minima, max of the maxima, largest SD, fewest runs covered), so the band's envelope is kept
 * exactly; the first step of each bucket labels it, and the last step is always its own bucket.
 */
export const MAX_BAND_POINTS = 2000;

export function decimateBands(steps: ArrayLike<number>, bands: Band[], max = MAX_BAND_POINTS): { steps: number[]; bands: Band[] } {
  const n = steps.length;
  if (n <= max) return { steps: Array.from(steps), bands };
  const k = Math.ceil((n - 1) / (max - 1));
  const starts: number[] = [];
  for (let i = 0; i < n - 1; i += k) starts.push(i);
  starts.push(n - 1);
  const ends = starts.map((s, j) => (j + 1 < starts.length ? starts[j + 1] : n));
  const out = bands.map((b) => {
    const r: Band = { mean: [], min: [], max: [], sd: [], n: [] };
    starts.forEach((from, j) => {
      let sum = 0;
      let count = 0;
      let lo = Infinity;
      let hi = -Infinity;
      let covered = Infinity;
      let sd = -Infinity;
      for (let i = from; i < ends[j]; i++) {
        covered = Math.min(covered, b.n[i]);
        if (b.mean[i] !== null) {
          sum += b.mean[i]!;
          count++;
        }
        if (b.sd[i] !== null && b.sd[i]! > sd) sd = b.sd[i]!;
        if (b.min[i] !== null && b.min[i]! < lo) lo = b.min[i]!;
        if (b.max[i] !== null && b.max[i]! > hi) hi = b.max[i]!;
      }
      r.mean.push(count ? sum / count : null);
      r.min.push(lo === Infinity ? null : lo);
      r.max.push(hi === -Infinity ? null : hi);
      r.sd.push(sd === -Infinity ? null : sd); // the widest spread of the bucket: the envelope is kept
      r.n.push(covered); // the fewest runs any step of the bucket had
    });
    return r;
  });
  return { steps: starts.map((i) => steps[i]), bands: out };
}
