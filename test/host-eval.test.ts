import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { Trainer } from '../core/train/trainer.js';
import { loadBlas } from '../core/train/host/blas.js';
import { makeHostEvaluator } from '../core/train/host/host-choice.js';

/**
 * The host evaluation (core/train/host/host-eval.ts: the fused steps' forward pass and sgemm) gives
 * the record the tfjs graph gives, on the same parameters: both architectures, a residue task
 * (progress measures read every logit) and S5, a fixed temperature and a logit-matched run (whose
 * logits are rescaled before anything is measured), with full spectra. Needs OpenBLAS (it is
 * where the host evaluation runs); without it the suite says so in one test.
 */
const blas = loadBlas();
const tiny = parseRunConfig({ ...PRESETS.fast, p: 13, dModel: 16, nHeads: 2, dMlp: 32, steps: 60, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 60, lr: 5e-3 });

/** Every number of two records within `tol` relative (exact for accuracies and key frequencies). */
function expectSame(got: EvalRecord, want: EvalRecord, tol: number): void {
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (typeof b === 'number') {
      expect(typeof a, path).toBe('number');
      if (Number.isNaN(b)) return expect(a, path).toBeNaN();
      expect(Math.abs((a as number) - b), `${path}: ${a} vs ${b}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)));
    } else if (Array.isArray(b)) {
      expect((a as unknown[]).length, path).toBe(b.length);
      b.forEach((x, i) => walk((a as unknown[])[i], x, `${path}[${i}]`));
    } else if (b && typeof b === 'object') {
      expect(Object.keys(a as object).sort(), path).toEqual(Object.keys(b).sort());
      for (const [k, v] of Object.entries(b)) walk((a as Record<string, unknown>)[k], v, `${path}.${k}`);
    } else expect(a, path).toEqual(b);
  };
  walk(got, want, 'record');
  expect(got.train_acc).toBe(want.train_acc);
  expect(got.test_acc).toBe(want.test_acc);
}

if (blas instanceof Error) {
  describe('the host evaluation', () => {
    it('needs OpenBLAS, which did not load here', () => {
      expect(blas.message).toMatch(/.+/);
    });
  });
} else {
  describe('the host evaluation', () => {
    beforeAll(async () => {
      await selectBackend('wasm+openblas');
    });

    it('shares one evaluator per model shape and task in a thread, keeping the few asked for last', () => {
      const of = (c: RunConfig) => makeHostEvaluator(c, makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed }))!;
      const first = of(tiny);
      // Another seed and split, another condition: the same work space.
      expect(of({ ...tiny, seed: 9, condition: 'norm-matched', normTargetRun: 'x' })).toBe(first);
      expect(of({ ...tiny, arch: 'mlp' })).not.toBe(first);
      for (const dMlp of [8, 12, 20, 24]) of({ ...tiny, dMlp });
      expect(of(tiny)).not.toBe(first); // pushed out by four newer shapes
    });

    const cases: [string, RunConfig, { logitTargets?: { steps: Float64Array; values: Float64Array } }?][] = [
      ['transformer, mod-add', tiny],
      ['mlp, mod-add', { ...tiny, arch: 'mlp' }],
      ['transformer, S5', { ...tiny, task: 's5', trainFraction: 0.3 }],
      ['transformer at temperature 2', { ...tiny, temperature: 2 }],
      ['mlp, logit-matched', { ...tiny, arch: 'mlp', condition: 'logit-matched', normTargetRun: 'x' }, { logitTargets: { steps: Float64Array.from([0, 60]), values: Float64Array.from([0.4, 1.2]) } }],
    ];
    for (const [what, config, extra] of cases) {
      it(`measures as the tfjs graph does: ${what}`, async () => {
        const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
        const host = new Trainer(config, ds, undefined, { ...extra });
        const graph = new Trainer(config, ds, undefined, { ...extra, hostEvaluation: false });
        try {
          for (let s = 0; s < 25; s++) {
            await host.trainStep();
            await graph.trainStep();
          }
          // Same parameters in both (each trained the same way), so only the readout differs.
          expect(Array.from(host.parameters.W_U.data)).toEqual(Array.from(graph.parameters.W_U.data));
          for (const spectra of [false, true]) expectSame(await host.evaluate(spectra), await graph.evaluate(spectra), 2e-5);
        } finally {
          host.dispose();
          graph.dispose();
        }
      });
    }
  });
}
