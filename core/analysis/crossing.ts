/**
 * All crossing steps of one run at once. `crossingStep` (events.ts) answers one threshold with
 * a scan of every evaluation; the H̃* fit asks for 171 thresholds per run, again for every
 * held-out seed, which made the threshold fit ~1.5 s of a 100-run compare (docs/benchmarks.md).
 *
 * A crossing at threshold h with persistence P starts at the first evaluation i whose window
 * i … i+P−1 lies wholly below h, i.e. whose window maximum is < h. The running minimum of the
 * window maxima never increases, so the first start below any h is a binary search in it.
 * Missing H̃ (NaN) counts as +∞: it breaks a window, as it breaks a run in
 * `crossingStep`. Both definitions are tested against each other (test/compare-core.test.ts).
 */
export interface CrossingProfile {
  /** Step of each window start. */
  steps: Float64Array;
  /** Running minimum of the window maxima, non-increasing. */
  level: Float64Array;
}

export function crossingProfile(step: ArrayLike<number>, entropy: ArrayLike<number>, persistence: number): CrossingProfile {
  const p = Math.max(1, Math.floor(persistence));
  const n = step.length;
  const windows = Math.max(0, n - p + 1);
  const value = (i: number): number => {
    const e = entropy[i];
    return Number.isNaN(e) ? Infinity : e;
  };
  const steps = new Float64Array(windows);
  const level = new Float64Array(windows);
  // Sliding-window maximum with a monotone deque of indices (values decreasing).
  const deque = new Int32Array(n);
  let head = 0;
  let tail = 0;
  let running = Infinity;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    while (tail > head && value(deque[tail - 1]) <= v) tail--;
    deque[tail++] = i;
    const start = i - p + 1;
    if (start < 0) continue;
    if (deque[head] < start) head++;
    const windowMax = value(deque[head]);
    if (windowMax < running) running = windowMax;
    steps[start] = step[start];
    level[start] = running;
  }
  return { steps, level };
}

/** First step whose window lies wholly below `threshold`, or null. */
export function crossingFromProfile(profile: CrossingProfile, threshold: number): number | null {
  const { level, steps } = profile;
  // Smallest i with level[i] < threshold (level is non-increasing).
  let lo = 0;
  let hi = level.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (level[mid] < threshold) hi = mid;
    else lo = mid + 1;
  }
  return lo < level.length ? steps[lo] : null;
}
