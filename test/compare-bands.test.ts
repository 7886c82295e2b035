import { describe, expect, it } from 'vitest';
import { MAX_BAND_POINTS, bandOf, decimateBands, type Band } from '../core/analysis/bands.js';
import { smoothByStep, spreadOf } from '../core/analysis/band-spread.js';
import { traceFromPoints } from '../core/analysis/trace.js';
import type { RunRecord } from '../core/library/library.js';
import { PRESETS } from '../core/schema/run-config.js';
import { compareRuns } from '../core/service/compare.js';

/** Bands shown by the compare view: decimated for drawing, with their envelope kept exactly. */
describe('decimateBands', () => {
  const n = 10_001;
  const steps = Array.from({ length: n }, (_, i) => i * 10);
  const wiggle = (i: number): number => Math.sin(i / 7) + (i === 4321 ? 5 : 0) - (i === 777 ? 3 : 0);
  const band: Band = {
    mean: steps.map((_, i) => (i % 1000 === 5 ? null : wiggle(i))),
    min: steps.map((_, i) => wiggle(i) - 1),
    max: steps.map((_, i) => wiggle(i) + 1),
    sd: steps.map(() => 0.5),
    n: steps.map((_, i) => (i === 4000 ? 2 : 3)),
  };

  it('keeps short series as they are', () => {
    const short = decimateBands(steps.slice(0, 50), [band]);
    expect(short.steps).toHaveLength(50);
    expect(short.bands[0]).toBe(band);
  });

  it('caps long series, keeps the first and last step, the extremes, and min ≤ mean ≤ max', () => {
    const { steps: s, bands } = decimateBands(steps, [band]);
    const b = bands[0];
    expect(s.length).toBeLessThanOrEqual(MAX_BAND_POINTS);
    expect(s.length).toBeGreaterThan(MAX_BAND_POINTS / 2);
    expect(s[0]).toBe(0);
    expect(s.at(-1)).toBe(steps.at(-1));
    expect([...s].sort((x, y) => x - y)).toEqual(s);
    expect(Math.max(...(b.max as number[]))).toBe(Math.max(...(band.max as number[])));
    expect(Math.min(...(b.min as number[]))).toBe(Math.min(...(band.min as number[])));
    b.mean.forEach((m, i) => {
      expect(m).not.toBeNull();
      expect(b.min[i]!).toBeLessThanOrEqual(m!);
      expect(m!).toBeLessThanOrEqual(b.max[i]!);
    });
    // A bucket's mean is the mean of its points' means (nulls left out).
    const k = s[1] / 10;
    const first = band.mean.slice(0, k).filter((x): x is number => x !== null);
    expect(b.mean[0]).toBeCloseTo(first.reduce((a, x) => a + x, 0) / first.length, 12);
    // A bucket covers as many runs as its thinnest step.
    expect(b.n.filter((x) => x === 2)).toHaveLength(1);
    expect(b.n.every((x) => x === 2 || x === 3)).toBe(true);
  });
});

describe('bands without survivorship', () => {
  const grid = [0, 10, 20, 30, 40];
  const long = { step: grid, values: [0, 0.1, 0.2, 0.3, 0.4] };
  const stopped = { step: [0, 10, 20], values: [0.5, 0.9, 1] };

  it('carries a run that stopped on purpose forward at its last value, and counts it', () => {
    const b = bandOf(grid, [long, { ...stopped, carryForward: true }]);
    [0.25, 0.5, 0.6, 0.65, 0.7].forEach((m, i) => expect(b.mean[i]).toBeCloseTo(m, 15));
    expect(b.max).toEqual([0.5, 0.9, 1, 1, 1]);
    expect(b.n).toEqual([2, 2, 2, 2, 2]);
  });

  it('says when a band covers fewer runs instead (runs still training, or stopped by hand)', () => {
    const b = bandOf(grid, [long, stopped]);
    expect(b.mean[3]).toBeCloseTo(0.3, 15);
    expect(b.mean[4]).toBeCloseTo(0.4, 15);
    expect(b.n).toEqual([2, 2, 2, 1, 1]);
  });

  it('keeps the mean test accuracy non-decreasing once every run has grokked and stopped early', () => {
    // Five baselines that grok at different steps and stop 100 steps later (early stop).
    const budget = 3000;
    const data = [900, 1300, 1700, 2100, 2600].map((grok, seed) => {
      const steps = Array.from({ length: (grok + 100) / 20 + 1 }, (_, i) => i * 20);
      const points = steps.map((step) => ({ step, train_acc: 1, test_acc: step >= grok ? 0.97 + seed / 100 : 0.05 + step / 20000, entropy: 0.7 }));
      const id = `r${seed}`;
      const run = {
        id,
        status: 'completed',
        stepsDone: steps.at(-1)!,
        config: { ...PRESETS.fast, seed, steps: budget },
        events: { T_mem: 0, T_grok: grok, T_grok_50: grok, T_grok_99: null, T_cross: null, lead: null },
      } as unknown as RunRecord;
      return { key: id, run, trace: traceFromPoints({ id, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed, budget }, points) };
    });
    const g = compareRuns(data).groups[0];
    const lastGrok = g.steps.findIndex((s) => s >= 2600);
    const after = g.test_acc.mean.slice(lastGrok) as number[];
    for (let i = 1; i < after.length; i++) expect(after[i]).toBeGreaterThanOrEqual(after[i - 1]);
    expect(g.test_acc.n.every((n) => n === 5)).toBe(true);
  });
});

describe('band kinds', () => {
  // Three runs at two steps: values 1, 2, 6 (mean 3, SD √7) and one run alone.
  const grid = [0, 10];
  const b = bandOf(grid, [
    { step: grid, values: [1, 5] },
    { step: [0], values: [2] },
    { step: [0], values: [6] },
  ]);

  it('gives the sample SD, and mean ± SD, ± SE and the t-based 95 % CI of the mean', () => {
    expect(b.mean[0]).toBeCloseTo(3, 14);
    expect(b.sd[0]).toBeCloseTo(Math.sqrt(7), 14);
    expect(b.sd[1]).toBeNull(); // one run: no spread
    const sd = spreadOf(b, 'sd');
    expect(sd.lower[0]).toBeCloseTo(3 - Math.sqrt(7), 14);
    expect(sd.upper[0]).toBeCloseTo(3 + Math.sqrt(7), 14);
    const se = spreadOf(b, 'se');
    expect(se.upper[0]! - 3).toBeCloseTo(Math.sqrt(7 / 3), 14);
    // Student's t with 2 degrees of freedom has a closed-form quantile: t_p = (2p − 1) / √(2p(1 − p)).
    const t = 0.95 / Math.sqrt(2 * 0.975 * 0.025);
    const ci = spreadOf(b, 'ci95');
    expect(ci.upper[0]! - 3).toBeCloseTo(t * Math.sqrt(7 / 3), 10);
    // Where one run is covered the area closes onto its value; min–max is the runs' extremes.
    expect([ci.lower[1], ci.upper[1]]).toEqual([5, 5]);
    expect(spreadOf(b, 'minmax')).toEqual({ lower: b.min, upper: b.max });
  });

  it('keeps a weight norm’s small spread where a sum of squares would cancel it away', () => {
    const big = bandOf([0], [1e8, 1e8 + 1, 1e8 + 2].map((v) => ({ step: [0], values: [v] })));
    expect(big.sd[0]).toBeCloseTo(1, 9);
  });
});

describe('smoothing by steps', () => {
  it('leaves a constant curve as it is, and weighs a value by the steps since the last one', () => {
    expect(smoothByStep([0, 1, 50, 51], [2, 2, 2, 2], 10)).toEqual([2, 2, 2, 2]);
    // One half-life between two evaluations: the second smoothed value is their average.
    expect(smoothByStep([0, 10], [0, 1], 10)[1]).toBeCloseTo(0.5, 15);
  });

  it('gives the same curve at shared steps however often a run was evaluated in between', () => {
    // A step function at step 100, evaluated every 10 steps or every 50: smoothing over steps,
    // not evaluations, gives values that differ only by the discretisation of the jump.
    const dense = Array.from({ length: 31 }, (_, i) => i * 10);
    const sparse = Array.from({ length: 7 }, (_, i) => i * 50);
    const f = (s: number): number => (s >= 100 ? 1 : 0);
    const a = smoothByStep(dense, dense.map(f), 40);
    const b = smoothByStep(sparse, sparse.map(f), 40);
    expect(Math.abs(a[dense.indexOf(300)]! - b[sparse.indexOf(300)]!)).toBeLessThan(0.02);
    // By evaluation count (TensorBoard's weight) the sparse curve would lag far behind.
    expect(a[dense.indexOf(300)]!).toBeGreaterThan(0.95);
  });

  it('keeps missing values missing without restarting the average', () => {
    const out = smoothByStep([0, 10, 20], [1, null, 0], 10);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeCloseTo(0.25, 15); // two half-lives since the 1
  });
});
