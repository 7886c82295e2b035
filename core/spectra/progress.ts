import { gini } from './fourier.js';
import type { CyclicStructure } from './residues.js';

/**
 * Nanda et al.'s progress measures (ICLR 2023; docs/methods.md, "Progress measures") for tasks
 * whose answer is a function of one residue s(a, b) ∈ Z/mZ: mod-add (s = a + b) and mod-sub
 * (s = a − b) over m = p; mod-mul and mod-div through the discrete logarithm to the smallest
 * primitive root g, s = log a ± log b over m = p − 1, on the pairs whose operands are not 0 (the
 * others answer 0, outside that group).
 *
 * Over every pair of the structure, each class's logits L[·, c] are projected on the constant and
 * on cos(2πws/m), sin(2πws/m) for w = 1…⌊m/2⌋, with the inner product over pairs. The sums go
 * through the per-residue totals U[s, c] = Σ_{pairs with residue s} L[pair, c], so the cost is
 * O(N·C + m²·C) = O(p³) rather than O(p⁴).
 *  - key frequencies K: the k frequencies with the largest embedding Fourier power, the
 *    embedding's rows taken in the residue's order (token g^k at position k for mod-mul/div);
 *  - restricted logits: each class's mean + its projections on K; restricted loss: their
 *    cross-entropy on the test pairs;
 *  - excluded logits: L minus the projections on K; excluded loss: their cross-entropy on the
 *    training pairs;
 *  - logit power: per frequency, the squared norm of the projection on it as a share of the
 *    squared norm of the class-centred logits.
 */
export interface LogitFourier {
  p: number;
  classes: number;
  /** Mean of each class's logits over the pairs, [C]. */
  mean: Float64Array;
  /** Projection coefficients on cos and sin of frequency w (index w − 1), [W × C] row-major. */
  cos: Float64Array;
  sin: Float64Array;
  /** ⟨cos_w, cos_w⟩ and ⟨sin_w, sin_w⟩ over the pairs, [W]. */
  cosNorm: Float64Array;
  sinNorm: Float64Array;
}

/**
 * The projections of every class's logits (N × C row-major) on the Fourier basis of the residues
 * over Z/pZ (p: the modulus m); pairs with residue −1 take no part. At an even modulus the last
 * frequency m/2 has a cosine only (its sine is 0 at every residue: coefficient 0).
 */
export function logitFourier(logits: ArrayLike<number>, residues: Int32Array, p: number, classes: number): LogitFourier {
  const { U, count, n } = residueSums(logits, residues, p, classes);
  return logitFourierFromSums(U, count, n, p, classes);
}

/** Per-residue totals U[s, c] of the logits (p × C), the pairs per residue and the pairs in all (residue −1 left out). */
export function residueSums(logits: ArrayLike<number>, residues: Int32Array, p: number, classes: number): { U: Float64Array; count: Float64Array; n: number } {
  const U = new Float64Array(p * classes);
  const count = new Float64Array(p);
  let n = 0;
  for (let i = 0; i < residues.length; i++) {
    const s = residues[i];
    if (s < 0) continue;
    n++;
    count[s]++;
    for (let c = 0; c < classes; c++) U[s * classes + c] += logits[i * classes + c];
  }
  return { U, count, n };
}

/** logitFourier from the per-residue totals (an engine may sum them where the logits live). */
export function logitFourierFromSums(U: ArrayLike<number>, count: Float64Array, n: number, p: number, classes: number): LogitFourier {
  const W = Math.floor(p / 2);
  const mean = new Float64Array(classes);
  for (let s = 0; s < p; s++) for (let c = 0; c < classes; c++) mean[c] += U[s * classes + c] / n;
  const cos = new Float64Array(W * classes);
  const sin = new Float64Array(W * classes);
  const cosNorm = new Float64Array(W);
  const sinNorm = new Float64Array(W);
  for (let w = 1; w <= W; w++) {
    for (let s = 0; s < p; s++) {
      const angle = (2 * Math.PI * w * s) / p;
      const cs = Math.cos(angle);
      const sn = Math.sin(angle);
      cosNorm[w - 1] += count[s] * cs * cs;
      sinNorm[w - 1] += count[s] * sn * sn;
      for (let c = 0; c < classes; c++) {
        // ⟨L_c − mean_c, cos_w⟩: the constant's part drops out only where Σ_pairs cos_w = 0
        // (complete pairs), so it is taken out explicitly.
        const centred = U[s * classes + c] - count[s] * mean[c];
        cos[(w - 1) * classes + c] += centred * cs;
        sin[(w - 1) * classes + c] += centred * sn;
      }
    }
    // A basis function that vanishes on every pair (the sine at m/2) has no coefficient.
    const tiny = 1e-9 * n;
    for (let c = 0; c < classes; c++) {
      cos[(w - 1) * classes + c] = cosNorm[w - 1] > tiny ? cos[(w - 1) * classes + c] / cosNorm[w - 1] : 0;
      sin[(w - 1) * classes + c] = sinNorm[w - 1] > tiny ? sin[(w - 1) * classes + c] / sinNorm[w - 1] : 0;
    }
  }
  return { p, classes, mean, cos, sin, cosNorm, sinNorm };
}

/** The part of the logits along frequencies `freqs`, per residue: [p × C]. */
export function projectionTable(f: LogitFourier, freqs: number[]): Float64Array {
  const { p, classes } = f;
  const out = new Float64Array(p * classes);
  for (const w of freqs) {
    for (let s = 0; s < p; s++) {
      const angle = (2 * Math.PI * w * s) / p;
      const cs = Math.cos(angle);
      const sn = Math.sin(angle);
      for (let c = 0; c < classes; c++) out[s * classes + c] += f.cos[(w - 1) * classes + c] * cs + f.sin[(w - 1) * classes + c] * sn;
    }
  }
  return out;
}

/** Cross-entropy of one row of logits (given by `at(c)`) against class y. */
function crossEntropy(at: (c: number) => number, classes: number, y: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, at(c));
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(at(c) - max);
  return Math.log(sum) - (at(y) - max);
}

export interface ProgressMeasures {
  restricted_loss: number;
  excluded_loss: number;
  key_freqs: number[];
  /** Share of the class-centred logits' squared norm along each frequency w = 1…⌊m/2⌋ (m: the structure's modulus). */
  logit_power: number[];
  /** neuronLogitGini of W_out·W_U, where both matrices were given. */
  neuron_logit_gini?: number;
}

export interface ProgressInput {
  structure: CyclicStructure;
  classes: number;
  /** Every valid pair's logits, N × C row-major, in the dataset's order. */
  logits: ArrayLike<number>;
  /** N × 3 token ids and N labels (the dataset's). */
  inputs: Int32Array;
  labels: Int32Array;
  trainIndices: Int32Array;
  testIndices: Int32Array;
  keyFreqs: number[];
}

export function progressMeasures(m: ProgressInput): ProgressMeasures {
  const plan = progressPlan(m.structure, m.classes, m.inputs, m.labels, m.trainIndices, m.testIndices);
  const { U } = residueSums(m.logits, plan.residues, m.structure.modulus, m.classes);
  const half = progressFirstHalf(plan, m.classes, U, m.keyFreqs);
  const { excludedSum, total } = excludedAndTotal(plan, m.classes, m.logits, m.labels, half);
  return progressSecondHalf(half, m.keyFreqs, excludedSum, total);
}

/** What the measures need of a run's pairs, fixed for its split: residues, pairs per residue, the test pairs per (residue, label), the training pairs. */
export interface ProgressPlan {
  modulus: number;
  residues: Int32Array;
  count: Float64Array;
  n: number;
  testCounts: Map<number, number>;
  nTest: number;
  train: Uint8Array;
  nTrain: number;
}

export function progressPlan(structure: CyclicStructure, classes: number, inputs: Int32Array, labels: Int32Array, trainIndices: Int32Array, testIndices: Int32Array): ProgressPlan {
  const N = labels.length;
  const residues = Int32Array.from({ length: N }, (_, i) => structure.residue(inputs[i * 3], inputs[i * 3 + 1]));
  const count = new Float64Array(structure.modulus);
  let n = 0;
  for (const s of residues) if (s >= 0) (count[s]++, n++);
  // Restricted logits depend on the pair only through its residue s, so the test pairs' loss is a
  // sum over (s, label) of counts times one cross-entropy: p·C work instead of N_test·C (at p = 97,
  // 97 rows instead of ~6,600, the largest part of the measures' cost).
  const testCounts = new Map<number, number>();
  let nTest = 0;
  for (const i of testIndices) {
    if (residues[i] < 0) continue;
    nTest++;
    const key = residues[i] * classes + labels[i];
    testCounts.set(key, (testCounts.get(key) ?? 0) + 1);
  }
  const train = new Uint8Array(N);
  let nTrain = 0;
  for (const i of trainIndices) if (residues[i] >= 0) (train[i] = 1, nTrain++);
  return { modulus: structure.modulus, residues, count, n, testCounts, nTest, train, nTrain };
}

/** The first half, from the per-residue totals: the Fourier coefficients, the projection on the key frequencies, the restricted loss. */
export interface ProgressHalf {
  f: LogitFourier;
  proj: Float64Array;
  restricted: number;
  nTrain: number;
}

export function progressFirstHalf(plan: ProgressPlan, C: number, U: ArrayLike<number>, keyFreqs: number[]): ProgressHalf {
  const f = logitFourierFromSums(U, plan.count, plan.n, plan.modulus, C);
  const proj = projectionTable(f, keyFreqs);
  let restricted = 0;
  for (const [key, count] of plan.testCounts) {
    const s = Math.floor(key / C);
    restricted += count * crossEntropy((c) => f.mean[c] + proj[s * C + c], C, key % C);
  }
  return { f, proj, restricted: plan.nTest ? restricted / plan.nTest : NaN, nTrain: plan.nTrain };
}

/** Σ over training pairs of the excluded logits' cross-entropy, and the class-centred logits' squared norm over every pair. */
export function excludedAndTotal(plan: ProgressPlan, C: number, logits: ArrayLike<number>, labels: Int32Array, half: ProgressHalf): { excludedSum: number; total: number } {
  const { proj, f } = half;
  let excludedSum = 0;
  let total = 0;
  for (let i = 0; i < plan.residues.length; i++) {
    const s = plan.residues[i];
    if (s < 0) continue;
    if (plan.train[i]) excludedSum += crossEntropy((c) => logits[i * C + c] - proj[s * C + c], C, labels[i]);
    for (let c = 0; c < C; c++) total += (logits[i * C + c] - f.mean[c]) ** 2;
  }
  return { excludedSum, total };
}

export function progressSecondHalf(half: ProgressHalf, keyFreqs: number[], excludedSum: number, total: number): ProgressMeasures {
  const { f } = half;
  const C = f.classes;
  const W = f.cosNorm.length;
  const power: number[] = [];
  for (let w = 0; w < W; w++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += f.cos[w * C + c] ** 2 * f.cosNorm[w] + f.sin[w * C + c] ** 2 * f.sinNorm[w];
    power.push(total > 0 ? s / total : 0);
  }
  return { restricted_loss: half.restricted, excluded_loss: half.nTrain ? excludedSum / half.nTrain : NaN, key_freqs: keyFreqs, logit_power: power };
}

/**
 * The Gini coefficient, over frequencies w = 1…⌊m/2⌋, of the neuron-to-logit map's power in the
 * Fourier basis of the output classes: M = W_out·W_U ([h, C], each MLP neuron's direct effect on
 * the logits), each neuron's row projected on cos(2πwk/m) and sin(2πwk/m) over the positions k of
 * the classes in the structure (class element[k]; classes outside it, 0 of mod-mul, take no
 * part), the squared projections summed over neurons per frequency. Near 1 when a few
 * frequencies carry the map (Nanda's trained circuit), lower when it is spread. Without a
 * structure, the classes 0…C−1 in their own order (mod-add, mod-sub).
 */
export function neuronLogitGini(wOut: ArrayLike<number>, wU: ArrayLike<number>, h: number, d: number, classes: number, structure?: CyclicStructure): number {
  const m = structure?.modulus ?? classes;
  const element = structure?.element ?? Int32Array.from({ length: classes }, (_, k) => k);
  const p = classes;
  // M's projections are W_out times W_U's: Σ_c M[n, c]·cos(2πwc/p) = Σ_k W_out[n, k]·Σ_c W_U[k, c]·cos(2πwc/p).
  // So W_U's rows are transformed once ([W][d], contiguous over k) and each neuron costs 2W dot
  // products of length d: h·d·2W multiply-adds (9.4 → 4.7 ms at the quick preset's sizes, median
  // of 7 timings on the 2-core AMD EPYC VM, against forming M first).
  const W = Math.floor(m / 2);
  const fc = new Float64Array(W * d);
  const fs = new Float64Array(W * d);
  for (let w = 1; w <= W; w++) {
    for (let k = 0; k < m; k++) {
      const c = element[k];
      const angle = (2 * Math.PI * w * k) / m;
      const cs = Math.cos(angle);
      const sn = Math.sin(angle);
      for (let j = 0; j < d; j++) {
        fc[(w - 1) * d + j] += wU[j * p + c] * cs;
        fs[(w - 1) * d + j] += wU[j * p + c] * sn;
      }
    }
  }
  const power = new Array<number>(W).fill(0);
  const row = new Float64Array(d);
  for (let n = 0; n < h; n++) {
    for (let k = 0; k < d; k++) row[k] = wOut[n * d + k];
    for (let w = 0; w < W; w++) {
      let a = 0;
      let b = 0;
      const o = w * d;
      for (let k = 0; k < d; k++) {
        a += row[k] * fc[o + k];
        b += row[k] * fs[o + k];
      }
      // The cosine-only frequency m/2 of an even modulus weighed like the others (see frequencyPower).
      power[w] += 2 * (w + 1) === m ? (a * a + b * b) / 2 : a * a + b * b;
    }
  }
  return gini(power);
}
