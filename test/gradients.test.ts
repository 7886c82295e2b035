import { describe, expect, it, beforeAll } from 'vitest';
import { PRESETS, parseRunConfig } from '../core/schema/run-config.js';
import { initParams, type HostParams } from '../core/models/init.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer, modelConfigOf, type TrainState } from '../core/train/trainer.js';

/** Gradients from autodiff against central finite differences of the loss, on random weights. */
function stateWith(params: HostParams): TrainState {
  const zeros = (): HostParams => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { shape: v.shape, data: new Float32Array(v.data.length) }]));
  return { step: 0, params, m: zeros(), v: zeros() };
}

function clone(params: HostParams): HostParams {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, { shape: [...v.shape], data: Float32Array.from(v.data) }]));
}

describe('gradients match finite differences', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  for (const arch of ['transformer', 'mlp'] as const) {
    it(`for the ${arch}`, async () => {
      const config = parseRunConfig({ ...PRESETS.fast, arch, p: 7, dModel: 8, nHeads: 2, dMlp: 16, seed: 3 });
      const ds = makeDataset({ task: 'mod-add', p: 7, trainFraction: 0.5, seed: 3 });
      const params = initParams(modelConfigOf(config), ds.vocab, ds.classes, 3);
      const base = new Trainer(config, ds, stateWith(params));
      const { grads } = await base.gradients();
      base.dispose();
      const lossAt = async (p: HostParams): Promise<number> => {
        const t = new Trainer(config, ds, stateWith(p));
        const l = await t.trainLoss();
        t.dispose();
        return l;
      };
      const h = 2e-3;
      let checked = 0;
      for (const [name, g] of Object.entries(grads)) {
        // The three largest-magnitude coordinates: where float32 differences are meaningful.
        const order = Array.from(g.data.keys()).sort((a, b) => Math.abs(g.data[b]) - Math.abs(g.data[a])).slice(0, 3);
        for (const i of order) {
          if (Math.abs(g.data[i]) < 1e-3) continue;
          const plus = clone(params);
          plus[name].data[i] += h;
          const minus = clone(params);
          minus[name].data[i] -= h;
          const fd = ((await lossAt(plus)) - (await lossAt(minus))) / (2 * h);
          expect(Math.abs(fd - g.data[i])).toBeLessThan(2e-2 * Math.abs(g.data[i]) + 3e-4);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(10);
    });
  }
});
