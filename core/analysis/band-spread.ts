import tQuantile from '@stdlib/stats-base-dists-t-quantile';
import type { Band } from './bands.js';

/**
 * What a band's shaded area shows around its mean (named in the compare view's legend):
 * `minmax` the lowest and highest run; `sd` mean ± one standard deviation across runs; `se` mean
 * ± one standard error; `ci95` the 95 % confidence interval of the mean (Student's t with n − 1
 * degrees of freedom). SD, SE and CI need two runs at a step; where one run is covered the area
 * closes onto its value.
 */
export const BAND_KINDS = ['minmax', 'sd', 'se', 'ci95'] as const;
export type BandKind = (typeof BAND_KINDS)[number];

export function spreadOf(b: Band, kind: BandKind): { lower: (number | null)[]; upper: (number | null)[] } {
  if (kind === 'minmax') return { lower: b.min, upper: b.max };
  const half = b.mean.map((m, i) => {
    if (m === null) return null;
    const sd = b.sd[i];
    const n = b.n[i];
    if (sd === null || n < 2) return 0;
    if (kind === 'sd') return sd;
    const se = sd / Math.sqrt(n);
    return kind === 'se' ? se : tQuantile(0.975, n - 1) * se;
  });
  return {
    lower: b.mean.map((m, i) => (m === null ? null : m - half[i]!)),
    upper: b.mean.map((m, i) => (m === null ? null : m + half[i]!)),
  };
}

/**
 * Exponential smoothing that respects uneven evaluation steps: each new value's weight depends on
 * how many *steps* passed since the last one (w = 2^(−Δstep / halfLife)), not on how many
 * evaluations did — a run evaluated every 10 steps early and every 100 later is smoothed over the
 * same span of training throughout (TensorBoard's smoothing weighs evaluations, and a change of
 * evaluation rate changes its curve). Debiased as TensorBoard does, so the first values are not
 * pulled toward zero; missing values (null, NaN) stay missing and do not reset the average.
 */
export function smoothByStep(steps: ArrayLike<number>, values: readonly (number | null)[], halfLife: number): (number | null)[] {
  if (!(halfLife > 0)) return [...values];
  const out: (number | null)[] = new Array(values.length).fill(null);
  let avg = 0;
  let norm = 0;
  let last = NaN;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) continue;
    const w = Number.isNaN(last) ? 0 : 2 ** (-(steps[i] - last) / halfLife);
    avg = w * avg + (1 - w) * v;
    norm = w * norm + (1 - w);
    last = steps[i];
    out[i] = avg / norm;
  }
  return out;
}
