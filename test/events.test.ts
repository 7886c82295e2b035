import { describe, expect, it } from 'vitest';
import { ANTI_GROK_DROP, AntiGrokDetector, CrossingDetector, antiGrokStep, computeEvents, crossingStep, type EventSeriesPoint } from '../core/analysis/events.js';

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
});
