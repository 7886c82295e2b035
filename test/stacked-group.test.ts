import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import { Trainer } from '../core/train/trainer.js';
import { executeGroup } from '../core/runs/run-executor.js';
import { Library } from '../core/library/library.js';
import { poolAndLibrary } from './helpers/pool.js';
import { expectGoldenSlice } from './helpers/golden.js';
import { normTrajectory } from './helpers/train.js';

/**
 * The stacked engine (core/train/tfjs/stacked-group.ts) on tfjs's plain wasm backend, against runs
 * trained alone by the single-run trainer on the same backend: losses step by step (different
 * seeds, lr and weight decay, an orthogonal-mix run and a norm-matched run in one group),
 * evaluations at the same parameters, a frozen slice bit-identical, and a group through the pool.
 * The same engine runs on webgpu (test/webgpu.test.ts).
 */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 40, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 20, backend: 'wasm' });
const datasetOf = (c: RunConfig) => makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed });

describe('the stacked engine on wasm', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  for (const arch of ['transformer', 'mlp'] as const) {
    it(`trains each ${arch} slice as the run alone: seeds, lr, weight decay, a mix run, a norm-matched run (30 steps)`, async () => {
      const base = { ...tiny, arch };
      const mix = { ...base, seed: 3, condition: 'mix' as const };
      const normTargets = await normTrajectory(mix, 30);
      const members = [
        { config: { ...base, seed: 1 } },
        { config: { ...base, seed: 2, lr: 2e-3, weightDecay: 0.3 } },
        { config: mix },
        { config: { ...base, seed: 4, condition: 'norm-matched' as const, normTargetRun: 'x' }, normTargets },
      ];
      const stacked = new StackedGroup(members);
      const alone = members.map((m) => new Trainer(m.config, datasetOf(m.config), undefined, { normTargets: m.normTargets }));
      try {
        let worst = 0;
        for (let s = 0; s <= 30; s++) {
          const got = await stacked.trainLosses();
          for (let i = 0; i < 4; i++) worst = Math.max(worst, Math.abs(got[i] - (await alone[i].trainLoss())));
          if (s === 30) break;
          await stacked.trainStep();
          for (const t of alone) await t.trainStep();
        }
        // float32 AdamW on the device vs float64 on the host: rounding, not algebra.
        expect(worst).toBeLessThan(1e-4);
        const norms = [await stacked.takeNorms(2), await stacked.takeNorms(3)];
        expect(norms[0]).toHaveLength(30);
        expect(Math.abs(norms[1][29] - normTargets[30])).toBeLessThan(1e-4 * normTargets[30]);
        expect(Math.abs(norms[0][29] - normTargets[30])).toBeLessThan(1e-3 * normTargets[30]);
      } finally {
        stacked.dispose();
        for (const t of alone) t.dispose();
      }
    });
  }

  it('gives each slice the golden values: loss, and parameters after three AdamW steps', async () => {
    await expectGoldenSlice((members, datasets) => new StackedGroup(members, datasets));
  });

  it('trains a group of 4 as the same 4 runs each stacked alone: losses within 1e-5 over 50 steps', async () => {
    const base = { ...tiny, steps: 50 };
    const mix = { ...base, seed: 3, condition: 'mix' as const };
    const normTargets = await normTrajectory(mix, 50);
    const members = [
      { config: { ...base, seed: 1 } },
      { config: { ...base, seed: 2, lr: 2e-3 } },
      { config: mix },
      { config: { ...base, seed: 4, condition: 'norm-matched' as const, normTargetRun: 'x' }, normTargets },
    ];
    const group = new StackedGroup(members);
    const alone = members.map((m) => new StackedGroup([m]));
    try {
      let worst = 0;
      for (let s = 0; s <= 50; s++) {
        const got = await group.trainLosses();
        for (let i = 0; i < 4; i++) worst = Math.max(worst, Math.abs(got[i] - (await alone[i].trainLosses())[0]));
        if (s === 50) break;
        await group.trainStep();
        for (const a of alone) await a.trainStep();
      }
      expect(worst).toBeLessThanOrEqual(1e-5);
    } finally {
      group.dispose();
      for (const a of alone) a.dispose();
    }
  });

  it('measures what the single-run trainer measures at the same parameters', async () => {
    const stacked = new StackedGroup([1, 2, 3].map((seed) => ({ config: { ...tiny, seed } })));
    try {
      for (let s = 0; s < 5; s++) await stacked.trainStep();
      const records = await stacked.evaluate([0, 2], true);
      for (const [k, i] of [0, 2].entries()) {
        const state = await stacked.snapshot(i);
        expect(state.step).toBe(5);
        const t = new Trainer({ ...tiny, seed: i + 1 }, datasetOf({ ...tiny, seed: i + 1 }), state);
        const want = await t.evaluate(true);
        t.dispose();
        const got = records[k];
        expect(got.step).toBe(want.step);
        for (const key of ['train_loss', 'test_loss', 'train_acc', 'test_acc', 'weight_norm'] as const) expect(Math.abs(got[key] - want[key]), key).toBeLessThan(1e-5);
        for (const [probe, summary] of Object.entries(want.probes)) expect(Math.abs(got.probes[probe as keyof typeof got.probes]!.entropy - summary!.entropy), probe).toBeLessThan(1e-5);
        expect(Math.abs(got.fourier!.topk_share - want.fourier!.topk_share)).toBeLessThan(1e-5);
        for (const key of ['scale', 'max_softmax', 'train_margin'] as const) expect(Math.abs(got.logits![key] - want.logits![key]), key).toBeLessThan(1e-5);
        expect(Math.abs(got.weight_erank!.embed - want.weight_erank!.embed)).toBeLessThan(1e-4 * want.weight_erank!.embed);
        expect(Math.abs(got.weight_erank!.W_U - want.weight_erank!.W_U)).toBeLessThan(1e-4 * want.weight_erank!.W_U);
        expect(Object.keys(got.weight_spectra!).sort()).toEqual(['W_K', 'W_O', 'W_Q', 'W_U', 'W_V', 'W_in', 'W_out', 'embed', 'pos']);
        for (const [name, s] of Object.entries(want.weight_spectra!)) {
          expect(got.weight_spectra![name].traps, name).toBe(s.traps);
          if (s.alpha === null) expect(got.weight_spectra![name].alpha, name).toBeNull();
          else expect(Math.abs(got.weight_spectra![name].alpha! - s.alpha), name).toBeLessThan(1e-3 * s.alpha);
        }
        expect(got.spectra!['resid.final']!.length).toBe(16);
        // Nanda's progress measures from every pair's logits (mod-add).
        expect(got.progress!.key_freqs).toEqual(want.progress!.key_freqs);
        for (const key of ['restricted_loss', 'excluded_loss', 'neuron_logit_gini'] as const) expect(Math.abs(got.progress![key]! - want.progress![key]!), key).toBeLessThan(1e-5);
      }
    } finally {
      stacked.dispose();
    }
  });

  it('leaves a frozen slice bit-identical and takes no norms for it', async () => {
    const stacked = new StackedGroup([5, 6, 7].map((seed) => ({ config: { ...tiny, seed } })));
    try {
      for (let s = 0; s < 3; s++) await stacked.trainStep();
      stacked.freeze(1);
      const before = await stacked.snapshot(1);
      for (let s = 0; s < 4; s++) await stacked.trainStep();
      const after = await stacked.snapshot(1);
      expect(after.step).toBe(3);
      expect(stacked.stepOf(0)).toBe(7);
      for (const part of ['params', 'm', 'v'] as const) for (const name of Object.keys(before.params)) expect(Array.from(after[part][name].data), `${part}.${name}`).toEqual(Array.from(before[part][name].data));
      expect(await stacked.takeNorms(1)).toHaveLength(3);
      expect(await stacked.takeNorms(0)).toHaveLength(7);
    } finally {
      stacked.dispose();
    }
  });

  it('refuses what it cannot stack, saying why', () => {
    expect(StackedGroup.refusal([{ config: tiny }, { config: { ...tiny, condition: 'mix', mixForm: 'entropy-penalty' } }])).toBe('the entropy-penalty mix is not stacked');
    expect(StackedGroup.refusal([{ config: tiny }, { config: { ...tiny, beta2: 0.99 } }])).toBe('runs differ in β₁, β₂ or ε');
    expect(StackedGroup.refusal([{ config: tiny }, { config: { ...tiny, p: 13 } }])).toMatch(/differs from run 1 in p/);
  });
});

describe('a stacked group through the worker pool', () => {
  // The worker inherits the environment: stack on wasm.
  const ctx = poolAndLibrary(beforeAll, afterAll, { before: () => vi.stubEnv('GROKSCOPE_GROUP_ENGINE', 'stacked'), after: () => vi.unstubAllEnvs() });

  it('records every member as its own run, with a norm for every step, and stops one alone', async () => {
    const outcomes = await executeGroup({
      libraryDir: ctx.dir,
      pool: ctx.pool,
      members: [1, 2, 3].map((seed, i) => ({
        config: { ...tiny, seed },
        ...(i === 2 ? { stopAtStep: 10 } : {}),
      })),
    });
    expect(outcomes.map((o) => o.status)).toEqual(['completed', 'completed', 'stopped']);
    await Library.with(ctx.dir, async (lib) => {
      for (const [i, o] of outcomes.entries()) {
        const run = await lib.getRun(o.runId!);
        expect(run.backendNote).toMatch(/run group of 3 \(stacked/);
        const metrics = await lib.getMetrics(o.runId!);
        const norms = await lib.getStepNorms(o.runId!);
        const last = i === 2 ? outcomes[2].steps : 40;
        // A stopped run checkpoints where it stopped; its last evaluation may be a few steps before.
        if (i === 2) expect(metrics[metrics.length - 1].step).toBeLessThanOrEqual(last);
        else expect(metrics[metrics.length - 1].step).toBe(last);
        expect(norms.length).toBe(last + 1);
        expect(Array.from(norms.subarray(1)).every(Number.isFinite)).toBe(true);
      }
    });
  });
});
