import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { checkpointDirFor } from '../core/library/paths.js';
import { savedRunFile } from '../core/library/archive.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GrokscopeService } from '../core/service/service.js';
import { Library } from '../core/library/library.js';
import { pointFromRecord } from '../core/service/points.js';
import { liveRunEvents } from '../core/service/live-run.js';
import type { LiveEvent } from '../core/api.js';
import { PRESETS } from '../core/schema/run-config.js';
import { API_METHODS } from '../core/api.js';
import { Rng } from '../core/rng.js';
import { fixtureRecord, makeFixtureRun } from './helpers/fixture-run.js';

describe('service', () => {
  let dir: string;
  let id: string;
  const service = (): GrokscopeService => new GrokscopeService(dir, null);
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-service-'));
    id = await makeFixtureRun(dir, { id: 'csv-run' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('imports dropped files through the CLI’s path: another tool’s CSV (not archived: external), a saved run (archived for rebuilds), a bad file failing alone', async () => {
    const saved = await service().exportRuns([id], 'grokrun');
    // Deleting a run deletes its files too: its saved run (else a rebuild would bring it back) and checkpoints.
    mkdirSync(checkpointDirFor(dir, id), { recursive: true });
    mkdirSync(path.dirname(savedRunFile(dir, id)), { recursive: true });
    writeFileSync(savedRunFile(dir, id), 'stands for the saved run');
    await service().deleteRuns([id]);
    expect(existsSync(savedRunFile(dir, id))).toBe(false);
    expect(existsSync(checkpointDirFor(dir, id))).toBe(false);
    const csv = 'Wall time,Step,Value\n1700000000.5,0,0.01\n1700000001.5,50,0.5\n1700000002.5,100,0.97\n';
    const results = await service().importFiles([
      { name: 'run_seed0-tag-test_acc.csv', base64: Buffer.from(csv).toString('base64') },
      { name: saved.name, base64: saved.base64 },
      { name: 'broken.grokrun', base64: Buffer.from('not a zip').toString('base64') },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(results[2].messages[0]).toMatch(/broken\.grokrun/);
    const runs = await service().listRuns();
    const external = runs.find((r) => r.origin === 'external')!;
    expect(existsSync(savedRunFile(dir, external.id))).toBe(false);
    expect(runs.map((r) => r.id)).toContain(id);
    expect(existsSync(savedRunFile(dir, id))).toBe(true);
    await service().deleteRuns([external.id]);
  });

  it('exports one run as the CLI’s CSV, and refuses two runs in one line', async () => {
    const file = await service().exportRuns([id.slice(0, 5)], 'csv');
    expect(file.name).toBe('csv-run.csv');
    const lines = Buffer.from(file.base64, 'base64').toString('utf8').trimEnd().split('\n');
    expect(lines[0].split(',')).toEqual(expect.arrayContaining(['step', 'test_acc', 'entropy.resid.final', 'eff_rank.embed', 'fourier_gini']));
    expect(lines).toHaveLength(1 + 4); // header and the fixture's four evaluations
    const col = lines[0].split(',').indexOf('test_acc');
    expect(Number(lines[2].split(',')[col])).toBe(fixtureRecord(20).test_acc);
    await expect(service().dispatch('exportRuns', [[id, id], 'csv'])).rejects.toThrow(/one run's metrics \(got 2 runs\)/);
    await expect(service().dispatch('exportRuns', [[id], 'xlsx'])).rejects.toThrow(/exportRuns: invalid arguments/);
  });

  it('serves the same metric points it maps from a worker’s records', async () => {
    const run = await service().getRun(id);
    expect(run.metrics[1]).toEqual(pointFromRecord(fixtureRecord(20)));
  });

  it('serves a run’s events recomputed from its metrics, with the onset markers, and leaves the stored ones alone', async () => {
    // Salt 500: H̃ = 0.9 − (step + 500)/1777 is above H̃* 0.61 at T_mem (step 0) and below it from step 20 on;
    // test accuracy (step + 500)/1013 is past T_rise's level (0.129 for p = 31) at once and reaches 50 % at step 20.
    const onset = await makeFixtureRun(dir, { id: 'onset-run', salt: 500 });
    const run = await service().getRun(onset);
    expect(run.events).toMatchObject({ T_mem: 0, T_rise: 0, T_grok_50: 20, T_grok: null, T_loss_peak: null, T_cross: 20, lead: null, lead_rise: -20, lead_grok_50: 0, below_at_mem: false });
    expect(run.events?.test_acc_at_cross).toBe(fixtureRecord(20, 500).test_acc);
    const stored = await Library.with(dir, (l) => l.getRun(onset));
    expect(stored.events).toEqual({ T_mem: 20, T_grok: 60, T_grok_50: 40, T_grok_99: null, T_cross: 40, lead: 20, below_at_mem: false }); // the fixture's, untouched
    await service().deleteRuns([onset]);
  });

  it('turns a live run’s progress into grokked and crossed once each, and throttled progress', () => {
    const events: LiveEvent[] = [];
    let clock = 0;
    const config = { ...PRESETS.fast, entropyThreshold: 0.61, crossPersistence: 2, grokThreshold: 0.95 };
    const onProgress = liveRunEvents(config, (e) => events.push(e), () => clock);
    const h = [0.9, 0.6, 0.5, 0.4, 0.3, 0.3];
    const acc = [0.1, 0.2, 0.5, 0.96, 0.99, 1];
    h.forEach((entropy, i) => {
      const step = i * 20;
      // Memorised from step 0: a warning counts from T_mem on.
      const r = { ...fixtureRecord(step), train_acc: 1, test_acc: acc[i], probes: { 'resid.final': { entropy, eff_rank: 1, top5_share: 1 } } };
      clock += i === 5 ? 300 : 100; // progress at most every 250 ms, the last report always
      onProgress({ runId: 'r', step, totalSteps: i === 5 ? step : 1000, stepsPerSecond: 10, latest: r, backend: 'wasm' });
    });
    expect(events.filter((e) => e.type === 'run-crossed')).toEqual([{ type: 'run-crossed', id: 'r', step: 20, threshold: 0.61 }]);
    expect(events.filter((e) => e.type === 'run-grokked')).toEqual([{ type: 'run-grokked', id: 'r', step: 60 }]);
    expect(events.filter((e) => e.type === 'run-progress').map((e) => (e as { step: number }).step)).toEqual([0, 60, 100]);
    expect(events.some((e) => e.type === 'run-anti-grokking')).toBe(false);
  });

  it('raises the anti-grokking alert once when test accuracy falls back after grokking', () => {
    const config = { ...PRESETS.fast, grokThreshold: 0.95, crossPersistence: 2 };
    const events: LiveEvent[] = [];
    const onProgress = liveRunEvents(config, (e) => events.push(e), () => 0);
    [0.2, 0.97, 0.99, 0.6, 0.5, 0.4].forEach((acc, i) => {
      const step = i * 20;
      onProgress({ runId: 'r', step, totalSteps: 1000, stepsPerSecond: 10, latest: { ...fixtureRecord(step), test_acc: acc }, backend: 'wasm' });
    });
    expect(events.filter((e) => e.type === 'run-anti-grokking')).toEqual([{ type: 'run-anti-grokking', id: 'r', step: 60, testAcc: 0.5 }]);
  });

  it('answers any arguments an IPC or WebSocket caller can send with a result or a one-line error (fuzz of 600)', async () => {
    // What Electron's structured clone can carry, not only JSON: dates, maps, typed arrays, NaN.
    const rng = new Rng(29, 0);
    const pick = <T,>(xs: readonly T[]): T => xs[rng.int(xs.length)];
    const atom = (): unknown => pick([null, undefined, NaN, -1, 0, 2 ** 53, 1e-300, '', 'x'.repeat(10_000), 'no-such-run', true, new Date(0), new Map([[1, 2]]), new Uint8Array(3), { lines: 'yes' }, { forecast: 1 }, { name: 'a.grokrun', base64: '!!' }, 'grokbundle', 'csv']);
    const value = (depth = 0): unknown => (depth < 2 && rng.int(3) === 0 ? Array.from({ length: rng.int(4) }, () => value(depth + 1)) : atom());
    const svc = service();
    for (let i = 0; i < 600; i++) {
      const method = pick(API_METHODS);
      const args = rng.int(5) === 0 ? value() : Array.from({ length: rng.int(4) }, () => value());
      const outcome = await svc.dispatch(method, args).then(
        () => 'ok',
        (err: unknown) => (err instanceof Error ? err.message : `not an Error: ${String(err)}`),
      );
      expect(outcome, `${method} ${String(args)}`).not.toMatch(/\n|not an Error/);
    }
    expect((await service().listRuns()).map((r) => r.id)).toEqual(['csv-run']); // nothing was harmed
  }, 60_000);
});

describe('study plans', () => {
  it('estimates from the median step rate of completed runs of the same shape, over the workers', async () => {
    const { estimateStudy } = await import('../core/study/estimate.js');
    const { planRuns, NAMED_STUDIES } = await import('../core/study/spec.js');
    const plan = planRuns({ ...NAMED_STUDIES.quick, seeds: [0, 1] }); // 12 runs: 6 Transformer, 6 MLP
    const tf = { arch: 'transformer', dModel: PRESETS.quick.dModel, dMlp: PRESETS.quick.dMlp, p: PRESETS.quick.p, task: 'mod-add' };
    const mlp = { ...tf, arch: 'mlp' };
    const measured = [
      { ...tf, steps: 1000, seconds: 10 }, // 100 steps/s
      { ...tf, steps: 1000, seconds: 5 }, // 200
      { ...tf, steps: 1000, seconds: 2.5 }, // 400: median of 100, 200, 400 is 200
      { ...mlp, steps: 1000, seconds: 2 }, // 500
    ];
    const e = estimateStudy(plan, measured, 2);
    const steps = PRESETS.quick.steps;
    expect(e.runs).toBe(12);
    expect(e.totalSteps).toBe(12 * steps);
    expect(e.seconds).toBeCloseTo((6 * steps) / 200 / 2 + (6 * steps) / 500 / 2, 9);
    expect(e.basis).toMatch(/median of 3 runs.*median of 1 run\b.*over 2 workers/);
    const none = estimateStudy(plan, measured.slice(0, 3), 2);
    expect(none.seconds).toBeNull();
    expect(none.basis).toMatch(/^no completed runs of mlp d=\d+ mlp=\d+ p=\d+ in this library/);
    // Without completed runs of a shape, auto's measured speed of it (training steps only) stands in.
    const speeds = [{ ...mlp, steps: 1, seconds: 0.004 }];
    const withSpeed = estimateStudy(plan, measured.slice(0, 3), 2, speeds);
    expect(withSpeed.seconds).toBeCloseTo((6 * steps) / 200 / 2 + (6 * steps * 0.004) / 2, 9);
    expect(withSpeed.basis).toMatch(/median of 3 runs; mlp d=\d+ mlp=\d+ p=\d+: auto's measured training speed on this machine, evaluations not counted\), over 2 workers/);
  });

  it('plans a study through the service, refusing a bad spec with the field named', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-plan-'));
    try {
      const service = new GrokscopeService(dir, null);
      const plan = await service.planStudy('quick');
      expect(plan).toMatchObject({ name: 'quick', runs: 60, totalSteps: 60 * PRESETS.quick.steps, seconds: null });
      await expect(service.dispatch('planStudy', [{ name: 'x', preset: 'fast', tasks: ['mod-add'], archs: ['mlp'], conditions: ['mix'], seeds: [0] }])).rejects.toThrow(/conditions: a study needs 'baseline'/);
      const choices = await service.formChoices();
      expect(choices.presets.quick).toEqual(PRESETS.quick);
      expect(choices.presets.fast).toEqual(PRESETS.fast);
      expect(choices.studies.quick.seeds).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
