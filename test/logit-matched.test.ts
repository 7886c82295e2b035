import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, RunConfigSchema, parseRunConfig, type RunConfig } from '../core/schema/run-config.js';
import { StudySpecSchema } from '../core/schema/study-spec.js';
import { makeDataset } from '../core/tasks/dataset.js';
import { selectBackend } from '../core/train/backend.js';
import { targetScaleAt, usesTemperature, type LogitTargets } from '../core/train/logit-temperature.js';
import { Trainer } from '../core/train/trainer.js';
import { StackedGroup } from '../core/train/tfjs/stacked-group.js';
import type { EvalRecord } from '../core/schema/eval-record.js';
import { Library } from '../core/library/library.js';
import { tempDir } from './helpers/tmp.js';

const tiny = parseRunConfig({ ...PRESETS.fast, p: 11, dModel: 16, nHeads: 2, dMlp: 32, seed: 5, evalEvery: 1, spectrumEvery: 50, backend: 'wasm' });
const datasetOf = (c: RunConfig) => makeDataset({ task: c.task, p: c.p, trainFraction: c.trainFraction, seed: c.seed });

/** Evaluate before every step, `steps` steps: the records at steps 0 … steps. */
async function trajectory(config: RunConfig, steps: number, logitTargets?: LogitTargets): Promise<EvalRecord[]> {
  const t = new Trainer(config, datasetOf(config), undefined, { logitTargets });
  try {
    const out: EvalRecord[] = [];
    for (let s = 0; s <= steps; s++) {
      out.push(await t.evaluate(false));
      if (s < steps) await t.trainStep();
    }
    return out;
  } finally {
    t.dispose();
  }
}
const targetsOf = (records: EvalRecord[]): LogitTargets => ({ steps: Float64Array.from(records, (r) => r.step), values: Float64Array.from(records, (r) => r.logits!.scale) });

describe('output temperature and the logit-matched control', () => {
  it('interpolates the target between the target run’s evaluations, and refuses steps it does not cover', () => {
    const targets = { steps: Float64Array.from([0, 10, 20]), values: Float64Array.from([1, 3, 2]) };
    expect(targetScaleAt(targets, 10)).toBe(3);
    expect(targetScaleAt(targets, 15)).toBeCloseTo(2.5, 12);
    expect(() => targetScaleAt(targets, 21)).toThrow(/no logit scale for step 21/);
  });

  it('temperature 1 is the baseline: the same computation, fused steps and stacking included', () => {
    expect(usesTemperature({ ...tiny, temperature: 1 })).toBe(false);
    expect(usesTemperature({ ...tiny, temperature: 2 })).toBe(true);
    expect(StackedGroup.refusal([{ config: tiny }, { config: { ...tiny, seed: 6, temperature: 1 } }])).toBeNull();
    expect(StackedGroup.refusal([{ config: tiny }, { config: { ...tiny, seed: 6, temperature: 2 } }])).toMatch(/temperature/);
  });

  it('matched to a fixed-temperature run’s own scale, it is that run (τ comes out as its temperature)', async () => {
    await selectBackend('wasm');
    const fixed = await trajectory({ ...tiny, temperature: 2 }, 25);
    const matched = await trajectory({ ...tiny, condition: 'logit-matched', normTargetRun: 'fixed' }, 25, targetsOf(fixed));
    for (const [i, r] of matched.entries()) {
      const want = fixed[i];
      for (const key of ['train_loss', 'test_loss', 'weight_norm'] as const) expect(Math.abs(r[key] - want[key]) / Math.max(1, Math.abs(want[key])), `${key} at step ${r.step}`).toBeLessThan(1e-5);
      expect(Math.abs(r.logits!.scale - want.logits!.scale)).toBeLessThan(1e-5 * want.logits!.scale);
    }
    // …and it is not the baseline: the temperature changed the training.
    const baseline = await trajectory(tiny, 25);
    expect(Math.abs(baseline[25].train_loss - fixed[25].train_loss)).toBeGreaterThan(1e-3);
  });

  it('temperature 1 trains exactly the baseline, and matching a baseline’s own scale gives it back', async () => {
    await selectBackend('wasm');
    const baseline = await trajectory(tiny, 15);
    expect(await trajectory({ ...tiny, temperature: 1 }, 15)).toEqual(baseline); // bit for bit
    // Through the matching machinery τ = scale / target comes out as 1 (up to float rounding).
    const matched = await trajectory({ ...tiny, condition: 'logit-matched', normTargetRun: 'b' }, 15, targetsOf(baseline));
    for (const [i, r] of matched.entries()) {
      for (const key of ['train_loss', 'test_loss', 'weight_norm'] as const) expect(Math.abs(r[key] - baseline[i][key]) / Math.max(1, Math.abs(baseline[i][key])), `${key} at step ${r.step}`).toBeLessThan(1e-5);
    }
  });

  it('holds any target: every evaluation records the target’s scale', async () => {
    await selectBackend('wasm');
    const targets = { steps: Float64Array.from([0, 20]), values: Float64Array.from([0.5, 4]) };
    const matched = await trajectory({ ...tiny, condition: 'logit-matched', normTargetRun: 'x' }, 20, targets);
    for (const r of matched) expect(r.logits!.scale).toBeCloseTo(targetScaleAt(targets, r.step), 4);
  });

  it('says what is missing or contradictory, in one line', () => {
    const bad = (c: object) => RunConfigSchema.safeParse({ ...tiny, ...c });
    expect(bad({ condition: 'logit-matched' }).success).toBe(false);
    expect(bad({ condition: 'logit-matched', normTargetRun: 'm', temperature: 2 }).success).toBe(false);
    expect(bad({ temperature: 0 }).success).toBe(false);
    expect(() => new Trainer({ ...tiny, condition: 'logit-matched', normTargetRun: 'm' }, datasetOf(tiny))).toThrow(/logit-scale trajectory/);
    const spec = { version: 1, name: 's', preset: 'fast', overrides: {}, tasks: ['mod-add'], archs: ['transformer'], seeds: [0], earlyStopEvals: 0 };
    expect(StudySpecSchema.safeParse({ ...spec, conditions: ['baseline', 'logit-matched'] }).success).toBe(false);
    expect(StudySpecSchema.safeParse({ ...spec, conditions: ['baseline', 'mix', 'logit-matched'] }).success).toBe(true);
  });
});

describe('a study with a logit-matched condition, through the pool', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('replays each mix run’s logit scale and reports the delay that matching leaves', async () => {
    const spec = {
      name: 'logit',
      preset: 'fast',
      overrides: { p: 11, dModel: 16, nHeads: 2, dMlp: 32, steps: 60, evalEvery: 10, spectrumEvery: 30, lr: 0.01 },
      tasks: ['mod-add'],
      archs: ['transformer'],
      conditions: ['baseline', 'mix', 'logit-matched'],
      seeds: [0, 1],
      earlyStopEvals: 0,
    };
    const file = path.join(tmp.dir, 'logit.json');
    writeFileSync(file, JSON.stringify(spec));
    const library = path.join(tmp.dir, 'lib');
    const r = spawnSync(process.execPath, [path.join(root, 'bin', 'grokscope.js'), 'study', file, '--workers', '2', '--out', 'report', '--json', '--library', library], { cwd: tmp.dir, encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { summary: string };
    const summary = JSON.parse(readFileSync(out.summary, 'utf8'));
    expect(summary.interventions.map((x: { condition: string }) => x.condition)).toEqual(['mix', 'logit-matched']);
    expect(summary.claims.C4).toHaveProperty('logitMatched');
    await Library.with(library, async (lib) => {
      const runs = await lib.getStudyRuns('logit');
      for (const seed of [0, 1]) {
        const id = (c: string): string => runs.get(`mod-add/transformer/${c}/s${seed}`)!;
        const matched = await lib.getMetrics(id('logit-matched'));
        const mix = new Map((await lib.getMetrics(id('mix'))).map((m) => [m.step, m.scalars.logit_scale]));
        expect(matched).toHaveLength(7);
        for (const m of matched) expect(Math.abs(m.scalars.logit_scale - mix.get(m.step)!)).toBeLessThan(1e-4 * mix.get(m.step)!);
        expect((await lib.getRun(id('logit-matched'))).config.normTargetRun).toBe(id('mix'));
      }
    });
  });
});
