import { describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { makeDataset, type Dataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { blasGemm, loadBlas } from '../core/train/host/blas.js';
import { referenceGemm, type Gemm } from '../core/train/host/host-mlp.js';
import { HostTransformerStep } from '../core/train/host/host-transformer.js';
import { randomOrthogonal } from '../core/train/interventions.js';
import { Trainer } from '../core/train/trainer.js';
import { initParams } from '../core/models/init.js';
import { instantiateHostKernels, loadHostKernels } from '../core/train/host/host-kernels.js';
import { expectClose, flat, goldenConfig, goldenDataset, goldenState, loadGolden, relErr } from './helpers/golden.js';
import { expectTrainsLikePlainWasm } from './helpers/train.js';

/**
 * The fused host Transformer (core/train/host/host-transformer.ts) against independent references: the
 * golden values from test/fixtures/golden (PyTorch, the full textbook model), and tfjs autodiff of
 * core/train/tfjs/forward.ts on plain wasm with a triple-loop product (so the fused algebra is checked
 * apart from sgemm), with and without the orthogonal mix; then, where OpenBLAS is here, the
 * trainer on `wasm+openblas` (which uses it) against plain wasm over 50 steps.
 */


function hostStep(config: RunConfig, ds: Dataset, gemm: Gemm): HostTransformerStep {
  const col = (c: number): Int32Array => Int32Array.from(ds.trainIndices, (i) => ds.inputs[i * 3 + c]);
  return new HostTransformerStep(
    { vocab: ds.vocab, classes: ds.classes, dModel: config.dModel, nHeads: config.nHeads, dMlp: config.dMlp, eqToken: ds.eqToken },
    col(0),
    col(1),
    Int32Array.from(ds.trainIndices, (i) => ds.labels[i]),
    gemm,
  );
}

const blas = loadBlas();
const gemms: [string, Gemm][] = [['a triple loop', referenceGemm], ...(blas instanceof Error ? [] : ([['sgemm', blasGemm(blas)]] as [string, Gemm][]))];

describe('fused host Transformer: loss and gradients', () => {
  for (const [label, gemm] of gemms) {
    it(`match the golden tiny-transformer (products by ${label})`, () => {
      const g = loadGolden('tiny-transformer');
      const { loss, grads } = hostStep(goldenConfig(g), goldenDataset(g), gemm).lossAndGradients(goldenState(g).params);
      expect(Math.abs(loss - g.train_loss)).toBeLessThan(1e-4 * g.train_loss);
      expect(Object.keys(grads).sort()).toEqual(Object.keys(g.grads).sort());
      for (const [name, expected] of Object.entries(g.grads)) expectClose(grads[name].data, flat(expected));
    });
  }

  for (const mixStrength of [0, 0.5]) {
    it(`match tfjs autodiff of the plain model after 20 steps of training (wasm, triple-loop products${mixStrength ? ', orthogonal mix α 0.5' : ''})`, async () => {
      await selectBackend('wasm');
      const config = parseRunConfig({ ...PRESETS.fast, p: 23, dModel: 24, nHeads: 4, dMlp: 40, seed: 4, ...(mixStrength ? { condition: 'mix', mixStrength } : {}) });
      const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
      const t = new Trainer(config, ds);
      expect(t.fusedSteps).toBe(false); // plain wasm: tfjs autodiff
      for (let i = 0; i < 20; i++) await t.trainStep();
      const reference = await t.gradients();
      const mix = mixStrength ? { q: randomOrthogonal(config.dModel, config.seed, t.step + 1), alpha: mixStrength } : null;
      const fused = hostStep(config, ds, referenceGemm).lossAndGradients(t.snapshot().params, mix);
      expect(Math.abs(fused.loss - reference.loss)).toBeLessThan(1e-5 * reference.loss);
      for (const [name, g] of Object.entries(reference.grads)) expect(relErr(fused.grads[name].data, g.data), name).toBeLessThan(1e-4);
      t.dispose();
    });
  }
});

describe('the trainer on wasm+openblas (Transformer)', () => {
  if (blas instanceof Error) {
    it('has no OpenBLAS here, so the fused path is off', async () => {
      await selectBackend('wasm');
      expect(Trainer.fusedStepApplies(parseRunConfig(PRESETS.fast))).toBe(false);
    });
    return;
  }

  it('uses the fused step for baseline, norm-matched and orthogonal-mix runs, not for the entropy penalty', async () => {
    await selectBackend('wasm+openblas');
    const tf = parseRunConfig(PRESETS.fast);
    expect(Trainer.fusedStepApplies(tf)).toBe(true);
    expect(Trainer.fusedStepApplies({ ...tf, condition: 'norm-matched' })).toBe(true);
    expect(Trainer.fusedStepApplies({ ...tf, condition: 'mix' })).toBe(true);
    expect(Trainer.fusedStepApplies({ ...tf, condition: 'mix', mixForm: 'entropy-penalty' })).toBe(false);
  });

  for (const condition of ['baseline', 'mix'] as const) {
    it(`trains like plain wasm (${condition}): same loss to 1e-5 over 50 steps, evaluations between steps included`, async () => {
      const config = parseRunConfig({ ...PRESETS.fast, p: 23, dModel: 32, nHeads: 4, dMlp: 64, seed: 5, condition });
      await expectTrainsLikePlainWasm(config);
    });
  }
});

describe('fused host Transformer: the SIMD loops (attention, ReLU and mask)', () => {
  it('give the loss and gradients of the JS loops, to float32 rounding', async () => {
    const kernels = await loadHostKernels();
    if (kernels instanceof Error) throw kernels;
    const config = parseRunConfig({ ...PRESETS.fast, p: 13, dModel: 16, nHeads: 2, dMlp: 32, seed: 3 });
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    const col = (c: number): Int32Array => Int32Array.from(ds.trainIndices, (i) => ds.inputs[i * 3 + c]);
    const shape = { vocab: ds.vocab, classes: ds.classes, dModel: 16, nHeads: 2, dMlp: 32, eqToken: ds.eqToken };
    const labels = Int32Array.from(ds.trainIndices, (i) => ds.labels[i]);
    const params = initParams({ arch: 'transformer', dModel: 16, nHeads: 2, dMlp: 32 }, ds.vocab, ds.classes, 3);
    const js = new HostTransformerStep(shape, col(0), col(1), labels, referenceGemm, null).lossAndGradients(params);
    const simd = new HostTransformerStep(shape, col(0), col(1), labels, referenceGemm, instantiateHostKernels()).lossAndGradients(params);
    // The SIMD attention sums in float32 lanes where the JS loops sum in float64.
    expect(Math.abs(simd.loss - js.loss)).toBeLessThan(1e-6 * js.loss);
    for (const name of Object.keys(js.grads)) expect(relErr(simd.grads[name].data, js.grads[name].data), name).toBeLessThan(1e-5);
    // And the SIMD path is what runs: the kernels took the attention (head width 8, a multiple of 4).
    expect((new HostTransformerStep(shape, col(0), col(1), labels, referenceGemm, instantiateHostKernels()) as unknown as { simd: unknown }).simd).not.toBeNull();
  });
});
