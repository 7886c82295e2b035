import { describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { makeDataset, type Dataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { blasGemm, loadBlas } from '../core/train/host/blas.js';
import { HostMlpStep, referenceGemm, type Gemm } from '../core/train/host/host-mlp.js';
import { instantiateHostKernels, loadHostKernels } from '../core/train/host/host-kernels.js';
import { Trainer } from '../core/train/trainer.js';
import { expectClose, flat, goldenConfig, goldenDataset, goldenState, loadGolden, relErr } from './helpers/golden.js';
import { expectTrainsLikePlainWasm } from './helpers/train.js';

/**
 * The fused host MLP (core/train/host/host-mlp.ts) against independent references: the golden values
 * from test/fixtures/golden (PyTorch), and tfjs autodiff of the plain model on wasm, with a naive
 * triple-loop product so that the fused algebra is checked apart from sgemm; then, where OpenBLAS
 * is here, the trainer on `wasm+openblas` (which uses it) over 50 steps.
 */


function hostStep(config: RunConfig, ds: Dataset, gemm: Gemm, simd: boolean): HostMlpStep {
  const col = (c: number): Int32Array => Int32Array.from(ds.trainIndices, (i) => ds.inputs[i * 3 + c]);
  const step = new HostMlpStep(
    { vocab: ds.vocab, classes: ds.classes, dModel: config.dModel, dMlp: config.dMlp },
    col(0),
    col(1),
    Int32Array.from(ds.trainIndices, (i) => ds.labels[i]),
    gemm,
    simd ? instantiateHostKernels() : null,
  );
  expect(step.usesSimd).toBe(simd);
  return step;
}

// The SIMD kernels assemble from the registry's wabt, so they are expected everywhere npm works.
const kernels = await loadHostKernels();
if (kernels instanceof Error) throw kernels;

const blas = loadBlas();
const gemms: [string, Gemm][] = [['a triple loop', referenceGemm], ...(blas instanceof Error ? [] : ([['sgemm', blasGemm(blas)]] as [string, Gemm][]))];

describe('fused host MLP: loss and gradients', () => {
  for (const [label, gemm] of gemms) for (const simd of [false, true]) {
    it(`match the golden tiny-mlp (products by ${label}, gather and scatter in ${simd ? 'wasm SIMD' : 'JS'})`, () => {
      const g = loadGolden('tiny-mlp');
      const { loss, grads } = hostStep(goldenConfig(g), goldenDataset(g), gemm, simd).lossAndGradients(goldenState(g).params);
      expect(Math.abs(loss - g.train_loss)).toBeLessThan(1e-4 * g.train_loss);
      expect(Object.keys(grads).sort()).toEqual(Object.keys(g.grads).sort());
      for (const [name, expected] of Object.entries(g.grads)) expectClose(grads[name].data, flat(expected));
    });
  }

  it('match tfjs autodiff of the plain model after 20 steps of training (wasm, products by a triple loop)', async () => {
    await selectBackend('wasm');
    const config = parseRunConfig({ ...PRESETS.fast, arch: 'mlp', p: 23, dModel: 24, dMlp: 40, seed: 4 });
    // dMlp 40: a multiple of 4, as the SIMD kernels need; see the next test for other widths.
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    const t = new Trainer(config, ds);
    expect(t.fusedSteps).toBe(false); // plain wasm: tfjs autodiff
    for (let i = 0; i < 20; i++) await t.trainStep();
    const reference = await t.gradients();
    for (const simd of [false, true]) {
      const fused = hostStep(config, ds, referenceGemm, simd).lossAndGradients(t.snapshot().params);
      expect(Math.abs(fused.loss - reference.loss)).toBeLessThan(1e-6 * reference.loss);
      for (const [name, g] of Object.entries(reference.grads)) expect(relErr(fused.grads[name].data, g.data), `${name}, simd ${simd}`).toBeLessThan(1e-5);
    }
    t.dispose();
  });
});

describe('fused host MLP: widths the SIMD kernels cannot take', () => {
  it('fall back to the JS loops', () => {
    const config = parseRunConfig({ ...PRESETS.fast, arch: 'mlp', p: 7, dModel: 8, dMlp: 10, seed: 1 });
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: 1 });
    const col = (c: number): Int32Array => Int32Array.from(ds.trainIndices, (i) => ds.inputs[i * 3 + c]);
    const step = new HostMlpStep({ vocab: ds.vocab, classes: ds.classes, dModel: 8, dMlp: 10 }, col(0), col(1), Int32Array.from(ds.trainIndices, (i) => ds.labels[i]), referenceGemm, instantiateHostKernels());
    expect(step.usesSimd).toBe(false);
  });
});

describe('the trainer on wasm+openblas', () => {
  if (blas instanceof Error) {
    it('has no OpenBLAS here, so the fused path is off', async () => {
      await selectBackend('wasm');
      expect(Trainer.fusedStepApplies(parseRunConfig({ ...PRESETS.fast, arch: 'mlp' }))).toBe(false);
    });
    return;
  }

  it('uses the fused MLP for baseline and norm-matched runs, not for mix runs', async () => {
    await selectBackend('wasm+openblas');
    const mlp = parseRunConfig({ ...PRESETS.fast, arch: 'mlp' });
    expect(Trainer.fusedStepApplies(mlp)).toBe(true);
    expect(Trainer.fusedStepApplies({ ...mlp, condition: 'norm-matched' })).toBe(true);
    expect(Trainer.fusedStepApplies({ ...mlp, condition: 'mix' })).toBe(false);
  });

  it('trains like plain wasm: same loss to 1e-5 over 50 steps, evaluations between steps included', async () => {
    const config = parseRunConfig({ ...PRESETS.fast, arch: 'mlp', p: 23, dModel: 32, dMlp: 64, seed: 5 });
    await expectTrainsLikePlainWasm(config);
  });
});
