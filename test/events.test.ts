import { describe, expect, it } from 'vitest';
import { ANTI_GROK_DROP, AntiGrokDetector, CrossingDetector, WarningDetector, antiGrokStep, computeEvents, crossingStep, warningCrossing, type EventSeriesPoint } from '../core/analysis/events.js';
import { RISE_FRACTION, riseLevel, tLossPeakOf, tRiseOf, warningPlace } from '../core/analysis/onset.js';
import { markersOf, traceFromPoints } from '../core/analysis/trace.js';

const settings = { memThreshold: 0.99, grokThreshold: 0.95, entropyThreshold: 0.61, crossPersistence: 3 };

function series(entropy: number[], test: number[], train: number[]): EventSeriesPoint[] {
  return entropy.map((h, i) => ({ step: i * 100, entropy: h, test_acc: test[i], train_acc: train[i] }));
}

describe('events', () => {
  it('finds a planted crossing that persists, ignoring a brief dip', () => {
    const s = series([0.9, 0.6, 0.7, 0.8, 0.6, 0.5, 0.4, 0.3], Array(8).fill(0), Array(8).fill(0));
    expect(crossingStep(s, 0.61, 3)).toBe(400);
    expect(crossingStep(s, 0.61, 1)).toBe(100);
    expect(crossingStep(s, 0.2, 1)).toBeNull();
  });

  it('confirms a crossing live, once, at the step the run went below', () => {
    const d = new CrossingDetector(0.61, 3);
    const fed = [
      [0, 0.9],
      [100, 0.6],
      [200, NaN], // a missing H̃ breaks the run below
      [300, 0.5],
      [400, 0.5],
      [400, 0.5], // the same evaluation delivered twice counts once
      [500, 0.4],
      [600, 0.3],
    ].map(([step, h]) => d.push(step, h));
    expect(fed).toEqual([null, null, null, null, null, null, 300, null]);
    expect(d.crossed).toBe(300);
    expect(new CrossingDetector(0.61, 1).push(0, undefined)).toBeNull();
  });

  it('computes T_mem, T_grok at each threshold and the lead', () => {
    const s = series(
      [0.9, 0.8, 0.7, 0.6, 0.5, 0.5, 0.5, 0.5],
      [0.0, 0.1, 0.2, 0.4, 0.6, 0.96, 0.99, 1],
      [0.2, 1.0, 1, 1, 1, 1, 1, 1],
    );
    expect(computeEvents(s, settings)).toEqual({
      T_mem: 100,
      T_grok: 500,
      T_grok_50: 400,
      T_grok_99: 600,
      T_cross: 300,
      lead: 200,
      T_anti: null,
      // No chance level given: no T_rise; no test loss recorded: no T_loss_peak.
      T_rise: null,
      T_loss_peak: null,
      lead_rise: null,
      lead_loss_peak: null,
      lead_grok_50: 100,
      test_acc_at_cross: 0.4,
      below_at_mem: false,
    });
  });

  it('flags anti-grokking: test accuracy persistently well below the grokking threshold after grokking', () => {
    const at = (test: number[]): EventSeriesPoint[] => test.map((t, i) => ({ step: i * 100, test_acc: t, train_acc: 1 }));
    // Grokked at 200; a two-evaluation dip recovers; then it falls for good at 700.
    const falls = at([0.1, 0.5, 0.97, 0.99, 0.7, 0.8, 0.98, 0.6, 0.5, 0.4, 0.4]);
    expect(antiGrokStep(falls, 0.95, 3)).toBe(700);
    expect(computeEvents(falls.map((p) => ({ ...p, entropy: 0.9 })), settings).T_anti).toBe(700);
    // Low accuracy before grokking is not falling back; neither is a drop smaller than the margin.
    expect(antiGrokStep(at([0.1, 0.1, 0.1, 0.1]), 0.95, 3)).toBeNull();
    expect(antiGrokStep(at([0.96, 0.95 - ANTI_GROK_DROP + 0.01, 0.9, 0.88, 0.87]), 0.95, 3)).toBeNull();
    // Live, once, at the step it fell from; a repeated evaluation counts once.
    const d = new AntiGrokDetector(0.95, 2);
    expect([[0, 0.99], [100, 0.5], [100, 0.5], [200, 0.4], [300, 0.3]].map(([s, t]) => d.push(s, t))).toEqual([null, null, null, 100, null]);
  });

  it('reports none when a run never groks', () => {
    const e = computeEvents(series([0.9, 0.9], [0, 0], [1, 1]), settings);
    expect(e.T_grok).toBeNull();
    expect(e.lead).toBeNull();
  });

  it('marks the onset of generalisation: T_rise a tenth of the way from chance, the test-loss peak after T_mem, and every lead', () => {
    // p = 47: chance 1/47; T_rise needs 1/47 + 0.1·(46/47) ≈ 0.1191.
    const chance = 1 / 47;
    expect(riseLevel(chance)).toBeCloseTo(chance + RISE_FRACTION * (1 - chance), 15);
    const test = [0.02, 0.02, 0.05, 0.11, 0.12, 0.3, 0.6, 0.96, 1, 1];
    const loss = [3, 4, 5, 6, 6.5, 6, 4, 1, 0.5, 0.4];
    const entropy = [0.9, 0.9, 0.8, 0.55, 0.5, 0.45, 0.4, 0.4, 0.4, 0.4];
    const train = [0.3, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const points: EventSeriesPoint[] = test.map((t, i) => ({ step: i * 100, train_acc: train[i], test_acc: t, test_loss: loss[i], entropy: entropy[i] }));
    expect(tRiseOf(points.map((p) => p.step), test, chance)).toBe(400); // 0.11 < 0.1191 ≤ 0.12
    expect(tRiseOf(points.map((p) => p.step), test, NaN)).toBeNull();
    // The largest test loss between T_mem (100) and T_grok (700); none without grokking or a loss.
    expect(tLossPeakOf(points.map((p) => p.step), loss, 100, 700)).toBe(400);
    expect(tLossPeakOf(points.map((p) => p.step), loss, 100, null)).toBeNull();
    expect(tLossPeakOf(points.map((p) => p.step), undefined, 100, 700)).toBeNull();
    const e = computeEvents(points, { ...settings, chance });
    expect(e).toMatchObject({ T_mem: 100, T_rise: 400, T_loss_peak: 400, T_grok_50: 600, T_grok: 700, T_cross: 300, lead: 400, lead_rise: 100, lead_loss_peak: 100, lead_grok_50: 300, test_acc_at_cross: 0.11, below_at_mem: false });
    // The columnar trace gives the same markers.
    const trace = traceFromPoints({ id: 't', task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, budget: 900, chance }, points);
    expect(markersOf(trace, settings)).toEqual({ T_rise: 400, T_loss_peak: 400, T_grok_50: 600, T_grok: 700 });
    // Where a warning falls in the climb.
    const markers = { T_rise: 400, T_loss_peak: 400, T_grok_50: 600, T_grok: 700 };
    expect([300, 400, 500, 700, 800, null].map((w) => warningPlace(markers, w))).toEqual(['before-onset', 'before-onset', 'during-climb', 'during-climb', 'after-grokking', 'none']);
  });

  it('one definition of a warning, live and over a series: nothing before T_mem, below at memorisation is no warning', () => {
    // H̃ dips below 0.61 for three evaluations before memorisation (step 300), is back above at it, then falls at 600.
    const entropy = [0.5, 0.5, 0.5, 0.7, 0.7, 0.7, 0.5, 0.5, 0.5, 0.5];
    const train = [0.2, 0.5, 0.9, 1, 1, 1, 1, 1, 1, 1];
    const points = series(entropy, Array(10).fill(0), train);
    expect(crossingStep(points, 0.61, 3)).toBe(0); // the old rule counted the dip
    expect(warningCrossing(points, 0.61, 3, 0.99)).toEqual({ step: 600, belowAtMem: false });
    expect(computeEvents(points, settings).T_cross).toBe(600);
    expect(computeEvents(points, { ...settings, alarmFrom: 'start' }).T_cross).toBe(0);
    // Live: the same steps, confirmed once, at the third evaluation below.
    const live = new WarningDetector(0.61, 3, 0.99);
    expect(points.map((p) => live.push(p.step, p.train_acc, p.entropy))).toEqual([null, null, null, null, null, null, null, null, 600, null]);
    // Above 0.7 the run is already below at memorisation: no warning, however it falls later.
    expect(warningCrossing(points, 0.75, 3, 0.99)).toEqual({ step: null, belowAtMem: true });
    expect(computeEvents(points, { ...settings, entropyThreshold: 0.75 })).toMatchObject({ T_cross: null, below_at_mem: true, lead: null });
    // A missing H̃ at T_mem: judged at the first evaluation from T_mem on that measured it.
    const gap = new WarningDetector(0.61, 1, 0.99);
    expect([[0, 0.2, 0.9], [100, 1, NaN], [200, 1, 0.5]].map(([s, t, h]) => gap.push(s, t, h))).toEqual([null, null, null]);
    expect(gap.belowAtMem).toBe(true);
  });
});
