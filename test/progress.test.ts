import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { logitFourier, neuronLogitGini, progressMeasures, projectionTable } from '../core/spectra/progress.js';
import { cyclicStructure, keyFrequencies, primitiveRoot, strongest, type ResidueTask } from '../core/spectra/residues.js';
import { frequencyPower, gini } from '../core/spectra/fourier.js';

/**
 * Nanda's progress measures (core/spectra/progress.ts) against closed forms and brute force: a
 * logit tensor made only of the key frequencies is its own restriction and leaves constant
 * excluded logits; on random logits the O(p³) projections equal a direct O(p⁴) sum over pairs,
 * and both losses equal cross-entropies computed pair by pair; planted embedding frequencies come
 * back as the key frequencies. mod-mul and mod-div are cyclic over Z/(p − 1)Z through the discrete
 * logarithm (an even modulus: its last frequency has a cosine only), on the pairs without a 0.
 */
const p = 13;
const TWO_PI = 2 * Math.PI;

function fullLoss(logits: Float64Array, labels: Int32Array, rows: Int32Array, C: number): number {
  let t = 0;
  for (const i of rows) {
    let max = -Infinity;
    for (let c = 0; c < C; c++) max = Math.max(max, logits[i * C + c]);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(logits[i * C + c] - max);
    t += Math.log(sum) - (logits[i * C + labels[i]] - max);
  }
  return t / rows.length;
}

for (const task of ['mod-add', 'mod-sub', 'mod-mul', 'mod-div'] as ResidueTask[]) {
  describe(`progress measures on ${task}, p = ${p}`, () => {
    const ds = makeDataset({ task, p, trainFraction: 0.4, seed: 1 });
    const n = ds.labels.length;
    const structure = cyclicStructure(task, p);
    const m = structure.modulus;
    const residues = Int32Array.from({ length: n }, (_, i) => structure.residue(ds.inputs[i * 3], ds.inputs[i * 3 + 1]));
    const inside = (rows: Int32Array) => rows.filter((i) => residues[i] >= 0);
    /** A class's position in Z/mZ (−1: outside the structure, the 0 of mod-mul and mod-div). */
    const position = (c: number) => structure.element.indexOf(c);

    it('residues are the task’s own answers, on every pair without a 0 operand', () => {
      expect(m).toBe(task === 'mod-add' || task === 'mod-sub' ? p : p - 1);
      for (let i = 0; i < n; i++) {
        const [a, b] = [ds.inputs[i * 3], ds.inputs[i * 3 + 1]];
        const outside = (task === 'mod-mul' || task === 'mod-div') && (a === 0 || b === 0);
        expect(residues[i] < 0).toBe(outside);
        if (!outside) expect(structure.element[residues[i]]).toBe(ds.labels[i]);
      }
    });

    it('restricts a logit tensor made of the key frequencies to itself; its excluded logits are constant per class', () => {
      const K = [2, 5];
      const alpha = [1.7, -0.8];
      const logits = new Float64Array(n * p);
      for (let i = 0; i < n; i++) {
        if (residues[i] < 0) continue;
        for (let c = 0; c < p; c++) if (position(c) >= 0) logits[i * p + c] = K.reduce((t, w, j) => t + alpha[j] * 3 * Math.cos((TWO_PI * w * (residues[i] - position(c))) / m), 0);
      }
      const r = progressMeasures({ structure, classes: p, logits, inputs: ds.inputs, labels: ds.labels, trainIndices: ds.trainIndices, testIndices: ds.testIndices, keyFreqs: K });
      expect(r.restricted_loss).toBeCloseTo(fullLoss(logits, ds.labels, inside(ds.testIndices), p), 10);
      // Excluded logits all equal (their class means, here 0): the loss of a uniform guess.
      const f = logitFourier(logits, residues, m, p);
      const proj = projectionTable(f, K);
      for (let i = 0; i < n; i++) if (residues[i] >= 0) for (let c = 0; c < p; c++) expect(logits[i * p + c] - proj[residues[i] * p + c] - f.mean[c]).toBeCloseTo(0, 10);
      expect(r.excluded_loss).toBeCloseTo(Math.log(p), 10);
      // All of the power is on the key frequencies, in proportion to α².
      expect(r.logit_power).toHaveLength(Math.floor(m / 2));
      const share = (w: number) => r.logit_power[w - 1];
      expect(share(2) + share(5)).toBeCloseTo(1, 10);
      expect(share(2) / share(5)).toBeCloseTo(1.7 ** 2 / 0.8 ** 2, 8);
    });

    it('projects random logits as a direct O(p⁴) sum over pairs does, and its losses equal pair-by-pair cross-entropies', () => {
      const rng = new Rng(7);
      const logits = Float64Array.from({ length: n * p }, () => rng.normal());
      const f = logitFourier(logits, residues, m, p);
      const W = Math.floor(m / 2);
      const pairs = Array.from(inside(Int32Array.from({ length: n }, (_, i) => i)));
      for (let w = 1; w <= W; w++) {
        for (let c = 0; c < p; c++) {
          let num = 0;
          let den = 0;
          let numS = 0;
          let denS = 0;
          let mean = 0;
          for (const i of pairs) mean += logits[i * p + c] / pairs.length;
          for (const i of pairs) {
            const cs = Math.cos((TWO_PI * w * residues[i]) / m);
            const sn = Math.sin((TWO_PI * w * residues[i]) / m);
            num += (logits[i * p + c] - mean) * cs;
            den += cs * cs;
            numS += (logits[i * p + c] - mean) * sn;
            denS += sn * sn;
          }
          expect(f.cos[(w - 1) * p + c]).toBeCloseTo(num / den, 10);
          // At an even modulus the last frequency's sine is 0 at every residue: no coefficient.
          expect(f.sin[(w - 1) * p + c]).toBeCloseTo(denS > 1e-9 ? numS / denS : 0, 10);
        }
      }
      const K = [1, 4, 6];
      const r = progressMeasures({ structure, classes: p, logits, inputs: ds.inputs, labels: ds.labels, trainIndices: ds.trainIndices, testIndices: ds.testIndices, keyFreqs: K });
      // Restricted and excluded logits built pair by pair from the direct coefficients.
      const restricted = new Float64Array(n * p);
      const excluded = new Float64Array(n * p);
      for (const i of pairs) {
        for (let c = 0; c < p; c++) {
          let part = 0;
          for (const w of K) part += f.cos[(w - 1) * p + c] * Math.cos((TWO_PI * w * residues[i]) / m) + f.sin[(w - 1) * p + c] * Math.sin((TWO_PI * w * residues[i]) / m);
          restricted[i * p + c] = f.mean[c] + part;
          excluded[i * p + c] = logits[i * p + c] - part;
        }
      }
      expect(r.restricted_loss).toBeCloseTo(fullLoss(restricted, ds.labels, inside(ds.testIndices), p), 10);
      expect(r.excluded_loss).toBeCloseTo(fullLoss(excluded, ds.labels, inside(ds.trainIndices), p), 10);
      // The frequencies' shares of random logits add up to at most 1 (the rest is off the residue basis).
      const sum = r.logit_power.reduce((a, b) => a + b, 0);
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(1);
    });
  });
}

describe('Fourier power at an even modulus', () => {
  it('gives a cosine at the last frequency m/2 the power of a cosine of the same energy at any other', () => {
    const m = 12;
    const E = new Float64Array(m * 2);
    // Σ cos²(2πa/m) = m/2 and Σ cos²(πa) = m: amplitude 1/√2 at m/2 has the same energy (Parseval).
    for (let a = 0; a < m; a++) {
      E[a * 2] = Math.cos((TWO_PI * 1 * a) / m);
      E[a * 2 + 1] = Math.SQRT1_2 * Math.cos((TWO_PI * 6 * a) / m);
    }
    const power = frequencyPower(E, m, 2);
    expect(power).toHaveLength(6);
    expect(power[5]).toBeCloseTo(power[0], 10);
    expect(power[0]).toBeCloseTo((m / 2) ** 2, 10);
  });
});

describe('the discrete logarithm', () => {
  it('takes the smallest primitive root, whose powers are every nonzero residue', () => {
    expect([7, 11, 13, 47, 97, 113].map(primitiveRoot)).toEqual([3, 2, 2, 5, 5, 3]);
    expect(() => primitiveRoot(12)).toThrow(/not a prime/);
    for (const q of [13, 47, 97]) {
      const s = cyclicStructure('mod-mul', q);
      expect([...s.element].sort((a, b) => a - b)).toEqual(Array.from({ length: q - 1 }, (_, k) => k + 1));
    }
  });

  it('finds mod-mul’s key frequencies in an embedding planted over the logarithm’s order', () => {
    const d = 8;
    const s = cyclicStructure('mod-mul', p);
    const m = s.modulus;
    const rng = new Rng(4);
    const E = new Float64Array((p + 1) * d).map(() => 0.01 * rng.normal());
    // Token g^k gets cos and sin of frequency 4 (strong) and 1 (weaker) at position k.
    s.element.forEach((x, k) => {
      E[x * d] += 2 * Math.cos((TWO_PI * 4 * k) / m);
      E[x * d + 1] += 2 * Math.sin((TWO_PI * 4 * k) / m);
      E[x * d + 2] += Math.cos((TWO_PI * 1 * k) / m);
    });
    expect(keyFrequencies(E, s, d, 2)).toEqual([4, 1]);
  });
});

describe('key frequencies', () => {
  it('recovers the frequencies planted in an embedding, strongest first', () => {
    const d = 8;
    const planted = [[3, 2.0], [1, 1.5], [6, 1.0]] as const;
    const rng = new Rng(3);
    const E = new Float64Array(p * d);
    for (let a = 0; a < p; a++) {
      for (let c = 0; c < d; c++) {
        let x = 0.01 * rng.normal();
        planted.forEach(([w, amp], j) => (x += amp * (c === 2 * j ? Math.cos((TWO_PI * w * a) / p) : c === 2 * j + 1 ? Math.sin((TWO_PI * w * a) / p) : 0)));
        E[a * d + c] = x;
      }
    }
    expect(strongest(frequencyPower(E, p, d), 3)).toEqual([3, 1, 6]);
  });
});

describe('the neuron-to-logit map in the Fourier basis', () => {
  const h = 6;
  const d = 4;
  const W = (p - 1) / 2;
  it('is concentrated (Gini (W − 1)/W) when the unembedding carries one frequency, and matches a brute-force DFT on random weights', () => {
    const rng = new Rng(5);
    const wOut = Float64Array.from({ length: h * d }, () => rng.normal());
    const planted = Float64Array.from({ length: d * p }, (_, i) => Math.cos((TWO_PI * 3 * (i % p)) / p + Math.floor(i / p)));
    expect(neuronLogitGini(wOut, planted, h, d, p)).toBeCloseTo((W - 1) / W, 10);
    const wU = Float64Array.from({ length: d * p }, () => rng.normal());
    // Brute force: M = W_out·W_U, then each frequency's power summed over neurons.
    const power: number[] = [];
    for (let w = 1; w <= W; w++) {
      let t = 0;
      for (let n = 0; n < h; n++) {
        let a = 0;
        let b = 0;
        for (let c = 0; c < p; c++) {
          let m = 0;
          for (let k = 0; k < d; k++) m += wOut[n * d + k] * wU[k * p + c];
          a += m * Math.cos((TWO_PI * w * c) / p);
          b += m * Math.sin((TWO_PI * w * c) / p);
        }
        t += a * a + b * b;
      }
      power.push(t);
    }
    const got = neuronLogitGini(wOut, wU, h, d, p);
    expect(got).toBeCloseTo(gini(power), 10);
    expect(got).toBeLessThan((W - 1) / W);
  });

  it('takes mod-mul’s classes in the logarithm’s order (class 0 outside), as a brute-force DFT over that order does', () => {
    const rng = new Rng(6);
    const s = cyclicStructure('mod-mul', p);
    const m = s.modulus;
    const wOut = Float64Array.from({ length: h * d }, () => rng.normal());
    const wU = Float64Array.from({ length: d * p }, () => rng.normal());
    const power: number[] = [];
    for (let w = 1; w <= m / 2; w++) {
      let t = 0;
      for (let n = 0; n < h; n++) {
        let a = 0;
        let b = 0;
        s.element.forEach((c, k) => {
          let x = 0;
          for (let j = 0; j < d; j++) x += wOut[n * d + j] * wU[j * p + c];
          a += x * Math.cos((TWO_PI * w * k) / m);
          b += x * Math.sin((TWO_PI * w * k) / m);
        });
        t += a * a + b * b;
      }
      // The cosine-only frequency m/2 counted once per unit of energy, as the others are.
      power.push(2 * w === m ? t / 2 : t);
    }
    expect(neuronLogitGini(wOut, wU, h, d, p, s)).toBeCloseTo(gini(power), 10);
  });
});
