import { describe, expect, it } from 'vitest';
import { makeDataset } from '../core/tasks/dataset.js';
import { isS5Task, makeTask, permutations, TASK_FORMULAS, TASK_NAMES, ZP_TASKS } from '../core/tasks/groups.js';
import { parseRunConfig, PRESETS } from '../core/schema/run-config.js';

/** Power et al.'s Table 1 over Z/pZ, written directly in BigInt (no shared code with groups.ts). */
function direct(name: string, x: number, y: number, p: number): number | null {
  const [X, Y, P] = [BigInt(x), BigInt(y), BigInt(p)];
  const mod = (v: bigint): number => Number(((v % P) + P) % P);
  // The inverse of y by search: the z with y·z ≡ 1.
  const inv = (v: bigint): bigint | null => {
    for (let z = 1n; z < P; z++) if ((v * z) % P === 1n) return z;
    return null;
  };
  switch (name) {
    case 'mod-add': return mod(X + Y);
    case 'mod-sub': return mod(X - Y);
    case 'mod-mul': return mod(X * Y);
    case 'mod-div': return y === 0 ? null : mod(X * inv(Y)!);
    case 'mod-div-or-sub': return y % 2 === 1 ? mod(X * inv(Y)!) : mod(X - Y);
    case 'mod-sq-sum': return mod(X * X + Y * Y);
    case 'mod-quad': return mod(X * X + X * Y + Y * Y);
    case 'mod-quad-x': return mod(X * X + X * Y + Y * Y + X);
    case 'mod-cube-xy': return mod(X * X * X + X * Y);
    case 'mod-cube-xy2-y': return mod(X * X * X + X * Y * Y + Y);
  }
  throw new Error(name);
}

describe('group tasks', () => {
  it('computes modular operations, with division as the inverse of multiplication', () => {
    expect(makeTask('mod-add', 7).op(5, 4)).toBe(2);
    expect(makeTask('mod-sub', 7).op(2, 5)).toBe(4);
    expect(makeTask('mod-mul', 7).op(3, 5)).toBe(1);
    const div = makeTask('mod-div', 11);
    const mul = makeTask('mod-mul', 11);
    for (let a = 0; a < 11; a++) for (let b = 1; b < 11; b++) expect(mul.op(div.op(a, b), b)).toBe(a);
  });

  it('rejects a non-prime modulus with a clear message', () => {
    expect(() => makeTask('mod-add', 12)).toThrow(/prime/);
  });

  it('builds S5 as a group: identity first, closure, inverses, non-abelian', () => {
    const s5 = makeTask('s5', 0);
    expect(permutations(5)).toHaveLength(120);
    let abelian = true;
    for (let a = 0; a < 120; a++) {
      expect(s5.op(0, a)).toBe(a);
      expect(s5.op(a, 0)).toBe(a);
      let hasInverse = false;
      for (let b = 0; b < 120; b++) {
        if (s5.op(a, b) === 0) hasInverse = true;
        if (s5.op(a, b) !== s5.op(b, a)) abelian = false;
      }
      expect(hasInverse).toBe(true);
    }
    expect(abelian).toBe(false);
  });
});

describe("Power et al.'s operations", () => {
  it('gives every Z/pZ operation the direct formula on all pairs (p = 13 and p = 97), with its valid pairs', () => {
    for (const p of [13, 97]) {
      for (const name of ZP_TASKS) {
        const task = makeTask(name, p);
        for (let x = 0; x < p; x++) {
          for (let y = 0; y < p; y++) {
            const want = direct(name, x, y, p);
            expect(task.valid(x, y), `${name} valid(${x}, ${y})`).toBe(want !== null);
            if (want !== null) expect(task.op(x, y), `${name}(${x}, ${y}) mod ${p}`).toBe(want);
          }
        }
      }
    }
  });

  it('composes S5 permutations directly for x·y, x·y·x⁻¹ and x·y·x', () => {
    const perms = permutations(5);
    const index = new Map(perms.map((q, i) => [q.join(','), i]));
    const compose = (s: number[], t: number[]): number[] => t.map((ti) => s[ti]);
    const inverse = (s: number[]): number[] => s.reduce((inv, v, i) => ((inv[v] = i), inv), Array(5).fill(0) as number[]);
    const [xy, conj, xyx] = (['s5', 's5-conj', 's5-xyx'] as const).map((n) => makeTask(n, 0));
    for (let a = 0; a < 120; a++) {
      for (let b = 0; b < 120; b++) {
        const [x, y] = [perms[a], perms[b]];
        expect(xy.op(a, b)).toBe(index.get(compose(x, y).join(',')));
        expect(conj.op(a, b)).toBe(index.get(compose(compose(x, y), inverse(x)).join(',')));
        expect(xyx.op(a, b)).toBe(index.get(compose(compose(x, y), x).join(',')));
      }
    }
  });

  it('makes S5 a group: associativity on all 120³ triples', () => {
    const s5 = makeTask('s5', 0);
    let bad = 0;
    for (let a = 0; a < 120; a++) for (let b = 0; b < 120; b++) for (let c = 0; c < 120; c++) if (s5.op(s5.op(a, b), c) !== s5.op(a, s5.op(b, c))) bad++;
    expect(bad).toBe(0);
  });

  it('names every task in run configs, with a formula, and asks for a prime p only over Z/pZ', () => {
    for (const task of TASK_NAMES) {
      expect(TASK_FORMULAS[task]).toBeTruthy();
      expect(() => parseRunConfig({ ...PRESETS.fast, task, p: isS5Task(task) ? 12 : 31 })).not.toThrow();
      if (!isS5Task(task)) expect(() => parseRunConfig({ ...PRESETS.fast, task, p: 12 })).toThrow(/prime/);
    }
  });
});

describe('datasets and splits', () => {
  it('holds every pair once, labelled, with `=` as the last token', () => {
    const ds = makeDataset({ task: 'mod-add', p: 13, trainFraction: 0.3, seed: 1 });
    expect(ds.labels.length).toBe(169);
    expect(ds.vocab).toBe(14);
    for (let i = 0; i < 169; i++) {
      expect(ds.inputs[i * 3 + 2]).toBe(13);
      expect(ds.labels[i]).toBe((ds.inputs[i * 3] + ds.inputs[i * 3 + 1]) % 13);
    }
  });

  it('splits deterministically, disjointly, at the requested fraction', () => {
    const a = makeDataset({ task: 'mod-sub', p: 17, trainFraction: 0.4, seed: 9 });
    const b = makeDataset({ task: 'mod-sub', p: 17, trainFraction: 0.4, seed: 9 });
    const c = makeDataset({ task: 'mod-sub', p: 17, trainFraction: 0.4, seed: 10 });
    expect(Array.from(a.trainIndices)).toEqual(Array.from(b.trainIndices));
    expect(Array.from(a.trainIndices)).not.toEqual(Array.from(c.trainIndices));
    expect(a.trainIndices.length).toBe(Math.round(0.4 * 289));
    const all = new Set([...a.trainIndices, ...a.testIndices]);
    expect(all.size).toBe(289);
  });

  it('excludes b = 0 from division', () => {
    const ds = makeDataset({ task: 'mod-div', p: 7, trainFraction: 0.5, seed: 0 });
    expect(ds.labels.length).toBe(42);
    for (let i = 0; i < 42; i++) expect(ds.inputs[i * 3 + 1]).not.toBe(0);
  });

  it('rejects a fraction outside (0, 1)', () => {
    expect(() => makeDataset({ task: 'mod-add', p: 7, trainFraction: 1, seed: 0 })).toThrow(/trainFraction/);
  });
});
