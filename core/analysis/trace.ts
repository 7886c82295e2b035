import { crossingFromProfile, crossingProfile, type CrossingProfile } from './crossing.js';
import type { AlarmFrom, EventSeriesPoint } from './events.js';
import { leadsAgainst, tLossPeakOf, tRiseOf, valueAtStep, type MarkerLeads, type MarkerSteps } from './onset.js';

/**
 * One run as the analysis sees it: its identity and the series of one probe, as columns of
 * equal length (one entry per evaluation, steps ascending). Columns rather than one object per
 * evaluation: building 1,000,000 point objects (100 runs × 10,000 evaluations) took ~0.4 s of
 * allocation and garbage collection before the analysis started (measured). Treated as
 * immutable once built: its event steps are memoised per trace (see `memo`).
 */
export interface RunTrace {
  id: string;
  task: string;
  arch: string;
  condition: string;
  seed: number;
  /** Training budget in steps (a run that did not grok was watched this long). */
  budget: number;
  /** Chance accuracy of the task (1 / classes), for T_rise; absent or NaN: no T_rise. */
  chance?: number;
  step: ArrayLike<number>;
  train_acc: ArrayLike<number>;
  test_acc: ArrayLike<number>;
  /** Test loss per evaluation (NaN where not measured); absent for traces built without it. */
  test_loss?: ArrayLike<number>;
  /** H̃ of the probe that defines crossings; NaN where it was not measured. */
  entropy: ArrayLike<number>;
  weight_norm: ArrayLike<number>;
  /** Fourier top-k share per evaluation (cyclic tasks), else null. */
  fourier: ArrayLike<number> | null;
  /** Evaluation scalars (logit_scale, erank/embed, …) recorded at every evaluation, by name (runs since 2026-11-30). */
  scalars?: Record<string, ArrayLike<number>>;
}

export type TraceIdentity = Pick<RunTrace, 'id' | 'task' | 'arch' | 'condition' | 'seed' | 'budget'> & { chance?: number };

/** A trace from per-evaluation points (tests, small series); missing H̃ becomes NaN. */
export function traceFromPoints(
  identity: TraceIdentity,
  points: readonly EventSeriesPoint[],
  weight_norm: ArrayLike<number> = new Float64Array(points.length).fill(NaN),
  fourier: ArrayLike<number> | null = null,
): RunTrace {
  return {
    ...identity,
    step: Float64Array.from(points, (p) => p.step),
    train_acc: Float64Array.from(points, (p) => p.train_acc),
    test_acc: Float64Array.from(points, (p) => p.test_acc),
    ...(points.some((p) => p.test_loss !== undefined) ? { test_loss: Float64Array.from(points, (p) => p.test_loss ?? NaN) } : {}),
    entropy: Float64Array.from(points, (p) => p.entropy ?? NaN),
    weight_norm,
    fourier,
  };
}

/** Step of the first evaluation whose value reaches `threshold`, or null. */
function firstReaching(step: ArrayLike<number>, values: ArrayLike<number>, threshold: number): number | null {
  for (let i = 0; i < values.length; i++) if (values[i] >= threshold) return step[i];
  return null;
}

export interface EventRules {
  memThreshold: number;
  grokThreshold: number;
  crossPersistence: number;
  /** From when a crossing counts as a warning (events.ts `AlarmFrom`); default `memorisation`. */
  alarmFrom?: AlarmFrom;
}

/**
 * Event steps are pure functions of a trace and a rule, and the threshold fit asks for the same
 * ones over and over (171 candidate thresholds × bootstrap resamples × runs, each a scan of every
 * evaluation): measured, `compare` on 100 runs × 10,000 evaluations did not finish in minutes
 * without this cache. Keyed by the trace object, so a trace that is garbage is forgotten.
 */
interface EventCache {
  mem: Map<number, number | null>;
  grok: Map<number, number | null>;
  /** warning rule (warningKey) → the run's warning crossings for every threshold */
  cross: Map<string, WarningProfile>;
  /** warning rule → grid → warning step per grid value (NaN: none, or below at memorisation) */
  grid: Map<string, WeakMap<readonly number[], Float64Array>>;
}
const cache = new WeakMap<RunTrace, EventCache>();
function cacheOf(trace: RunTrace): EventCache {
  let c = cache.get(trace);
  if (!c) cache.set(trace, (c = { mem: new Map(), grok: new Map(), cross: new Map(), grid: new Map() }));
  return c;
}
function memo(m: Map<number, number | null>, key: number, compute: () => number | null): number | null {
  const hit = m.get(key);
  if (hit !== undefined) return hit;
  const v = compute();
  m.set(key, v);
  return v;
}

export function tMem(trace: RunTrace, rules: EventRules): number | null {
  return memo(cacheOf(trace).mem, rules.memThreshold, () => firstReaching(trace.step, trace.train_acc, rules.memThreshold));
}

export function tGrok(trace: RunTrace, rules: EventRules): number | null {
  return memo(cacheOf(trace).grok, rules.grokThreshold, () => firstReaching(trace.step, trace.test_acc, rules.grokThreshold));
}

/**
 * The one definition of a warning (events.ts `WarningDetector`), for every threshold at once: the
 * crossing profile of the evaluations from T_mem on, and H̃ at the first of them that measured it
 * (below a threshold there: "below at memorisation", no warning). With alarmFrom `start`, the
 * profile of the whole series and no such check.
 */
interface WarningProfile {
  profile: CrossingProfile;
  /** H̃ at the first measured evaluation from T_mem on (+∞ with alarmFrom `start`, or when none: never below). */
  atMem: number;
  /** No T_mem under the memorisation rule: nothing can warn. */
  never: boolean;
}

const warningKey = (rules: EventRules): string => `${rules.crossPersistence}|${rules.memThreshold}|${rules.alarmFrom ?? 'memorisation'}`;

function warningProfileOf(trace: RunTrace, rules: EventRules): WarningProfile {
  const byRule = cacheOf(trace).cross;
  const key = warningKey(rules);
  let w = byRule.get(key);
  if (w) return w;
  if ((rules.alarmFrom ?? 'memorisation') === 'start') {
    w = { profile: crossingProfile(trace.step, trace.entropy, rules.crossPersistence), atMem: Infinity, never: false };
  } else {
    let from = -1;
    for (let i = 0; i < trace.train_acc.length; i++) {
      if (trace.train_acc[i] >= rules.memThreshold) {
        from = i;
        break;
      }
    }
    if (from < 0) w = { profile: crossingProfile([], [], rules.crossPersistence), atMem: Infinity, never: true };
    else {
      let atMem = Infinity;
      for (let i = from; i < trace.entropy.length; i++) {
        if (!Number.isNaN(trace.entropy[i])) {
          atMem = trace.entropy[i];
          break;
        }
      }
      const tail = <T extends ArrayLike<number>>(a: T): number[] => Array.prototype.slice.call(a, from) as number[];
      w = { profile: crossingProfile(tail(trace.step), tail(trace.entropy), rules.crossPersistence), atMem, never: false };
    }
  }
  byRule.set(key, w);
  return w;
}

function warningFrom(w: WarningProfile, threshold: number): number | null {
  if (w.never || w.atMem < threshold) return null;
  return crossingFromProfile(w.profile, threshold);
}

/** The warning crossing at a threshold: from T_mem on, none when below at memorisation (events.ts `WarningDetector`). */
export function tCross(trace: RunTrace, threshold: number, rules: EventRules): number | null {
  return warningFrom(warningProfileOf(trace, rules), threshold);
}

/** Whether H̃ was already below the threshold at T_mem (so the run warns of nothing at it). */
export function belowAtMem(trace: RunTrace, threshold: number, rules: EventRules): boolean {
  const w = warningProfileOf(trace, rules);
  return !w.never && w.atMem < threshold;
}

/**
 * `tCross` at every value of a threshold grid (NaN where the run never warns), memoised per
 * trace and grid: the H̃* fit scores the same grid once per held-out seed.
 */
export function tCrossOnGrid(trace: RunTrace, grid: readonly number[], rules: EventRules): Float64Array {
  const c = cacheOf(trace);
  const key = warningKey(rules);
  let byGrid = c.grid.get(key);
  if (!byGrid) c.grid.set(key, (byGrid = new WeakMap()));
  let out = byGrid.get(grid);
  if (!out) {
    const w = warningProfileOf(trace, rules);
    out = Float64Array.from(grid, (h) => warningFrom(w, h) ?? NaN);
    byGrid.set(grid, out);
  }
  return out;
}

/** A run's onset markers (onset.ts) by its rules. */
export function markersOf(trace: RunTrace, rules: EventRules): MarkerSteps {
  const grok = tGrok(trace, rules);
  return {
    T_rise: tRiseOf(trace.step, trace.test_acc, trace.chance ?? NaN),
    T_loss_peak: tLossPeakOf(trace.step, trace.test_loss, tMem(trace, rules), grok),
    T_grok_50: firstReaching(trace.step, trace.test_acc, 0.5),
    T_grok: grok,
  };
}

/** A warning at `step` judged against the run's climb: leads against every marker and test accuracy at the warning. */
export interface WarningTiming {
  T_cross: number | null;
  leads: MarkerLeads;
  testAccAtCross: number | null;
}

export function warningTiming(trace: RunTrace, markers: MarkerSteps, step: number | null): WarningTiming {
  return { T_cross: step, leads: leadsAgainst(markers, step), testAccAtCross: valueAtStep(trace.step, trace.test_acc, step) };
}
