import { describe, expect, it } from 'vitest';
import { CrossingDetector, computeEvents, crossingStep, type EventSeriesPoint } from '../core/analysis/events.js';

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
    expect(computeEvents(s, settings)).toEqual({ T_mem: 100, T_grok: 500, T_grok_50: 400, T_grok_99: 600, T_cross: 300, lead: 200 });
  });

  it('reports none when a run never groks', () => {
    const e = computeEvents(series([0.9, 0.9], [0, 0], [1, 1]), settings);
    expect(e.T_grok).toBeNull();
    expect(e.lead).toBeNull();
  });
});
