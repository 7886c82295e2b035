import { describe, expect, it } from 'vitest';
import { traceFromPoints } from '../core/analysis/trace.js';
import type { RunRecord } from '../core/library/library.js';
import { PRESETS } from '../core/schema/run-config.js';
import type { StudySpec } from '../core/schema/study-spec.js';
import { analyzeStudy, type TracedRunData } from '../core/study/analyze.js';
import { claimStability, verdictText } from '../core/study/stability.js';

/**
 * Transformer baselines that grok at 1,500 + 100·seed; H̃ falls from 0.9 to 0.3 `lead` steps
 * before (a negative lead: after grokking).
 */
function run(seed: number, lead: number): TracedRunData {
  const grok = 1500 + 100 * seed;
  const points = [];
  for (let step = 0; step <= 3000; step += 20) points.push({ step, train_acc: step >= 100 ? 1 : 0.5, test_acc: step >= grok ? 1 : 0.05, entropy: step >= grok - lead ? 0.3 : 0.9 });
  const id = `s${seed}`;
  const record = { id, status: 'completed', stepsDone: 3000, config: { ...PRESETS.fast, seed, steps: 3000 }, events: null } as unknown as RunRecord;
  return { key: id, run: record, trace: traceFromPoints({ id, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed, budget: 3000 }, points) };
}

const spec: StudySpec = { version: 1, name: 't', preset: 'fast', overrides: {}, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1, 2, 3, 4, 5], earlyStopEvals: 0 };

describe('verdict stability over seed resamples', () => {
  it('is 1 for a verdict every seed supports and for claims not run', () => {
    const data = [0, 1, 2, 3, 4, 5].map((s) => run(s, 400));
    const claims = analyzeStudy(spec, data, 0, { probes: false }).claims;
    expect(claims.C2.verdict).toBe('reproduced');
    const st = claimStability(spec, data, claims, 30);
    expect(st.C2).toBe(1);
    expect(st.C6).toBe(1); // not-run, whatever the seeds
  });

  it('is below 1 when one seed decides the verdict, and the text says unstable', () => {
    // Seed 5 crosses after it groks: 5 of 6 held-out runs warned first → 'inconclusive'; resamples
    // without seed 5 say 'reproduced', those with it twice or more say 'refuted'.
    const data = [0, 1, 2, 3, 4].map((s) => run(s, 400)).concat(run(5, -300));
    const claims = analyzeStudy(spec, data, 0, { probes: false }).claims;
    expect(claims.C2.verdict).toBe('inconclusive');
    const st = claimStability(spec, data, claims, 40);
    expect(st.C2).toBeGreaterThan(0);
    expect(st.C2).toBeLessThan(0.8);
    expect(claimStability(spec, data, claims, 40)).toEqual(st); // seeded: the same every time
    expect(verdictText({ verdict: 'inconclusive', stability: st.C2 })).toBe(`inconclusive, unstable: ${st.C2!.toFixed(2)}`);
    expect(verdictText({ verdict: 'reproduced', stability: 0.9 })).toBe('reproduced');
  });
});
