import { describe, expect, it } from 'vitest';
import { traceFromPoints, type RunTrace } from '../core/analysis/trace.js';
import { ENTROPY_SIGNAL, ERANK_SIGNALS, FOURIER_SIGNAL, LOGIT_SCALE_SIGNAL, NORM_SIGNAL, detectionRow } from '../core/analysis/warning-detector.js';
import type { RunRecord } from '../core/library/library.js';
import { PRESETS } from '../core/schema/run-config.js';
import type { StudySpec } from '../core/schema/study-spec.js';
import { analyzeStudy, type TracedRunData } from '../core/study/analyze.js';
import { planRuns } from '../core/study/spec.js';
import { StudySpecSchema } from '../core/schema/study-spec.js';
import { Rng } from '../core/rng.js';

const rules = { memThreshold: 0.99, grokThreshold: 0.95, crossPersistence: 3 };
const EVERY = 20;
const BUDGET = 4000;

/** H̃ 0.9 until `collapse` (null: never), then `low`; grokking at `grok` (null: never); the Fourier share mirrors H̃. */
function trace(id: string, grok: number | null, collapse: number | null, low = 0.3, last = BUDGET): RunTrace {
  const points = [];
  for (let step = 0; step <= last; step += EVERY) points.push({ step, train_acc: 1, test_acc: grok !== null && step >= grok ? 1 : 0.05, entropy: collapse !== null && step >= collapse ? low : 0.9 });
  const fourier = Float64Array.from(points, (p) => 1 - p.entropy!);
  const norm = Float64Array.from(points, (p) => (p.step <= 500 ? 10 + p.step / 50 : 20 - (collapse !== null && p.step >= collapse ? 10 : 0)));
  return traceFromPoints({ id, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, budget: BUDGET }, points, norm, fourier);
}

const run = (t: RunTrace, observedToBudget = true) => ({ trace: t, observedToBudget });

describe('the early warning as a detector', () => {
  it('separates perfectly when every grokking run collapses first and no other run collapses', () => {
    const positives = [1000, 1200, 1400, 1600].map((c, i) => run(trace(`p${i}`, c + 500 + 100 * i, c)));
    const negatives = [0, 1, 2].map((i) => run(trace(`n${i}`, null, null)));
    const row = detectionRow('mod-add', ENTROPY_SIGNAL, [...positives, ...negatives], rules, new Rng(1), 200);
    expect(row).toMatchObject({ positives: 4, negatives: 3, auroc: 1, aurocCI: [1, 1], threshold: 0.3, falseAlarmRate: 0, truePositiveRate: 1 });
    // The alarm is known at the window's last evaluation: collapse + 2 evaluations; leads 460, 560, 660, 760.
    expect(row.leadMedian).toBe(610);
    expect(row.leadAtFpr10).toBe(610);
  });

  it('counts an alarm known only after grokking as a miss, and any alarm in a non-grokking run as false', () => {
    const late = run(trace('late', 1000, 990)); // H̃ falls at 1,000, its window is complete at 1,040: after T_grok
    const early = run(trace('early', 1500, 1000));
    const falseAlarm = run(trace('fa', null, 1000));
    const quiet = run(trace('quiet', null, null));
    const row = detectionRow('mod-add', ENTROPY_SIGNAL, [late, early, falseAlarm, quiet], rules, new Rng(1), 100);
    // Scores (−level): early 0.3-level, late 0.9 (no window before its T_grok), fa 0.3, quiet 0.9.
    // Pairs (positive > negative counts 1, ties ½): early vs fa ½, early vs quiet 1, late vs fa 0, late vs quiet ½.
    expect(row.auroc).toBeCloseTo(2 / 4, 12);
    expect(row.positives).toBe(2);
    expect(row.negatives).toBe(2);
  });

  it('protocol v2: alarms only from T_mem, negatives watched for the positives’ span, runs past the threshold at T_mem counted apart, leads against T_rise', () => {
    // Memorised at `mem`; H̃ 0.9 with a dip to `low` at `collapse`; test accuracy climbs from
    // 0.05 (chance 0.02, T_rise at 0.118) at `rise` to 1 at `grok`.
    const run2 = (id: string, o: { mem: number; collapse: number | null; grok: number | null; rise?: number; startLow?: boolean }) => {
      const points = [];
      for (let step = 0; step <= BUDGET; step += EVERY) {
        const acc = o.grok !== null && step >= o.grok ? 1 : o.rise !== undefined && step >= o.rise ? 0.3 : 0.05;
        const h = o.startLow ? 0.3 : o.collapse !== null && step >= o.collapse ? 0.3 : 0.9;
        points.push({ step, train_acc: step >= o.mem ? 1 : 0.5, test_acc: acc, entropy: h });
      }
      return { trace: traceFromPoints({ id, task: 'mod-add', arch: 'transformer', condition: 'baseline', seed: 0, budget: BUDGET, chance: 0.02 }, points), observedToBudget: true };
    };
    const positives = [
      run2('p1', { mem: 200, collapse: 1000, rise: 1200, grok: 1400 }), // alarm known 1,040: lead 360, 160 before T_rise
      run2('p2', { mem: 200, collapse: 1000, rise: 900, grok: 1400 }), // alarm after T_rise (lead −140), test acc 0.3 at the alarm
    ];
    // Span: median T_grok − T_mem of the positives = 1,200 steps from each negative's own T_mem.
    const lateNegative = run2('n-late', { mem: 200, collapse: 2000, grok: null }); // collapses after 200 + 1,200: not a false alarm
    const earlyNegative = run2('n-early', { mem: 200, collapse: 600, grok: null }); // a false alarm within the span
    const row = detectionRow('mod-add', ENTROPY_SIGNAL, [...positives, lateNegative, earlyNegative], rules, new Rng(1), 50);
    expect(row.negativeSpan).toBe(1200);
    expect(row).toMatchObject({ positives: 2, negatives: 2, auroc: 0.75, truePositiveRate: 1, falseAlarmRate: 0.5 });
    expect(row.leadMedian).toBe(360);
    expect(row.leadRiseMedian).toBe((160 - 140) / 2);
    expect(row.testAccAtAlarmMedian).toBeCloseTo((0.05 + 0.3) / 2, 12);
    // A collapse before memorisation: H̃ is low from step 0; the only windows that count start at
    // T_mem, where it is already past the threshold: detected by the score, counted apart.
    const lowAtMem = run2('p-low', { mem: 600, collapse: null, grok: 1400, startLow: true });
    const withLow = detectionRow('mod-add', ENTROPY_SIGNAL, [...positives, lowAtMem, lateNegative], rules, new Rng(1), 50);
    expect(withLow.beyondAtMem).toEqual({ positives: 1, negatives: 0 });
    // Nothing before T_mem counts: a run memorised only at 3,000 alarms no earlier than that.
    const memLate = run2('p-mem-late', { mem: 3000, collapse: 1000, grok: 3500 });
    const late = detectionRow('mod-add', ENTROPY_SIGNAL, [memLate, lateNegative], rules, new Rng(1), 50);
    expect(late.leadMedian).toBe(3500 - 3040);
  });

  it('leaves out runs that stopped early without grokking: they are neither class', () => {
    const stopped = run(trace('stopped', null, 1000, 0.3, 2000), false);
    const row = detectionRow('mod-add', ENTROPY_SIGNAL, [run(trace('p', 1500, 1000)), stopped], rules, new Rng(1), 100);
    expect(row).toMatchObject({ positives: 1, negatives: 0, auroc: null, aurocCI: null, threshold: null, leadMedian: null });
  });

  it('reports a rising signal’s threshold in its own units, and the norm relative to its peak', () => {
    const runs = [run(trace('p', 1500, 1000)), run(trace('n', null, null))];
    const fourier = detectionRow('mod-add', FOURIER_SIGNAL, runs, rules, new Rng(1), 100);
    expect(fourier.auroc).toBe(1);
    expect(fourier.threshold).toBeCloseTo(0.7, 12); // share 1 − 0.3 after the collapse
    const norm = detectionRow('mod-add', NORM_SIGNAL, runs, rules, new Rng(1), 100);
    expect(norm.auroc).toBe(1);
    expect(norm.threshold).toBeCloseTo(0.5, 12); // 10 of a peak of 20
    // The logit scale reads like the norm; runs recorded without it take no part.
    const scaled = runs.map((r) => run({ ...r.trace, scalars: { logit_scale: r.trace.weight_norm } }));
    expect(detectionRow('mod-add', LOGIT_SCALE_SIGNAL, scaled, rules, new Rng(1), 100)).toMatchObject({ positives: 1, negatives: 1, auroc: 1, threshold: 0.5 });
    expect(detectionRow('mod-add', LOGIT_SCALE_SIGNAL, runs, rules, new Rng(1), 100)).toMatchObject({ positives: 0, negatives: 0, auroc: null });
    const ranked = runs.map((r) => run({ ...r.trace, scalars: { 'erank/embed': r.trace.weight_norm } }));
    expect(detectionRow('mod-add', ERANK_SIGNALS[0], ranked, rules, new Rng(1), 100)).toMatchObject({ signal: 'effective rank embed / peak', auroc: 1, threshold: 0.5 });
  });

  it('plans a spec’s detection controls as baseline runs of their own setting, used by the detection table only', () => {
    const spec: StudySpec = { version: 1, name: 't', preset: 'fast', overrides: { steps: BUDGET }, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1, 2], earlyStopEvals: 0, controls: [{ name: 'wd0', overrides: { weightDecay: 0 } }] };
    const plan = planRuns(spec);
    expect(plan.map((r) => r.key)).toEqual(['mod-add/transformer/baseline/s0', 'mod-add/transformer/baseline/s1', 'mod-add/transformer/baseline/s2', 'mod-add/transformer/baseline@wd0/s0', 'mod-add/transformer/baseline@wd0/s1', 'mod-add/transformer/baseline@wd0/s2']);
    expect(plan.slice(3).every((r) => r.config.weightDecay === 0 && r.config.condition === 'baseline')).toBe(true);
    expect(StudySpecSchema.safeParse({ ...spec, controls: [{ name: 'a', overrides: {} }, { name: 'a', overrides: {} }] }).success).toBe(false);
    const data: TracedRunData[] = plan.map((p, i) => {
      const control = i >= 3;
      // Baselines grok after H̃ collapses; controls never grok, and one of them collapses anyway (a false alarm).
      const t = { ...trace(p.key, control ? null : 1500 + 100 * i, control && i !== 5 ? null : 1000), seed: p.config.seed };
      const record = { id: p.key, status: 'completed', stepsDone: BUDGET, config: p.config, events: null } as unknown as RunRecord;
      return { key: p.key, run: record, trace: t };
    });
    const summary = analyzeStudy(spec, data, 0, { probes: false, forecast: false, thresholdResamples: 0 });
    expect(summary.groups).toEqual([expect.objectContaining({ condition: 'baseline', n: 3, grokked: 3 })]);
    expect(summary.necessity[0].n).toBe(3);
    expect(summary.runs).toHaveLength(6);
    const h = summary.detection.find((r) => r.signal === 'H̃ resid.final')!;
    expect(h).toMatchObject({ positives: 3, negatives: 3 });
    expect(h.auroc).toBeCloseTo((3 * 2 + 3 * 0.5) / 9, 12); // each positive beats two quiet controls and ties the one that collapsed
  });

  it('adds rows per kind of negative: each control setting and each architecture and condition of the study’s own runs', () => {
    const spec: StudySpec = {
      version: 1, name: 't', preset: 'fast', overrides: { steps: BUDGET }, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1, 2, 3], earlyStopEvals: 0,
      controls: [{ name: 'wd0', overrides: { weightDecay: 0 } }, { name: 'lr-small', overrides: { lr: 1e-4 } }],
    };
    const plan = planRuns(spec);
    // Baselines 0–2 grok after collapsing; baseline 3 neither groks nor collapses. wd0 runs never
    // grok and never collapse; lr-small runs collapse without grokking (false alarms), except seed
    // 0's, which groks: a control that groks is in no per-kind row.
    const data: TracedRunData[] = plan.map((p) => {
      const seed = p.config.seed;
      const kind = p.key.includes('@wd0') ? 'wd0' : p.key.includes('@lr-small') ? 'lr-small' : 'baseline';
      const grok = kind === 'baseline' ? (seed < 3 ? 1500 + 100 * seed : null) : kind === 'lr-small' && seed === 0 ? 2000 : null;
      const collapse = kind === 'baseline' ? (seed < 3 ? 1000 : null) : kind === 'lr-small' ? 1000 : null;
      const t = { ...trace(p.key, grok, collapse), seed };
      const record = { id: p.key, status: 'completed', stepsDone: BUDGET, config: p.config, events: null } as unknown as RunRecord;
      return { key: p.key, run: record, trace: t };
    });
    const summary = analyzeStudy(spec, data, 0, { probes: false, forecast: false, thresholdResamples: 0 });
    const h = summary.detection.filter((r) => r.signal === 'H̃ resid.final');
    expect(h.map((r) => r.negativeKind)).toEqual(['all', 'within transformer baseline', 'within lr-small (control)', 'transformer baseline', 'wd0', 'lr-small']);
    const [all, withinBase, withinSmall, base, wd0, small] = h;
    // Within-setting rows (the headline): positives and negatives of one setting only.
    expect(withinBase).toMatchObject({ positives: 3, negatives: 1, auroc: 1, headline: true });
    expect(withinSmall).toMatchObject({ positives: 1, negatives: 3, headline: true });
    expect(base.headline).toBe(false);
    // All runs by outcome: 3 baselines + the lr-small run that grokked vs 1 + 4 + 3 non-grokkers.
    expect(all).toMatchObject({ positives: 4, negatives: 8 });
    expect(base).toMatchObject({ positives: 3, negatives: 1, auroc: 1 });
    expect(wd0).toMatchObject({ positives: 3, negatives: 4, auroc: 1 });
    // Every lr-small negative collapsed as deep as the positives: ties, AUROC ½.
    expect(small).toMatchObject({ positives: 3, negatives: 3, auroc: 0.5 });
    // A study whose negatives are of one kind has the 'all' rows only.
    const oneKind = analyzeStudy({ ...spec, controls: [spec.controls![0]] }, data.filter((d) => !d.key.includes('@lr-small')).map((d) => (d.key.endsWith('baseline/s3') ? { ...d, trace: trace(d.key, 1800, 1000) } : d)), 0, { probes: false, forecast: false, thresholdResamples: 0 });
    expect(new Set(oneKind.detection.map((r) => r.negativeKind))).toEqual(new Set(['all']));
  });

  it('puts one row per task and signal in a study summary', () => {
    const spec: StudySpec = { version: 1, name: 't', preset: 'fast', overrides: {}, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1, 2, 3], earlyStopEvals: 0 };
    const data: TracedRunData[] = [0, 1, 2, 3].map((seed) => {
      const t = { ...trace(`s${seed}`, seed < 3 ? 1500 + 100 * seed : null, seed < 3 ? 1000 : null), seed };
      const record = { id: t.id, status: 'completed', stepsDone: BUDGET, config: { ...PRESETS.fast, seed, steps: BUDGET }, events: null } as unknown as RunRecord;
      return { key: t.id, run: record, trace: t };
    });
    const summary = analyzeStudy(spec, data, 0, { probes: false, forecast: false, thresholdResamples: 0 });
    const all = summary.detection.filter((r) => r.negativeKind === 'all');
    // Test accuracy is the label-reading baseline every run has; these traces record no test loss.
    expect(all.map((r) => r.signal)).toEqual(['H̃ resid.final', 'weight norm / peak', 'Fourier top-k share', 'test accuracy †']);
    expect(summary.detection.filter((r) => r.negativeKind !== 'all').every((r) => r.negativeKind === 'within transformer baseline' && r.headline)).toBe(true);
    expect(summary.detection[0]).toMatchObject({ task: 'mod-add', positives: 3, negatives: 1, auroc: 1 });
    expect(analyzeStudy(spec, data, 0, { probes: false, forecast: false, thresholdResamples: 0, detection: false }).detection).toEqual([]);
  });

  it('keeps settings of one kind apart in the within-setting rows when their configurations differ', () => {
    const spec: StudySpec = { version: 1, name: 't', preset: 'fast', overrides: {}, tasks: ['mod-add'], archs: ['transformer'], conditions: ['baseline'], seeds: [0, 1, 2, 3], earlyStopEvals: 0 };
    // Weight decay 1 and 0 (e.g. picked together in compare): each setting has 2 grokked and 2 failed runs.
    const data: TracedRunData[] = [1, 0].flatMap((wd) =>
      [0, 1, 2, 3].map((seed) => {
        const t = { ...trace(`wd${wd}-s${seed}`, seed < 2 ? 1500 + 100 * seed : null, seed < 2 ? 1000 : null), seed };
        const record = { id: t.id, status: 'completed', stepsDone: BUDGET, config: { ...PRESETS.fast, seed, steps: BUDGET, weightDecay: wd }, events: null } as unknown as RunRecord;
        return { key: t.id, run: record, trace: t };
      }),
    );
    const rows = analyzeStudy(spec, data, 0, { probes: false, forecast: false, thresholdResamples: 0 }).detection.filter((r) => r.headline && r.signal === 'H̃ resid.final');
    expect(rows.map((r) => r.negativeKind)).toEqual(['within transformer baseline (weightDecay 1)', 'within transformer baseline (weightDecay 0)']);
    expect(rows.every((r) => r.positives === 2 && r.negatives === 2)).toBe(true);
  });
});
