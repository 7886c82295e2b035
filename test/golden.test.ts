import { describe, expect, it, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../core/train/backend.js';
import { loadBlas } from '../core/train/host/blas.js';
import { Trainer } from '../core/train/trainer.js';
import { probeWebGpu } from '../core/train/gpu/webgpu.js';
import { expectClose, flat, goldenConfig, goldenDataset, goldenState, loadGolden } from './helpers/golden.js';

// wasm+openblas replaces wasm's matmul kernel for the rest of this process: it goes last. Where
// OpenBLAS is absent, test/blas.test.ts checks the fallback instead; where no WebGPU adapter
// exists (neither a GPU nor the llvmpipe that `npm test` installs), test/webgpu.test.ts does.
const backends = ['wasm', 'cpu', ...((await probeWebGpu()).ok ? ['webgpu'] : []), ...(loadBlas() instanceof Error ? [] : ['wasm+openblas'])] as const;
for (const backend of backends as readonly ('wasm' | 'cpu' | 'webgpu' | 'wasm+openblas')[]) {
  describe(`golden values on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend);
    });

    for (const name of ['tiny-transformer', 'tiny-mlp'] as const) {
      describe(name, () => {
        const g = loadGolden(name);
        const make = (): Trainer => new Trainer(goldenConfig(g), goldenDataset(g), goldenState(g));

        it('reproduces the logits over all inputs', async () => {
          const t = make();
          expectClose(await t.allLogits(), flat(g.logits));
          t.dispose();
        });

        it('reproduces the training loss and every gradient', async () => {
          const t = make();
          const { loss, grads } = await t.gradients();
          expect(Math.abs(loss - g.train_loss)).toBeLessThan(1e-4 * g.train_loss);
          expect(Object.keys(grads).sort()).toEqual(Object.keys(g.grads).sort());
          for (const [param, expected] of Object.entries(g.grads)) expectClose(grads[param].data, flat(expected), 1e-4, 1e-5);
          t.dispose();
        });

        it('reproduces every probe entropy', async () => {
          const t = make();
          const probes = (await t.evaluate(false)).probes;
          expect(Object.keys(probes).sort()).toEqual(Object.keys(g.entropy).sort());
          for (const [probe, h] of Object.entries(g.entropy)) expect(probes[probe as keyof typeof probes]!.entropy).toBeCloseTo(h, 5);
          t.dispose();
        });

        it('reproduces three AdamW steps', async () => {
          const t = make();
          const losses: number[] = [];
          for (let i = 0; i < 3; i++) {
            losses.push(await t.trainLoss());
            await t.trainStep();
          }
          expectClose(losses, g.adamw.losses);
          const after = t.snapshot().params;
          for (const [param, expected] of Object.entries(g.adamw.params_after_3_steps)) expectClose(after[param].data, flat(expected));
          t.dispose();
        });
      });
    }

    it('leaks no tensors across steps and evaluations', async () => {
      const g = loadGolden('tiny-transformer');
      const t = new Trainer(goldenConfig(g), goldenDataset(g), goldenState(g));
      await t.trainStep();
      await t.evaluate(true);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) await t.trainStep();
      await t.evaluate(true);
      await t.gradients();
      await t.trainLoss();
      expect(tf.memory().numTensors).toBe(before);
      t.dispose();
    });
  });
}
