import { crossingStep, firstStep, type EventSeriesPoint } from './events.js';

/**
 * One run as the analysis sees it: its identity and the series of one probe. Treated as
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
  points: EventSeriesPoint[];
  weightNorm: number[];
  /** Fourier top-k share per point (cyclic tasks), else null. */
  fourier: number[] | null;
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
  /** persistence → threshold → step */
  cross: Map<number, Map<number, number | null>>;
}
const cache = new WeakMap<RunTrace, EventCache>();
function cacheOf(trace: RunTrace): EventCache {
  let c = cache.get(trace);
  if (!c) cache.set(trace, (c = { mem: new Map(), grok: new Map(), cross: new Map() }));
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
  return memo(cacheOf(trace).mem, rules.memThreshold, () => firstStep(trace.points, (p) => p.trainAcc >= rules.memThreshold));
}

export function tGrok(trace: RunTrace, rules: EventRules): number | null {
  return memo(cacheOf(trace).grok, rules.grokThreshold, () => firstStep(trace.points, (p) => p.testAcc >= rules.grokThreshold));
}

export function tCross(trace: RunTrace, threshold: number, rules: EventRules): number | null {
  const byPersistence = cacheOf(trace).cross;
  let m = byPersistence.get(rules.crossPersistence);
  if (!m) byPersistence.set(rules.crossPersistence, (m = new Map()));
  return memo(m, threshold, () => crossingStep(trace.points, threshold, rules.crossPersistence));
}
