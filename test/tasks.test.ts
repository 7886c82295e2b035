import { describe, expect, it } from 'vitest';
import { makeDataset } from '../core/tasks/dataset.js';
import { makeTask, permutations } from '../core/tasks/groups.js';

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
