import type { Rng } from '../rng.js';
import { crossingProfile } from './crossing.js';
import { auroc, aurocCI, operatingPoint, rocCurve, type RocPoint } from './detection.js';
import { median } from './stats.js';
import { tGrok, type EventRules, type RunTrace } from './trace.js';
import { dmdResidual } from './dmd.js';
import { LOGPROB_QUANTILES } from '../schema/eval-record.js';

/**
 * The early warning judged as a detector (docs/methods.md, "The warning as a detector"): for a
 * signal, an alarm at threshold θ fires once the signal has stayed beyond θ for the crossing
 * persistence (the rule of T_cross), and it is known at the *last* evaluation of that window.
 * A run that groks within its budget is a positive and counts as detected when its alarm is known
 * before T_grok; a run that was watched to its budget without grokking is a negative, and any
 * alarm in it is a false alarm. Runs that stopped early without grokking are neither.
 *
 * Each run's score is the deepest level the signal held for a whole window before its cutoff
 * (T_grok, or the budget), so "alarm at θ" is exactly "score beyond θ" and one sorted list of
 * scores gives the ROC over all thresholds.
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
  /** The same median at the operating point with the most detections and a false-alarm rate ≤ 10 %. */
  leadAtFpr10: number | null;
}

interface Scored {
  /** Deepest window level before the cutoff (+∞: no complete window). */
  level: number;
  /** Window levels (running minimum) and the step at which each window's alarm is known. */
  levels: Float64Array;
  known: Float64Array;
  grok: number | null;
}

function scoreRun(trace: RunTrace, values: ArrayLike<number>, rules: EventRules): Scored {
  const p = Math.max(1, Math.floor(rules.crossPersistence));
  const profile = crossingProfile(trace.step, values, p);
  const known = Float64Array.from(profile.steps, (_, i) => trace.step[i + p - 1]);
  const grok = tGrok(trace, rules);
  const cutoff = grok ?? Infinity;
  let level = Infinity;
  for (let i = 0; i < known.length && known[i] < cutoff; i++) level = profile.level[i];
  return { level, levels: profile.level, known, grok };
}

/** Median lead of the positives detected when the alarm is "level ≤ bound". */
function medianLead(positives: Scored[], bound: number): number | null {
  const leads: number[] = [];
  for (const r of positives) {
    if (!(r.level <= bound)) continue;
    let i = 0;
    while (i < r.levels.length && !(r.levels[i] <= bound)) i++;
    leads.push(r.grok! - r.known[i]);
  }
  return leads.length ? median(leads) : null;
}

export interface DetectionRun {
  trace: RunTrace;
  /** Trained to its whole budget (so a run without T_grok is a true non-grokker). */
  observedToBudget: boolean;
  /** Counted only in that class (a per-kind row: other settings' runs are positives only, the kind's controls negatives only). */
  only?: 'positive' | 'negative';
}

export function detectionRow(task: string, signal: WarningSignal, runs: DetectionRun[], rules: EventRules, rng: Rng, resamples = 2000, negativeKind = 'all'): DetectionRow {
  const pos: Scored[] = [];
  const neg: Scored[] = [];
  for (const { trace, observedToBudget, only } of runs) {
    const values = signal.falling(trace);
    if (!values) continue;
    const s = scoreRun(trace, values, rules);
    if (s.grok !== null) {
      if (only !== 'negative') pos.push(s);
    } else if (observedToBudget && only !== 'positive') neg.push(s);
  }
  // Higher score = earlier/deeper alarm: the negated level (+∞ level → −∞ score, never alarms).
  const ps = pos.map((r) => -r.level);
  const ns = neg.map((r) => -r.level);
  const row: DetectionRow = { task, signal: signal.name, negativeKind, positives: pos.length, negatives: neg.length, auroc: auroc(ps, ns), aurocCI: null, threshold: null, falseAlarmRate: null, truePositiveRate: null, leadMedian: null, leadAtFpr10: null };
  if (row.auroc === null) return row;
  row.aurocCI = aurocCI(ps, ns, rng, resamples);
  const finite = (p: RocPoint): boolean => Number.isFinite(p.threshold);
  const youden = rocCurve(ps, ns).filter(finite).reduce<RocPoint | null>((best, p) => (best === null || p.tpr - p.fpr > best.tpr - best.fpr ? p : best), null);
  if (youden) {
    row.threshold = signal.natural(-youden.threshold);
    row.falseAlarmRate = youden.fpr;
    row.truePositiveRate = youden.tpr;
    row.leadMedian = medianLead(pos, -youden.threshold);
  }
  const at10 = operatingPoint(ps, ns, 0.1);
  if (at10 && Number.isFinite(at10.threshold)) row.leadAtFpr10 = medianLead(pos, -at10.threshold);
  return row;
}
