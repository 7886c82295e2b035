import { describe, expect, it } from 'vitest';
import type { Band } from '../core/api.js';
import { MAX_BAND_POINTS, decimateBands } from '../core/analysis/bands.js';

/** Bands shown by the compare view: decimated for drawing, with their envelope kept exactly. */
describe('decimateBands', () => {
  const n = 10_001;
  const steps = Array.from({ length: n }, (_, i) => i * 10);
  const wiggle = (i: number): number => Math.sin(i / 7) + (i === 4321 ? 5 : 0) - (i === 777 ? 3 : 0);
  const band: Band = {
    mean: steps.map((_, i) => (i % 1000 === 5 ? null : wiggle(i))),
    min: steps.map((_, i) => wiggle(i) - 1),
    max: steps.map((_, i) => wiggle(i) + 1),
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
  });
});
