import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRESETS, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { loadBlas } from '../core/train/host/blas.js';
import { RunGroup } from '../core/train/run-group.js';
import { groupMismatch } from '../core/train/engine.js';
import { Trainer } from '../core/train/trainer.js';
import { executeGroup, executeRun, type RunOutcome } from '../core/runs/run-executor.js';
import { Library } from '../core/library/library.js';
import { poolAndLibrary } from './helpers/pool.js';
import { NAMED_STUDIES, planRuns } from '../core/study/spec.js';
import { packGroups } from '../core/study/groups.js';
import { GPU_GROUP_LIMIT, GROUP_MEMORY_BUDGET, groupSizeFor, memberBytes } from '../core/runs/group-size.js';

/**
 * Run groups (core/train/run-group.ts): S runs of one shape trained together in one worker are
 * each exactly the run they would be alone (different seeds, a mix run and a norm-matched run in
 * one group); a frozen member stays bit-identical; through the pool a member stops alone, and a
 * worker killed mid-group fails only that group's runs, which resume from their checkpoints to the
 * metrics of an uninterrupted group.
 */
const backend = loadBlas() instanceof Error ? 'wasm' : 'wasm+openblas';
const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 60, evalEvery: 10, spectrumEvery: 20, checkpointEvery: 25, backend });

function datasetOf(c: RunConfig) {
  return makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed });
}

describe('a run group in one thread', () => {
  beforeAll(async () => {
    await selectBackend(backend);
  });

  it('trains each member exactly as alone: two seeds, a mix run and a norm-matched run, 50 steps', async () => {
    const mix = { ...tiny, seed: 3, condition: 'mix' as const };
    // The norm-matched member replays the mix run's ‖θ‖ trajectory, as in a study.
    const alone = new Trainer(mix, datasetOf(mix));
    const normTargets = new Float64Array(51);
    normTargets[0] = alone.weightNorm;
    for (let s = 1; s <= 50; s++) {
      await alone.trainStep();
      normTargets[s] = alone.weightNorm;
    }
    alone.dispose();
    const members = [
      { config: { ...tiny, seed: 1 } },
      { config: { ...tiny, seed: 2, lr: 2e-3, weightDecay: 0.5 } },
      { config: mix },
      { config: { ...tiny, seed: 4, condition: 'norm-matched' as const, normTargetRun: 'the-mix-run' }, normTargets },
    ];
    const group = new RunGroup(members);
    const solo = members.map((m) => new Trainer(m.config, datasetOf(m.config), undefined, { normTargets: m.normTargets }));
    try {
      for (let s = 0; s < 50; s++) {
        for (let i = 0; i < members.length; i++) {
          const [g, a] = [await group.trainers[i].trainLoss(), await solo[i].trainLoss()];
          expect(Math.abs(g - a), `member ${i}, step ${s}`).toBeLessThanOrEqual(1e-5);
        }
        await group.trainStep();
        for (const t of solo) await t.trainStep();
      }
      // The norm-matched member holds its target, the others differ from one another.
      expect(Math.abs(group.trainers[3].weightNorm - normTargets[50])).toBeLessThan(1e-3 * normTargets[50]);
      expect(group.trainers[2].weightNorm).toBeCloseTo(normTargets[50], 3);
      const finals = await Promise.all(group.trainers.map((t) => t.trainLoss()));
      expect(new Set(finals).size).toBe(4);
    } finally {
      group.dispose();
      for (const t of solo) t.dispose();
    }
  });

  it('leaves a frozen member bit-identical while the others train', async () => {
    const group = new RunGroup([0, 1, 2].map((seed) => ({ config: { ...tiny, seed } })));
    try {
      for (let s = 0; s < 5; s++) await group.trainStep();
      group.freeze(1);
      const before = group.trainers.map((t) => t.snapshot());
      for (let s = 0; s < 10; s++) await group.trainStep();
      const after = group.trainers.map((t) => t.snapshot());
      expect(group.active()).toEqual([0, 2]);
      expect(after[1].step).toBe(5);
      for (const part of ['params', 'm', 'v'] as const) {
        for (const name of Object.keys(before[1].params)) expect(Array.from(after[1][part][name].data), `${part}.${name}`).toEqual(Array.from(before[1][part][name].data));
      }
      expect(after[0].step).toBe(15);
      expect(Array.from(after[0].params.W_U.data)).not.toEqual(Array.from(before[0].params.W_U.data));
    } finally {
      group.dispose();
    }
  });

  it('refuses runs that cannot share a group, naming the fields', () => {
    expect(groupMismatch([tiny, { ...tiny, seed: 9, condition: 'mix' }])).toBeNull();
    expect(groupMismatch([tiny, { ...tiny, dMlp: 64, steps: 80 }])).toBe('run 2 differs from run 1 in dMlp, steps: a group shares its shape and schedule');
    expect(() => new RunGroup([{ config: tiny }, { config: { ...tiny, arch: 'mlp' } }])).toThrow(/differs from run 1 in arch/);
  });
});

describe('run groups through the worker pool', () => {
  const ctx = poolAndLibrary(beforeAll, afterAll);

  const metricsOf = (ids: string[]) =>
    Library.with(ctx.dir, async (lib) => Promise.all(ids.map(async (id) => ({ run: await lib.getRun(id), metrics: await lib.getMetrics(id), spectra: await lib.getSpectra(id) }))));

  it('records each member as its own run, identical to the run trained alone; a member stops alone and resumes', async () => {
    const configs = [1, 2, 3].map((seed) => ({ ...tiny, seed }));
    const alone: RunOutcome[] = [];
    for (const config of configs) alone.push(await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, config }));
    const grouped = await executeGroup({
      libraryDir: ctx.dir,
      pool: ctx.pool,
      members: configs.map((config, i) => ({
        config,
        // Stopped at step 20 by the worker itself: a stop on a progress message raced the worker's
        // 60 tiny steps on a loaded machine (the run completed before the flag was seen).
        ...(i === 1 ? { stopAtStep: 20 } : {}),
      })),
    });
    expect(grouped.map((o) => o.status)).toEqual(['completed', 'stopped', 'completed']);
    const stoppedId = grouped[1].runId!;
    const resumed = await executeRun({ libraryDir: ctx.dir, pool: ctx.pool, resumeRunId: stoppedId });
    expect(resumed.status).toBe('completed');
    const a = await metricsOf(alone.map((o) => o.runId));
    const g = await metricsOf(grouped.map((o) => o.runId!));
    for (let i = 0; i < 3; i++) {
      expect(g[i].metrics.map((m) => m.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
      expect(g[i].metrics, `member ${i}`).toEqual(a[i].metrics);
      expect(g[i].spectra).toEqual(a[i].spectra);
      expect(g[i].run.events).toEqual(a[i].run.events);
      expect(g[i].run.status).toBe('completed');
    }
  });

  it('a worker killed mid-group fails only that group’s runs, which resume from their checkpoints', async () => {
    const configs = [5, 6].map((seed) => ({ ...tiny, seed, steps: 400, evalEvery: 10, spectrumEvery: 100, checkpointEvery: 25 }));
    const reference = await executeGroup({ libraryDir: ctx.dir, pool: ctx.pool, members: configs.map((config) => ({ config })) });
    expect(reference.map((o) => o.status)).toEqual(['completed', 'completed']);
    let killed = false;
    const kill = (p: { step: number }): void => {
      if (killed || p.step < 60) return;
      killed = true;
      for (const w of ctx.pool.threads) void w.terminate();
    };
    const crashed = await executeGroup({ libraryDir: ctx.dir, pool: ctx.pool, members: configs.map((config) => ({ config, onProgress: kill })) });
    expect(killed).toBe(true);
    expect(crashed.map((o) => o.status)).toEqual(['failed', 'failed']);
    const ids = crashed.map((o) => o.runId!);
    const resumed = await executeGroup({ libraryDir: ctx.dir, pool: ctx.pool, members: ids.map((resumeRunId) => ({ resumeRunId })) });
    expect(resumed.map((o) => o.status)).toEqual(['completed', 'completed']);
    const want = await metricsOf(reference.map((o) => o.runId!));
    const got = await metricsOf(ids);
    for (let i = 0; i < 2; i++) {
      expect(got[i].metrics).toEqual(want[i].metrics);
      expect(got[i].run.events).toEqual(want[i].run.events);
    }
  });

  it('a member that cannot start fails alone, before anything is created for it', async () => {
    const outcomes = await executeGroup({
      libraryDir: ctx.dir,
      pool: ctx.pool,
      members: [{ config: { ...tiny, seed: 7 } }, { config: { ...tiny, seed: 8, condition: 'norm-matched', normTargetRun: 'no-such-run' } }],
    });
    expect(outcomes[0].status).toBe('completed');
    expect(outcomes[1]).toMatchObject({ runId: null, status: 'failed', error: expect.stringMatching(/no-such-run/) });
  });
});

describe('packing a study into run groups', () => {
  const spec = { ...NAMED_STUDIES.quick, seeds: [0, 1, 2] };
  const plan = planRuns(spec);

  it('groups runs of one shape in plan order, norm-matched runs apart and after', () => {
    const groups = packGroups(plan, 4);
    const keys = groups.map((g) => g.runs.map((r) => r.key));
    expect(keys).toEqual([
      ['mod-add/transformer/baseline/s0', 'mod-add/transformer/mix/s0', 'mod-add/transformer/baseline/s1', 'mod-add/transformer/mix/s1'],
      ['mod-add/transformer/baseline/s2', 'mod-add/transformer/mix/s2'],
      ['mod-add/mlp/baseline/s0', 'mod-add/mlp/mix/s0', 'mod-add/mlp/baseline/s1', 'mod-add/mlp/mix/s1'],
      ['mod-add/mlp/baseline/s2', 'mod-add/mlp/mix/s2'],
      ['mod-add/transformer/norm-matched/s0', 'mod-add/transformer/norm-matched/s1', 'mod-add/transformer/norm-matched/s2'],
      ['mod-add/mlp/norm-matched/s0', 'mod-add/mlp/norm-matched/s1', 'mod-add/mlp/norm-matched/s2'],
    ]);
    expect(packGroups(plan, 1)).toHaveLength(plan.length);
    for (const g of packGroups(plan, 100)) expect(groupMismatch(g.runs.map((r) => r.config as RunConfig))).toBeNull();
  });

  it('sizes groups by the written rule: one run on a CPU; on a device as many as fit, up to 30', () => {
    const quick = parseRunConfig(PRESETS.fast);
    expect(groupSizeFor(quick, 'host').size).toBe(1);
    expect(groupSizeFor(quick, 'device').size).toBe(Math.min(GPU_GROUP_LIMIT, Math.floor(GROUP_MEMORY_BUDGET / memberBytes(quick))));
    // A model whose activations alone exceed the budget still trains, one run at a time.
    const huge = parseRunConfig({ ...PRESETS.reference, p: 997, dMlp: 4096, dModel: 512 });
    expect(memberBytes(huge)).toBeGreaterThan(GROUP_MEMORY_BUDGET);
    expect(groupSizeFor(huge, 'device').size).toBe(1);
    // The reference Transformer: parameters, moments and every-pair activations, by hand.
    const ref = parseRunConfig(PRESETS.reference);
    const params = 98 * 128 + 3 * 128 + 4 * 128 * 128 + 128 * 512 + 512 + 512 * 128 + 128 + 128 * 97;
    expect(memberBytes(ref)).toBe(4 * (3 * params + 97 * 97 * (2 * 512 + 10 * 128 + 97)));
  });
});
