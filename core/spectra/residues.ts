import { frequencyPower } from './fourier.js';

/**
 * The cyclic structure of the residue tasks (docs/methods.md, "Progress measures"): mod-add and
 * mod-sub answer a function of s = a ± b over Z/pZ; mod-mul and mod-div of s = log a ± log b over
 * Z/(p − 1)Z through the discrete logarithm to the smallest primitive root, on the pairs without a
 * 0 operand. The progress measures (progress.ts) project logits on this structure's Fourier basis.
 */
export type ResidueTask = 'mod-add' | 'mod-sub' | 'mod-mul' | 'mod-div';

export function residueTask(task: string): ResidueTask | null {
  return task === 'mod-add' || task === 'mod-sub' || task === 'mod-mul' || task === 'mod-div' ? task : null;
}

/** The cyclic group a residue task's answers live in. */
export interface CyclicStructure {
  /** m: the residue's modulus (p, or p − 1 through the discrete logarithm). */
  modulus: number;
  /** The element (token and class) at each position k of Z/mZ: k itself, or g^k. */
  element: Int32Array;
  /** The pair's residue, −1 for a pair outside the structure (an operand 0 of mod-mul, mod-div). */
  residue(a: number, b: number): number;
}

/** The smallest primitive root modulo the prime p: the g whose powers g^0 … g^(p−2) are every nonzero residue. */
export function primitiveRoot(p: number): number {
  for (let g = 2; g < p; g++) {
    let x = 1;
    let order = 0;
    // At most p − 1 multiplications: for a composite p, g may never come back to 1.
    do {
      x = (x * g) % p;
      order++;
    } while (x !== 1 && order < p);
    if (x === 1 && order === p - 1) return g;
  }
  if (p === 2) return 1;
  throw new Error(`${p} has no primitive root (not a prime)`);
}

export function cyclicStructure(task: ResidueTask, p: number): CyclicStructure {
  if (task === 'mod-add' || task === 'mod-sub') {
    const element = Int32Array.from({ length: p }, (_, k) => k);
    return { modulus: p, element, residue: (a, b) => residueOf(task, a, b, p) };
  }
  const m = p - 1;
  const g = primitiveRoot(p);
  const element = new Int32Array(m);
  const log = new Int32Array(p).fill(-1);
  for (let k = 0, x = 1; k < m; k++, x = (x * g) % p) {
    element[k] = x;
    log[x] = k;
  }
  const sign = task === 'mod-mul' ? 1 : -1;
  return { modulus: m, element, residue: (a, b) => (a === 0 || b === 0 ? -1 : (((log[a] + sign * log[b]) % m) + m) % m) };
}

export function residueOf(task: 'mod-add' | 'mod-sub', a: number, b: number, p: number): number {
  return task === 'mod-add' ? (a + b) % p : (((a - b) % p) + p) % p;
}

/** The key frequencies: the k strongest of the embedding's Fourier power over the structure's residues, strongest first. */
export function keyFrequencies(embed: ArrayLike<number>, s: CyclicStructure, d: number, k: number): number[] {
  return strongest(frequencyPower(rowsInResidueOrder(embed, s, d), s.modulus, d), k);
}

/** An embedding's group-token rows in the structure's order (position k: the row of element k), m × d. */
export function rowsInResidueOrder(embed: ArrayLike<number>, s: CyclicStructure, d: number): Float64Array {
  const out = new Float64Array(s.modulus * d);
  s.element.forEach((x, k) => {
    for (let c = 0; c < d; c++) out[k * d + c] = embed[x * d + c];
  });
  return out;
}

/**
 * The k strongest frequencies of a power-per-frequency list (index w − 1), strongest first: the
 * key frequencies are the k with the largest embedding Fourier power (frequencyPower, which
 * eval/record.ts has from the Fourier alignment already).
 */
export function strongest(power: number[], k: number): number[] {
  return power
    .map((x, i) => [x, i + 1] as const)
    .sort((a, b) => b[0] - a[0])
    .slice(0, k)
    .map(([, w]) => w);
}

