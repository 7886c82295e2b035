import ttest2 from '@stdlib/stats-ttest2';
import { Rng } from '../rng.js';

/** Descriptive statistics and the tests the studies report. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
}

/** Sample standard deviation (n − 1). */
export function std(xs: ArrayLike<number>): number {
  if (xs.length < 2) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / (xs.length - 1));
}

export function quantile(xs: ArrayLike<number>, q: number): number {
  const s = Array.from(xs).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

export interface Summary {
  n: number;
  mean: number | null;
  std: number | null;
  median: number | null;
  min: number | null;
  max: number | null;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

export function summarize(xs: number[]): Summary {
  return {
    n: xs.length,
    mean: finiteOrNull(mean(xs)),
    std: finiteOrNull(std(xs)),
    median: finiteOrNull(median(xs)),
    min: xs.length ? Math.min(...xs) : null,
    max: xs.length ? Math.max(...xs) : null,
  };
}

export interface WelchResult {
  t: number;
  df: number;
  p: number;
  /** mean(x) − mean(y) */
  meanDiff: number;
}

/** Welch's two-sample t-test (unequal variances), two-sided, via @stdlib/stats-ttest2. */
export function welchTest(x: number[], y: number[]): WelchResult | null {
  if (x.length < 2 || y.length < 2) return null;
  if (std(x) === 0 && std(y) === 0) return null;
  const r = ttest2(x, y, { variance: 'unequal' }) as unknown as { statistic: number; df: number; pValue: number };
  return { t: r.statistic, df: r.df, p: r.pValue, meanDiff: mean(x) - mean(y) };
}

/** Cohen's d of x over y with the pooled standard deviation. */
export function cohensD(x: number[], y: number[]): number | null {
  if (x.length < 2 || y.length < 2) return null;
  const pooled = Math.sqrt(((x.length - 1) * std(x) ** 2 + (y.length - 1) * std(y) ** 2) / (x.length + y.length - 2));
  return pooled > 0 ? (mean(x) - mean(y)) / pooled : null;
}

/** Percentile bootstrap CI of a statistic of resampled items. */
export function bootstrapCI<T>(items: T[], stat: (sample: T[]) => number, rng: Rng, resamples = 2000, level = 0.95): [number, number] | null {
  if (items.length === 0) return null;
  const values: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const sample = Array.from({ length: items.length }, () => items[rng.int(items.length)]);
    const v = stat(sample);
    if (Number.isFinite(v)) values.push(v);
  }
  if (values.length === 0) return null;
  return [quantile(values, (1 - level) / 2), quantile(values, 1 - (1 - level) / 2)];
}

/** Bootstrap CI of mean(x) − mean(y), resampling each group independently. */
export function bootstrapMeanDiffCI(x: number[], y: number[], rng: Rng, resamples = 2000, level = 0.95): [number, number] | null {
  if (x.length === 0 || y.length === 0) return null;
  const diffs: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < x.length; i++) sx += x[rng.int(x.length)];
    for (let i = 0; i < y.length; i++) sy += y[rng.int(y.length)];
    diffs.push(sx / x.length - sy / y.length);
  }
  return [quantile(diffs, (1 - level) / 2), quantile(diffs, 1 - (1 - level) / 2)];
}

export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = Math.min(x.length, y.length);
  if (n < 3) return null;
  const mx = mean(Array.from(x).slice(0, n));
  const my = mean(Array.from(y).slice(0, n));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}
