import { describe, expect, it } from 'vitest';
import { compareRuns } from '../core/service/compare.js';
import type { TracedRunData } from '../core/study/analyze.js';
import { traceFromPoints, tCross } from '../core/analysis/trace.js';
import { sameSetting, settingOf, varyingSettingFields } from '../core/analysis/settings.js';
import type { RunRecord } from '../core/library/library.js';
import { PRESETS, type RunConfig } from '../core/schema/run-config.js';

/**
 * Compare groups runs by every configuration field but the seed: a weight-decay-0 run among
 * weight-decay-1 baselines is a group of its own, counted apart in every table, unless the user
 * pools that field on purpose.
 */
function run(id: string, over: Partial<RunConfig>, grok: number | null): TracedRunData {
  const config: RunConfig = { ...PRESETS.fast, steps: 1000, ...over };
  const steps = Array.from({ length: 51 }, (_, i) => i * 20);
  const points = steps.map((step) => ({
    step,
    train_acc: step >= 100 ? 1 : step / 100,
    test_acc: grok !== null && step >= grok ? 0.99 : 0.05,
    // H̃ falls through 0.61 some 200 steps before grokking (or at 600 for a run that never groks).
    entropy: step < (grok ?? 800) - 200 ? 0.8 : 0.4,
    weight_norm: 20 + config.weightDecay,
  }));
  const record = { id, status: 'completed', stepsDone: 1000, config, events: null, origin: 'trained' } as unknown as RunRecord;
  return { key: id, run: record, trace: traceFromPoints({ id, task: config.task, arch: config.arch, condition: config.condition, seed: config.seed, budget: 1000, chance: 1 / 31 }, points) };
}

const data = [
  run('wd1-s0', { seed: 0 }, 500),
  run('wd1-s1', { seed: 1 }, 560),
  run('wd1-s2', { seed: 2 }, 620),
  run('wd0-s0', { seed: 0, weightDecay: 0 }, null),
  run('wd0-s1', { seed: 1, weightDecay: 0 }, null),
  run('mix-s0', { seed: 0, condition: 'mix' }, 800),
  run('mix-s1', { seed: 1, condition: 'mix' }, 860),
];

describe('compare by configuration', () => {
  it('puts a weight-decay-0 run in its own group and counts it apart in the necessity and intervention tables', () => {
    const c = compareRuns(data);
    expect(c.grouping).toEqual({ available: ['weightDecay'], fields: ['weightDecay'], pooled: [] });
    expect(c.groups.map((g) => [g.label, g.runs])).toEqual([
      ['baseline · weightDecay 0', ['wd0-s0', 'wd0-s1']],
      ['baseline · weightDecay 1', ['wd1-s0', 'wd1-s1', 'wd1-s2']],
      ['mix · weightDecay 1', ['mix-s0', 'mix-s1']],
    ]);
    expect(c.necessity.map((r) => [r.setting, r.n, r.grokked, r.crossedWithoutGrokking])).toEqual([
      ['weightDecay 0', 2, 0, 2],
      ['weightDecay 1', 3, 3, 0],
    ]);
    // The mix runs are compared with their own setting's three baselines, not five.
    expect(c.interventions.map((r) => [r.setting, r.condition, r.n, r.nBaseline])).toEqual([['weightDecay 1', 'mix', 2, 3]]);
    expect(c.interventions[0].delayMean).toBeCloseTo((800 + 860) / 2 - (500 + 560 + 620) / 3, 9);
  });

  it('pools a field only when asked, and says so', () => {
    const c = compareRuns(data, { groupBy: [] });
    expect(c.grouping).toEqual({ available: ['weightDecay'], fields: [], pooled: ['weightDecay'] });
    expect(c.groups.map((g) => [g.label, g.runs.length])).toEqual([['baseline', 5], ['mix', 2]]);
    expect(c.necessity.map((r) => r.n)).toEqual([5]);
    expect(c.interventions[0].nBaseline).toBe(5);
  });

  it('gives each mix strength its own group and intervention row against the same baselines', () => {
    const c = compareRuns([...data.slice(0, 3), run('mix-a', { seed: 0, condition: 'mix', mixStrength: 0.3 }, 700), run('mix-b', { seed: 0, condition: 'mix', mixStrength: 0.8 }, 900)]);
    expect(c.grouping.available).toEqual(['mixStrength']);
    expect(c.groups.map((g) => g.label)).toEqual(['baseline', 'mix (mixStrength 0.3)', 'mix (mixStrength 0.8)']);
    expect(c.interventions.map((r) => [r.variant, r.nBaseline, r.delayMean])).toEqual([
      ['mixStrength 0.3', 3, 700 - 560],
      ['mixStrength 0.8', 3, 900 - 560],
    ]);
    expect(c.necessity).toHaveLength(1);
  });

  it('judges crossings at the configured H̃*, as the run view does, and shows the fitted one apart', () => {
    const c = compareRuns(data);
    expect(c.threshold.value).toBe(0.61);
    expect(c.threshold.detail).toMatch(/configured/);
    const wd1 = data.slice(0, 3);
    const crossed = wd1.filter((d) => tCross(d.trace, 0.61, { memThreshold: 0.99, grokThreshold: 0.95, crossPersistence: 3 }) !== null).length;
    expect(c.necessity.find((r) => r.setting === 'weightDecay 1')!.crossed).toBe(crossed);
    expect(c.fittedThresholds.map((t) => t.setting)).toEqual(['weightDecay 0', 'weightDecay 1']);
    // Runs configuring different H̃*: each is judged by its own, and the view says so.
    const mixed = compareRuns([data[0], run('other', { seed: 5, entropyThreshold: 0.5 }, 500)]);
    expect(mixed.threshold.value).toBeNull();
    expect(mixed.threshold.detail).toMatch(/0\.61 \(1 run\), 0\.5 \(1 run\)/);
  });

  it('aligns on T_rise, and draws the band kind asked for with a faint raw mean under the smoothing', () => {
    const c = compareRuns(data.slice(0, 3), { align: 'T_rise', band: 'sd', smoothing: 40 });
    expect(c.align).toBe('T_rise');
    expect(c.band).toBe('sd');
    const g = c.groups[0];
    // Test accuracy leaves chance at grokking in these runs: T_rise is T_grok, so step 0 is where each jumps.
    expect(g.test_acc.raw![g.steps.indexOf(0)]).toBeCloseTo(0.99, 12);
    expect(g.test_acc.raw![g.steps.indexOf(-20)]).toBeCloseTo(0.05, 12);
    expect(g.test_acc.mean[g.steps.indexOf(0)]!).toBeLessThan(0.99); // smoothed: it lags the jump
    g.test_acc.lower.forEach((lo, i) => lo !== null && expect(lo).toBeLessThanOrEqual(g.test_acc.upper[i]!));
  });
});

describe('settings', () => {
  it('leaves out the seed, the record-keeping and the fields a condition does not read', () => {
    const a = { ...PRESETS.fast } as unknown as Record<string, unknown>;
    expect(sameSetting(a, { ...a, seed: 7, backend: 'wgsl', checkpointEvery: 5, mixStrength: 0.9 })).toBe(true);
    expect(sameSetting(a, { ...a, weightDecay: 0 })).toBe(false);
    expect(sameSetting(a, { ...a, lr: 1e-2 })).toBe(false);
    // An optional field written out at the value its absence means is the same setting.
    expect(sameSetting(a, { ...a, init: 'normal-fan-in', initScale: 1, temperature: 1 })).toBe(true);
    expect(sameSetting(a, { ...a, initScale: 2 })).toBe(false);
    expect(varyingSettingFields([{ id: 'a', config: a }, { id: 'b', config: { ...a, condition: 'mix', mixStrength: 0.9 } }])).toEqual([]);
    expect(settingOf({ ...a, condition: 'mix', weightDecay: 0 }, ['weightDecay', 'mixStrength'])).toMatchObject({ setting: 'weightDecay 0', variant: 'mixStrength 0.5' });
  });
});

describe('aligned compare', () => {
  it('counts each run’s steps from its own event, leaves out runs without it, and keeps the tables unaligned', () => {
    const steps = [0, 50, 100, 150, 200, 250, 300];
    const make = (seed: number, grok: number | null): TracedRunData => {
      const run = {
        id: `r${seed}`, createdAt: '', updatedAt: '', status: 'completed', config: { ...PRESETS.fast, seed, steps: 300 }, backend: null, backendNote: null, versions: {},
        events: { T_mem: 50, T_grok: grok, T_grok_50: null, T_grok_99: null, T_cross: null, lead: null }, stepsDone: 300, error: null, origin: 'trained', note: null, sourceId: null, tags: [],
      } as RunRecord;
      const acc = steps.map((s) => (grok !== null && s >= grok ? 1 : 0.1));
      const trace = { id: run.id, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed, budget: 300, step: steps, train_acc: steps.map(() => 1), test_acc: acc, entropy: steps.map((s) => 0.9 - s / 500), weight_norm: steps.map(() => 10), fourier: null };
      return { key: run.id, run, trace };
    };
    const data = [make(0, 100), make(1, 200), make(2, null)];
    const plain = compareRuns(data);
    const aligned = compareRuns(data, { align: 'T_grok', lines: true });
    expect(plain.align).toBeNull();
    expect(aligned.align).toBe('T_grok');
    const g = aligned.groups[0];
    expect(g.runs).toEqual(['r0', 'r1']);
    expect(g.unaligned).toEqual(['r2']);
    // Steps from T_grok: r0 covers −100…200, r1 −200…100; at 0 both have just grokked. The band
    // covers only −100…100, where both runs have values: no run enters it part-way.
    expect(g.steps[0]).toBe(-100);
    expect(g.steps.at(-1)).toBe(100);
    expect(g.test_acc.n.every((n) => n === 2)).toBe(true);
    const at = (s: number): number => g.test_acc.mean[g.steps.indexOf(s)]!;
    expect(at(0)).toBe(1);
    expect(at(-50)).toBeCloseTo(0.1, 12);
    expect(g.lines!.map((l) => l.test_acc.step[0])).toEqual([-100, -200]);
    // The tables are about the runs as they are: all three baselines count.
    expect(aligned.necessity).toEqual(plain.necessity);
    expect(aligned.necessity[0].n).toBe(3);
  });
});
