import { describe, expect, it } from 'vitest';
import { m4 } from '../core/analysis/decimate.js';
import { Rng } from '../core/rng.js';

describe('M4 decimation of lines', () => {
  it('keeps, per pixel column, the first, lowest, highest and last point, in step order', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 50; trial++) {
      const n = 1 + Math.floor(rng.uniform() * 5000);
      const every = 1 + Math.floor(rng.uniform() * 20);
      const x = Float64Array.from({ length: n }, (_, i) => i * every);
      const y = Float64Array.from({ length: n }, (_, i) => (rng.uniform() < 0.02 ? NaN : Math.sin(i / 50) + rng.uniform()));
      const columns = 1 + Math.floor(rng.uniform() * 800);
      const xMax = x[n - 1] * (1 + rng.uniform()); // the shared axis may run past this run
      const flat = m4(x, y, columns, 0, xMax);
      const px = flat.filter((_, i) => i % 2 === 0);
      const py = flat.filter((_, i) => i % 2 === 1);
      const col = (v: number): number => (xMax > 0 ? Math.min(columns - 1, Math.floor((v / xMax) * columns)) : 0);
      // A subsequence of the finite input points, steps strictly increasing.
      const at = new Map(Array.from(x, (v, i) => [v, i]));
      px.forEach((v, k) => {
        expect(py[k]).toBe(y[at.get(v)!]);
        if (k) expect(v).toBeGreaterThan(px[k - 1]);
      });
      // Per column: same first, last, min and max as the input, at most 4 points.
      const byCol = new Map<number, { xs: number[]; ys: number[] }>();
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(y[i])) continue;
        const c = col(x[i]);
        const e = byCol.get(c) ?? { xs: [], ys: [] };
        e.xs.push(x[i]);
        e.ys.push(y[i]);
        byCol.set(c, e);
      }
      const outCol = new Map<number, { xs: number[]; ys: number[] }>();
      px.forEach((v, k) => {
        const e = outCol.get(col(v)) ?? { xs: [], ys: [] };
        e.xs.push(v);
        e.ys.push(py[k]);
        outCol.set(col(v), e);
      });
      expect([...outCol.keys()]).toEqual([...byCol.keys()]);
      for (const [c, e] of byCol) {
        const o = outCol.get(c)!;
        expect(o.xs.length).toBeLessThanOrEqual(4);
        expect(o.xs[0]).toBe(e.xs[0]);
        expect(o.xs.at(-1)).toBe(e.xs.at(-1));
        expect(Math.min(...o.ys)).toBe(Math.min(...e.ys));
        expect(Math.max(...o.ys)).toBe(Math.max(...e.ys));
      }
    }
  });

  it('returns nothing for an empty or all-missing series, and one point for one', () => {
    expect(m4([], [], 10, 0, 1)).toEqual([]);
    expect(m4([0, 1], [NaN, Infinity], 10, 0, 1)).toEqual([]);
    expect(m4([3], [0.5], 10, 0, 0)).toEqual([3, 0.5]);
  });
});
