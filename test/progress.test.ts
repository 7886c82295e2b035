import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { logitFourier, neuronLogitGini, progressMeasures, projectionTable, residueOf, strongest, type ResidueTask } from '../core/spectra/progress.js';
import { frequencyPower, gini } from '../core/spectra/fourier.js';

/**
 * Nanda's progress measures (core/spectra/progress.ts) against closed forms and brute force: a
 * logit tensor made only of the key frequencies is its own restriction and leaves constant
 * excluded logits; on random logits the O(p³) projections equal a direct O(p⁴) sum over pairs,
 * and both losses equal cross-entropies computed pair by pair; planted embedding frequencies come
 * back as the key frequencies.
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

for (const task of ['mod-add', 'mod-sub'] as ResidueTask[]) {
  describe(`progress measures on ${task}, p = ${p}`, () => {
    const ds = makeDataset({ task, p, trainFraction: 0.4, seed: 1 });
    const n = ds.labels.length;
    const residues = Int32Array.from({ length: n }, (_, i) => residueOf(task, ds.inputs[i * 3], ds.inputs[i * 3 + 1], p));

    it('residues are the task’s own answers', () => {
      for (let i = 0; i < n; i++) expect(residues[i]).toBe(ds.labels[i]);
    });

    it('restricts a logit tensor made of the key frequencies to itself; its excluded logits are constant per class', () => {
      const K = [2, 5];
      const alpha = [1.7, -0.8];
      const logits = new Float64Array(n * p);
      for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) logits[i * p + c] = K.reduce((t, w, j) => t + alpha[j] * 3 * Math.cos((TWO_PI * w * (residues[i] - c)) / p), 0);
      const m = progressMeasures({ task, p, classes: p, logits, inputs: ds.inputs, labels: ds.labels, trainIndices: ds.trainIndices, testIndices: ds.testIndices, keyFreqs: K });
      expect(m.restricted_loss).toBeCloseTo(fullLoss(logits, ds.labels, ds.testIndices, p), 10);
      // Excluded logits all equal (their class means, here 0): the loss of a uniform guess.
      const f = logitFourier(logits, residues, p, p);
      const proj = projectionTable(f, K);
      for (let i = 0; i < n; i++) for (let c = 0; c < p; c++) expect(logits[i * p + c] - proj[residues[i] * p + c] - f.mean[c]).toBeCloseTo(0, 10);
      expect(m.excluded_loss).toBeCloseTo(Math.log(p), 10);
      // All of the power is on the key frequencies, in proportion to α².
      const share = (w: number) => m.logit_power[w - 1];
      expect(share(2) + share(5)).toBeCloseTo(1, 10);
      expect(share(2) / share(5)).toBeCloseTo(1.7 ** 2 / 0.8 ** 2, 8);
    });

    it('projects random logits as a direct O(p⁴) sum over pairs does, and its losses equal pair-by-pair cross-entropies', () => {
      const rng = new Rng(7);
      const logits = Float64Array.from({ length: n * p }, () => rng.normal());
      const f = logitFourier(logits, residues, p, p);
      const W = (p - 1) / 2;
      for (let w = 1; w <= W; w++) {
        for (let c = 0; c < p; c++) {
          let num = 0;
          let den = 0;
          let numS = 0;
          let denS = 0;
          let mean = 0;
          for (let i = 0; i < n; i++) mean += logits[i * p + c] / n;
          for (let i = 0; i < n; i++) {
            const cs = Math.cos((TWO_PI * w * residues[i]) / p);
            const sn = Math.sin((TWO_PI * w * residues[i]) / p);
            num += (logits[i * p + c] - mean) * cs;
            den += cs * cs;
            numS += (logits[i * p + c] - mean) * sn;
            denS += sn * sn;
          }
          expect(f.cos[(w - 1) * p + c]).toBeCloseTo(num / den, 10);
          expect(f.sin[(w - 1) * p + c]).toBeCloseTo(numS / denS, 10);
        }
      }
      const K = [1, 4, 6];
      const m = progressMeasures({ task, p, classes: p, logits, inputs: ds.inputs, labels: ds.labels, trainIndices: ds.trainIndices, testIndices: ds.testIndices, keyFreqs: K });
      // Restricted and excluded logits built pair by pair from the direct coefficients.
      const restricted = new Float64Array(n * p);
      const excluded = new Float64Array(n * p);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < p; c++) {
          let part = 0;
          for (const w of K) part += f.cos[(w - 1) * p + c] * Math.cos((TWO_PI * w * residues[i]) / p) + f.sin[(w - 1) * p + c] * Math.sin((TWO_PI * w * residues[i]) / p);
          restricted[i * p + c] = f.mean[c] + part;
          excluded[i * p + c] = logits[i * p + c] - part;
        }
      }
      expect(m.restricted_loss).toBeCloseTo(fullLoss(restricted, ds.labels, ds.testIndices, p), 10);
      expect(m.excluded_loss).toBeCloseTo(fullLoss(excluded, ds.labels, ds.trainIndices, p), 10);
      // The frequencies' shares of random logits add up to at most 1 (the rest is off the residue basis).
      const sum = m.logit_power.reduce((a, b) => a + b, 0);
      expect(sum).toBeGreaterThan(0);
      expect(sum).toBeLessThan(1);
    });
  });
}

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
});
