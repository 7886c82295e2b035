import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { auroc, aurocCI, operatingPoint, rocCurve } from '../core/analysis/detection.js';
import { quantile } from '../core/analysis/stats.js';
import { correlationTraps, esd, powerLawAlpha } from '../core/spectra/weight-spectrum.js';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { symmetricEigenvalues } from '../core/spectra/eigen.js';

/** AUROC by definition: every positive–negative pair, a win 1, a tie ½. */
function pairwise(pos: readonly number[], neg: readonly number[]): number {
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

describe('detection statistics', () => {
  it('AUROC equals the direct pairwise count, ties counting one half', () => {
    const cases: [number[], number[]][] = [
      [[0.9, 0.8, 0.8, 0.3], [0.8, 0.1, 0.5]],
      [[1, 2, 3], [4, 5]],
      [[4, 5], [1, 2, 3]],
      [[0.5, 0.5], [0.5, 0.5, 0.5]],
      [[3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8]],
    ];
    for (const [pos, neg] of cases) expect(auroc(pos, neg)).toBeCloseTo(pairwise(pos, neg), 12);
    expect(auroc([1, 2, 3], [4, 5])).toBe(0);
    expect(auroc([], [1])).toBeNull();
  });

  it('its bootstrap CI is the percentile interval of the pairwise AUROC over stratified resamples', () => {
    const pos = [0.91, 0.85, 0.7, 0.66, 0.62, 0.5, 0.48];
    const neg = [0.72, 0.55, 0.4, 0.35, 0.3, 0.2];
    const ci = aurocCI(pos, neg, new Rng(5, 1), 500)!;
    // The same resamples drawn by hand, each scored by the pairwise definition.
    const rng = new Rng(5, 1);
    const values: number[] = [];
    for (let b = 0; b < 500; b++) {
      const p = pos.map(() => pos[rng.int(pos.length)]);
      const n = neg.map(() => neg[rng.int(neg.length)]);
      values.push(pairwise(p, n));
    }
    expect(ci[0]).toBeCloseTo(quantile(values, 0.025), 12);
    expect(ci[1]).toBeCloseTo(quantile(values, 0.975), 12);
    expect(ci[0]).toBeLessThanOrEqual(auroc(pos, neg)!);
    expect(ci[1]).toBeGreaterThanOrEqual(auroc(pos, neg)!);
    expect(aurocCI([2, 3], [0, 1], new Rng(1, 0), 200)).toEqual([1, 1]);
  });

  it('ROC points and the operating point at a false-alarm budget', () => {
    const pos = [0.9, 0.7, 0.6];
    const neg = [0.8, 0.5, 0.4, 0.3];
    const roc = rocCurve(pos, neg);
    expect(roc.map((p) => [p.threshold, p.fpr, p.tpr])).toEqual([
      [Infinity, 0, 0], [0.9, 0, 1 / 3], [0.8, 0.25, 1 / 3], [0.7, 0.25, 2 / 3], [0.6, 0.25, 1], [0.5, 0.5, 1], [0.4, 0.75, 1], [0.3, 1, 1],
    ]);
    expect(operatingPoint(pos, neg, 0.1)).toEqual({ threshold: 0.9, fpr: 0, tpr: 1 / 3 });
    expect(operatingPoint(pos, neg, 0.3)).toEqual({ threshold: 0.6, fpr: 0.25, tpr: 1 });
  });
});

describe('weight spectra', () => {
  /** n samples of a Pareto law with density ∝ x^(−α) above xmin (inverse CDF). */
  const pareto = (rng: Rng, n: number, alpha: number, xmin: number): number[] => Array.from({ length: n }, () => xmin * (1 - rng.uniform()) ** (-1 / (alpha - 1)));

  it('recovers a power law’s α within 0.1, alone and above a bulk', () => {
    for (const alpha of [2, 2.5, 3, 3.5]) {
      const fit = powerLawAlpha(pareto(new Rng(11, alpha * 10), 5000, alpha, 1))!;
      expect(Math.abs(fit.alpha - alpha), `α = ${alpha}: fitted ${fit.alpha}`).toBeLessThan(0.1);
    }
    const rng = new Rng(3, 0);
    const bulk = Array.from({ length: 3000 }, () => 0.1 + 1.5 * rng.uniform());
    const fit = powerLawAlpha([...bulk, ...pareto(rng, 1500, 2.5, 2)])!;
    expect(Math.abs(fit.alpha - 2.5)).toBeLessThan(0.1);
    expect(fit.lambdaMin).toBeGreaterThan(1.5);
  });

  it('the ESD is the spectrum of WᵀW / n, the same for W and its transpose', () => {
    const rng = new Rng(2, 0);
    const [n, m] = [7, 4];
    const w = Array.from({ length: n * m }, () => rng.normal());
    const wt = Array.from({ length: n * m }, (_, k) => w[(k % n) * m + Math.floor(k / n)]);
    const g = new Float64Array(m * m);
    for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) for (let i = 0; i < n; i++) g[a * m + b] += (w[i * m + a] * w[i * m + b]) / n;
    const want = Array.from(symmetricEigenvalues(g, m)).sort((x, y) => y - x);
    esd(w, n, m).forEach((l, i) => expect(l).toBeCloseTo(want[i], 12));
    const fromT = esd(wt, m, n);
    fromT.forEach((l, i) => expect(l).toBeCloseTo(want[i], 12));
  });

  it('finds no correlation trap in random Gaussian matrices, and one with a planted rank-one spike', () => {
    const [n, m] = [200, 100];
    for (let t = 0; t < 8; t++) {
      const rng = new Rng(40 + t, 0);
      const w = Array.from({ length: n * m }, () => rng.normal() * 0.02);
      expect(correlationTraps(w, n, m).traps, `matrix ${t}`).toBe(0);
    }
    const rng = new Rng(99, 0);
    const unit = (k: number): number[] => {
      const v = Array.from({ length: k }, () => rng.normal());
      const norm = Math.hypot(...v);
      return v.map((x) => x / norm);
    };
    const [a, b] = [unit(n), unit(m)];
    const c = 3 * Math.sqrt(n); // the spike's eigenvalue of WᵀW / n is about c² / n = 9, the bulk ends near 2.9
    const w = Array.from({ length: n * m }, (_, k) => rng.normal() + c * a[Math.floor(k / m)] * b[k % m]);
    const r = correlationTraps(w, n, m);
    expect(r.traps).toBeGreaterThanOrEqual(1);
    expect(r.top).toBeGreaterThan(r.threshold);
  });
});

describe('nanda preset', () => {
  it('is TransformerLens’ Grokking demo setting, and a valid run config', () => {
    const c = parseRunConfig(PRESETS.nanda);
    expect(c).toMatchObject({ p: 113, trainFraction: 0.3, dModel: 128, nHeads: 4, dMlp: 512, lr: 1e-3, weightDecay: 1, beta1: 0.9, beta2: 0.98, arch: 'transformer' });
  });
});
