import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { logitStatsOf, splitLogitStats } from '../core/train/tfjs/logit-stats.js';
import { Trainer } from '../core/train/trainer.js';
import { Rng } from '../core/rng.js';
import { correlationTraps, effectiveRank, esd, powerLawAlpha } from '../core/spectra/weight-spectrum.js';
import { evalScalars } from '../core/library/metrics.js';

/** The three statistics of one example's logits, straight from their definitions (float64). */
function direct(logits: ArrayLike<number>, label: number): { std: number; maxProb: number; margin: number } {
  const xs = Array.from(logits);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
  const max = Math.max(...xs);
  const maxProb = 1 / xs.reduce((a, b) => a + Math.exp(b - max), 0);
  const margin = xs[label] - Math.max(...xs.filter((_, i) => i !== label));
  return { std, maxProb, margin };
}

describe('logit scale, confidence and margin of an evaluation', () => {
  it('equal their definitions per example, for one run and for a group laid out [S, N, C]', async () => {
    await selectBackend('cpu');
    const rng = new Rng(7);
    const [S, N, C] = [2, 5, 7];
    const values = Float32Array.from({ length: S * N * C }, () => (rng.uniform() - 0.5) * 12);
    const labels = Int32Array.from({ length: S * N }, () => rng.int(C));
    const stacked = tf.tidy(() => logitStatsOf(tf.tensor3d(values, [S, N, C]), tf.oneHot(tf.tensor2d(labels, [S, N], 'int32'), C).toFloat(), 2));
    expect(stacked.shape).toEqual([S, 3, N]);
    const read = (await stacked.data()) as Float32Array;
    stacked.dispose();
    for (let s = 0; s < S; s++) {
      const got = splitLogitStats(read.subarray(s * 3 * N, (s + 1) * 3 * N));
      for (let n = 0; n < N; n++) {
        const want = direct(values.subarray((s * N + n) * C, (s * N + n + 1) * C), labels[s * N + n]);
        expect(got.std[n]).toBeCloseTo(want.std, 4);
        expect(got.maxProb[n]).toBeCloseTo(want.maxProb, 5);
        expect(got.margin[n]).toBeCloseTo(want.margin, 4);
      }
    }
    // One run's [N, C] gives [3, N].
    const single = tf.tidy(() => logitStatsOf(tf.tensor2d(values.subarray(0, N * C), [N, C]), tf.oneHot(tf.tensor1d(labels.subarray(0, N), 'int32'), C).toFloat(), 1));
    expect(single.shape).toEqual([3, N]);
    single.dispose();
  });

  it('an evaluation records their means: over every example, the margin over the training pairs', async () => {
    await selectBackend('wasm');
    const config = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, seed: 2, backend: 'wasm' });
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    const t = new Trainer(config, ds);
    try {
      const before = await t.evaluate(false);
      for (let i = 0; i < 60; i++) await t.trainStep();
      const record = await t.evaluate(false);
      const logits = await t.logits();
      const C = logits.length / ds.labels.length;
      const per = Array.from(ds.labels, (label, i) => direct(logits.subarray(i * C, (i + 1) * C), label));
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(record.logits!.scale).toBeCloseTo(mean(per.map((p) => p.std)), 4);
      expect(record.logits!.max_softmax).toBeCloseTo(mean(per.map((p) => p.maxProb)), 5);
      expect(record.logits!.train_margin).toBeCloseTo(mean(Array.from(ds.trainIndices, (i) => per[i].margin)), 4);
      // Training raises the margin on the training pairs: a measurement that moves, not a constant.
      expect(record.logits!.train_margin).toBeGreaterThan(before.logits!.train_margin + 0.3);
    } finally {
      t.dispose();
    }
  });

  it('effective rank of a weight matrix: its closed forms', () => {
    // Orthogonal columns of equal norm: every eigenvalue of WᵀW/n equal, rank m.
    const w = new Float64Array(6 * 3);
    for (let j = 0; j < 3; j++) w[j * 3 + j] = 2;
    expect(effectiveRank(w, 6, 3)).toBeCloseTo(3, 10);
    // Rank one: one eigenvalue.
    expect(effectiveRank(Float64Array.from({ length: 12 }, (_, i) => (i % 3) + 1), 4, 3)).toBeCloseTo(1, 6);
    // Shares ½, ¼, ¼: exp(H) = 2^1.5.
    const v = new Float64Array(9);
    [Math.sqrt(2), 1, 1].forEach((x, j) => (v[j * 3 + j] = x));
    expect(effectiveRank(v, 3, 3)).toBeCloseTo(2 ** 1.5, 10);
  });

  it('spectrum evaluations add every weight matrix’s α and trap count, stored as named scalars', async () => {
    await selectBackend('wasm');
    const config = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, seed: 3, backend: 'wasm' });
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    const t = new Trainer(config, ds);
    try {
      for (let i = 0; i < 10; i++) await t.trainStep();
      const plain = await t.evaluate(false);
      expect(plain.weight_spectra).toBeUndefined();
      // The embedding's and unembedding's effective ranks are in every evaluation.
      const p0 = t.snapshot().params;
      expect(plain.weight_erank!.embed).toBeCloseTo(effectiveRank(p0.embed.data, p0.embed.shape[0], p0.embed.shape[1]), 3);
      expect(plain.weight_erank!.W_U).toBeCloseTo(effectiveRank(p0.W_U.data, p0.W_U.shape[0], p0.W_U.shape[1]), 3);
      const record = await t.evaluate(true);
      const params = t.snapshot().params;
      expect(Object.keys(record.weight_spectra!).sort()).toEqual(Object.keys(params).filter((n) => params[n].shape.length === 2).sort());
      for (const [name, s] of Object.entries(record.weight_spectra!)) {
        const { shape, data } = params[name];
        expect(s.traps, name).toBe(correlationTraps(data, shape[0], shape[1]).traps);
        const alpha = powerLawAlpha(esd(data, shape[0], shape[1]))?.alpha ?? null;
        if (alpha === null) expect(s.alpha, name).toBeNull();
        else expect(Math.abs(s.alpha! - alpha), name).toBeLessThan(1e-3 * alpha);
      }
      const names = evalScalars(record).map(([n]) => n);
      expect(names).toContain('traps/W_in');
      expect(names).toContain('logit_scale');
      // Nanda's progress measures on this mod-add run: the two losses, the key frequencies, a power share per frequency.
      expect(names).toEqual(expect.arrayContaining(['progress/restricted_loss', 'progress/excluded_loss', 'progress/key_freq/1', 'progress/logit_power/1']));
      expect(names.filter((n) => n.startsWith('progress/logit_power/'))).toHaveLength(record.progress!.logit_power.length);
      expect(names.filter((n) => n.startsWith('alpha/'))).toEqual(Object.entries(record.weight_spectra!).filter(([, s]) => s.alpha !== null).map(([n]) => `alpha/${n}`));
    } finally {
      t.dispose();
    }
  });
});
