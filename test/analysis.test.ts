import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.js';
import { bootstrapMeanDiffCI, cohensD, pearson, quantile, std, welchTest } from '../core/analysis/stats.js';
import { bestThreshold, checkWarning, estimateThreshold, leaveOneSeedOut, thresholdBand } from '../core/analysis/threshold.js';
import { MAX_PAIRS_PER_RUN, fitPowerLaw, forecastPairs, leaveOneSeedOutForecast, onlineForecast, powerLaw } from '../core/analysis/forecast.js';
import { phaseCheck } from '../core/analysis/phases.js';
import { necessityTable } from '../core/analysis/necessity.js';
import { traceFromPoints, type RunTrace } from '../core/analysis/trace.js';
import type { EventSeriesPoint } from '../core/analysis/events.js';

const rules = { memThreshold: 0.99, grokThreshold: 0.95, crossPersistence: 3 };

/**
 * A synthetic run whose H̃ passes 0.61 exactly `lead` steps before T_grok, with a run-specific
 * slope: only H̃* = 0.61 gives every run the same lead.
 */
function planted(seed: number, tGrok: number, slope: number, lead = 1000, arch = 'transformer', edit = (p: EventSeriesPoint): EventSeriesPoint => p): RunTrace {
  const points: EventSeriesPoint[] = [];
  const weight_norm = [];
  for (let step = 0; step <= tGrok + 2000; step += 50) {
    const h = Math.min(0.9, Math.max(0.3, 0.61 + slope * (tGrok - lead - step)));
    points.push(edit({ step, train_acc: step >= 100 ? 1 : 0.5, test_acc: step >= tGrok ? 1 : 0.1, entropy: h }));
    weight_norm.push(step < 500 ? 10 + step / 50 : 20 - (step - 500) / 1000);
  }
  return traceFromPoints({ id: `r${seed}`, task: 'mod-add', arch, condition: 'baseline', seed, budget: tGrok + 2000 }, points, weight_norm);
}

const runs = [
  planted(0, 3000, 0.0002),
  planted(1, 4000, 0.0004),
  planted(2, 3500, 0.0001),
  planted(3, 5000, 0.0003),
  planted(4, 4500, 0.00015),
];

describe('statistics against closed forms and textbook values', () => {
  it("Welch's t-test matches the closed form and R's t.test", () => {
    const x = [1, 2, 3, 4, 5];
    const y = [2, 4, 6, 8, 10, 12];
    const r = welchTest(x, y)!;
    const se = Math.sqrt(2.5 / 5 + 14 / 6);
    expect(r.t).toBeCloseTo(-4 / se, 10);
    const df = (2.5 / 5 + 14 / 6) ** 2 / ((2.5 / 5) ** 2 / 4 + (14 / 6) ** 2 / 5);
    expect(r.df).toBeCloseTo(df, 10);
    expect(r.p).toBeCloseTo(0.04928, 4); // R: t.test(1:5, seq(2, 12, 2)) → p-value = 0.04928
  });

  it("Cohen's d with the pooled standard deviation", () => {
    expect(cohensD([2, 4, 6], [1, 2, 3])).toBeCloseTo(2 / Math.sqrt(2.5), 12);
    expect(cohensD([1], [2, 3])).toBeNull();
  });

  it('bootstrap CI of a planted delay covers it and narrows with more data', () => {
    const rng = new Rng(7);
    const base = Array.from({ length: 40 }, () => 3000 + 500 * rng.normal());
    const delayed = Array.from({ length: 40 }, () => 8000 + 500 * rng.normal());
    const ci = bootstrapMeanDiffCI(delayed, base, new Rng(1))!;
    expect(ci[0]).toBeLessThan(5000);
    expect(ci[1]).toBeGreaterThan(5000);
    const small = bootstrapMeanDiffCI(delayed.slice(0, 5), base.slice(0, 5), new Rng(1))!;
    expect(small[1] - small[0]).toBeGreaterThan(ci[1] - ci[0]);
  });

  it('quantiles, standard deviation and correlation', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(std([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [8, 6, 4, 2])).toBeCloseTo(-1, 12);
  });
});

/**
 * Runs whose admissible band is known by construction: H̃ sits at `atMem` until `fallFrom`, then
 * falls linearly to `atGrok` at T_grok and on below. A threshold h warns a run (from T_mem on, no
 * later than T_grok) exactly when atGrok < h ≤ atMem, so the band of the set is
 * (max atGrok, min atMem] on the grid.
 */
function banded(seed: number, atMem: number, atGrok: number, tGrok = 3000, fallFrom = 1000): RunTrace {
  const points: EventSeriesPoint[] = [];
  for (let step = 0; step <= tGrok + 1000; step += 50) {
    const h = step <= fallFrom ? atMem : atMem - ((atMem - atGrok) * (step - fallFrom)) / (tGrok - fallFrom);
    points.push({ step, train_acc: step >= 200 ? 1 : 0.5, test_acc: step >= tGrok ? 1 : 0.1, entropy: Math.max(0.05, h) });
  }
  return traceFromPoints({ id: `b${seed}`, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed, budget: tGrok + 1000 }, points);
}
// Band (0.452, 0.75]: on the grid 0.455 … 0.750, midpoint 0.6025.
const bandRuns = [banded(0, 0.8, 0.4), banded(1, 0.75, 0.452, 4000), banded(2, 0.85, 0.35, 3500, 1500)];

describe('threshold estimation', () => {
  it('takes the midpoint of the admissible band, not its edge', () => {
    const b = thresholdBand(bandRuns, rules)!;
    expect(b.band).toEqual([0.455, 0.75]);
    expect(b.warned).toBe(3);
    expect(b.split).toBe(false);
    expect(b.threshold).toBeCloseTo(0.6025, 10);
    expect(bestThreshold(bandRuns, rules)).toBe(b.threshold);
    // Strictly inside: every run is still warned a grid step either side of it.
    for (const h of [b.threshold - 0.005, b.threshold, b.threshold + 0.005]) for (const r of bandRuns) expect(checkWarning(r, h, rules).warned).toBe(true);
    // The edges hold too, one grid step outside them does not.
    expect(checkWarning(bandRuns[1], 0.45, rules).warned).toBe(false);
    expect(checkWarning(bandRuns[1], 0.755, rules)).toMatchObject({ warned: false, belowAtMem: true, T_cross: null });
  });

  it('never counts a crossing before memorisation: a run below H̃* at T_mem is below at memorisation', () => {
    // H̃ starts below 0.6, rises above it after memorisation, then falls through it again.
    const points: EventSeriesPoint[] = [];
    for (let step = 0; step <= 4000; step += 50) {
      const h = step < 200 ? 0.5 : step < 2000 ? 0.7 : 0.4;
      points.push({ step, train_acc: step >= 300 ? 1 : 0.2, test_acc: step >= 3000 ? 1 : 0.05, entropy: h });
    }
    const dips = traceFromPoints({ id: 'dip', task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, budget: 4000 }, points);
    // The dip at step 0 is before T_mem (300) and does not count; the fall at 2,000 does.
    expect(checkWarning(dips, 0.6, rules)).toMatchObject({ T_mem: 300, T_cross: 2000, warned: true, belowAtMem: false, lead: 1000 });
    expect(checkWarning(dips, 0.6, { ...rules, alarmFrom: 'start' })).toMatchObject({ T_cross: 0, warned: false });
    // Above 0.7 it is already below at memorisation: no warning, reported as such.
    expect(checkWarning(dips, 0.75, rules)).toMatchObject({ T_cross: null, warned: false, belowAtMem: true });
  });

  it('reports the band with a bootstrap CI and the per-run spread', () => {
    const est = estimateThreshold(bandRuns, rules, new Rng(3), 200);
    expect(est.band!.band).toEqual([0.455, 0.75]);
    expect(est.threshold).toBeCloseTo(0.6025, 10);
    expect(est.ci![0]).toBeLessThanOrEqual(est.threshold!);
    expect(est.ci![1]).toBeGreaterThanOrEqual(est.threshold!);
    expect(est.nGrokked).toBe(3);
    // One run alone: its own band's midpoint, (0.4, 0.8] → 0.6025 as well for run 0.
    expect(est.perRun[0].threshold).toBeCloseTo((0.405 + 0.8) / 2, 10);
  });

  it('held-out seeds are warned at the threshold fitted on the others', () => {
    const held = leaveOneSeedOut(bandRuns, rules);
    expect(held).toHaveLength(3);
    for (const h of held) {
      expect(h.warned).toBe(true);
      expect(h.lead).toBeGreaterThan(0);
    }
    // Held out, run 1's band (0.452, 0.75] still holds the others' midpoint (0.4, 0.8] → 0.6025.
    expect(held[1].threshold).toBeCloseTo(0.6025, 10);
  });

  it('ignores runs that never grok and refuses when nothing warns', () => {
    const flat: RunTrace = { ...planted(0, 3000, 0.0002, 1000, 'transformer', (p) => ({ ...p, test_acc: 0, entropy: 0.95 })), id: 'flat' };
    expect(bestThreshold([flat], rules)).toBeNull();
    expect(bestThreshold([...bandRuns, flat], rules)).toBe(bestThreshold(bandRuns, rules));
  });

  it('takes the longest run of admissible values when they are split', () => {
    // Two runs whose bands do not overlap: every value warns one run; the longer band wins.
    const b = thresholdBand([banded(0, 0.5, 0.3), banded(1, 0.9, 0.6)], rules)!;
    expect(b.warned).toBe(1);
    expect(b.split).toBe(true);
    expect(b.band).toEqual([0.605, 0.9]);
  });
});

describe('power-law forecast', () => {
  it('takes at most MAX_PAIRS_PER_RUN pairs from a long run, evenly spaced from its first eligible evaluation', () => {
    const points = Array.from({ length: 2001 }, (_, i) => ({ step: i * 5, train_acc: 1, test_acc: i === 2000 ? 1 : 0, entropy: 0.9 - i * 0.0001 }));
    const long = traceFromPoints({ id: 'long', task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, budget: 10000 }, points);
    const pairs = forecastPairs([long], 0.61, rules);
    expect(pairs).toHaveLength(MAX_PAIRS_PER_RUN);
    expect(pairs[0].dt).toBe(10000);
    const gaps = pairs.slice(1).map((p, i) => pairs[i].dt - p.dt);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeLessThanOrEqual(5); // one evaluation interval
    // The quick and reference presets never reach the cap: a short run keeps every pair.
    expect(forecastPairs(runs.slice(0, 1), 0.61, rules).length).toBeLessThan(MAX_PAIRS_PER_RUN);
  });

  it('recovers planted C1, γ, C2 with R² ≈ 1', () => {
    const truth = { C1: 20000, gamma: 1.65, C2: 300 };
    const pairs = Array.from({ length: 60 }, (_, i) => {
      const g = 0.005 + i * 0.005;
      return { g, dt: powerLaw(truth, g) };
    });
    const fit = fitPowerLaw(pairs)!;
    expect(fit.gamma).toBeCloseTo(1.65, 2);
    expect(fit.C1 / truth.C1).toBeCloseTo(1, 2);
    expect(fit.C2).toBeCloseTo(300, -1);
    expect(fit.r2).toBeGreaterThan(0.9999);
  });

  it('forecasts the onset of planted runs online, leave-one-seed-out', () => {
    const pairs = forecastPairs(runs, 0.61, rules);
    expect(pairs.length).toBeGreaterThan(20);
    expect(pairs.every((p) => p.g > 0 && p.dt > 0)).toBe(true);
    const fit = fitPowerLaw(pairs)!;
    const fc = onlineForecast(runs[0], fit, 0.61, 3000);
    expect(fc.length).toBeGreaterThan(0);
    const evals = leaveOneSeedOutForecast(runs, rules);
    expect(evals).toHaveLength(5);
    for (const e of evals) {
      expect(e.forecasts).toBeGreaterThan(0);
      expect(e.meanRelError).not.toBeNull();
      expect(e.meanLead!).toBeGreaterThan(1000);
    }
  });
});

describe('the forecast against its nulls (C5)', () => {
  /** H̃ falls at one rate k from a run-specific start; the run groks when H̃ reaches 0.45, so T_grok − t = (H̃(t) − 0.45)/k exactly. */
  function onLine(seed: number, start: number, k = 0.0002): RunTrace {
    const grok = Math.round((start - 0.45) / k);
    const points: EventSeriesPoint[] = [];
    for (let step = 0; step <= grok + 500; step += 50) points.push({ step, train_acc: 1, test_acc: step >= grok ? 1 : 0.02, entropy: start - k * step });
    return traceFromPoints({ id: `l${seed}`, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed, budget: grok + 500 }, points);
  }

  it('beats both nulls where T_grok follows the entropy gap exactly and differs by run', () => {
    const runs = [onLine(0, 0.85), onLine(1, 0.8), onLine(2, 0.95), onLine(3, 0.7), onLine(4, 0.9)];
    const evals = leaveOneSeedOutForecast(runs, rules).filter((e) => e.forecasts > 0);
    expect(evals.length).toBeGreaterThanOrEqual(4);
    for (const e of evals) {
      expect(e.meanRelError!).toBeLessThan(1e-3);
      expect(e.meanRelErrorToGo!).toBeLessThan(1e-2);
      // The runs grok at 1,250–2,500: neither null can follow a run's own gap.
      expect(e.nulls.meanTGrok.relError!).toBeGreaterThan(0.01);
      expect(e.nulls.constantToGo.relError!).toBeGreaterThan(0.01);
    }
  });

  it('loses to the mean-T_grok null, which is exact, where every run groks at the same step', () => {
    // Same T_grok (3,000), different collapse shapes: the other seeds' mean T_grok is exactly right.
    const same = [0.0002, 0.0003, 0.00015, 0.00025].map((slope, i) => planted(i, 3000, slope));
    const evals = leaveOneSeedOutForecast(same, rules).filter((e) => e.forecasts > 0);
    expect(evals.length).toBeGreaterThan(0);
    for (const e of evals) {
      expect(e.nulls.meanTGrok.relError).toBe(0);
      expect(e.nulls.meanTGrok.relErrorToGo).toBe(0);
      expect(e.meanRelError!).toBeGreaterThan(0);
    }
  });
});

describe('phases and necessity', () => {
  it('sees norm expansion end before the steepest collapse', () => {
    const p = phaseCheck(runs[0]);
    expect(p.expansionEnd).toBe(500);
    expect(p.steepestCollapse).toBeGreaterThan(500);
    expect(p.twoPhases).toBe(true);
  });

  it('counts crossings and grokking per architecture', () => {
    const mlp: RunTrace = { ...planted(9, 3000, 0.0002, 1000, 'mlp', (p) => ({ ...p, test_acc: 0.2 })), id: 'mlp' };
    const lateCross = { ...planted(8, 3000, 0.0002, -500), id: 'late' };
    // An MLP whose H̃ is low from the start: below H̃* at memorisation, not a crossing.
    const lowMlp: RunTrace = { ...planted(10, 3000, 0.0002, 1000, 'mlp', (p) => ({ ...p, test_acc: 0.2, entropy: 0.4 })), id: 'low' };
    const rows = necessityTable([...runs, lateCross, mlp, lowMlp], 0.61, rules);
    expect(rows).toEqual([
      { arch: 'mlp', n: 2, crossed: 1, grokked: 0, grokkedWithoutCrossingFirst: 0, crossedWithoutGrokking: 1, belowAtMem: 1 },
      { arch: 'transformer', n: 6, crossed: 6, grokked: 6, grokkedWithoutCrossingFirst: 1, crossedWithoutGrokking: 0, belowAtMem: 0 },
    ]);
  });
});
