import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { negRenyi2, randomOrthogonal } from '../core/train/interventions.js';
import { executeRun } from '../core/runs/run-executor.js';
import { Library } from '../core/library/library.js';
import { poolAndLibrary } from './helpers/pool.js';

const tiny = { ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 30, evalEvery: 10, spectrumEvery: 10, checkpointEvery: 100, seed: 1, backend: 'wasm' as const };

describe('intervention building blocks', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('draws orthogonal matrices, reproducibly per (seed, step)', () => {
    const d = 12;
    const q = randomOrthogonal(d, 3, 7);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let dot = 0;
      for (let k = 0; k < d; k++) dot += q[k * d + i] * q[k * d + j];
      expect(dot).toBeCloseTo(i === j ? 1 : 0, 5);
    }
    expect(Array.from(randomOrthogonal(d, 3, 7))).toEqual(Array.from(q));
    expect(Array.from(randomOrthogonal(d, 3, 8))).not.toEqual(Array.from(q));
  });

  it('−H₂ is ln(1/k) for a representation spread evenly over k directions', () => {
    // Rows ±e_i for i < 3 in 5 dimensions: covariance ∝ diag(1,1,1,0,0).
    const rows: number[][] = [];
    for (let i = 0; i < 3; i++) for (const s of [1, -1]) rows.push(Array.from({ length: 5 }, (_, j) => (j === i ? s : 0)));
    const v = tf.tidy(() => negRenyi2(tf.tensor2d(rows)).dataSync()[0]);
    expect(v).toBeCloseTo(Math.log(1 / 3), 5);
  });

  it('each mix form changes training, and a resumed mix run repeats its matrices', async () => {
    const ds = makeDataset({ task: 'mod-add', p: 11, trainFraction: 0.5, seed: 1 });
    const run = async (cfg: object, steps: number): Promise<Float32Array> => {
      const t = new Trainer(parseRunConfig({ ...tiny, ...cfg }), ds);
      for (let i = 0; i < steps; i++) await t.trainStep();
      const w = t.snapshot().params.W_U.data;
      t.dispose();
      return w;
    };
    const base = await run({}, 5);
    const ortho = await run({ condition: 'mix', mixForm: 'orthogonal', mixStrength: 0.5 }, 5);
    const penalty = await run({ condition: 'mix', mixForm: 'entropy-penalty', mixStrength: 0.1 }, 5);
    expect(Array.from(ortho)).not.toEqual(Array.from(base));
    expect(Array.from(penalty)).not.toEqual(Array.from(base));
    // Zero strength is the baseline exactly.
    expect(Array.from(await run({ condition: 'mix', mixStrength: 0 }, 5))).toEqual(Array.from(base));
    const cfg = parseRunConfig({ ...tiny, condition: 'mix' });
    const first = new Trainer(cfg, ds);
    for (let i = 0; i < 3; i++) await first.trainStep();
    const resumed = new Trainer(cfg, ds, first.snapshot());
    first.dispose();
    for (let i = 0; i < 2; i++) await resumed.trainStep();
    expect(Array.from(resumed.snapshot().params.W_U.data)).toEqual(Array.from(ortho));
    resumed.dispose();
  });
});

describe('norm-matched control', () => {
  const ctx = poolAndLibrary(beforeAll, afterAll);

  it('replays the mix run’s weight norm after every step, with a different representation', async () => {
    const mix = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: parseRunConfig({ ...tiny, condition: 'mix' }) });
    expect(mix.status).toBe('completed');
    const matched = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: parseRunConfig({ ...tiny, condition: 'norm-matched', normTargetRun: mix.runId }) });
    expect(matched.status).toBe('completed');
    await Library.with(ctx.dir, async (lib) => {
      const a = await lib.getStepNorms(mix.runId);
      const b = await lib.getStepNorms(matched.runId);
      expect(a.length).toBe(31);
      for (let s = 1; s <= 30; s++) expect(Math.abs(b[s] - a[s]) / a[s]).toBeLessThan(1e-5);
      const ma = await lib.getMetrics(mix.runId);
      const mb = await lib.getMetrics(matched.runId);
      expect(mb[3].entropy['resid.final']).not.toBeCloseTo(ma[3].entropy['resid.final'], 6);
    });
  });

  it('refuses a target that is not a finished mix run, before creating anything', async () => {
    const base = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: parseRunConfig({ ...tiny, steps: 5 }) });
    await expect(executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: parseRunConfig({ ...tiny, condition: 'norm-matched', normTargetRun: base.runId }) })).rejects.toThrow(/not 'mix'/);
    const shortMix = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: parseRunConfig({ ...tiny, condition: 'mix', steps: 10 }) });
    await expect(executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config: parseRunConfig({ ...tiny, condition: 'norm-matched', normTargetRun: shortMix.runId }) })).rejects.toThrow(/no weight norm for step 11/);
    const runs = await Library.with(ctx.dir, (lib) => lib.listRuns());
    expect(runs.filter((r) => r.condition === 'norm-matched')).toHaveLength(1);
  });
});
