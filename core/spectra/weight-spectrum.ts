import { symmetricEigenvalues } from './eigen.js';

/**
 * Spectra of weight matrices (issue "detector view", after WeightWatcher's measures), written
 * down before they were evaluated on any run:
 *
 * - The empirical spectral density (ESD) of an n×m matrix W is the eigenvalues of WᵀW / n
 *   (n ≥ m; a wide matrix is transposed first).
 * - Heavy-tail exponent α: a continuous power law p(λ) ∝ λ^(−α) fitted to the ESD's tail by
 *   maximum likelihood, α = 1 + k / Σ ln(λᵢ / λ_min) over the k eigenvalues ≥ λ_min, with λ_min
 *   chosen among the eigenvalues to minimise the Kolmogorov–Smirnov distance between the tail
 *   and the fit (Clauset, Shalizi & Newman 2009), keeping at least MIN_TAIL eigenvalues.
 * - Correlation traps: eigenvalues above the Marchenko–Pastur bulk of the same matrix with its
 *   entries shuffled. Shuffling keeps the entries' variance σ² and destroys their structure, so
 *   that matrix's ESD follows the Marchenko–Pastur law with σ² and aspect m/n; we use its closed
 *   form rather than sampling shuffles: the largest eigenvalue's centre and scale for real
 *   Wishart matrices (Johnstone 2001), μ = (√(n−1) + √m)², s = (√(n−1) + √m)(1/√(n−1) + 1/√m)^(1/3),
 *   scaled by σ²/n, and count eigenvalues above μ + TW_999 · s, TW_999 = 3.27 being the 99.9 %
 *   quantile of the Tracy–Widom (β = 1) law: a pure-noise matrix shows a trap about once in a
 *   thousand.
 */
export const MIN_TAIL = 5;
export const TRACY_WIDOM_999 = 3.27;

/** ESD of an n×m row-major matrix: eigenvalues of WᵀW / n (after transposing a wide one), descending. */
export function esd(w: ArrayLike<number>, rows: number, cols: number, eigenvalues: (g: Float64Array, m: number) => Float64Array = symmetricEigenvalues): Float64Array {
  const tall = rows >= cols;
  const [n, m] = tall ? [rows, cols] : [cols, rows];
  // The m columns of the tall orientation, each contiguous (so the Gram's inner loop is a plain
  // dot product over two arrays: about 5× faster than reading W through an index closure).
  const col = new Float64Array(m * n);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) col[tall ? c * n + r : r * n + c] = w[r * cols + c];
  const g = new Float64Array(m * m);
  for (let a = 0; a < m; a++) {
    const oa = a * n;
    for (let b = a; b < m; b++) {
      const ob = b * n;
      let s = 0;
      for (let i = 0; i < n; i++) s += col[oa + i] * col[ob + i];
      g[a * m + b] = g[b * m + a] = s / n;
    }
  }
  return Float64Array.from(eigenvalues(g, m)).sort((x, y) => y - x);
}

export interface PowerLawFit {
  alpha: number;
  lambdaMin: number;
  tail: number;
  ks: number;
}

/** α of a power-law tail fitted to positive values (see the module's note); null with fewer than MIN_TAIL. */
export function powerLawAlpha(values: ArrayLike<number>): PowerLawFit | null {
  const x = Array.from(values).filter((v) => v > 0).sort((a, b) => a - b);
  // Σ ln x over each tail, from the top down: the likelihood of every candidate in O(1).
  const suffix = new Float64Array(x.length + 1);
  for (let i = x.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1] + Math.log(x[i]);
  let best: PowerLawFit | null = null;
  for (let start = 0; start <= x.length - MIN_TAIL; start++) {
    const xmin = x[start];
    if (start > 0 && x[start - 1] === xmin) continue;
    const tail = x.length - start;
    const logs = suffix[start] - tail * Math.log(xmin);
    if (logs <= 0) continue;
    const alpha = 1 + tail / logs;
    // KS distance between the tail's empirical CDF and the fitted one, 1 − (x/xmin)^(1−α).
    let ks = 0;
    for (let i = start; i < x.length; i++) {
      const fit = 1 - (x[i] / xmin) ** (1 - alpha);
      ks = Math.max(ks, Math.abs((i - start + 1) / tail - fit), Math.abs((i - start) / tail - fit));
    }
    if (!best || ks < best.ks) best = { alpha, lambdaMin: xmin, tail, ks };
  }
  return best;
}

/** The Marchenko–Pastur largest-eigenvalue threshold for an n×m matrix with entry variance σ² (see the note). */
export function trapThreshold(rows: number, cols: number, variance: number): number {
  const [n, m] = rows >= cols ? [rows, cols] : [cols, rows];
  const a = Math.sqrt(n - 1) + Math.sqrt(m);
  const mu = a * a;
  const s = a * Math.cbrt(1 / Math.sqrt(n - 1) + 1 / Math.sqrt(m));
  return ((mu + TRACY_WIDOM_999 * s) * variance) / n;
}

/** The entries' variance, population form (the trap threshold's σ²). */
export function entryVariance(w: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < w.length; i++) mean += w[i];
  mean /= w.length;
  let variance = 0;
  for (let i = 0; i < w.length; i++) variance += (w[i] - mean) ** 2;
  return variance / w.length;
}

/** Eigenvalues of W's ESD above the bulk of W with its entries shuffled. */
export function correlationTraps(w: ArrayLike<number>, rows: number, cols: number): { traps: number; threshold: number; top: number } {
  const eig = esd(w, rows, cols);
  const threshold = trapThreshold(rows, cols, entryVariance(w));
  return { traps: eig.filter((l) => l > threshold).length, threshold, top: eig[0] };
}

/** exp of the Shannon entropy of the ESD's eigenvalues as shares (the probes' eff_rank, for a weight matrix). */
export function effectiveRank(w: ArrayLike<number>, rows: number, cols: number, eigenvalues?: (g: Float64Array, m: number) => Float64Array): number {
  return effectiveRankOfEsd(esd(w, rows, cols, eigenvalues));
}

/** effectiveRank from the ESD itself (an engine that found it where the weights live: train/gpu/weight-readout.ts). */
export function effectiveRankOfEsd(eig: ArrayLike<number>): number {
  let total = 0;
  for (const l of Array.from(eig)) if (l > 0) total += l;
  if (total <= 0) return NaN;
  let h = 0;
  for (const l of Array.from(eig)) if (l > 0) h -= (l / total) * Math.log(l / total);
  return Math.exp(h);
}

/** What an evaluation stores per weight matrix: α of its ESD's tail (null: too few eigenvalues) and its trap count, from one ESD. */
export function weightSpectrum(w: ArrayLike<number>, rows: number, cols: number, eigenvalues?: (g: Float64Array, m: number) => Float64Array): { alpha: number | null; traps: number } {
  return weightSpectrumOfEsd(esd(w, rows, cols, eigenvalues), rows, cols, entryVariance(w));
}

/** weightSpectrum from the ESD and the entries' variance. */
export function weightSpectrumOfEsd(eig: ArrayLike<number>, rows: number, cols: number, variance: number): { alpha: number | null; traps: number } {
  const threshold = trapThreshold(rows, cols, variance);
  return { alpha: powerLawAlpha(eig)?.alpha ?? null, traps: Array.from(eig).filter((l) => l > threshold).length };
}
