import type { RunConfig } from '../schema/run-config.js';
import type { MetricRow, RunRecord } from '../library/library.js';
import type { RunSeries } from '../library/series.js';
import { PROBES, type ProbeName } from '../models/config.js';
import { Rng } from '../rng.js';
import { fitPowerLaw, forecastPairs, leaveOneSeedOutForecast } from '../analysis/forecast.js';
import { necessityTable, type NecessityRow } from '../analysis/necessity.js';
import { phaseCheck } from '../analysis/phases.js';
import { bootstrapMeanDiffCI, cohensD, mean, pearson, summarize, welchTest, type Summary } from '../analysis/stats.js';
import { estimateThreshold, leaveOneSeedOut, type ThresholdEstimate } from '../analysis/threshold.js';
import { tCross, tGrok, type EventRules, type RunTrace } from '../analysis/trace.js';
import type { StudySpec } from '../schema/study-spec.js';

/**
 * Everything a study reports (summary.json; schema in docs/formats.md). Verdict rules are ours,
 * fixed before looking at results, and written next to each claim:
 * thresholds and forecasts are always judged on held-out seeds (leave-one-seed-out).
 */
export const SUMMARY_VERSION = 1;

export type Verdict = 'reproduced' | 'refuted' | 'inconclusive' | 'not-run';

export interface StudyRunData {
  key: string;
  run: RunRecord;
  metrics: MetricRow[];
}

/** A run whose trace was built already (from typed columns: `traceOfSeries`); no row objects. */
export interface TracedRunData {
  key: string;
  run: RunRecord;
  trace: RunTrace;
}

export type AnalysisInput = StudyRunData | TracedRunData;

export interface GroupRow {
  task: string;
  arch: string;
  condition: string;
  n: number;
  grokked: number;
  crossed: number;
  T_grok: Summary;
  lead: Summary;
}

export interface InterventionRow {
  task: string;
  arch: string;
  condition: string;
  n: number;
  nBaseline: number;
  /** Runs that did not grok within budget, counted at the budget (a lower bound). */
  censored: number;
  delayMean: number | null;
  delayCI: [number, number] | null;
  p: number | null;
  d: number | null;
}

export interface ClaimResult {
  verdict: Verdict;
  rule: string;
  [figure: string]: unknown;
}

export interface StudySummary {
  version: number;
  study: string;
  spec: StudySpec;
  probe: ProbeName;
  rules: EventRules;
  groups: GroupRow[];
  thresholds: { task: string; arch: string; estimate: ThresholdEstimate; heldOut: { n: number; warned: number; precededGrokking: number; lead: Summary } }[];
  probes: { task: string; arch: string; probe: string; threshold: number | null; heldOutWarned: number; heldOutN: number; leadMean: number | null }[];
  interventions: InterventionRow[];
  forecast: { task: string; arch: string; fit: ReturnType<typeof fitPowerLaw>; heldOutMeanRelError: number | null; heldOutMeanLead: number | null; runs: number }[];
  necessity: (NecessityRow & { task: string; threshold: number | null })[];
  phases: { task: string; arch: string; n: number; twoPhases: number }[];
  fourier: { task: string; arch: string; n: number; meanCorrelation: number | null }[];
  claims: Record<'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6' | 'C7' | 'C8', ClaimResult>;
  runs: { key: string; id: string; status: string; T_mem: number | null; T_grok: number | null; T_cross: number | null; lead: number | null }[];
}

export function traceOf(d: StudyRunData, probe: ProbeName): RunTrace {
  const c = d.run.config;
  const m = d.metrics;
  return {
    id: d.run.id,
    task: c.task,
    arch: c.arch,
    condition: c.condition,
    seed: c.seed,
    budget: c.steps,
    step: Float64Array.from(m, (r) => r.step),
    trainAcc: Float64Array.from(m, (r) => r.train_acc),
    testAcc: Float64Array.from(m, (r) => r.test_acc),
    entropy: Float64Array.from(m, (r) => r.entropy[probe] ?? NaN),
    weightNorm: Float64Array.from(m, (r) => r.weight_norm),
    fourier: m.every((r) => r.fourier_topk_share !== null) ? Float64Array.from(m, (r) => r.fourier_topk_share!) : null,
  };
}

/**
 * A trace straight from typed columns (no copy: the columns are shared with the series). The
 * same series object gives the same trace object, so a cached series (library/series-cache.ts)
 * keeps its memoised event steps and crossing profile between compares; a series belongs to one
 * run, whose config does not change.
 */
const traceBySeries = new WeakMap<RunSeries, RunTrace>();
export function traceOfSeries(run: RunRecord, s: RunSeries): RunTrace {
  const hit = traceBySeries.get(s);
  if (hit && hit.id === run.id) return hit;
  const c = run.config;
  // Fourier shares are not read into series (no view that uses series shows them).
  const trace: RunTrace = { id: run.id, task: c.task, arch: c.arch, condition: c.condition, seed: c.seed, budget: c.steps, step: s.step, trainAcc: s.trainAcc, testAcc: s.testAcc, entropy: s.entropy, weightNorm: s.weightNorm, fourier: null };
  traceBySeries.set(s, trace);
  return trace;
}

function rulesOf(config: RunConfig): EventRules {
  return { memThreshold: config.memThreshold, grokThreshold: config.grokThreshold, crossPersistence: config.crossPersistence };
}

const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

/**
 * What a caller can leave out: the per-probe comparison and the power-law forecast are the
 * costly parts (forecast fits by Levenberg–Marquardt per run and per held-out seed: measured
 * 5.8 s of 9 s for three runs of 10,000 evaluations), and the workbench's compare view shows
 * neither. Left-out parts come back empty.
 */
export interface AnalyzeOptions {
  probes?: boolean;
  forecast?: boolean;
  /** Bootstrap resamples for the CI of H̃* (0: no CI). */
  thresholdResamples?: number;
}

export function analyzeStudy(spec: StudySpec, data: AnalysisInput[], seed = 0, options: AnalyzeOptions = {}): StudySummary {
  if (data.length === 0) throw new Error(`study ${spec.name} has no completed runs to analyse`);
  const rules = rulesOf(data[0].run.config);
  const probe = data[0].run.config.probe;
  const rng = new Rng(seed, 0x5eed);
  const all = data.map((d) => ('trace' in d ? d.trace : traceOf(d, probe)));
  const tasks = uniq(all.map((t) => t.task));
  const archs = uniq(all.map((t) => t.arch));
  const select = (task: string, arch: string | null, condition: string | null): RunTrace[] =>
    all.filter((t) => t.task === task && (arch === null || t.arch === arch) && (condition === null || t.condition === condition));

  // H̃* per task from the Transformer baseline runs (the paper's setting); MLP runs of the task use it too.
  const thresholds: StudySummary['thresholds'] = [];
  const taskThreshold = new Map<string, number | null>();
  const heldOutByRun = new Map<string, ReturnType<typeof leaveOneSeedOut>[number]>();
  for (const task of tasks) {
    for (const arch of archs) {
      const base = select(task, arch, 'baseline');
      if (base.length === 0) continue;
      const estimate = estimateThreshold(base, rules, rng, options.thresholdResamples ?? 300);
      const held = leaveOneSeedOut(base, rules).filter((h) => h.T_grok !== null);
      held.forEach((h) => heldOutByRun.set(h.id, h));
      thresholds.push({
        task,
        arch,
        estimate,
        heldOut: {
          n: held.length,
          warned: held.filter((h) => h.warned).length,
          precededGrokking: held.filter((h) => h.T_cross !== null && h.T_cross <= h.T_grok!).length,
          lead: summarize(held.filter((h) => h.lead !== null).map((h) => h.lead!)),
        },
      });
      if (arch === 'transformer' || !taskThreshold.has(task)) taskThreshold.set(task, estimate.threshold);
    }
  }

  // Probe choice: how each probe's H̃ warns on held-out seeds (Transformer baselines).
  const probes: StudySummary['probes'] = [];
  if (options.probes !== false) for (const task of tasks) {
    for (const arch of archs) {
      // Every probe's H̃ is in the row objects only; runs given as traces take no part.
      const runs = data.filter((d): d is StudyRunData => 'metrics' in d && d.run.config.task === task && d.run.config.arch === arch && d.run.config.condition === 'baseline');
      for (const p of PROBES) {
        if (!runs.every((d) => d.metrics.every((m) => m.entropy[p] !== undefined)) || runs.length === 0) continue;
        const traces = runs.map((d) => traceOf(d, p));
        const held = leaveOneSeedOut(traces, rules).filter((h) => h.T_grok !== null);
        const est = estimateThreshold(traces, rules, rng, 50);
        const leads = held.filter((h) => h.warned).map((h) => h.lead!);
        probes.push({ task, arch, probe: p, threshold: est.threshold, heldOutWarned: leads.length, heldOutN: held.length, leadMean: leads.length ? mean(leads) : null });
      }
    }
  }

  // Groups: crossing statistics with held-out thresholds for the runs H̃* was fitted on.
  const crossOf = (t: RunTrace): number | null => {
    const held = heldOutByRun.get(t.id);
    if (held && t.condition === 'baseline') return held.T_cross;
    const h = taskThreshold.get(t.task);
    return h === null || h === undefined ? null : tCross(t, h, rules);
  };
  const groups: GroupRow[] = [];
  for (const task of tasks) for (const arch of archs) for (const condition of spec.conditions) {
    const runs = select(task, arch, condition);
    if (runs.length === 0) continue;
    const groks = runs.map((t) => tGrok(t, rules));
    const crosses = runs.map(crossOf);
    const leads = runs.map((_, i) => (groks[i] !== null && crosses[i] !== null ? groks[i]! - crosses[i]! : null)).filter((x): x is number => x !== null);
    groups.push({
      task,
      arch,
      condition,
      n: runs.length,
      grokked: groks.filter((g) => g !== null).length,
      crossed: crosses.filter((c) => c !== null).length,
      T_grok: summarize(groks.filter((g): g is number => g !== null)),
      lead: summarize(leads),
    });
  }

  // Interventions: grokking delay against the baseline of the same task and architecture.
  const interventions: InterventionRow[] = [];
  for (const task of tasks) for (const arch of archs) {
    const censoredGrok = (t: RunTrace): number => tGrok(t, rules) ?? t.budget;
    const base = select(task, arch, 'baseline');
    for (const condition of spec.conditions.filter((c) => c !== 'baseline')) {
      const treated = select(task, arch, condition);
      if (treated.length === 0 || base.length === 0) continue;
      const x = treated.map(censoredGrok);
      const y = base.map(censoredGrok);
      const w = welchTest(x, y);
      interventions.push({
        task,
        arch,
        condition,
        n: treated.length,
        nBaseline: base.length,
        censored: [...treated, ...base].filter((t) => tGrok(t, rules) === null).length,
        delayMean: mean(x) - mean(y),
        delayCI: bootstrapMeanDiffCI(x, y, rng, 2000),
        p: w?.p ?? null,
        d: cohensD(x, y),
      });
    }
  }

  const forecast: StudySummary['forecast'] = [];
  if (options.forecast !== false) for (const task of tasks) for (const arch of archs) {
    const base = select(task, arch, 'baseline');
    const h = thresholds.find((r) => r.task === task && r.arch === arch)?.estimate.threshold ?? null;
    if (base.length === 0 || h === null) continue;
    const fit = fitPowerLaw(forecastPairs(base, h, rules));
    const loso = leaveOneSeedOutForecast(base, rules).filter((e) => e.meanRelError !== null);
    forecast.push({
      task,
      arch,
      fit,
      heldOutMeanRelError: loso.length ? mean(loso.map((e) => e.meanRelError!)) : null,
      heldOutMeanLead: loso.length ? mean(loso.map((e) => e.meanLead!)) : null,
      runs: loso.length,
    });
  }

  const necessity: StudySummary['necessity'] = [];
  for (const task of tasks) {
    const h = taskThreshold.get(task) ?? null;
    if (h === null) continue;
    for (const row of necessityTable(select(task, null, 'baseline'), h, rules)) necessity.push({ task, threshold: h, ...row });
  }

  const phases: StudySummary['phases'] = [];
  const fourier: StudySummary['fourier'] = [];
  for (const task of tasks) for (const arch of archs) {
    const base = select(task, arch, 'baseline');
    if (base.length === 0) continue;
    // The two-phase pattern is a claim about runs that grok.
    const grokked = base.filter((t) => tGrok(t, rules) !== null);
    phases.push({ task, arch, n: grokked.length, twoPhases: grokked.filter((t) => phaseCheck(t).twoPhases).length });
    const cors = base
      .filter((t) => t.fourier)
      .map((t) => pearson(t.fourier!, Array.from(t.entropy, (e) => -e)))
      .filter((c): c is number => c !== null && Number.isFinite(c));
    fourier.push({ task, arch, n: cors.length, meanCorrelation: cors.length ? mean(cors) : null });
  }

  const summary: Omit<StudySummary, 'claims'> = {
    version: SUMMARY_VERSION,
    study: spec.name,
    spec,
    probe,
    rules,
    groups,
    thresholds,
    probes,
    interventions,
    forecast,
    necessity,
    phases,
    fourier,
    runs: data.map((d, i) => {
      const t = all[i]; // the same trace objects: their event steps are memoised
      const g = tGrok(t, rules);
      const c = crossOf(t);
      return { key: d.key, id: d.run.id, status: d.run.status, T_mem: d.run.events?.T_mem ?? null, T_grok: g, T_cross: c, lead: g !== null && c !== null ? g - c : null };
    }),
  };
  return { ...summary, claims: judgeClaims(summary, spec) };
}

const share = (a: number, n: number): number | null => (n > 0 ? a / n : null);

/** The verdict rules, one per claim; each result says its rule. */
export function judgeClaims(s: Omit<StudySummary, 'claims'>, spec: StudySpec): StudySummary['claims'] {
  const tf = (task: string) => s.thresholds.find((t) => t.task === task && t.arch === 'transformer');
  const cyclicTasks = spec.tasks.filter((t) => t !== 's5');
  const mainTask = cyclicTasks[0] ?? spec.tasks[0];

  const phaseRows = s.phases.filter((p) => p.arch === 'transformer');
  const twoPhaseShare = share(phaseRows.reduce((a, p) => a + p.twoPhases, 0), phaseRows.reduce((a, p) => a + p.n, 0));
  const C1: ClaimResult = {
    verdict: phaseRows.length === 0 ? 'not-run' : twoPhaseShare === null ? 'inconclusive' : twoPhaseShare >= 0.8 ? 'reproduced' : twoPhaseShare <= 0.2 ? 'refuted' : 'inconclusive',
    rule: 'share of grokked Transformer baseline runs whose weight-norm peak precedes the steepest H̃ descent: ≥ 0.8 reproduced, ≤ 0.2 refuted',
    twoPhaseShare,
  };

  const t = tf(mainTask);
  const precedeRate = t ? share(t.heldOut.precededGrokking, t.heldOut.n) : null;
  const C2: ClaimResult = {
    verdict: precedeRate === null || t!.heldOut.n < 3 ? (t ? 'inconclusive' : 'not-run') : precedeRate === 1 ? 'reproduced' : precedeRate < 0.8 ? 'refuted' : 'inconclusive',
    rule: 'held-out seeds (H̃* fitted on the others): crossing precedes grokking in every grokked Transformer run → reproduced; in < 80 % → refuted',
    task: mainTask,
    threshold: t?.estimate.threshold ?? null,
    thresholdCI: t?.estimate.ci ?? null,
    precedeRate,
    heldOutRuns: t?.heldOut.n ?? 0,
    leadMean: t?.heldOut.lead.mean ?? null,
    paper: { threshold: 0.61, leadMean: 1020 },
  };

  const mixRow = s.interventions.find((r) => r.task === mainTask && r.arch === 'transformer' && r.condition === 'mix');
  const nmRow = s.interventions.find((r) => r.task === mainTask && r.arch === 'transformer' && r.condition === 'norm-matched');
  const significantDelay = (r?: InterventionRow): boolean => !!r && r.p !== null && r.p < 0.05 && (r.delayMean ?? 0) > 0;
  const C3: ClaimResult = {
    verdict: !mixRow ? 'not-run' : significantDelay(mixRow) ? 'reproduced' : mixRow.p !== null && mixRow.p < 0.05 && (mixRow.delayMean ?? 0) < 0 ? 'refuted' : 'inconclusive',
    rule: 'mix vs baseline T_grok (Welch, two-sided): delay > 0 with p < 0.05 reproduced; a significant speed-up refutes; otherwise inconclusive',
    ...(mixRow ?? {}),
    paper: { delay: 5020, p: 0.044, d: 0.7 },
  };
  const C4: ClaimResult = {
    verdict: !nmRow || !mixRow ? 'not-run' : significantDelay(mixRow) && !significantDelay(nmRow) ? 'reproduced' : significantDelay(nmRow) ? 'refuted' : 'inconclusive',
    rule: 'mix delays significantly while norm-matched does not → reproduced; norm-matched delays significantly → refuted (norm would suffice)',
    normMatched: nmRow ?? null,
    paper: { n: 30, p: 5e-5, d: 1.55 },
  };

  const fc = s.forecast.find((f) => f.task === mainTask && f.arch === 'transformer');
  const err = fc?.heldOutMeanRelError ?? null;
  const C5: ClaimResult = {
    verdict: !fc || err === null ? (fc ? 'inconclusive' : 'not-run') : err <= 0.1 ? 'reproduced' : err > 0.25 ? 'refuted' : 'inconclusive',
    rule: 'leave-one-seed-out online forecast error |T̂ − T_grok| / T_grok: ≤ 10 % reproduced, > 25 % refuted',
    fit: fc?.fit ?? null,
    heldOutMeanRelError: err,
    heldOutMeanLead: fc?.heldOutMeanLead ?? null,
    paper: { r2: 0.543, gamma: 1.65, meanError: 0.041, meanLead: 12370 },
  };

  const s5 = tf('s5');
  const s5Rate = s5 ? share(s5.heldOut.precededGrokking, s5.heldOut.n) : null;
  const C6: ClaimResult = {
    verdict: !spec.tasks.includes('s5') ? 'not-run' : s5Rate === null ? 'inconclusive' : s5Rate === 1 ? 'reproduced' : s5Rate < 0.8 ? 'refuted' : 'inconclusive',
    rule: 'as C2 on S5 composition, with its own H̃*',
    threshold: s5?.estimate.threshold ?? null,
    precedeRate: s5Rate,
  };

  const mlp = s.necessity.find((r) => r.task === mainTask && r.arch === 'mlp');
  const tfNec = s.necessity.find((r) => r.task === mainTask && r.arch === 'transformer');
  const mlpShare = mlp ? share(mlp.crossedWithoutGrokking, mlp.n) : null;
  const C7: ClaimResult = {
    verdict: !mlp || !spec.archs.includes('transformer') ? 'not-run' : mlpShare !== null && mlpShare >= 0.8 && precedeRate === 1 ? 'reproduced' : mlpShare !== null && mlpShare <= 0.2 ? 'refuted' : 'inconclusive',
    rule: '≥ 80 % of MLP baseline runs cross H̃* without grokking and the Transformer crosses before every grok (held out) → reproduced; ≤ 20 % → refuted',
    mlp: mlp ?? null,
    transformer: tfNec ?? null,
  };

  const four = s.fourier.filter((f) => f.arch === 'transformer' && f.meanCorrelation !== null);
  const r = four.length ? mean(four.map((f) => f.meanCorrelation!)) : null;
  const C8: ClaimResult = {
    verdict: cyclicTasks.length === 0 ? 'not-run' : r === null ? 'inconclusive' : r >= 0.5 ? 'reproduced' : r <= 0 ? 'refuted' : 'inconclusive',
    rule: 'mean per-run Pearson correlation between the Fourier top-k share and −H̃ (Transformer baselines, cyclic tasks): ≥ 0.5 reproduced, ≤ 0 refuted',
    meanCorrelation: r,
  };
  return { C1, C2, C3, C4, C5, C6, C7, C8 };
}
