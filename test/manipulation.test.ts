import { describe, expect, it } from 'vitest';
import { traceFromPoints } from '../core/analysis/trace.js';
import type { RunRecord } from '../core/library/library.js';
import { PRESETS } from '../core/schema/run-config.js';
import type { StudySpec } from '../core/schema/study-spec.js';
import { analyzeStudy, heldAboveThreshold, manipulationWindow, type TracedRunData } from '../core/study/analyze.js';

const rules = { memThreshold: 0.99, grokThreshold: 0.95, crossPersistence: 3 };

/** A run that groks at `grok` (null: never) and whose H̃ falls from 0.9 to 0.3 at `collapse` (null: never). */
function run(condition: 'baseline' | 'mix', seed: number, grok: number | null, collapse: number | null): TracedRunData {
  const points = [];
  for (let step = 0; step <= 6000; step += 20) {
    points.push({ step, train_acc: step >= 100 ? 1 : 0.5, test_acc: grok !== null && step >= grok ? 1 : 0.05, entropy: collapse !== null && step >= collapse ? 0.3 : 0.9 });
  }
  const id = `${condition}-${seed}`;
  const record = { id, status: 'completed', stepsDone: 6000, config: { ...PRESETS.fast, seed, steps: 6000, condition }, events: null } as unknown as RunRecord;
  return { key: id, run: record, trace: traceFromPoints({ id, task: 'mod-add', arch: 'transformer', condition, seed, budget: 6000 }, points) };
}

const seeds = [0, 1, 2, 3, 4, 5];
const spec: StudySpec = { version: 1, name: 't', preset: 'fast', overrides: {}, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline', 'mix'], seeds, earlyStopEvals: 0 };
// Baselines collapse at 1,000 + 100·seed and grok 400 steps later.
const baselines = seeds.map((s) => run('baseline', s, 1400 + 100 * s, 1000 + 100 * s));

describe('manipulation check of an intervention (C3)', () => {
  it('spans the baseline from its crossing to its grokking step, or to its budget', () => {
    expect(manipulationWindow(1000, 1400, 6000)).toEqual([1000, 1400]);
    expect(manipulationWindow(1000, null, 6000)).toEqual([1000, 6000]);
    expect(manipulationWindow(null, 1400, 6000)).toBeNull();
  });

  it('holds only when the run does not cross before the window ends, by the crossing rule', () => {
    const late = run('mix', 0, 3000, 2000).trace;
    const early = run('mix', 0, 3000, 600).trace;
    const inside = run('mix', 0, 3000, 1200).trace;
    expect(heldAboveThreshold(late, 0.6, [1000, 1400], rules)).toBe(true);
    expect(heldAboveThreshold(early, 0.6, [1000, 1400], rules)).toBe(false);
    expect(heldAboveThreshold(inside, 0.6, [1000, 1400], rules)).toBe(false);
    // Collapsed before memorisation: no warning, but it did not hold H̃ above H̃* either.
    expect(heldAboveThreshold(run('mix', 0, 3000, 0).trace, 0.6, [1000, 1400], rules)).toBe(false);
    expect(heldAboveThreshold(late, 0.6, null, rules)).toBeNull();
    expect(heldAboveThreshold(late, 0.6, [7000, 8000], rules)).toBeNull(); // no evaluation inside
  });

  it('C3 is reproduced when the mix holds H̃ up and delays grokking', () => {
    const mixes = seeds.map((s) => run('mix', s, 4000 + 100 * s, 3500 + 100 * s));
    const summary = analyzeStudy(spec, [...baselines, ...mixes], 0, { probes: false, forecast: false, thresholdResamples: 0 });
    const row = summary.interventions[0];
    expect(row.manipulation).toEqual({ assessed: 6, held: 6 });
    expect(summary.claims.C3.verdict).toBe('reproduced');
    expect(summary.claims.C3.manipulationShare).toBe(1);
    expect(summary.runs.find((r) => r.id === 'mix-0')!.heldAboveThreshold).toBe(true);
    expect(summary.runs.find((r) => r.id === 'baseline-0')!.heldAboveThreshold).toBeNull();
  });

  it('C3 is inconclusive, whatever the delay, when the mix did not block the collapse', () => {
    // Same delay, but H̃ collapses early in every mix run: the delay is not evidence about blocking.
    const mixes = seeds.map((s) => run('mix', s, 4000 + 100 * s, 500));
    const summary = analyzeStudy(spec, [...baselines, ...mixes], 0, { probes: false, forecast: false, thresholdResamples: 0 });
    expect(summary.interventions[0].manipulation).toEqual({ assessed: 6, held: 0 });
    expect(summary.interventions[0].p).toBeLessThan(0.05);
    expect(summary.interventions[0].delayMean).toBeGreaterThan(0);
    expect(summary.claims.C3.verdict).toBe('inconclusive');
    expect(summary.claims.C3.manipulationShare).toBe(0);
  });

  it('cannot check runs whose baseline never crossed', () => {
    const flat = seeds.map((s) => run('baseline', s, 1400 + 100 * s, s < 4 ? 1000 : null));
    const mixes = seeds.map((s) => run('mix', s, 4000, 3500));
    const summary = analyzeStudy(spec, [...flat, ...mixes], 0, { probes: false, forecast: false, thresholdResamples: 0 });
    expect(summary.interventions[0].manipulation).toEqual({ assessed: 4, held: 4 });
    expect(summary.runs.find((r) => r.id === 'mix-5')!.heldAboveThreshold).toBeNull();
  });
});
