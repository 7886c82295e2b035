import { describe, expect, it } from 'vitest';
import { probeWebGpu } from '../core/train/gpu/webgpu.js';
import { gpuContext, readRegions } from '../core/train/gpu/device.js';
import { encode, Recorder } from '../core/train/gpu/program.js';
import { GpuExampleSummary } from '../core/train/gpu/example-summary.js';
import { summariseExamples } from '../core/train/eval/examples.js';
import type { Dataset } from '../core/tasks/dataset.js';
import { Rng } from '../core/rng.js';
import { GpuTridiagonal } from '../core/train/gpu/tridiagonal.js';
import { symmetricEigenvalues } from '../core/spectra/eigen.js';
import { spectralSummary } from '../core/spectra/entropy.js';

/**
 * The WGSL evaluation's device reductions (issue 36) against the host's own formulas on the same
 * numbers: per-example summaries (means, exact log-probability order statistics).
 */
const probe = await probeWebGpu();

/** Q·diag(λ)·Qᵀ in float32, Q orthogonal from Gram–Schmidt on a seeded Gaussian matrix. */
function symmetricWith(lambda: number[], rng: Rng): Float32Array {
  const n = lambda.length;
  const q = Array.from({ length: n }, () => Float64Array.from({ length: n }, () => rng.uniform() - 0.5));
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 2; r++)
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += q[i][k] * q[j][k];
        for (let k = 0; k < n; k++) q[i][k] -= dot * q[j][k];
      }
    const norm = Math.hypot(...q[i]);
    for (let k = 0; k < n; k++) q[i][k] /= norm;
  }
  const a = new Float32Array(n * n);
  for (let r = 0; r < n; r++)
    for (let c = 0; c <= r; c++) {
      let x = 0;
      for (let k = 0; k < n; k++) x += q[k][r] * lambda[k] * q[k][c];
      a[r * n + c] = a[c * n + r] = x;
    }
  return a;
}

/** A split over n examples: every third a test pair, one in seven in neither set. */
function split(n: number, shift: number): Dataset {
  const train: number[] = [];
  const test: number[] = [];
  for (let i = 0; i < n; i++) {
    if ((i + shift) % 7 === 0) continue;
    ((i + shift) % 3 === 0 ? test : train).push(i);
  }
  return { labels: new Int32Array(n), trainIndices: Int32Array.from(train), testIndices: Int32Array.from(test) } as unknown as Dataset;
}

if (probe.ok) {
  describe(`device reductions of an evaluation (${probe.description ?? 'adapter'})`, () => {
    it('summarises the per-example numbers as the host does: means, accuracies and the exact quantile order statistics, ties and −0 included', async () => {
      const n = 1037;
      const runs = 3;
      const rng = new Rng(7);
      const stats = new Float32Array(runs * 5 * n);
      for (let s = 0; s < runs; s++) {
        for (let i = 0; i < n; i++) {
          // Losses on a coarse grid in run 1 (many ties), one −0 and one 0, a huge one in run 2.
          const raw = -Math.log(rng.uniform() + 1e-9) * (s + 1);
          stats[s * 5 * n + i] = s === 1 ? Math.round(raw * 4) / 4 : raw;
          stats[s * 5 * n + n + i] = rng.uniform() < 0.4 ? 1 : 0;
          for (let k = 2; k < 5; k++) stats[s * 5 * n + k * n + i] = rng.uniform() * k - 1;
        }
      }
      stats[1 * 5 * n + 5] = -0;
      stats[1 * 5 * n + 6] = 0;
      stats[2 * 5 * n + 9] = 3e30;
      const datasets = [split(n, 0), split(n, 1), split(n, 2), split(n, 3)];
      const ctx = await gpuContext();
      const rec = new Recorder(ctx);
      try {
        const buf = rec.buffer(stats.length, 'stats', stats);
        // Runs 1…3 of a group of four: the summary reads each run's own split from its place in the group.
        const summary = new GpuExampleSummary(rec, datasets, runs, buf);
        const encoder = ctx.device.createCommandEncoder();
        encode(ctx, encoder, [summary.entry(1, runs)]);
        ctx.device.queue.submit([encoder.finish()]);
        const [values] = await readRegions(ctx, [summary.region(runs)]);
        for (let s = 0; s < runs; s++) {
          const at = (k: number) => stats.subarray(s * 5 * n + k * n, s * 5 * n + (k + 1) * n);
          const want = summariseExamples({ loss: at(0), correct: at(1), logitStats: { std: at(2), maxProb: at(3), margin: at(4) } }, datasets[s + 1]);
          const got = summary.summary(values, s, s + 1);
          expect(got.logprob_quantiles, `run ${s}`).toEqual(want.logprob_quantiles);
          expect(got.train_acc).toBe(want.train_acc);
          expect(got.test_acc).toBe(want.test_acc);
          for (const key of ['train_loss', 'test_loss'] as const) expect(Math.abs(got[key] - want[key])).toBeLessThan(1e-6 * Math.abs(want[key]));
          for (const key of ['scale', 'max_softmax', 'train_margin'] as const) expect(Math.abs(got.logits![key] - want.logits![key])).toBeLessThan(1e-5);
        }
      } finally {
        rec.destroy();
      }
    });

    it(`brings symmetric matrices to tridiagonals whose eigenvalues are the host solver's to float32 accuracy: widths 1 to 300, spectra falling to 1e-7, a zero and a tiny matrix`, async () => {
      const rng = new Rng(11);
      const widths = [1, 2, 3, 64, 300, 5, 7];
      const spectra = (s: number): number[][] =>
        widths.map((n, j) => {
          if (j === 5) return new Array(n).fill(0);
          const scale = j === 6 ? 1e-25 : 1 + s;
          // Falling from scale to scale·1e-7 (a collapsed representation), some repeated.
          return Array.from({ length: n }, (_, i) => scale * 10 ** (-7 * Math.floor((i * 8) / Math.max(1, n)) / 7));
        });
      const runs = 2;
      const stride = widths.reduce((a, n) => a + n * n, 0) + 13;
      const data = new Float32Array(runs * stride);
      const layout = widths.map((n, j) => ({ n, offset: widths.slice(0, j).reduce((a, m) => a + m * m, 0) + 13 }));
      const matrices: Float32Array[][] = [];
      for (let s = 0; s < runs; s++) {
        matrices.push(spectra(s).map((lambda, j) => symmetricWith(lambda, rng)));
        matrices[s].forEach((a, j) => data.set(a, s * stride + layout[j].offset));
      }
      const ctx = await gpuContext();
      const rec = new Recorder(ctx);
      try {
        const buf = rec.buffer(data.length, 'matrices', data);
        const tri = new GpuTridiagonal(rec, buf, layout, stride, runs);
        const encoder = ctx.device.createCommandEncoder();
        encode(ctx, encoder, [tri.entry(runs)]);
        ctx.device.queue.submit([encoder.finish()]);
        const [values] = await readRegions(ctx, [tri.region(runs)]);
        const worst: number[] = [];
        for (let s = 0; s < runs; s++)
          widths.forEach((n, j) => {
            const want = symmetricEigenvalues(matrices[s][j], n);
            const got = tri.eigenvalues(values, s, j);
            expect(got).toHaveLength(n);
            const top = Math.max(...want.map(Math.abs));
            let gap = 0;
            got.forEach((x, i) => (gap = Math.max(gap, Math.abs(x - want[i]))));
            worst.push(top ? gap / top : gap);
            // Householder in float32: backward error ~ √n·u·‖A‖ in practice (u = 6e-8); 1e-5·λmax holds n ≤ 512 with margin.
            if (top) expect(gap, `run ${s}, ${n} wide`).toBeLessThanOrEqual(1e-5 * top);
            else expect(gap).toBe(0);
            if (n > 1 && top) expect(Math.abs(spectralSummary(got, n).entropy - spectralSummary(want, n).entropy), `H̃ of ${n} wide`).toBeLessThan(1e-5);
          });
        console.log('tridiagonal: worst |Δλ|/λmax per matrix', worst.map((x) => x.toExponential(1)).join(' '));
      } finally {
        rec.destroy();
      }
    });
  });
} else {
  it('has no WebGPU adapter here, and says why', () => expect(probe.reason).toBeTruthy());
}
