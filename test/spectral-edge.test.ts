import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { UpdateWindow, inUpdateWindow, spectralEdgeGap } from '../core/spectra/spectral-edge.js';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { selectBackend } from '../core/train/backend.js';
import { RunGroup } from '../core/train/run-group.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';

/**
 * The spectral-edge gap of parameter updates (core/spectra/spectral-edge.ts): planted singular
 * values give their largest ratio and its index; the host window keeps exactly the updates of an
 * evaluation's last W steps and their Gram matrix; a CPU run group records each member's gap from
 * its parameters' actual changes (the stacked engine keeps none; the WGSL engine's ring is checked
 * against the trainer in test/wgsl-group.test.ts).
 */
const W = 10;

/** W update vectors with singular values `sigma`: σ_i times orthonormal rows (a random rotation of the basis). */
function planted(sigma: number[], P: number, seed: number): Float64Array[] {
  const rng = new Rng(seed);
  const basis: Float64Array[] = [];
  while (basis.length < sigma.length) {
    const v = Float64Array.from({ length: P }, () => rng.normal());
    for (const u of basis) {
      const dot = u.reduce((s, x, i) => s + x * v[i], 0);
      for (let i = 0; i < P; i++) v[i] -= dot * u[i];
    }
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    basis.push(v.map((x) => x / norm));
  }
  return basis.map((u, i) => u.map((x) => x * sigma[i]));
}

function gramOf(rows: ArrayLike<number>[]): Float64Array {
  const g = new Float64Array(rows.length ** 2);
  rows.forEach((a, i) => rows.forEach((b, j) => (g[i * rows.length + j] = Array.from(a).reduce((s, x, k) => s + x * b[k], 0))));
  return g;
}

describe('the spectral-edge gap', () => {
  it('finds the planted edge: the largest ratio of consecutive singular values and where it is', () => {
    const sigma = [10, 9, 1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3];
    const edge = spectralEdgeGap(gramOf(planted(sigma, 50, 1)), W)!;
    expect(edge.k).toBe(2);
    expect(edge.gap).toBeCloseTo(9, 8);
    // Rank 3 updates: the zero singular values are not a gap; the edge is among the three.
    const low = spectralEdgeGap(gramOf(planted([5, 4, 0.5, 0, 0, 0, 0, 0, 0, 0], 50, 2)), W)!;
    expect(low.k).toBe(2);
    expect(low.gap).toBeCloseTo(8, 6);
  });

  it('keeps the updates of the W steps up to each evaluation, and their Gram matrix', () => {
    const every = 20;
    const rng = new Rng(3);
    const steps = 45;
    const thetas = [Float32Array.from({ length: 7 }, () => rng.normal())];
    for (let t = 1; t <= steps; t++) thetas.push(thetas[t - 1].map((x) => x + rng.normal() * 0.1));
    const win = new UpdateWindow(7, W, every, steps);
    win.observe(0, [thetas[0]]);
    for (let t = 1; t <= steps; t++) {
      win.observe(t, [thetas[t].subarray(0, 3), thetas[t].subarray(3)]);
      // At each evaluation (asked then: the ring holds the last W steps only).
      if (t === 20 || t === 40 || t === 45) {
        const updates = Array.from({ length: W }, (_, i) => thetas[t - W + 1 + i].map((x, k) => x - thetas[t - W + i][k]));
        const got = win.gram(t)!;
        gramOf(updates).forEach((x, i) => expect(got[i]).toBeCloseTo(x, 5));
      }
      if (t === 30) expect(win.gram(30)).toBeNull(); // not an evaluation: its steps were not all kept
      if (t === 5) expect(win.gram(5)).toBeNull(); // before W updates existed
    }
    expect([19, 11, 10].map((t) => inUpdateWindow(t, every, steps, W))).toEqual([true, true, false]);
  });


  it('is recorded per member by a run group on the CPU, from the parameters’ actual last 10 changes', async () => {
    await selectBackend('wasm');
    const config = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 40, evalEvery: 10, backend: 'wasm' });
    const group = new RunGroup([{ config }, { config: { ...config, seed: 8 } }]);
    try {
      expect((await group.evaluate([0], false))[0].update_edge).toBeUndefined(); // step 0: no updates yet
      const flat = (i: number) => Float64Array.from(Object.values(group.trainers[i].parameters).flatMap((x) => Array.from(x.data)));
      const seen: Float64Array[][] = [[flat(0)], [flat(1)]];
      for (let s = 1; s <= 20; s++) {
        await group.trainStep();
        seen[0].push(flat(0));
        seen[1].push(flat(1));
      }
      const records = await group.evaluate([0, 1], false);
      for (const i of [0, 1]) {
        const updates = Array.from({ length: W }, (_, k) => seen[i][11 + k].map((x, j) => x - seen[i][10 + k][j]));
        const want = spectralEdgeGap(gramOf(updates), W)!;
        expect(records[i].update_edge!.k, `member ${i}`).toBe(want.k);
        expect(Math.abs(records[i].update_edge!.gap - want.gap) / want.gap, `member ${i}`).toBeLessThan(1e-9);
      }
    } finally {
      group.dispose();
    }
    // Evaluations closer than the window: windows would overlap, so none is recorded.
    const close = new RunGroup([{ config: { ...config, evalEvery: 5 } }]);
    try {
      for (let s = 0; s < 10; s++) await close.trainStep();
      expect((await close.evaluate([0], false))[0].update_edge).toBeUndefined();
    } finally {
      close.dispose();
    }
    // The stacked tfjs engine keeps no updates.
    const stacked = new StackedGroup([{ config }]);
    try {
      for (let s = 0; s < 10; s++) await stacked.trainStep();
      expect((await stacked.evaluate([0], false))[0].update_edge).toBeUndefined();
    } finally {
      stacked.dispose();
    }
  });
});
