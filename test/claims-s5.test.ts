import { describe, expect, it } from 'vitest';
import { judgeClaims } from '../core/study/claims.js';
import type { StudySummary } from '../core/study/summary.js';
import type { StudySpec } from '../core/schema/study-spec.js';
import { reportHtml } from '../core/study/report.js';

/**
 * C6 on S5 (docs/preregistration.md, section 2): the verdict as C2 on S5's held-out runs, and
 * beside it whether S5's H̃* agrees with the Z/pZ task's (95 % CIs overlap); C8 stays on the
 * cyclic tasks with S5's irrep alignment reported beside it.
 */
const spec: StudySpec = { version: 1, name: 'c6', preset: 'fast', overrides: {}, tasks: ['mod-add', 's5'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1, 2], earlyStopEvals: 0 };

function summary(s5CI: [number, number], fourier: { task: string; r: number }[]): Omit<StudySummary, 'claims'> {
  const row = (task: string, threshold: number, ci: [number, number]) => ({
    task,
    arch: 'transformer',
    estimate: { threshold, ci, perRun: [], perRunStd: null, nGrokked: 3 },
    heldOut: { n: 3, warned: 3, precededGrokking: 3, lead: { n: 3, mean: 500, std: 0, min: 500, max: 500 } },
  });
  return {
    thresholds: [row('mod-add', 0.6, [0.55, 0.65]), row('s5', (s5CI[0] + s5CI[1]) / 2, s5CI)],
    phases: [],
    interventions: [],
    forecast: [],
    necessity: [],
    fourier: fourier.map(({ task, r }) => ({ task, arch: 'transformer', n: 3, meanCorrelation: r })),
  } as unknown as Omit<StudySummary, 'claims'>;
}

describe('C6 and C8 with S5 in the study', () => {
  it('reproduces C6 when every held-out S5 run warned first, and says whether the thresholds agree', () => {
    const agree = judgeClaims(summary([0.6, 0.7], []), spec).C6;
    expect(agree.verdict).toBe('reproduced');
    expect(agree.thresholdAgreement).toBe('agree');
    expect(agree.comparedWith).toEqual({ task: 'mod-add', threshold: 0.6, thresholdCI: [0.55, 0.65] });
    expect(judgeClaims(summary([0.7, 0.8], []), spec).C6.thresholdAgreement).toBe('differ');
    expect(judgeClaims(summary([0.7, 0.8], []), { ...spec, tasks: ['s5'] }).C6.thresholdAgreement).toBeNull();
  });

  it('keeps C8 on the cyclic tasks and reports S5’s irrep correlation beside it', () => {
    const c8 = judgeClaims(summary([0.6, 0.7], [{ task: 'mod-add', r: 0.8 }, { task: 's5', r: -0.4 }]), spec).C8;
    expect(c8.verdict).toBe('reproduced');
    expect(c8.meanCorrelation).toBe(0.8);
    expect(c8.s5MeanCorrelation).toBe(-0.4);
  });
});

describe('the report with S5 in the study', () => {
  it('states S5’s H̃* beside the Z/pZ task’s and whether they agree, and S5’s irrep correlation beside C8', () => {
    const base = summary([0.7, 0.8], [{ task: 'mod-add', r: 0.8 }, { task: 's5', r: -0.4 }]);
    const full = { ...base, study: 'c6', probe: 'resid.final', rules: { memThreshold: 0.99, grokThreshold: 0.95, crossPersistence: 3 }, groups: [], detection: [], claims: judgeClaims(base, spec) } as unknown as StudySummary;
    const html = reportHtml(full, []);
    expect(html).toMatch(/C6 on S5: H̃\* 0\.750 \(95 % CI 0\.700 … 0\.800\); mod-add: 0\.600 \(0\.550 … 0\.650\) — their 95 % CIs do not overlap/);
    expect(html).toMatch(/S5's irrep top share with −H̃ -0\.400/);
    const without = { ...full, claims: judgeClaims(base, { ...spec, tasks: ['mod-add'] }) } as StudySummary;
    expect(reportHtml(without, [])).not.toMatch(/C6 on S5/);
  });
});
