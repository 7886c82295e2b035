import { crossingFromProfile, crossingProfile, type CrossingProfile } from './crossing.js';
import type { EventSeriesPoint } from './events.js';

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
  step: ArrayLike<number>;
  train_acc: ArrayLike<number>;
  test_acc: ArrayLike<number>;
  /** H̃ of the probe that defines crossings; NaN where it was not measured. */
  entropy: ArrayLike<number>;
  weight_norm: ArrayLike<number>;
  /** Fourier top-k share per evaluation (cyclic tasks), else null. */
  fourier: ArrayLike<number> | null;
  /** Evaluation scalars (logit_scale, erank/embed, …) recorded at every evaluation, by name (runs since 2026-11-30). */
  scalars?: Record<string, ArrayLike<number>>;
}

export type TraceIdentity = Pick<RunTrace, 'id' | 'task' | 'arch' | 'condition' | 'seed' | 'budget'>;

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
  /** persistence → the run's crossing steps for every threshold (crossing.ts) */
  cross: Map<number, CrossingProfile>;
  /** persistence → grid → crossing step per grid value (NaN: none) */
  grid: Map<number, WeakMap<readonly number[], Float64Array>>;
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

export function tCross(trace: RunTrace, threshold: number, rules: EventRules): number | null {
  return crossingFromProfile(profileOf(trace, rules), threshold);
}

function profileOf(trace: RunTrace, rules: EventRules): CrossingProfile {
  const byPersistence = cacheOf(trace).cross;
  let profile = byPersistence.get(rules.crossPersistence);
  if (!profile) byPersistence.set(rules.crossPersistence, (profile = crossingProfile(trace.step, trace.entropy, rules.crossPersistence)));
  return profile;
}

/**
 * `tCross` at every value of a threshold grid (NaN where the run never crosses), memoised per
 * trace and grid: the H̃* fit scores the same grid once per held-out seed.
 */
export function tCrossOnGrid(trace: RunTrace, grid: readonly number[], rules: EventRules): Float64Array {
  const c = cacheOf(trace);
  let byGrid = c.grid.get(rules.crossPersistence);
  if (!byGrid) c.grid.set(rules.crossPersistence, (byGrid = new WeakMap()));
  let out = byGrid.get(grid);
  if (!out) {
    const profile = profileOf(trace, rules);
    out = Float64Array.from(grid, (h) => crossingFromProfile(profile, h) ?? NaN);
    byGrid.set(grid, out);
  }
  return out;
}
