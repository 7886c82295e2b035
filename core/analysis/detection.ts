import type { Rng } from '../rng.js';
import { quantile } from './stats.js';

/**
 * The early warning judged as a detector (issue "detector view"): a score per run, higher meaning
 * "will grok", and the runs' outcomes. AUROC is the Mann–Whitney probability that a random
 * positive scores above a random negative, ties counting one half (the area under the ROC curve
 * exactly, including its diagonal steps at ties); its confidence interval a stratified percentile
 * bootstrap (positives and negatives resampled separately, so every resample has both). The ROC
 * points and an operating point at a false-alarm budget come from the same sorted scores.
 */
export function auroc(positives: readonly number[], negatives: readonly number[]): number | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  // Ranks over the pooled scores, ties at their mean rank: U = R₊ − n₊(n₊+1)/2.
  const pooled = [...positives.map((s) => ({ s, pos: true })), ...negatives.map((s) => ({ s, pos: false }))].sort((a, b) => a.s - b.s);
  let rankSum = 0;
  for (let i = 0; i < pooled.length; ) {
    let j = i;
    while (j < pooled.length && pooled[j].s === pooled[i].s) j++;
    const meanRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (pooled[k].pos) rankSum += meanRank;
    i = j;
  }
  const n1 = positives.length;
  return (rankSum - (n1 * (n1 + 1)) / 2) / (n1 * negatives.length);
}

export function aurocCI(positives: readonly number[], negatives: readonly number[], rng: Rng, resamples = 2000, level = 0.95): [number, number] | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const values: number[] = [];
  const draw = (xs: readonly number[]): number[] => Array.from({ length: xs.length }, () => xs[rng.int(xs.length)]);
  for (let b = 0; b < resamples; b++) values.push(auroc(draw(positives), draw(negatives))!);
  return [quantile(values, (1 - level) / 2), quantile(values, 1 - (1 - level) / 2)];
}

export interface RocPoint {
  /** Alarm when score ≥ threshold. */
  threshold: number;
  fpr: number;
  tpr: number;
}

/** The ROC curve: one point per distinct score (alarm at score ≥ it), from (0, 0) to (1, 1). */
export function rocCurve(positives: readonly number[], negatives: readonly number[]): RocPoint[] {
  const thresholds = [...new Set([...positives, ...negatives])].sort((a, b) => b - a);
  const points: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  for (const t of thresholds) {
    points.push({ threshold: t, fpr: negatives.filter((s) => s >= t).length / negatives.length, tpr: positives.filter((s) => s >= t).length / positives.length });
  }
  return points;
}

/** The threshold with the highest true-positive rate whose false-alarm rate is at most `maxFpr`. */
export function operatingPoint(positives: readonly number[], negatives: readonly number[], maxFpr: number): RocPoint | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const ok = rocCurve(positives, negatives).filter((p) => p.fpr <= maxFpr);
  return ok.reduce((best, p) => (p.tpr > best.tpr ? p : best), ok[0]);
}
