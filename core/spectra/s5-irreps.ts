import { permutations } from '../tasks/groups.js';
import { gini } from './fourier.js';

/**
 * The seven irreducible real representations of S5 and the embedding's power in each — S5's
 * counterpart of the cyclic Fourier alignment (docs/methods.md, "Irreducible representations of
 * S5"). Every S5 irrep is realisable over the reals, so each is a set of 120 orthogonal matrices:
 *
 * - trivial (1) and sign (1);
 * - standard (4): the permutation matrices on R⁵ restricted to the sum-zero subspace, and
 *   standard ⊗ sign (4);
 * - Λ² standard (6): the exterior square (2 × 2 minors of the standard matrices);
 * - the 5-dimensional irrep: Sym² standard (10) = trivial ⊕ standard ⊕ W₅, so W₅ is the range of
 *   I − P_trivial − P_standard inside Sym², with P_χ = (d_χ/120) Σ_g χ(g) ρ(g) the isotypic projector;
 *   and W₅ ⊗ sign (5).
 *
 * Dimensions 1, 1, 4, 4, 5, 5, 6 (Σ d² = 120). Element indices are the task's (permutations(5) in
 * lexicographic order), and ρ(op(a, b)) = ρ(a) ρ(b) with op the s5 task's composition a ∘ b.
 * We build them ourselves: no maintained JS library carries S5's representation matrices, and the
 * constructions above are a few lines each; tests check homomorphism, orthonormal characters and
 * Σ d² = 120.
 */
export interface Irrep {
  name: string;
  dim: number;
  /** 120 matrices, dim × dim row-major each, concatenated. */
  matrices: Float64Array;
}

const ORDER = 120;

function matmul(a: Float64Array, b: Float64Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let l = 0; l < k; l++) for (let j = 0; j < m; j++) out[i * m + j] += a[i * k + l] * b[l * m + j];
  return out;
}

function transpose(a: Float64Array, n: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) out[j * n + i] = a[i * m + j];
  return out;
}

/** ρ'(g) = Bᵀ ρ(g) B for every g: the representation restricted to B's orthonormal columns. */
function restrict(rep: Float64Array, n: number, basis: Float64Array, m: number): Float64Array {
  const bt = transpose(basis, n, m);
  const out = new Float64Array(ORDER * m * m);
  for (let g = 0; g < ORDER; g++) out.set(matmul(bt, matmul(rep.subarray(g * n * n, (g + 1) * n * n), basis, n, n, m), m, n, m), g * m * m);
  return out;
}

function character(rep: Float64Array, n: number): Float64Array {
  const chi = new Float64Array(ORDER);
  for (let g = 0; g < ORDER; g++) for (let i = 0; i < n; i++) chi[g] += rep[g * n * n + i * n + i];
  return chi;
}

/** An orthonormal basis (columns, n × rank) of the column space of a, by modified Gram–Schmidt. */
function columnBasis(a: Float64Array, n: number): { basis: Float64Array; rank: number } {
  const cols: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, (_, i) => a[i * n + j]);
    for (const u of cols) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += u[i] * v[i];
      for (let i = 0; i < n; i++) v[i] -= dot * u[i];
    }
    const norm = Math.hypot(...v);
    if (norm > 1e-8) cols.push(v.map((x) => x / norm));
  }
  const basis = new Float64Array(n * cols.length);
  cols.forEach((u, j) => u.forEach((x, i) => (basis[i * cols.length + j] = x)));
  return { basis, rank: cols.length };
}

function tensorSign(rep: Float64Array, dim: number, sign: Float64Array): Float64Array {
  const out = new Float64Array(rep.length);
  for (let g = 0; g < ORDER; g++) for (let i = 0; i < dim * dim; i++) out[g * dim * dim + i] = rep[g * dim * dim + i] * sign[g];
  return out;
}

let cached: Irrep[] | null = null;

export function s5Irreps(): Irrep[] {
  if (cached) return cached;
  const perms = permutations(5);
  // Permutation matrices: P(σ) e_i = e_σ(i), so P(σ ∘ τ) = P(σ) P(τ).
  const perm = new Float64Array(ORDER * 25);
  const sign = new Float64Array(ORDER);
  perms.forEach((s, g) => {
    for (let i = 0; i < 5; i++) perm[g * 25 + s[i] * 5 + i] = 1;
    let inversions = 0;
    for (let i = 0; i < 5; i++) for (let j = i + 1; j < 5; j++) if (s[i] > s[j]) inversions++;
    sign[g] = inversions % 2 ? -1 : 1;
  });
  // The sum-zero subspace of R⁵: Helmert's orthonormal basis (columns).
  const helmert = new Float64Array(5 * 4);
  for (let j = 0; j < 4; j++) {
    const k = j + 1;
    for (let i = 0; i < k; i++) helmert[i * 4 + j] = 1 / Math.sqrt(k * (k + 1));
    helmert[k * 4 + j] = -k / Math.sqrt(k * (k + 1));
  }
  const standard = restrict(perm, 5, helmert, 4);
  // Λ² standard on e_i ∧ e_j (i < j): entries A_ik A_jl − A_il A_jk.
  const pairs: [number, number][] = [];
  for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) pairs.push([i, j]);
  const wedge = new Float64Array(ORDER * 36);
  // Sym² standard on e_i e_i and (e_i e_j + e_j e_i)/√2 (i < j): Uᵀ (A ⊗ A) U.
  const symBasis: [number, number, number][] = [];
  for (let i = 0; i < 4; i++) symBasis.push([i, i, 1]);
  for (const [i, j] of pairs) symBasis.push([i, j, Math.SQRT1_2]);
  const sym = new Float64Array(ORDER * 100);
  for (let g = 0; g < ORDER; g++) {
    const A = (r: number, c: number): number => standard[g * 16 + r * 4 + c];
    pairs.forEach(([i, j], r) => pairs.forEach(([k, l], c) => (wedge[g * 36 + r * 6 + c] = A(i, k) * A(j, l) - A(i, l) * A(j, k))));
    // ⟨u_r, (A ⊗ A) u_c⟩ with u = Σ coeff · (e_a ⊗ e_b), both orderings for i ≠ j.
    const terms = ([i, j, w]: [number, number, number]): [number, number, number][] => (i === j ? [[i, i, w]] : [[i, j, w], [j, i, w]]);
    symBasis.forEach((ur, r) =>
      symBasis.forEach((uc, c) => {
        let s = 0;
        for (const [a, b, wa] of terms(ur)) for (const [x, y, wx] of terms(uc)) s += wa * wx * A(a, x) * A(b, y);
        sym[g * 100 + r * 10 + c] = s;
      }),
    );
  }
  // W₅: the range of I − P_trivial − P_standard in Sym², P_χ = (d/120) Σ_g χ(g) ρ(g).
  const chiStd = character(standard, 4);
  const projector = new Float64Array(100);
  for (let i = 0; i < 10; i++) projector[i * 10 + i] = 1;
  for (let g = 0; g < ORDER; g++) for (let i = 0; i < 100; i++) projector[i] -= ((1 / ORDER) * 1 + (4 / ORDER) * chiStd[g]) * sym[g * 100 + i];
  const { basis, rank } = columnBasis(projector, 10);
  if (rank !== 5) throw new Error(`S5's 5-dimensional irrep: the projector has rank ${rank}, not 5`);
  const five = restrict(sym, 10, basis, 5);
  cached = [
    { name: 'trivial', dim: 1, matrices: new Float64Array(ORDER).fill(1) },
    { name: 'sign', dim: 1, matrices: sign },
    { name: 'standard', dim: 4, matrices: standard },
    { name: 'standard⊗sign', dim: 4, matrices: tensorSign(standard, 4, sign) },
    { name: 'W5', dim: 5, matrices: five },
    { name: 'W5⊗sign', dim: 5, matrices: tensorSign(five, 5, sign) },
    { name: 'Λ²standard', dim: 6, matrices: wedge },
  ];
  return cached;
}

/** The characters χ_ρ(g) = tr ρ(g), one Float64Array of 120 per irrep. */
export function s5Characters(): Float64Array[] {
  return s5Irreps().map((r) => character(r.matrices, r.dim));
}

export interface IrrepAlignment {
  /** Share of the embedding's squared norm in each irrep's isotypic component (Σ = 1), in s5Irreps()'s order. */
  power: number[];
  /** The strongest non-trivial irrep's share of the non-trivial power per dimension² (see docs/methods.md). */
  topk_share: number;
  /** Gini over the six non-trivial irreps of that per-dimension² power. */
  gini: number;
}

/**
 * The embedding's power per irrep: each of its d columns is a function f on S5 (rows 0…119), with
 * group Fourier transform f̂(ρ) = Σ_g f(g) ρ(g); by Plancherel Σ_g f(g)² = (1/120) Σ_ρ d_ρ ‖f̂(ρ)‖²_F,
 * so the term of ρ, summed over columns, is the power in ρ's isotypic component. The trivial irrep
 * (each column's mean) is left out of top share and Gini, as the constant frequency is in the cyclic
 * measure. A random embedding puts power in proportion to d_ρ² (the isotypic component's
 * dimension), so the concentration figures divide each irrep's power by d_ρ² first: a random
 * embedding then spreads evenly (Gini near 0), one that lives in one irrep has top share 1.
 */
export function irrepAlignment(embedding: ArrayLike<number>, d: number): IrrepAlignment {
  if (embedding.length < ORDER * d) throw new Error(`expected a 120 × ${d} embedding, got ${embedding.length} entries`);
  const irreps = s5Irreps();
  const raw = irreps.map(({ dim, matrices }) => {
    let power = 0;
    const fhat = new Float64Array(dim * dim);
    for (let k = 0; k < d; k++) {
      fhat.fill(0);
      for (let g = 0; g < ORDER; g++) {
        const f = embedding[g * d + k];
        if (f === 0) continue;
        for (let i = 0; i < dim * dim; i++) fhat[i] += f * matrices[g * dim * dim + i];
      }
      for (let i = 0; i < dim * dim; i++) power += fhat[i] * fhat[i];
    }
    return power;
  });
  return irrepAlignmentOfSums(raw);
}

/**
 * irrepAlignment from Σ_k ‖f̂_k(ρ)‖²_F per irrep (s5Irreps()'s order), from an engine that took
 * the transforms where the embedding lives (train/gpu/weight-readout.ts).
 */
export function irrepAlignmentOfSums(sums: ArrayLike<number>): IrrepAlignment {
  const irreps = s5Irreps();
  const raw = irreps.map(({ dim }, r) => (dim * sums[r]) / ORDER);
  const total = raw.reduce((a, b) => a + b, 0);
  const density = raw.slice(1).map((x, i) => x / irreps[i + 1].dim ** 2);
  const densityTotal = density.reduce((a, b) => a + b, 0);
  return {
    power: raw.map((x) => (total > 0 ? x / total : 0)),
    topk_share: densityTotal > 0 ? Math.max(...density) / densityTotal : 0,
    gini: gini(density),
  };
}
