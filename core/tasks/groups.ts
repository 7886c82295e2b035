/**
 * The group tasks (docs/methods.md, "Tasks"): binary operations over Z/pZ and over S5 — the
 * paper's (x + y, x − y, x · y, x / y over Z/pZ; composition in S5) and the rest of Power et al.'s
 * Table 1 (arXiv:2201.02177). A task is a finite binary operation on `order` elements; inputs are
 * `[a, b, =]` with the `=` token id equal to `order`, so the vocabulary is order + 1 and there are
 * `order` classes.
 */
export const ZP_TASKS = ['mod-add', 'mod-sub', 'mod-mul', 'mod-div', 'mod-div-or-sub', 'mod-sq-sum', 'mod-quad', 'mod-quad-x', 'mod-cube-xy', 'mod-cube-xy2-y'] as const;
export const S5_TASKS = ['s5', 's5-conj', 's5-xyx'] as const;
export const TASK_NAMES = [...ZP_TASKS, ...S5_TASKS] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Each task's operation, as Power et al. write it (x, y the two operands). */
export const TASK_FORMULAS: Record<TaskName, string> = {
  'mod-add': 'x + y mod p',
  'mod-sub': 'x − y mod p',
  'mod-mul': 'x · y mod p',
  'mod-div': 'x / y mod p (y ≠ 0)',
  'mod-div-or-sub': 'x / y mod p if y is odd, else x − y mod p',
  'mod-sq-sum': 'x² + y² mod p',
  'mod-quad': 'x² + xy + y² mod p',
  'mod-quad-x': 'x² + xy + y² + x mod p',
  'mod-cube-xy': 'x³ + xy mod p',
  'mod-cube-xy2-y': 'x³ + xy² + y mod p',
  s5: 'x · y in S5',
  's5-conj': 'x · y · x⁻¹ in S5',
  's5-xyx': 'x · y · x in S5',
};

/** Whether the task's elements are S5's permutations (no modulus p) rather than Z/pZ's residues. */
export function isS5Task(name: string): boolean {
  return (S5_TASKS as readonly string[]).includes(name);
}

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

/** Output classes of a task: the group's order (120 for S5, p for Z/pZ tasks); chance accuracy is its inverse. */
export function outputClasses(task: string, p: number): number {
  return isS5Task(task) ? 120 : p;
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

/** The index of each permutation's inverse (the identity is index 0). */
function s5Inverses(): Int32Array {
  const table = s5CompositionTable();
  const inv = new Int32Array(120);
  for (let a = 0; a < 120; a++) for (let b = 0; b < 120; b++) if (table[a * 120 + b] === 0) inv[a] = b;
  return inv;
}

export function makeTask(name: TaskName, p: number): GroupTask {
  if (isS5Task(name)) {
    const t = s5CompositionTable();
    const mul = (a: number, b: number): number => t[a * 120 + b];
    const conj = (inv: Int32Array) => (a: number, b: number) => mul(mul(a, b), inv[a]);
    const op = name === 's5' ? mul : name === 's5-conj' ? conj(s5Inverses()) : (a: number, b: number) => mul(mul(a, b), a);
    return { name, order: 120, cyclic: false, valid: () => true, op };
  }
  if (!isPrime(p)) throw new Error(`p must be a prime for ${name} (got ${p})`);
  // Every intermediate is reduced mod p before the next product, so a product of two residues stays
  // an exact double for any p < 2^26 (a task of p² pairs is far below that).
  const m = (x: number): number => ((x % p) + p) % p;
  const sq = (x: number): number => (x * x) % p;
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
    case 'mod-div-or-sub':
      // An odd y is never 0, so every pair is valid.
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (b % 2 === 1 ? (a * modPow(b, p - 2, p)) % p : m(a - b)) };
    case 'mod-sq-sum':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (sq(a) + sq(b)) % p };
    case 'mod-quad':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (sq(a) + ((a * b) % p) + sq(b)) % p };
    case 'mod-quad-x':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => (sq(a) + ((a * b) % p) + sq(b) + a) % p };
    case 'mod-cube-xy':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => ((sq(a) * a) % p + ((a * b) % p)) % p };
    case 'mod-cube-xy2-y':
      return { name, order: p, cyclic: true, valid: () => true, op: (a, b) => ((sq(a) * a) % p + ((a * sq(b)) % p) + b) % p };
    default:
      throw new Error(`unknown task '${name as string}'`);
  }
}
