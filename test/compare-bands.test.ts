import { describe, expect, it } from 'vitest';
import type { Band } from '../core/api.js';
import { MAX_BAND_POINTS, bandOf, decimateBands } from '../core/analysis/bands.js';
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
    expect(b.mean).toEqual([0.25, 0.5, 0.6, 0.65, 0.7]);
    expect(b.max).toEqual([0.5, 0.9, 1, 1, 1]);
    expect(b.n).toEqual([2, 2, 2, 2, 2]);
  });

  it('says when a band covers fewer runs instead (runs still training, or stopped by hand)', () => {
    const b = bandOf(grid, [long, stopped]);
    expect(b.mean.slice(3)).toEqual([0.3, 0.4]);
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
