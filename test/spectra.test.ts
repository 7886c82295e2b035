import { describe, expect, it } from 'vitest';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Rng } from '../core/rng.js';
import { symmetricEigenvalues } from '../core/spectra/eigen.js';
import { spectralSummary } from '../core/spectra/entropy.js';
import { fourierAlignment, gini } from '../core/spectra/fourier.js';

/** A random orthogonal matrix (Gram–Schmidt on Gaussian columns). */
function randomOrthogonal(n: number, rng: Rng): number[][] {
  const q: number[][] = [];
  for (let j = 0; j < n; j++) {
    let v = Array.from({ length: n }, () => rng.normal());
    for (const u of q) {
      const dot = u.reduce((s, x, i) => s + x * v[i], 0);
      v = v.map((x, i) => x - dot * u[i]);
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  return q; // rows are orthonormal vectors
}

function withSpectrum(lambdas: number[], rng: Rng): Float64Array {
  const n = lambdas.length;
  const q = randomOrthogonal(n, rng);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let k = 0; k < n; k++) s += q[k][i] * lambdas[k] * q[k][j];
    a[i * n + j] = s;
  }
  return a;
}

describe('symmetric eigensolver', () => {
  it('recovers planted spectra, including repeated and zero eigenvalues', () => {
    const rng = new Rng(1);
    for (const lambdas of [
      [5, 4, 3, 2, 1],
      [1, 1, 1, 1, 1, 1],
      [3, 0, 0, 0, 0, 0, 0, 0],
      Array.from({ length: 40 }, (_, i) => Math.exp(-i / 4)),
      Array.from({ length: 64 }, (_, i) => (i % 3) * 0.5),
    ]) {
      const got = Array.from(symmetricEigenvalues(withSpectrum(lambdas, rng), lambdas.length));
      const want = [...lambdas].sort((a, b) => a - b);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 9));
    }
  });

  it('agrees with ml-matrix on random symmetric matrices', () => {
    const rng = new Rng(2);
    for (const n of [1, 2, 3, 17, 128]) {
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = rng.normal();
      const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
      const ref = new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
      const got = symmetricEigenvalues(a, n);
      got.forEach((v, i) => expect(v).toBeCloseTo(ref[i], 9));
    }
  });

  it('rejects a matrix of the wrong size', () => {
    expect(() => symmetricEigenvalues([1, 2, 3], 2)).toThrow(/2×2/);
  });
});

describe('spectral entropy', () => {
  it('is 1 for an isotropic spectrum and 0 for rank one', () => {
    expect(spectralSummary(Array(16).fill(2.5), 16).entropy).toBeCloseTo(1, 12);
    expect(spectralSummary([7, 0, 0, 0], 4).entropy).toBe(0);
  });

  it('matches the closed form for k equal eigenvalues out of d', () => {
    const s = spectralSummary([1, 1, 1, 0, 0, 0, 0, 0], 8);
    expect(s.entropy).toBeCloseTo(Math.log(3) / Math.log(8), 12);
    expect(s.eff_rank).toBeCloseTo(3, 12);
    expect(s.top5_share).toBeCloseTo(1, 12);
  });

  it('clamps small negative eigenvalues from round-off to zero', () => {
    expect(spectralSummary([1, 1, -1e-9], 3).entropy).toBeCloseTo(Math.log(2) / Math.log(3), 12);
  });

  it('gives the top-5 share of a known spectrum', () => {
    expect(spectralSummary([6, 5, 4, 3, 2, 1, 1], 7).top5_share).toBeCloseTo(20 / 22, 12);
  });
});

describe('Fourier alignment', () => {
  it('puts all power in the planted frequencies of a Fourier embedding', () => {
    const p = 23;
    const d = 6;
    const freqs = [3, 7, 11];
    const e = new Float64Array(p * d);
    for (let a = 0; a < p; a++) freqs.forEach((f, j) => {
      e[a * d + 2 * j] = Math.cos((2 * Math.PI * f * a) / p);
      e[a * d + 2 * j + 1] = Math.sin((2 * Math.PI * f * a) / p);
    });
    const fa = fourierAlignment(e, p, d, 3);
    expect(fa.topk_share).toBeCloseTo(1, 9);
    const strongest = fa.power.map((v, i) => [v, i + 1]).sort((x, y) => y[0] - x[0]).slice(0, 3).map((x) => x[1]).sort((a, b) => a - b);
    expect(strongest).toEqual(freqs);
    expect(fa.gini).toBeGreaterThan(0.7);
  });

  it('computes the Gini coefficient of known distributions', () => {
    expect(gini([1, 1, 1, 1])).toBeCloseTo(0, 12);
    expect(gini([0, 0, 0, 1])).toBeCloseTo(0.75, 12);
    expect(gini([1, 2, 3, 4])).toBeCloseTo(0.25, 12);
  });
});
