import { describe, expect, it } from 'vitest';
import { applyForecast, forecastModel, liveForecast } from '../core/analysis/live-forecast.js';
import { traceFromPoints, type RunTrace } from '../core/analysis/trace.js';
import { thresholdBand } from '../core/analysis/threshold.js';

const rules = { memThreshold: 0.99, grokThreshold: 0.95, crossPersistence: 3 };

/** H̃ falls linearly and passes 0.61 exactly 1,000 steps before T_grok (as in analysis.test.ts). */
function planted(seed: number, tGrok: number, slope: number, until = tGrok + 2000): RunTrace {
  const points = [];
  for (let step = 0; step <= until; step += 50) {
    const h = Math.min(0.9, Math.max(0.3, 0.61 + slope * (tGrok - 1000 - step)));
    points.push({ step, train_acc: step >= 100 ? 1 : 0.5, test_acc: step >= tGrok ? 1 : 0.1, entropy: h });
  }
  return traceFromPoints({ id: `r${seed}`, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed, budget: tGrok + 2000 }, points, points.map(() => 10));
}

describe('live forecast of the onset', () => {
  // Different slopes: only H̃* = 0.61 gives every run the same 1,000-step lead.
  const reference = [planted(0, 3000, 0.00018), planted(1, 4000, 0.00022), planted(2, 3500, 0.0002), planted(3, 5000, 0.00024), planted(4, 4500, 0.00016)];

  it('forecasts a run in progress from other runs only, with an interval from their held-out errors', () => {
    // The live run has trained to step 2,000 of a run that will grok at 4,200.
    const live = planted(9, 4200, 0.0002, 2000);
    const f = liveForecast(live, [...reference, live], rules)!;
    expect(f.referenceRuns).toBe(5); // the run itself is never in its reference
    // H̃* is the midpoint of the reference runs' admissible band: above every H̃ at grokking (the
    // shallowest 0.61 − 0.00016·1,000 = 0.45), at most H̃ at memorisation (0.9).
    expect(f.threshold).toBe(thresholdBand(reference, rules)!.threshold);
    expect(f.threshold).toBeGreaterThan(0.67);
    expect(f.threshold).toBeLessThan(0.68);
    const last = f.points.at(-1)!;
    expect(last.step).toBe(2000);
    // Slopes differ by ±20 %, so the pooled law is approximate: near 4,200, and the interval,
    // sized by the reference runs' own held-out errors, covers the truth.
    expect(Math.abs(last.predicted - 4200) / 4200).toBeLessThan(0.2);
    expect(f.relError).not.toBeNull();
    expect(last.lo!).toBeLessThanOrEqual(4200);
    expect(last.hi!).toBeGreaterThanOrEqual(4200);
  });

  it('judges at a given H̃* (the run\'s configured one) instead of fitting it, and forecasts from it', () => {
    const model = forecastModel(reference, rules, 0.61)!;
    expect(model.threshold).toBe(0.61);
    // At 0.61 every planted run leads by exactly 1,000 steps: the forecast is close.
    const last = applyForecast(model, planted(9, 4200, 0.0002, 2000)).points.at(-1)!;
    expect(Math.abs(last.predicted - 4200) / 4200).toBeLessThan(0.1);
  });

  it('says nothing without enough reference runs', () => {
    expect(liveForecast(planted(9, 4200, 0.0002, 2000), [], rules)).toBeNull();
  });
});
