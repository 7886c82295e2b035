import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { initParams } from '../core/models/init.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import { Trainer, modelConfigOf } from '../core/train/trainer.js';

/**
 * initScale (the quick-preset lever of docs/presets.md): 1 is the unscaled init bit for bit, s
 * multiplies every weight by s, and a stacked slice starts from the same scaled weights as the
 * run alone.
 */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 20, evalEvery: 10, spectrumEvery: 10, checkpointEvery: 10, backend: 'wasm' });
const datasetOf = (c: RunConfig) => makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed });

describe('initScale', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('1 draws the unscaled weights exactly; 3 draws them three times larger', () => {
    const model = modelConfigOf(tiny);
    const plain = initParams(model, 12, 11, 7);
    const one = initParams(model, 12, 11, 7, 1);
    const three = initParams(model, 12, 11, 7, 3);
    for (const name of Object.keys(plain)) {
      expect(one[name].data).toEqual(plain[name].data);
      plain[name].data.forEach((x, i) => expect(three[name].data[i]).toBeCloseTo(3 * x, 5));
    }
    expect(Object.values(plain).some((t) => t.data.some((x) => x !== 0))).toBe(true);
  });

  it('a run starts with the scaled norm and its stacked slice trains as it does alone', async () => {
    const scaled = { ...tiny, seed: 2, initScale: 2.5 };
    const base = new Trainer({ ...tiny, seed: 2 }, datasetOf(scaled));
    const alone = new Trainer(scaled, datasetOf(scaled));
    expect(alone.weightNorm / base.weightNorm).toBeCloseTo(2.5, 4);
    const stacked = new StackedGroup([{ config: { ...tiny, seed: 1 } }, { config: scaled }]);
    try {
      for (let s = 0; s < 10; s++) {
        const got = await stacked.trainLosses();
        expect(Math.abs(got[1] - (await alone.trainLoss()))).toBeLessThan(1e-4);
        await stacked.trainStep();
        await alone.trainStep();
      }
    } finally {
      stacked.dispose();
      alone.dispose();
      base.dispose();
    }
  });

  it('is refused when not positive', () => {
    expect(() => parseRunConfig({ ...tiny, initScale: 0 })).toThrow(/initScale/);
  });
});
