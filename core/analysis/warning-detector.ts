import type { Rng } from '../rng.js';
import { crossingProfile } from './crossing.js';
import { auroc, aurocCI, operatingPoint, rocCurve, type RocPoint } from './detection.js';
import { median } from './stats.js';
import { markersOf, tGrok, tMem, type EventRules, type RunTrace } from './trace.js';
import { valueAtStep } from './onset.js';
import { dmdResidual } from './dmd.js';
import { LOGPROB_QUANTILES } from '../schema/eval-record.js';

/**
 * The early warning judged as a detector (docs/methods.md, "The warning as a detector"; protocol
 * v2 registered in docs/preregistration.md §4): for a signal, an alarm at threshold θ fires once
 * the signal has stayed beyond θ for the crossing persistence (the rule of T_cross) in a window
 * that starts at or after T_mem, and it is known at the *last* evaluation of that window.
 * A run that groks within its budget is a positive and counts as detected when its alarm is known
 * before T_grok; a run that was watched to its budget without grokking is a negative, and any
 * alarm in it within the span the positives were watched (the median T_grok − T_mem of the row's
 * positives, from its own T_mem) is a false alarm. Runs that stopped early without grokking, or
 * never memorised, are neither.
 *
 * Each run's score is the deepest level the signal held for a whole window before its cutoff, so
 * "alarm at θ" is exactly "score beyond θ" and one sorted list of scores gives the ROC over all
 * thresholds. Runs whose signal was already beyond the operating threshold at T_mem are counted
 * apart at the operating point ("below at memorisation": under the crossing rule, no warning).
 */
export interface WarningSignal {
  name: string;
  /** Per evaluation, oriented so that the alarm is "falls below": NaN where not measured; null when the run lacks the signal. */
  falling: (trace: RunTrace) => ArrayLike<number> | null;
  /** The threshold in the signal's own units from the falling form's (negation for rising signals). */
  natural: (level: number) => number;
}

/** H̃ of the trace's probe: the paper's warning (falls through H̃*). */
export const ENTROPY_SIGNAL: WarningSignal = { name: 'H̃', falling: (t) => t.entropy, natural: (x) => x };

/** A series over its running peak (causal: the peak so far), NaN where missing. */
function overRunningPeak(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let peak = -Infinity;
  for (let i = 0; i < out.length; i++) {
    const w = values[i];
    if (w > peak) peak = w;
    out[i] = Number.isNaN(w) || peak <= 0 ? NaN : w / peak;
  }
  return out;
}

/** ‖θ‖ over its running peak: the weight norm's fall after memorisation, comparable across runs of any size. */
export const NORM_SIGNAL: WarningSignal = { name: 'weight norm / peak', falling: (t) => overRunningPeak(t.weight_norm), natural: (x) => x };

/**
 * The effective logit scale over its running peak: the same reading as the norm's (weight decay
 * shrinks the memorising solution's confident logits), chosen before any run was scored with it.
 */
export const LOGIT_SCALE_SIGNAL: WarningSignal = {
  name: 'logit scale / peak',
  falling: (t) => (t.scalars?.logit_scale ? overRunningPeak(t.scalars.logit_scale) : null),
  natural: (x) => x,
};

/**
 * The effective rank of the embedding or the unembedding over its running peak (falls): the
 * memorising solution spreads over many directions, the generalising one is carried by a few
 * Fourier frequencies. Direction fixed before any run was scored with it.
 */
export const ERANK_SIGNALS: WarningSignal[] = (['embed', 'W_U'] as const).map((m) => ({
  name: `effective rank ${m} / peak`,
  falling: (t: RunTrace) => (t.scalars?.[`erank/${m}`] ? overRunningPeak(t.scalars[`erank/${m}`]) : null),
  natural: (x: number) => x,
}));

/** Fourier top-k share of the embedding (cyclic tasks): rises as the Fourier features form. */
export const FOURIER_SIGNAL: WarningSignal = {
  name: 'Fourier top-k share',
  falling: (t) => (t.fourier ? Float64Array.from(t.fourier, (x) => -x) : null),
  natural: (x) => -x,
};

/**
 * Nanda's progress measures as warnings (docs/methods.md, "Progress measures"; directions from his
 * account, fixed before any run was scored): the restricted loss falls before the test loss does;
 * the excluded loss rises while the circuit forms.
 */
export const PROGRESS_SIGNALS: WarningSignal[] = [
  { name: 'restricted loss', falling: (t) => t.scalars?.['progress/restricted_loss'] ?? null, natural: (x) => x },
  {
    name: 'excluded loss',
    falling: (t) => (t.scalars?.['progress/excluded_loss'] ? Float64Array.from(t.scalars['progress/excluded_loss'], (x) => -x) : null),
    natural: (x) => -x,
  },
];

/** Wang et al.'s warning: the Hankel-DMD residual of the log-probability quantiles (analysis/dmd.ts) rises where the dynamics change. */
export const DMD_SIGNAL: WarningSignal = {
  name: 'DMD residual (log-prob quantiles)',
  falling: (t) => {
    const cols = LOGPROB_QUANTILES.map((q) => t.scalars?.[`logprob_q/${Math.round(100 * q)}`]);
    if (cols.some((c) => !c)) return null;
    return Float64Array.from(dmdResidual(cols as ArrayLike<number>[]), (x) => -x);
  },
  natural: (x) => -x,
};

/**
 * Label-reading baselines (protocol v2): what the test set itself says, beside the signals that
 * read test labels (restricted loss, DMD residual). Test loss over its running peak falls as the
 * memorising solution's test loss turns down; test accuracy rises.
 */
export const TEST_LOSS_SIGNAL: WarningSignal = {
  name: 'test loss / peak †',
  falling: (t) => (t.test_loss && Array.prototype.some.call(t.test_loss, (x: number) => Number.isFinite(x)) ? overRunningPeak(t.test_loss) : null),
  natural: (x) => x,
};
export const TEST_ACC_SIGNAL: WarningSignal = { name: 'test accuracy †', falling: (t) => Float64Array.from(t.test_acc, (x) => -x), natural: (x) => -x };

/** Xu's warning: the spectral-edge gap of the last parameter updates (spectra/spectral-edge.ts) grows before grokking; negated. */
export const UPDATE_GAP_SIGNAL: WarningSignal = {
  name: 'spectral-edge gap of updates',
  falling: (t) => (t.scalars?.update_gap ? Float64Array.from(t.scalars.update_gap, (x) => -x) : null),
  natural: (x) => -x,
};

export interface DetectionRow {
  task: string;
  signal: string;
  /** Which runs are the negatives: `all` (every run trained to its budget without grokking) or one kind of them (detection-report.ts). */
  negativeKind: string;
  positives: number;
  negatives: number;
  auroc: number | null;
  aurocCI: [number, number] | null;
  /** The operating point with the largest TPR − FPR (Youden), in the signal's units; null without both classes. */
  threshold: number | null;
  falseAlarmRate: number | null;
  truePositiveRate: number | null;
  /** Median steps from a detected positive's alarm to its T_grok, at that operating point. */
  leadMedian: number | null;
  /** The same against T_rise (negative: the alarm came after test accuracy had begun to rise). */
  leadRiseMedian?: number | null;
  /** Median test accuracy at a detected positive's alarm (when it is known). */
  testAccAtAlarmMedian?: number | null;
  /** At the operating point: runs whose signal was already beyond the threshold at T_mem (counted in the rates above; no warning under the crossing rule). */
  beyondAtMem?: { positives: number; negatives: number };
  /** Steps a negative is watched from its T_mem: the median T_grok − T_mem of the row's positives (null: no positives, watched to the budget). */
  negativeSpan?: number | null;
  /** Within-setting negatives (same architecture, condition and hyperparameters as the positives): the headline column. */
  headline?: boolean;
  /** The same median at the operating point with the most detections and a false-alarm rate ≤ 10 %. */
  leadAtFpr10: number | null;
}

interface Scored {
  trace: RunTrace;
  /** Deepest window level before the cutoff (+∞: no complete window). */
  level: number;
  /** Window levels (running minimum) and the step at which each window's alarm is known, windows from T_mem on. */
  levels: Float64Array;
  known: Float64Array;
  grok: number | null;
  mem: number;
  /** The signal at the first evaluation from T_mem on that measured it (+∞: none). */
  atMem: number;
}

/** A run's windows from T_mem on (null: it never memorised, and takes no part). */
function windowsOf(trace: RunTrace, values: ArrayLike<number>, rules: EventRules): Omit<Scored, 'level'> | null {
  const fromStart = rules.alarmFrom === 'start';
  const mem = fromStart ? (trace.step.length ? trace.step[0] : null) : tMem(trace, rules);
  if (mem === null) return null;
  let from = 0;
  // The rule before 2026-12-05 (alarmFrom 'start'): windows from the first evaluation.
  while (from < trace.step.length && trace.step[from] < mem) from++;
  const p = Math.max(1, Math.floor(rules.crossPersistence));
  // Views, not copies, of typed columns (a generic slice of 100 runs × 10,000 values per signal
  // was most of a compare's detector table: measured 760 ms of ~650 ms × 3 repetitions' profile).
  const tail = (a: ArrayLike<number>): ArrayLike<number> => (ArrayBuffer.isView(a) ? (a as Float64Array).subarray(from) : (Array.prototype.slice.call(a, from) as number[]));
  const steps = tail(trace.step);
  const profile = crossingProfile(steps, tail(values), p);
  const known = new Float64Array(profile.steps.length);
  for (let i = 0; i < known.length; i++) known[i] = steps[i + p - 1];
  let atMem = Infinity;
  for (let i = from; i < values.length; i++) {
    if (!Number.isNaN(values[i])) {
      atMem = values[i];
      break;
    }
  }
  return { trace, levels: profile.level, known, grok: tGrok(trace, rules), mem, atMem };
}

function withCutoff(w: Omit<Scored, 'level'>, cutoff: number): Scored {
  let level = Infinity;
  for (let i = 0; i < w.known.length && w.known[i] < cutoff; i++) level = w.levels[i];
  return { ...w, level };
}

/** Leads (against T_grok and T_rise) and test accuracy at the alarm of the positives detected when the alarm is "level ≤ bound". */
function atOperatingPoint(positives: Scored[], bound: number, rules: EventRules): { lead: number | null; leadRise: number | null; acc: number | null } {
  const leads: number[] = [];
  const rises: number[] = [];
  const accs: number[] = [];
  for (const r of positives) {
    if (!(r.level <= bound)) continue;
    let i = 0;
    while (i < r.levels.length && !(r.levels[i] <= bound)) i++;
    const alarm = r.known[i];
    leads.push(r.grok! - alarm);
    const rise = markersOf(r.trace, rules).T_rise;
    if (rise !== null) rises.push(rise - alarm);
    const acc = valueAtStep(r.trace.step, r.trace.test_acc, alarm);
    if (acc !== null) accs.push(acc);
  }
  const med = (xs: number[]): number | null => (xs.length ? median(xs) : null);
  return { lead: med(leads), leadRise: med(rises), acc: med(accs) };
}

export interface DetectionRun {
  trace: RunTrace;
  /** Trained to its whole budget (so a run without T_grok is a true non-grokker). */
  observedToBudget: boolean;
  /** Counted only in that class (a per-kind row: other settings' runs are positives only, the kind's controls negatives only). */
  only?: 'positive' | 'negative';
}

export function detectionRow(task: string, signal: WarningSignal, runs: DetectionRun[], rules: EventRules, rng: Rng, resamples = 2000, negativeKind = 'all', headline = false): DetectionRow {
  const pos: Scored[] = [];
  const negWindows: Omit<Scored, 'level'>[] = [];
  for (const { trace, observedToBudget, only } of runs) {
    const values = signal.falling(trace);
    if (!values) continue;
    const w = windowsOf(trace, values, rules);
    if (!w) continue;
    if (w.grok !== null) {
      if (only !== 'negative') pos.push(withCutoff(w, w.grok));
    } else if (observedToBudget && only !== 'positive') negWindows.push(w);
  }
  // The same span for both classes: a negative is watched from its T_mem for as long as the
  // median positive was (T_mem to T_grok), at most to its budget.
  const span = pos.length && rules.alarmFrom !== 'start' ? median(pos.map((r) => r.grok! - r.mem)) : null;
  const neg = negWindows.map((w) => withCutoff(w, span === null ? Infinity : w.mem + span));
  // Higher score = earlier/deeper alarm: the negated level (+∞ level → −∞ score, never alarms).
  const ps = pos.map((r) => -r.level);
  const ns = neg.map((r) => -r.level);
  const row: DetectionRow = { task, signal: signal.name, negativeKind, positives: pos.length, negatives: neg.length, auroc: auroc(ps, ns), aurocCI: null, threshold: null, falseAlarmRate: null, truePositiveRate: null, leadMedian: null, leadAtFpr10: null, leadRiseMedian: null, testAccAtAlarmMedian: null, beyondAtMem: { positives: 0, negatives: 0 }, negativeSpan: span, headline };
  if (row.auroc === null) return row;
  row.aurocCI = aurocCI(ps, ns, rng, resamples);
  const finite = (p: RocPoint): boolean => Number.isFinite(p.threshold);
  const youden = rocCurve(ps, ns).filter(finite).reduce<RocPoint | null>((best, p) => (best === null || p.tpr - p.fpr > best.tpr - best.fpr ? p : best), null);
  if (youden) {
    row.threshold = signal.natural(-youden.threshold);
    row.falseAlarmRate = youden.fpr;
    row.truePositiveRate = youden.tpr;
    const bound = -youden.threshold;
    const at = atOperatingPoint(pos, bound, rules);
    row.leadMedian = at.lead;
    row.leadRiseMedian = at.leadRise;
    row.testAccAtAlarmMedian = at.acc;
    row.beyondAtMem = { positives: pos.filter((r) => r.level <= bound && r.atMem <= bound).length, negatives: neg.filter((r) => r.level <= bound && r.atMem <= bound).length };
  }
  const at10 = operatingPoint(ps, ns, 0.1);
  if (at10 && Number.isFinite(at10.threshold)) row.leadAtFpr10 = atOperatingPoint(pos, -at10.threshold, rules).lead;
  return row;
}
