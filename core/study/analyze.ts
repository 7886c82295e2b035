// One pass over a study's runs shares its traces, thresholds and crossings between every table;
// the parts that stand alone live beside it (claims.ts, manipulation.ts, detection-report.ts,
// stability.ts), and the shapes it reads and writes in summary.ts.
import type { RunConfig } from '../schema/run-config.js';
import { PROBES } from '../models/config.js';
import { Rng } from '../rng.js';
import { forecastRow } from './forecast-report.js';
import { necessityTable } from '../analysis/necessity.js';
import { phaseCheck } from '../analysis/phases.js';
import { bootstrapMeanDiffCI, cohensD, mean, pearson, summarize, welchTest } from '../analysis/stats.js';
import { estimateThreshold, leaveOneSeedOut } from '../analysis/threshold.js';
import { belowAtMem, markersOf, tCross, tGrok, tMem, warningTiming, type EventRules, type RunTrace } from '../analysis/trace.js';
import type { AlarmFrom } from '../analysis/events.js';
import { onsetRow, type OnsetRun } from './onset-report.js';
import type { StudySpec } from '../schema/study-spec.js';
import { judgeClaims } from './claims.js';
import { isControlKey } from './spec.js';
import { heldAboveThreshold, manipulationWindow } from './manipulation.js';
import { detectionReport } from './detection-report.js';
import { traceOf } from '../library/traces.js';
import { SUMMARY_VERSION, type AnalysisInput, type GroupRow, type InterventionRow, type StudyRunData, type StudySummary } from './summary.js';
export { SUMMARY_VERSION } from './summary.js';
export { heldAboveThreshold, manipulationWindow } from './manipulation.js';
export type { AnalysisInput, ClaimResult, Claims, GroupRow, InterventionRow, StudyRunData, StudySummary, TracedRunData, Verdict } from './summary.js';

function rulesOf(config: RunConfig, alarmFrom: AlarmFrom): EventRules {
  return { memThreshold: config.memThreshold, grokThreshold: config.grokThreshold, crossPersistence: config.crossPersistence, alarmFrom };
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
  /** The detection table (the verdicts do not use it; stability resamples leave it out). */
  detection?: boolean;
  /** The onset table, per probe (the verdicts do not use it; stability resamples leave it out). */
  onset?: boolean;
  /** From when a crossing counts as a warning (events.ts); default `memorisation`, recorded in `rules`. */
  alarmFrom?: AlarmFrom;
  /**
   * Which H̃* judges the tables' crossings: `fitted` (a study's protocol, default), each baseline
   * held out at the H̃* of the other seeds; `configured`, each run's own `entropyThreshold`, as
   * every workbench view judges it (`thresholds` still reports the fitted one).
   */
  threshold?: 'fitted' | 'configured';
  /** The probe whose H̃ the given traces carry (compare's probe selector); default the runs' configured probe. */
  probe?: RunConfig['probe'];
}

export function analyzeStudy(spec: StudySpec, data: AnalysisInput[], seed = 0, options: AnalyzeOptions = {}): StudySummary {
  if (data.length === 0) throw new Error(`study ${spec.name} has no completed runs to analyse`);
  const rules = rulesOf(data[0].run.config, options.alarmFrom ?? 'memorisation');
  const probe = options.probe ?? data[0].run.config.probe;
  const rng = new Rng(seed, 0x5eed);
  const traces = data.map((d) => ('trace' in d ? d.trace : traceOf(d.run, d.metrics, probe)));
  const configured = options.threshold === 'configured';
  const configuredById = new Map(data.map((d) => [d.run.id, d.run.config.entropyThreshold]));
  const configuredOf = (t: RunTrace): number => configuredById.get(t.id)!;
  // A spec's detection controls (spec.controls) join the detection table and the run list only.
  const main = data.filter((d) => !isControlKey(d.key));
  if (main.length === 0) throw new Error(`study ${spec.name} has no completed runs to analyse (only detection controls)`);
  const all = traces.filter((_, i) => !isControlKey(data[i].key));
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
      // One definition of a warning: a crossing from T_mem on, no later than T_grok (`warned`);
      // `precededGrokking` is the same count, kept under its old name for readers of version 1.
      const warned = held.filter((h) => h.warned);
      thresholds.push({
        task,
        arch,
        estimate,
        heldOut: {
          n: held.length,
          warned: warned.length,
          precededGrokking: warned.length,
          belowAtMem: held.filter((h) => h.belowAtMem).length,
          lead: summarize(warned.map((h) => h.lead!)),
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
      const runs = main.filter((d): d is StudyRunData => 'metrics' in d && d.run.config.task === task && d.run.config.arch === arch && d.run.config.condition === 'baseline');
      for (const p of PROBES) {
        if (!runs.every((d) => d.metrics.every((m) => m.entropy[p] !== undefined)) || runs.length === 0) continue;
        const traces = runs.map((d) => traceOf(d.run, d.metrics, p));
        const held = leaveOneSeedOut(traces, rules).filter((h) => h.T_grok !== null);
        const est = estimateThreshold(traces, rules, rng, 50);
        const leads = held.filter((h) => h.warned).map((h) => h.lead!);
        probes.push({ task, arch, probe: p, threshold: est.threshold, heldOutWarned: leads.length, heldOutN: held.length, leadMean: leads.length ? mean(leads) : null });
      }
    }
  }

  // Onset: where each probe's held-out crossing falls in the climb (onset-report.ts).
  const onset: StudySummary['onset'] = [];
  const onsetByRun = new Map<string, OnsetRun>();
  if (options.onset !== false) for (const task of tasks) {
    for (const arch of archs) {
      const base = select(task, arch, 'baseline');
      if (base.length === 0) continue;
      const runs = main.filter((d): d is StudyRunData => 'metrics' in d && d.run.config.task === task && d.run.config.arch === arch && d.run.config.condition === 'baseline');
      for (const p of PROBES) {
        // The study's probe from its traces (every input kind); the others from row objects that measured them.
        const traces = p === probe ? base : runs.length === base.length && runs.every((d) => d.metrics.some((m) => m.entropy[p] !== undefined)) ? runs.map((d) => traceOf(d.run, d.metrics, p)) : null;
        if (!traces) continue;
        if (configured && p !== probe) continue; // the configured H̃* is the shown probe's alone
        const { row, runs: perRun } = onsetRow(task, arch, p, traces, rules, rng, configured ? configuredOf(traces[0]) : undefined);
        onset.push(row);
        if (p === probe) for (const r of perRun) onsetByRun.set(r.id, r);
      }
    }
  }

  // Groups: crossing statistics with held-out thresholds for the runs H̃* was fitted on.
  const crossOf = (t: RunTrace): number | null => {
    if (configured) return tCross(t, configuredOf(t), rules);
    const held = heldOutByRun.get(t.id);
    if (held && t.condition === 'baseline') return held.T_cross;
    const h = taskThreshold.get(t.task);
    return h === null || h === undefined ? null : tCross(t, h, rules);
  };
  const belowOf = (t: RunTrace): boolean => {
    if (configured) return belowAtMem(t, configuredOf(t), rules);
    const held = heldOutByRun.get(t.id);
    if (held && t.condition === 'baseline') return held.belowAtMem;
    const h = taskThreshold.get(t.task);
    return h === null || h === undefined ? false : belowAtMem(t, h, rules);
  };
  const groups: GroupRow[] = [];
  for (const task of tasks) for (const arch of archs) for (const condition of spec.conditions) {
    const runs = select(task, arch, condition);
    if (runs.length === 0) continue;
    const groks = runs.map((t) => tGrok(t, rules));
    const crosses = runs.map(crossOf);
    const below = runs.filter((t) => belowOf(t)).length;
    const leads = runs.map((_, i) => (groks[i] !== null && crosses[i] !== null ? groks[i]! - crosses[i]! : null)).filter((x): x is number => x !== null);
    groups.push({
      task,
      arch,
      condition,
      n: runs.length,
      grokked: groks.filter((g) => g !== null).length,
      crossed: crosses.filter((c) => c !== null).length,
      belowAtMem: below,
      T_grok: summarize(groks.filter((g): g is number => g !== null)),
      lead: summarize(leads),
    });
  }

  // Manipulation check: did the intervention keep H̃ above H̃* while its own baseline collapsed?
  // Both runs are judged against the same H̃* (the task's, fitted on all its baselines).
  const baselineOf = new Map<string, RunTrace>();
  const pairKey = (t: RunTrace): string => `${t.task}\u0000${t.arch}\u0000${t.seed}`;
  for (const t of all) if (t.condition === 'baseline' && !baselineOf.has(pairKey(t))) baselineOf.set(pairKey(t), t);
  const heldByRun = new Map<string, boolean | null>();
  for (const t of all) {
    if (t.condition === 'baseline') continue;
    const baseline = baselineOf.get(pairKey(t));
    const h = configured ? configuredOf(t) : taskThreshold.get(t.task);
    const window = baseline && h !== null && h !== undefined ? manipulationWindow(tCross(baseline, h, rules), tGrok(baseline, rules), baseline.budget) : null;
    heldByRun.set(t.id, window ? heldAboveThreshold(t, h!, window, rules) : null);
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
        manipulation: {
          assessed: treated.filter((t) => heldByRun.get(t.id) != null).length,
          held: treated.filter((t) => heldByRun.get(t.id) === true).length,
        },
      });
    }
  }

  const forecast: StudySummary['forecast'] = [];
  if (options.forecast !== false) for (const task of tasks) for (const arch of archs) {
    const base = select(task, arch, 'baseline');
    const h = thresholds.find((r) => r.task === task && r.arch === arch)?.estimate.threshold ?? null;
    if (base.length === 0 || h === null) continue;
    forecast.push(forecastRow(task, arch, base, h, rules));
  }

  const necessity: StudySummary['necessity'] = [];
  for (const task of tasks) {
    const base = select(task, null, 'baseline');
    const h = configured ? (base.length ? configuredOf(base[0]) : null) : taskThreshold.get(task) ?? null;
    if (h === null) continue;
    for (const row of necessityTable(base, h, rules)) necessity.push({ task, threshold: h, ...row });
  }

  const phases: StudySummary['phases'] = [];
  const fourier: StudySummary['fourier'] = [];
  for (const task of tasks) for (const arch of archs) {
    const base = select(task, arch, 'baseline');
    if (base.length === 0) continue;
    // The two-phase pattern is a claim about runs that grok.
    const grokked = base.filter((t) => tGrok(t, rules) !== null);
    const normed = grokked.filter((t) => Array.prototype.some.call(t.weight_norm, (w: number) => Number.isFinite(w)));
    phases.push({ task, arch, n: normed.length, twoPhases: normed.filter((t) => phaseCheck(t).twoPhases).length, notMeasured: grokked.length - normed.length });
    const cors = base
      .filter((t) => t.fourier)
      .map((t) => pearson(t.fourier!, Array.from(t.entropy, (e) => -e)))
      .filter((c): c is number => c !== null && Number.isFinite(c));
    fourier.push({ task, arch, n: cors.length, measured: base.filter((t) => t.fourier).length, meanCorrelation: cors.length ? mean(cors) : null });
  }

  const summary: Omit<StudySummary, 'claims'> = {
    version: SUMMARY_VERSION,
    study: spec.name,
    spec,
    probe,
    rules,
    groups,
    onset,
    thresholds,
    probes,
    interventions,
    forecast,
    necessity,
    phases,
    fourier,
    detection: options.detection === false ? [] : detectionReport(data, traces, probe, rules, rng),
    runs: data.map((d, i) => {
      const t = traces[i]; // the same trace objects: their event steps are memoised
      const g = tGrok(t, rules);
      const c = crossOf(t);
      const markers = markersOf(t, rules);
      const timing = warningTiming(t, markers, c);
      return {
        key: d.key,
        id: d.run.id,
        status: d.run.status,
        T_mem: tMem(t, rules),
        T_rise: markers.T_rise,
        T_loss_peak: markers.T_loss_peak,
        T_grok_50: markers.T_grok_50,
        T_grok: g,
        T_cross: c,
        belowAtMem: belowOf(t),
        lead: timing.leads.T_grok,
        leadRise: timing.leads.T_rise,
        leadLossPeak: timing.leads.T_loss_peak,
        leadGrok50: timing.leads.T_grok_50,
        testAccAtCross: timing.testAccAtCross,
        place: onsetByRun.get(t.id)?.place ?? null,
        heldAboveThreshold: heldByRun.get(t.id) ?? null,
      };
    }),
  };
  return { ...summary, claims: judgeClaims(summary, spec) };
}
