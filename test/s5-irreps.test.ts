import { describe, expect, it } from 'vitest';
import { irrepAlignment, s5Characters, s5Irreps } from '../core/spectra/s5-irreps.js';
import { makeTask } from '../core/tasks/groups.js';
import { Rng } from '../core/rng.js';
import { parseRunConfig, PRESETS } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { probeWebGpu } from '../core/train/gpu/webgpu.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';

/** S5's irreducible representations (core/spectra/s5-irreps.ts) and the embedding's power in each. */
describe("S5's irreducible representations", () => {
  const irreps = s5Irreps();
  const s5 = makeTask('s5', 0);

  it('has the seven dimensions 1, 1, 4, 4, 5, 5, 6 with Σ d² = 120', () => {
    expect(irreps.map((r) => r.dim).sort((a, b) => a - b)).toEqual([1, 1, 4, 4, 5, 5, 6]);
    expect(irreps.reduce((a, r) => a + r.dim ** 2, 0)).toBe(120);
  });

  it('is a homomorphism of the task’s composition into orthogonal matrices, for every pair', () => {
    for (const { name, dim, matrices } of irreps) {
      const at = (g: number) => matrices.subarray(g * dim * dim, (g + 1) * dim * dim);
      let worst = 0;
      for (let a = 0; a < 120; a++) {
        const A = at(a);
        for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += A[i * dim + k] * A[j * dim + k];
          worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        }
        for (let b = 0; b < 120; b++) {
          const B = at(b);
          const C = at(s5.op(a, b));
          for (let i = 0; i < dim; i++) for (let j = 0; j < dim; j++) {
            let s = 0;
            for (let k = 0; k < dim; k++) s += A[i * dim + k] * B[k * dim + j];
            worst = Math.max(worst, Math.abs(s - C[i * dim + j]));
          }
        }
      }
      expect(worst, name).toBeLessThan(1e-10);
    }
  });

  it('has orthonormal characters: (1/120) Σ_g χ_i(g) χ_j(g) = δ_ij (so the seven are irreducible and distinct)', () => {
    const chars = s5Characters();
    for (let i = 0; i < 7; i++) for (let j = 0; j < 7; j++) {
      let s = 0;
      for (let g = 0; g < 120; g++) s += chars[i][g] * chars[j][g];
      expect(Math.abs(s / 120 - (i === j ? 1 : 0))).toBeLessThan(1e-10);
    }
  });

  it('puts a planted embedding that lives in one irrep wholly there', () => {
    const d = 8;
    irreps.forEach(({ dim, matrices }, r) => {
      // Columns: matrix coefficients ρ(g)_ij, which span ρ's isotypic component.
      const E = new Float64Array(120 * d);
      for (let g = 0; g < 120; g++) for (let k = 0; k < d; k++) E[g * d + k] = matrices[g * dim * dim + (k % (dim * dim))] * (1 + k);
      const a = irrepAlignment(E, d);
      expect(a.power[r]).toBeCloseTo(1, 10);
      if (r > 0) expect(a.topk_share).toBeCloseTo(1, 10);
    });
  });

  it('spreads a random embedding in proportion to d² and gives it a Gini near 0', () => {
    const d = 400;
    const rng = new Rng(3);
    const E = Float64Array.from({ length: 120 * d }, () => rng.normal());
    const a = irrepAlignment(E, d);
    irreps.forEach(({ dim }, r) => expect(Math.abs(a.power[r] - dim ** 2 / 120)).toBeLessThan(0.25 * dim ** 2 / 120 + 0.003));
    expect(a.gini).toBeLessThan(0.1);
    expect(a.topk_share).toBeLessThan(0.25);
  });
});

describe('the irrep alignment in evaluation records', () => {
  it('is what a run on S5 records as its Fourier figures: the embedding rows of the 120 elements, at the same parameters', async () => {
    await selectBackend('cpu');
    for (const task of ['s5', 's5-conj'] as const) {
      const config = parseRunConfig({ ...PRESETS.fast, task, trainFraction: 0.3, dModel: 16, nHeads: 2, dMlp: 32, steps: 3 });
      const t = new Trainer(config, makeDataset({ task, p: config.p, trainFraction: config.trainFraction, seed: config.seed }));
      for (let s = 0; s < 3; s++) await t.trainStep();
      const record = await t.evaluate(false);
      const embed = t.snapshot().params.embed;
      const want = irrepAlignment(embed.data.subarray(0, 120 * 16), 16);
      expect(record.fourier!.topk_share).toBeCloseTo(want.topk_share, 5);
      expect(record.fourier!.gini).toBeCloseTo(want.gini, 5);
      t.dispose();
    }
  });
});

describe('the s5 preset', () => {
  it('parses and trains on every backend that loads here: the loss falls from ln 120 in two steps', async () => {
    const config = parseRunConfig(PRESETS.s5);
    expect(config.task).toBe('s5');
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    expect(ds.trainIndices.length).toBe(7200);
    const trained: string[] = [];
    for (const backend of ['wasm+openblas', 'wasm', 'cpu'] as const) {
      const info = await selectBackend(backend).catch(() => null);
      if (!info) continue;
      const t = new Trainer({ ...config, backend }, ds);
      const before = await t.trainLoss();
      for (let s = 0; s < 2; s++) await t.trainStep();
      const after = await t.trainLoss();
      t.dispose();
      expect(Math.abs(before - Math.log(120)), backend).toBeLessThan(0.5);
      expect(after, backend).toBeLessThan(before);
      trained.push(backend);
    }
    if ((await probeWebGpu()).ok) {
      const group = await WgslGroup.create([{ config: { ...config, backend: 'webgpu' } }]);
      const [before] = await group.trainLosses();
      for (let s = 0; s < 2; s++) await group.trainStep();
      const [after] = await group.trainLosses();
      group.dispose();
      expect(after).toBeLessThan(before);
      trained.push('webgpu');
    }
    expect(trained).toContain('wasm');
  });
});
