import { createHash } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { Library } from '../core/library/library.js';
import { exportLongTable } from '../core/library/exports/long-table.js';
import { makeFixtureRun } from './helpers/fixture-run.js';
import { tempDir } from './helpers/tmp.js';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { DEFAULT_INIT, INIT_SCHEMES, initParams, initParamsFor, type HostParams, type InitScheme } from '../core/models/init.js';
import { paramShapes, type ModelConfig } from '../core/models/config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { loadBlas } from '../core/train/host/blas.js';
import { Trainer, modelConfigOf } from '../core/train/trainer.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import { WgslGroup } from '../core/train/gpu/wgsl-group.js';
import { probeWebGpu } from '../core/train/gpu/webgpu.js';
import { configFromRequest } from '../core/service/validate.js';
import { presetDiff } from '../core/service/preset-diff.js';
import { buildRunConfig } from '../main/cli/run-config.js';

/**
 * The run config's `init` (core/models/init.ts): absent is today's scheme bit for bit;
 * 'torch-linear' is PyTorch's nn.Linear default — every weight and bias U(−1/√fan_in, 1/√fan_in)
 * — with nn.Embedding's N(0, 1) for the token and position tables, checked against its bounds
 * and its closed-form moments; and the choice reaches every engine (host, stacked tfjs, WGSL).
 *
 * Tolerances are sampling errors, not tuned: an estimate from n independent draws is allowed
 * Z = 5 of its standard errors (a false failure has probability 6e-7 per check).
 */
const Z = 5;
const reference: ModelConfig = { arch: 'transformer', dModel: 128, nHeads: 4, dMlp: 512 };
const referenceMlp: ModelConfig = { ...reference, arch: 'mlp' };
const VOCAB = 98;
const CLASSES = 97;
const TABLES = ['embed', 'pos'];

/** The fan-in of the layer a parameter belongs to: a weight's rows, a bias's weight's rows. */
function fanIn(name: string, params: HostParams): number {
  const of = name === 'b_in' ? 'W_in' : name === 'b_out' ? 'W_out' : name;
  return params[of].shape[0];
}

/** Per parameter: E[x²] and Var[x²] of one draw under a scheme (x has mean 0 in both). */
function moments(scheme: InitScheme, name: string, params: HostParams, d: number): { m2: number; varX2: number } {
  const shape = params[name].shape;
  if (scheme === 'normal-fan-in') {
    if (shape.length === 1) return { m2: 0, varX2: 0 };
    const s2 = TABLES.includes(name) ? 1 / d : 1 / shape[0];
    return { m2: s2, varX2: 2 * s2 * s2 }; // N(0, σ²): E x⁴ = 3σ⁴
  }
  if (TABLES.includes(name)) return { m2: 1, varX2: 2 };
  const b2 = 1 / fanIn(name, params);
  return { m2: b2 / 3, varX2: (b2 * b2) / 5 - (b2 * b2) / 9 }; // U(−b, b): E x² = b²/3, E x⁴ = b⁴/5
}

/** E‖θ‖² and its standard deviation for a model under a scheme (the closed form of the initial weight norm). */
function normSquared(scheme: InitScheme, model: ModelConfig, vocab: number, classes: number): { mean: number; sd: number } {
  const params = initParams(model, vocab, classes, 0, 1, scheme); // shapes only
  let mean = 0;
  let variance = 0;
  for (const name of Object.keys(params)) {
    const n = params[name].data.length;
    const { m2, varX2 } = moments(scheme, name, params, model.dModel);
    mean += n * m2;
    variance += n * varX2;
  }
  return { mean, sd: Math.sqrt(variance) };
}

function digest(params: HostParams): string {
  const h = createHash('sha256');
  for (const [name, t] of Object.entries(params)) {
    h.update(name);
    h.update(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

describe('init: the default scheme', () => {
  it('is the scheme of every run before the field existed, bit for bit', () => {
    // Digests of initParams(model, 12, 11, 7[, 2.5]) taken from the code before `init` existed.
    const before: Record<string, [string, string]> = {
      transformer: ['45a01aced01c70411688c02c69f0c9e8e5dfd687767fca817b3bb67d6eacdf62', '97929b008598d6b9f694ffd51117c8fd63b4281f7aff9cfdcaf35042fd9fb397'],
      mlp: ['f79929e5a88066bcf0998be7d169d26e4b266ac7125639ee00693001a10febb8', '24021134360515ea70eb9a6a8ea4cfe9d1460050a85d0b04fb19ef97efee3a4a'],
    };
    for (const arch of ['transformer', 'mlp'] as const) {
      const model: ModelConfig = { arch, dModel: 16, nHeads: 2, dMlp: 32 };
      expect(digest(initParams(model, 12, 11, 7)), arch).toBe(before[arch][0]);
      expect(digest(initParams(model, 12, 11, 7, 2.5)), arch).toBe(before[arch][1]);
      expect(digest(initParams(model, 12, 11, 7, 1, 'normal-fan-in'))).toBe(before[arch][0]);
      expect(digest(initParamsFor({ seed: 7 }, model, 12, 11))).toBe(before[arch][0]);
      expect(digest(initParamsFor({ seed: 7, initScale: 2.5, init: 'normal-fan-in' }, model, 12, 11))).toBe(before[arch][1]);
    }
    expect(DEFAULT_INIT).toBe('normal-fan-in');
    expect(INIT_SCHEMES[0]).toBe(DEFAULT_INIT);
  });

  it('is what every preset and a config without the field mean; written out it is no difference from the preset', () => {
    for (const [name, preset] of Object.entries(PRESETS)) expect((preset as Record<string, unknown>).init, name).toBeUndefined();
    const plain = configFromRequest({ preset: 'quick' });
    expect(plain).not.toHaveProperty('init');
    expect(presetDiff({ ...plain, init: 'normal-fan-in' })).toEqual([]);
    expect(presetDiff({ ...plain, init: 'torch-linear' })).toEqual([{ field: 'init', value: 'torch-linear', preset: 'normal-fan-in' }]);
  });
});

describe('init: torch-linear (PyTorch nn.Linear default, nn.Embedding for the tables)', () => {
  for (const model of [reference, referenceMlp]) {
    const params = initParams(model, VOCAB, CLASSES, 11, 1, 'torch-linear');

    it(`${model.arch}: every weight and bias lies within ±1/√fan_in, and the range is filled`, () => {
      for (const [name, t] of Object.entries(params)) {
        if (TABLES.includes(name)) continue;
        const bound = Math.fround(1 / Math.sqrt(fanIn(name, params)));
        let max = 0;
        for (const x of t.data) max = Math.max(max, Math.abs(x));
        expect(max, name).toBeLessThanOrEqual(bound);
        // |x|/b is U(0, 1): P(max < 1 − ε) = (1 − ε)^n ≤ e^(−20) at ε = 20/n.
        expect(max, name).toBeGreaterThan(bound * (1 - 20 / t.data.length));
      }
      // The fan-ins PyTorch uses: d for attention, W_in and W_U (2d for the MLP control's W_in), d_mlp for W_out.
      expect(fanIn('W_in', params)).toBe(model.arch === 'mlp' ? 2 * model.dModel : model.dModel);
      expect(fanIn('b_in', params)).toBe(fanIn('W_in', params));
      expect(fanIn('b_out', params)).toBe(model.dMlp);
      expect(fanIn('W_U', params)).toBe(model.dModel);
    });

    it(`${model.arch}: mean, variance and shape match the closed form within ${Z} standard errors`, () => {
      for (const [name, t] of Object.entries(params)) {
        const n = t.data.length;
        const { m2, varX2 } = moments('torch-linear', name, params, model.dModel);
        let sum = 0;
        let sq = 0;
        let inner = 0;
        const b = Math.sqrt(3 * m2);
        for (const x of t.data) {
          sum += x;
          sq += x * x;
          if (Math.abs(x) < b / 2) inner++;
        }
        // Mean 0 with standard error σ/√n; E x² = m2 with standard error √(Var x² / n).
        expect(Math.abs(sum / n), `${name} mean`).toBeLessThan((Z * Math.sqrt(m2)) / Math.sqrt(n));
        expect(Math.abs(sq / n - m2), `${name} variance`).toBeLessThan(Z * Math.sqrt(varX2 / n));
        // Uniform, not normal: P(|x| < b/2) = 1/2 (a normal of the same variance gives 0.614); the tables are N(0, 1): 0.614.
        const p = TABLES.includes(name) ? 0.6135 : 0.5; // erf(√3/2/√2) = 0.6135
        expect(Math.abs(inner / n - p), `${name} shape`).toBeLessThan(Z * Math.sqrt((p * (1 - p)) / n));
      }
    });
  }

  it('variance 1/(3·fan_in) on a large matrix, to a tight tolerance', () => {
    // W_in of the reference transformer: 128 × 512 = 65,536 draws. Var x² / (E x²)² = (1/5 − 1/9)·9 = 0.8 for a
    // uniform, so the standard error is √(0.8/n) = 0.35 % of the variance and the tolerance 1.75 %.
    const t = initParams(reference, VOCAB, CLASSES, 3, 1, 'torch-linear').W_in;
    const n = t.data.length;
    const variance = t.data.reduce((a, x) => a + x * x, 0) / n;
    const expected = 1 / (3 * 128);
    const se = Math.sqrt((1 / 128 ** 2) * (1 / 5 - 1 / 9) / n);
    expect(Math.abs(variance - expected)).toBeLessThan(Z * se);
    expect((Z * se) / expected).toBeLessThan(0.0175);
  });

  it('is seeded: the same seed draws the same bits, another seed others, and initScale scales every parameter', () => {
    const a = initParams(reference, VOCAB, CLASSES, 5, 1, 'torch-linear');
    expect(digest(initParams(reference, VOCAB, CLASSES, 5, 1, 'torch-linear'))).toBe(digest(a));
    expect(digest(initParams(reference, VOCAB, CLASSES, 6, 1, 'torch-linear'))).not.toBe(digest(a));
    expect(digest(initParams(reference, VOCAB, CLASSES, 5))).not.toBe(digest(a));
    const scaled = initParams(reference, VOCAB, CLASSES, 5, 2, 'torch-linear');
    for (const name of Object.keys(a)) {
      // 2·(u·b) and u·(2b) round alike to float32 but for an ulp.
      let worst = 0;
      a[name].data.forEach((x, i) => (worst = Math.max(worst, Math.abs(scaled[name].data[i] - 2 * x) / Math.abs(x || 1))));
      expect(worst, name).toBeLessThanOrEqual(2 ** -23);
    }
    expect(Object.keys(a)).toEqual(Object.keys(paramShapes(reference, VOCAB, CLASSES)));
  });
});

describe('init: the run config, the CLI and the service', () => {
  it('is an optional, named field: accepted, refused with its name when unknown', () => {
    expect(parseRunConfig({ ...PRESETS.fast, init: 'torch-linear' }).init).toBe('torch-linear');
    expect(parseRunConfig({ ...PRESETS.fast }).init).toBeUndefined();
    expect(() => parseRunConfig({ ...PRESETS.fast, init: 'xavier' })).toThrow(/init/);
    expect(buildRunConfig({ preset: 'fast', init: 'torch-linear' }).init).toBe('torch-linear');
    expect(buildRunConfig({ preset: 'fast' })).not.toHaveProperty('init');
    expect(configFromRequest({ preset: 'fast', init: 'torch-linear' }).init).toBe('torch-linear');
    expect(() => configFromRequest({ preset: 'fast', init: 'kaiming' })).toThrow(/init/);
  });
});

describe('init: recorded with the run and exported', () => {
  it('is stored in the config when chosen, and the .runs table names every run’s scheme (the default written out)', async () => {
    const tmp = tempDir();
    try {
      const library = path.join(tmp.dir, 'lib');
      const ids = [await makeFixtureRun(library, { id: 'plain' }), await makeFixtureRun(library, { id: 'torch', config: { init: 'torch-linear' } })];
      await Library.with(library, async (lib) => {
        const [plain, torch] = await lib.getRuns(ids);
        expect(plain.config).not.toHaveProperty('init');
        expect(torch.config.init).toBe('torch-linear');
      });
      const file = path.join(tmp.dir, 'runs.csv');
      const { runs } = await exportLongTable(library, ids, file, 'csv');
      const db = await DuckDBInstance.create(':memory:');
      const con = await db.connect();
      try {
        const rows = (await con.runAndReadAll(`SELECT run, init, config FROM read_csv('${runs}') ORDER BY run`)).getRowsJS();
        expect(rows.map((r) => [r[0], r[1]])).toEqual([['plain', 'normal-fan-in'], ['torch', 'torch-linear']]);
        expect(JSON.parse(String(rows[1][2])).init).toBe('torch-linear');
      } finally {
        con.closeSync();
        db.closeSync();
      }
    } finally {
      tmp.cleanup();
    }
  });
});

/** Engines: each starts from initParamsFor(config) and its initial ‖θ‖ is the closed form's for its scheme. */
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 32, nHeads: 2, dMlp: 64, steps: 20, evalEvery: 10, spectrumEvery: 10, checkpointEvery: 10, backend: 'wasm' });
const probe = await probeWebGpu();
const datasetOf = (c: RunConfig) => makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed });

function expectClosedFormNorm(norm: number, c: RunConfig, what: string): void {
  const ds = datasetOf(c);
  const { mean, sd } = normSquared(c.init ?? DEFAULT_INIT, modelConfigOf(c), ds.vocab, ds.classes);
  expect(Math.abs(norm * norm - mean), what).toBeLessThan(Z * sd);
}

function expectSameParams(got: HostParams, c: RunConfig, what: string): void {
  const ds = datasetOf(c);
  const want = initParamsFor(c, modelConfigOf(c), ds.vocab, ds.classes);
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const name of Object.keys(want)) expect(Array.from(got[name].data), `${what} ${name}`).toEqual(Array.from(want[name].data));
}

describe('init: every engine starts from the chosen scheme', () => {
  const blas = !(loadBlas() instanceof Error);
  beforeAll(async () => {
    await selectBackend(blas ? 'wasm+openblas' : 'wasm');
  });

  for (const arch of ['transformer', 'mlp'] as const) {
    it(`${arch}: the host engine${blas ? ' (fused wasm+openblas step)' : ''} and the stacked tfjs group start where the scheme says and train alike`, async () => {
      const configs = (['normal-fan-in', 'torch-linear'] as const).map((init) => ({ ...tiny, arch, seed: 4, init }));
      const alone = configs.map((c) => new Trainer(c, datasetOf(c)));
      const stacked = new StackedGroup(configs.map((config) => ({ config })));
      try {
        if (blas) expect(Trainer.fusedStepApplies(configs[1])).toBe(true);
        for (const [i, c] of configs.entries()) {
          expectSameParams(alone[i].snapshot().params, c, `host ${c.init}`);
          expectSameParams((await stacked.snapshot(i)).params, c, `stacked ${c.init}`);
          expectClosedFormNorm(alone[i].weightNorm, c, `host ‖θ‖ ${c.init}`);
        }
        // torch-linear's N(0, 1) tables make ‖θ‖² larger than ours by more than both sampling bands.
        const [ours, torch] = configs.map((c) => normSquared(c.init, modelConfigOf(c), datasetOf(c).vocab, datasetOf(c).classes));
        expect(torch.mean - Z * torch.sd).toBeGreaterThan(ours.mean + Z * ours.sd);
        expect(alone[1].weightNorm ** 2).toBeGreaterThan(ours.mean + Z * ours.sd);
        for (let s = 0; s < 5; s++) {
          const got = await stacked.trainLosses();
          for (const i of [0, 1]) {
            const want = await alone[i].trainLoss();
            expect(Number.isFinite(want)).toBe(true);
            expect(Math.abs(got[i] - want) / want).toBeLessThan(1e-4);
          }
          await stacked.trainStep();
          for (const t of alone) await t.trainStep();
        }
      } finally {
        stacked.dispose();
        for (const t of alone) t.dispose();
      }
    });
  }

  it.runIf(probe.ok)(`the WGSL engine (${probe.ok ? probe.description : 'no adapter'}) starts where the scheme says and trains as the host engine does`, async () => {
    const configs = (['normal-fan-in', 'torch-linear'] as const).map((init) => ({ ...tiny, backend: 'webgpu' as const, seed: 4, init }));
    const group = await WgslGroup.create(configs.map((config) => ({ config })));
    const alone = configs.map((c) => new Trainer(c, datasetOf(c)));
    try {
      for (const [i, c] of configs.entries()) expectSameParams((await group.snapshot(i)).params, c, `WGSL ${c.init}`);
      for (let s = 0; s < 5; s++) {
        const got = await group.trainLosses();
        for (const i of [0, 1]) {
          const want = await alone[i].trainLoss();
          expect(Math.abs(got[i] - want) / want).toBeLessThan(1e-4);
        }
        await group.trainStep();
        for (const t of alone) await t.trainStep();
      }
    } finally {
      group.dispose();
      for (const t of alone) t.dispose();
    }
  });
});
