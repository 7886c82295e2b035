/**
 * The group tasks (docs/methods.md, "Tasks"): modular arithmetic over Z/pZ and composition in S5.
 * A task is a finite binary operation on `order` elements; inputs are `[a, b, =]` with the `=`
 * token id equal to `order`, so the vocabulary is order + 1 and there are `order` classes.
 */
export const TASK_NAMES = ['mod-add', 'mod-sub', 'mod-mul', 'mod-div', 's5'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface GroupTask {
  name: TaskName;
  /** Number of group elements = number of classes. */
  order: number;
  /** Whether the task is cyclic (Fourier alignment over Z/pZ is defined). */
  cyclic: boolean;
  /** Whether the pair (a, b) belongs to the dataset (division excludes b = 0). */
  valid(a: number, b: number): boolean;
  op(a: number, b: number): number;
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let i = 2; i * i <= n; i++) if (n % i === 0) return false;
  return true;
}

function modPow(base: number, exp: number, mod: number): number {
  let result = 1;
  let b = base % mod;
  let e = exp;
  while (e > 0) {
    if (e & 1) result = (result * b) % mod;
    b = (b * b) % mod;
    e = Math.floor(e / 2);
  }
  return result;
}

/** All permutations of 0..n-1 in lexicographic order. */
export function permutations(n: number): number[][] {
  const out: number[][] = [];
  const rec = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) {
      out.push(prefix);
      return;
    }
    for (let i = 0; i < rest.length; i++) rec([...prefix, rest[i]], [...rest.slice(0, i), ...rest.slice(i + 1)]);
  };
  rec([], Array.from({ length: n }, (_, i) => i));
  return out;
}

let s5Table: Int32Array | null = null;
/** Composition table of S5: (σ∘τ)(i) = σ(τ(i)), indices in lexicographic order. */
function s5CompositionTable(): Int32Array {
  if (s5Table) return s5Table;
  const perms = permutations(5);
  const index = new Map(perms.map((p, i) => [p.join(','), i]));
  const table = new Int32Array(120 * 120);
  for (let s = 0; s < 120; s++) {
    for (let t = 0; t < 120; t++) {
      const composed = perms[t].map((ti) => perms[s][ti]);
      table[s * 120 + t] = index.get(composed.join(','))!;
    }
  }
  s5Table = table;
  return table;
}

export function makeTask(name: TaskName, p: number): GroupTask {
  if (name === 's5') {
    const table = s5CompositionTable();
    return { name, order: 120, cyclic: false, valid: () => true, op: (a, b) => table[a * 120 + b] };
  }
  if (!isPrime(p)) throw new Error(`p must be a prime for ${name} (got ${p})`);
  switch (name) {
    case 'mod-add':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (a + b) % p };
    case 'mod-sub':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (((a - b) % p) + p) % p };
    case 'mod-mul':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (a * b) % p };
    case 'mod-div':
      // a / b = a · b^(p−2) mod p (Fermat), defined for b ≠ 0.
      return { name, order: p, cyclic: true, valid: (_a, b) => b !== 0, op: (a, b) => (a * modPow(b, p - 2, p)) % p };
  }
}
