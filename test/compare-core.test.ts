import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compareRuns } from '../core/service/compare.js';
import type { TracedRunData } from '../core/study/analyze.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crossingStep, warningCrossing } from '../core/analysis/events.js';
import { crossingFromProfile, crossingProfile } from '../core/analysis/crossing.js';
import { DEFAULT_GRID } from '../core/analysis/threshold.js';
import { belowAtMem, tCross, tCrossOnGrid, traceFromPoints } from '../core/analysis/trace.js';
import type { Band } from '../core/api.js';
import { PRESETS } from '../core/schema/run-config.js';
import { Library, type MetricRow, type RunRecord } from '../core/library/library.js';
import { SeriesCache } from '../core/library/series-cache.js';
import type { RunSeries } from '../core/library/series.js';
import { Rng } from '../core/rng.js';
import { GrokscopeService } from '../core/service/service.js';
import { analyzeStudy } from '../core/study/analyze.js';
import type { EvalRecord } from '../core/schema/eval-record.js';

describe('crossing steps from one profile per run', () => {
  it('equal a scan per threshold, with gaps in H̃, for every persistence', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rng.uniform() * 60);
      // Memorised from a random evaluation on (sometimes never): warnings count from there.
      const memAt = Math.floor(rng.uniform() * (n + 2));
      const points = Array.from({ length: n }, (_, i) => ({
        step: i * 10,
        train_acc: i >= memAt ? 1 : 0.5,
        test_acc: 0,
        // A random walk with missing values (undefined) and exact repeats of grid values.
        entropy: rng.uniform() < 0.1 ? undefined : rng.uniform() < 0.1 ? 0.5 : rng.uniform(),
      }));
      const trace = traceFromPoints({ id: 't', task: 'mod-add', arch: 'mlp', condition: 'baseline', seed: 0, budget: n * 10 }, points);
      for (const persistence of [0, 1, 2, 3, 5, 70]) {
        const profile = crossingProfile(trace.step, trace.entropy, persistence);
        for (const h of [0, 0.1, 0.5, 0.50001, 0.9, 1, 2, rng.uniform()]) {
          expect(crossingFromProfile(profile, h)).toBe(crossingStep(points, h, persistence));
        }
        // The one definition of a warning: the profile from T_mem equals the live detector's scan.
        const rules = { memThreshold: 1, grokThreshold: 1, crossPersistence: persistence };
        const onGrid = tCrossOnGrid(trace, DEFAULT_GRID, rules);
        DEFAULT_GRID.forEach((h, g) => expect(onGrid[g]).toBe(warningCrossing(points, h, persistence, 1).step ?? NaN));
        for (const h of [0.5, rng.uniform()]) {
          expect(tCross(trace, h, rules)).toBe(warningCrossing(points, h, persistence, 1).step);
          expect(belowAtMem(trace, h, rules)).toBe(warningCrossing(points, h, persistence, 1).belowAtMem);
        }
        // The rule before 2026-12-05, kept as an option: any crossing from step 0.
        const fromStart = { ...rules, alarmFrom: 'start' as const };
        expect(tCross(trace, 0.5, fromStart)).toBe(crossingStep(points, 0.5, persistence));
        expect(warningCrossing(points, 0.5, persistence, 1, 'start').step).toBe(crossingStep(points, 0.5, persistence));
      }
    }
  });
});

/** A synthetic run: H̃ falls and test accuracy jumps at run-specific steps; optional gaps. */
function evals(seed: number, count: number, every: number, opts: { noProbeEvery?: number; onset?: number } = {}): EvalRecord[] {
  const rng = new Rng(seed, 3);
  const onset = opts.onset ?? (count * every * (0.3 + 0.4 * rng.uniform()));
  return Array.from({ length: count }, (_, i) => {
    const step = i * every;
    const acc = 1 / (1 + Math.exp(-(step - onset) / (every * 4)));
    const probe = opts.noProbeEvery && i % opts.noProbeEvery === 3 ? {} : { 'resid.final': { entropy: 0.9 - 0.45 * acc + 0.02 * rng.uniform(), eff_rank: 5, top5_share: 0.5 } };
    return {
      step,
      train_loss: 1 / (1 + i),
      train_acc: Math.min(1, i / (count / 5)),
      test_loss: 2 - acc,
      test_acc: acc + 0.01 * rng.uniform(),
      weight_norm: 30 + 5 * Math.sin(i / 9) + rng.uniform(),
      tensor_norms: {},
      probes: probe,
      fourier: null,
    };
  });
}

/** Mean / min / max / SD per step across runs from row objects (two-pass SD): the reference the compare must match. */
function naiveBand(rowsPerRun: MetricRow[][], value: (m: MetricRow) => number | undefined): { steps: number[]; band: Band } {
  const steps = [...new Set(rowsPerRun.flat().map((m) => m.step))].sort((a, b) => a - b);
  const band: Band = { mean: [], lower: [], upper: [], min: [], max: [], n: [] };
  for (const s of steps) {
    const vs = rowsPerRun.flatMap((rows) => rows.filter((m) => m.step === s).map(value)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    band.mean.push(vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null);
    band.min.push(vs.length ? Math.min(...vs) : null);
    band.max.push(vs.length ? Math.max(...vs) : null);
    band.n.push(vs.length);
  }
  // The default band kind is min–max.
  band.lower = band.min;
  band.upper = band.max;
  return { steps, band };
}

/** Equal up to rounding (Welford's running mean differs from sum / n in the last bits). */
function expectBand(actual: Band, expected: Band): void {
  expect(actual.n).toEqual(expected.n);
  for (const key of ['mean', 'lower', 'upper', 'min', 'max'] as const) {
    expect(actual[key].map((v) => v === null)).toEqual(expected[key].map((v) => v === null));
    actual[key].forEach((v, i) => v !== null && expect(v).toBeCloseTo(expected[key][i]!, 12));
  }
}

describe('compare from typed series', () => {
  let dir: string;
  let ids: string[];
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'grokscope-compare-'));
    ids = [];
    await Library.with(dir, async (lib) => {
      const make = async (arch: 'transformer' | 'mlp', condition: 'baseline' | 'mix', seed: number, records: EvalRecord[], batches = 1, status: RunRecord['status'] = 'completed'): Promise<void> => {
        const id = await lib.createRun({ ...PRESETS.fast, arch, condition, seed, steps: 3000 }, { node: process.version }, `cmp-${arch}-${condition}-${seed}`);
        // Later evaluations written first: the reader must not rely on insertion order.
        const size = Math.ceil(records.length / batches);
        for (let b = batches - 1; b >= 0; b--) await lib.appendEvals(id, records.slice(b * size, (b + 1) * size));
        await lib.updateRun(id, { status });
        ids.push(id);
      };
      for (let s = 0; s < 4; s++) await make('transformer', 'baseline', s, evals(s, 300, 10, { noProbeEvery: s === 1 ? 7 : undefined }), s === 2 ? 3 : 1);
      // A shorter run on another step grid: bands are taken over the union of steps.
      // Stopped by hand, so not carried forward past its end (a completed run that stopped early after grokking would be).
      await make('transformer', 'baseline', 4, evals(4, 140, 20), 1, 'stopped');
      for (let s = 0; s < 3; s++) await make('mlp', 'baseline', s, evals(10 + s, 300, 10));
      for (let s = 0; s < 3; s++) await make('transformer', 'mix', s, evals(20 + s, 300, 10, { onset: 2500 }));
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function reference(): Promise<{ rows: Map<string, MetricRow[]>; runs: RunRecord[] }> {
    return Library.with(dir, async (lib) => {
      const rows = new Map<string, MetricRow[]>();
      for (const id of ids) rows.set(id, await lib.getMetrics(id));
      return { rows, runs: await lib.getRuns(ids) };
    });
  }

  it('reads the same numbers as the row reader, sorted by step, NaN where the probe is missing', async () => {
    const { rows } = await reference();
    const series = await Library.with(dir, (lib) => lib.getSeries(ids, 'resid.final'));
    for (const id of ids) {
      const r = rows.get(id)!;
      const s = series.get(id)!;
      expect(Array.from(s.step)).toEqual(r.map((m) => m.step));
      expect(Array.from(s.test_acc)).toEqual(r.map((m) => m.test_acc));
      expect(Array.from(s.train_acc)).toEqual(r.map((m) => m.train_acc));
      expect(Array.from(s.weight_norm)).toEqual(r.map((m) => m.weight_norm));
      expect(Array.from(s.entropy)).toEqual(r.map((m) => m.entropy['resid.final'] ?? NaN));
    }
    expect(series.get(ids[1])!.entropy.some(Number.isNaN)).toBe(true);
  });

  it('gives the bands and the analysis that row objects give', async () => {
    const { rows, runs } = await reference();
    const service = new GrokscopeService(dir, null);
    const c = await service.compare(ids);
    expect(c.groups.map((g) => `${g.arch}/${g.condition}/${g.runs.length}`)).toEqual(['transformer/baseline/5', 'transformer/mix/3', 'mlp/baseline/3']);
    for (const g of c.groups) {
      const perRun = g.runs.map((id) => rows.get(id)!);
      const test = naiveBand(perRun, (m) => m.test_acc);
      expect(g.steps).toEqual(test.steps);
      expectBand(g.test_acc, test.band);
      expectBand(g.entropy, naiveBand(perRun, (m) => m.entropy['resid.final']).band);
      expectBand(g.weight_norm, naiveBand(perRun, (m) => m.weight_norm).band);
      expectBand(g.train_acc, naiveBand(perRun, (m) => m.train_acc).band);
    }
    const spec = {
      version: 1 as const,
      name: 'compare',
      preset: 'fast',
      overrides: {},
      tasks: ['mod-add'],
      archs: ['transformer', 'mlp'],
      conditions: ['baseline', 'mix'],
      seeds: [0, 1, 2, 3, 4],
      earlyStopEvals: 0,
    } as Parameters<typeof analyzeStudy>[0];
    // The runs differ in seed, arch and condition only: one setting, no label.
    expect(c.grouping).toEqual({ available: [], fields: [], pooled: [] });
    expect(c.groups.every((g) => g.setting === '' && g.label === g.condition)).toBe(true);
    // The tables judge crossings at the configured H̃* (the run view's); the fitted one is information.
    const rowInput = runs.map((run) => ({ key: run.id, run, metrics: rows.get(run.id)! }));
    const summary = analyzeStudy(spec, rowInput, 0, { probes: false, forecast: false, thresholdResamples: 0, threshold: 'configured' });
    expect(c.threshold).toEqual({ value: PRESETS.fast.entropyThreshold, source: 'configured', detail: 'configured (entropyThreshold of all 11 runs)' });
    const fitted = analyzeStudy(spec, rowInput, 0, { probes: false, forecast: false, thresholdResamples: 0 });
    expect(c.fittedThresholds.find((t) => t.arch === 'transformer')!.value).toBe(fitted.thresholds.find((t) => t.arch === 'transformer')!.estimate.threshold);
    expect(c.necessity).toEqual(summary.necessity.map(({ arch, n, crossed, grokked, grokkedWithoutCrossingFirst, crossedWithoutGrokking }) => ({ setting: '', arch, n, crossed, grokked, grokkedWithoutCrossingFirst, crossedWithoutGrokking })));
    expect(c.interventions).toHaveLength(1);
    expect(c.interventions[0].delayMean).toBe(summary.interventions[0].delayMean);
    expect(c.interventions[0].p).toBe(summary.interventions[0].p);
  });

  it("draws every run's own curves on request, decimated from its own points", async () => {
    const { rows } = await reference();
    const service = new GrokscopeService(dir, null);
    expect((await service.compare(ids)).groups.every((g) => g.lines === undefined)).toBe(true);
    const c = await service.compare(ids, { lines: true });
    for (const g of c.groups) {
      expect(g.lines!.map((l) => l.id)).toEqual(g.runs);
      for (const l of g.lines!) {
        const r = rows.get(l.id)!;
        const byStep = new Map(r.map((m) => [m.step, m]));
        // Values are rounded to a millionth of the curve's range (≤ 1 here, and ≤ 50 for ‖θ‖).
        expect(l.test_acc.step[0]).toBe(r[0].step);
        expect(l.test_acc.value[0]).toBeCloseTo(r[0].test_acc, 6);
        expect(l.test_acc.step.at(-1)).toBe(r.at(-1)!.step);
        l.entropy.step.forEach((step, i) => expect(l.entropy.value[i]).toBeCloseTo(byStep.get(step)!.entropy['resid.final']!, 6));
        expect(Math.max(...l.weight_norm.value)).toBeCloseTo(Math.max(...r.map((m) => m.weight_norm)), 4);
      }
    }
    await expect(service.dispatch('compare', [ids, { lines: 'yes' }])).rejects.toThrow(/invalid arguments/);
  });

  it('serves a second compare from its cache and sees a run that changed since', async () => {
    const service = new GrokscopeService(dir, null);
    const first = await service.compare(ids);
    expect(await service.compare(ids)).toEqual(first);
    // Rewrite one MLP run with different accuracies (another process could do this).
    const mlp = first.groups.find((g) => g.arch === 'mlp')!.runs[0];
    await Library.with(dir, async (lib) => {
      await lib.deleteEvalsFrom(mlp, 0);
      await lib.appendEvals(mlp, evals(99, 300, 10).map((e) => ({ ...e, test_acc: 0.25 })));
    });
    const again = await service.compare(ids);
    const before = first.groups.find((g) => g.arch === 'mlp')!.test_acc;
    const after = again.groups.find((g) => g.arch === 'mlp')!.test_acc;
    expect(after.max[0]).toBe(0.25); // the other runs start near 0
    expect(after).not.toEqual(before);
  });
});

describe('series cache', () => {
  const series = (n: number): RunSeries => {
    const a = new Float64Array(n);
    return { step: a, train_acc: a, test_acc: a, weight_norm: a, entropy: a };
  };
  const run = (id: string, status: RunRecord['status'], updatedAt = 't1'): RunRecord => ({ id, status, updatedAt, stepsDone: 10 }) as RunRecord;

  it('keeps finished runs until they change, never running ones, and drops the least recently used first', () => {
    const cache = new SeriesCache(25);
    cache.set(run('a', 'completed'), 'p', series(10));
    cache.set(run('live', 'running'), 'p', series(10));
    expect(cache.get(run('live', 'running'), 'p')).toBeUndefined();
    expect(cache.get(run('a', 'completed'), 'p')).toBeDefined();
    expect(cache.get(run('a', 'completed'), 'other-probe')).toBeUndefined();
    expect(cache.get(run('a', 'completed', 't2'), 'p')).toBeUndefined(); // written since: stale
    expect(cache.size).toBe(0);
    cache.set(run('a', 'completed'), 'p', series(10));
    cache.set(run('b', 'stopped'), 'p', series(10));
    cache.get(run('a', 'completed'), 'p'); // a is now more recent than b
    cache.set(run('c', 'failed'), 'p', series(10));
    expect(cache.size).toBe(20);
    expect(cache.get(run('b', 'stopped'), 'p')).toBeUndefined();
    expect(cache.get(run('a', 'completed'), 'p')).toBeDefined();
    expect(cache.get(run('c', 'failed'), 'p')).toBeDefined();
  });
});

describe('configuration differences', () => {
  it('lists only the fields that differ, each value with its runs, a missing field as —', async () => {
    const { configDifferences } = await import('../core/service/config-diff.js');
    const diff = configDifferences([
      { id: 'a', config: { lr: 0.001, task: 'mod-add', seed: 0, mixForm: 'orthogonal' } },
      { id: 'b', config: { lr: 0.003, task: 'mod-add', seed: 1 } },
      { id: 'c', config: { lr: 0.003, task: 'mod-add', seed: 0, mixForm: 'orthogonal' } },
    ]);
    expect(diff).toEqual([
      { field: 'lr', values: [{ value: '0.001', runs: ['a'] }, { value: '0.003', runs: ['b', 'c'] }] },
      { field: 'seed', values: [{ value: '0', runs: ['a', 'c'] }, { value: '1', runs: ['b'] }] },
      { field: 'mixForm', values: [{ value: 'orthogonal', runs: ['a', 'c'] }, { value: '—', runs: ['b'] }] },
    ]);
    expect(configDifferences([{ id: 'a', config: { lr: 1 } }, { id: 'b', config: { lr: 1 } }])).toEqual([]);
  });
});

// The aligned compare's test: test/compare-grouping.test.ts.
