import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { RunGroup } from '../core/train/run-group.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { probeWebGpu } from '../core/train/gpu/webgpu.js';
import { Trainer } from '../core/train/trainer.js';
import { ParameterEvaluator } from '../core/train/eval/parameters.js';
import { loadBlas } from '../core/train/host/blas.js';
import type { GroupEngine } from '../core/train/engine.js';

/**
 * The evaluation room (core/train/eval/): every engine's record has the same keys — the host
 * readout, the tfjs graph, the stacked tfjs engine and the WGSL engine (on the WebGPU adapter
 * `npm test` provides) — except where an engine says per key why not (STACKED_LACKS), and
 * parameters alone evaluate to the record their run's own evaluation gives.
 */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 40, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 40 });
const blas = loadBlas();
const webgpu = await probeWebGpu();

/** What the stacked tfjs engine does not record, and why (docs/backends.md, "Run groups"). */
const STACKED_LACKS: Record<string, string> = {
  update_edge: 'it keeps no window of parameter updates on the device, so it has no spectral-edge gap',
};

/** Every key path of a record (objects only; an array is a leaf). */
function keyPaths(x: unknown, at = ''): string[] {
  if (!x || typeof x !== 'object' || Array.isArray(x)) return [at];
  return Object.entries(x).flatMap(([k, v]) => keyPaths(v, at ? `${at}.${k}` : k));
}

/** Records of member 0 at step 20 (an evaluation a window after the start) with and without spectra. */
async function recordsOf(engine: GroupEngine): Promise<EvalRecord[]> {
  try {
    for (let s = 0; s < 20; s++) await engine.trainStep();
    return [(await engine.evaluate([0], false))[0], (await engine.evaluate([0], true))[0]];
  } finally {
    engine.dispose();
  }
}

describe('the evaluation room', () => {
  beforeAll(async () => {
    await selectBackend(blas instanceof Error ? 'wasm' : 'wasm+openblas');
  });

  for (const config of [tiny, { ...tiny, arch: 'mlp' as const }, { ...tiny, task: 's5' as const, trainFraction: 0.3 }] as RunConfig[]) {
    it(`writes the same keys from every engine (${config.arch}, ${config.task})`, async () => {
      const members = [{ config }, { config: { ...config, seed: 1 } }];
      const host = await recordsOf(new RunGroup(members));
      const engines: [string, EvalRecord[]][] = [['stacked tfjs', await recordsOf(new StackedGroup(members))]];
      if (!(blas instanceof Error)) {
        // The same members with the tfjs readout (the host's where sgemm is, above).
        const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
        const t = new Trainer(config, ds, undefined, { hostEvaluation: false });
        try {
          for (let s = 0; s < 20; s++) await t.trainStep();
          const graph = [await t.evaluate(false), await t.evaluate(true)];
          // The single trainer keeps no update window (RunGroup does): it is the record's one difference.
          for (const r of graph) r.update_edge = host[0].update_edge;
          engines.push(['tfjs graph', graph]);
        } finally {
          t.dispose();
        }
      }
      if (webgpu.ok) engines.push(['WGSL', await recordsOf(await WgslGroup.create(members))]);
      expect(host[0].update_edge).toBeDefined();
      for (const [k, want] of host.entries()) {
        const keys = keyPaths(want).sort();
        for (const [name, records] of engines) {
          const lacks = name === 'stacked tfjs' ? STACKED_LACKS : {};
          const got = keyPaths(records[k]).sort();
          expect(got, `${name}, ${k ? 'with' : 'without'} spectra`).toEqual(keys.filter((p) => !Object.keys(lacks).some((l) => p === l || p.startsWith(`${l}.`))));
        }
      }
    });
  }

  it('evaluates parameters alone as the run’s own evaluation does, without optimiser state', async () => {
    const config = { ...tiny, condition: 'logit-matched' as const, normTargetRun: 'x' };
    const logitTargets = { steps: Float64Array.from([0, 40]), values: Float64Array.from([0.5, 1.5]) };
    const ds = makeDataset({ task: config.task, p: config.p, trainFraction: config.trainFraction, seed: config.seed });
    const t = new Trainer(config, ds, undefined, { logitTargets });
    const evaluator = new ParameterEvaluator(config, ds, logitTargets);
    try {
      for (let s = 0; s < 20; s++) await t.trainStep();
      const params = t.snapshot().params;
      for (const spectra of [false, true]) expect(await evaluator.evaluate(params, 20, spectra)).toEqual(await t.evaluate(spectra));
      // The logits an evaluation sees: scaled to the target's scale at step 20 (1.0).
      const logits = await evaluator.logits(params, 20);
      expect((await evaluator.evaluate(params, 20, false)).logits!.scale).toBeCloseTo(1, 5);
      expect(logits.length).toBe(ds.labels.length * ds.classes);
    } finally {
      t.dispose();
      evaluator.dispose();
    }
  });
});
