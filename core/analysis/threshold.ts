import { Rng } from '../rng.js';
import { bootstrapCI, mean, median, std } from './stats.js';
import { tCross, tCrossOnGrid, tGrok, tMem, type EventRules, type RunTrace } from './trace.js';

/**
 * Estimating H̃* (docs/methods.md, "Estimating H̃*"). Our definition of "the value that makes crossing precede grokking
 * in the most runs with the most stable lead": a crossing is a *warning* for a run when it falls
 * after memorisation and no later than grokking (T_mem ≤ T_cross ≤ T_grok) — a threshold above
 * the initial entropy "crosses" at step 0 and warns of nothing, so it must not count. Over a grid
 * of candidate thresholds we take the one with the most warnings, then the smallest spread
 * (standard deviation) of the lead T_grok − T_cross, then the median of any remaining tie.
 * Only grokked runs enter. The estimate is evaluated on held-out seeds (leaveOneSeedOut).
 */
export const DEFAULT_GRID = Array.from({ length: 171 }, (_, i) => +(0.1 + i * 0.005).toFixed(3));

export interface ThresholdScore {
  threshold: number;
  warned: number;
  leadStd: number | null;
  leadMean: number | null;
}

export interface WarningCheck {
  id: string;
  seed: number;
  T_mem: number | null;
  T_grok: number | null;
  T_cross: number | null;
  lead: number | null;
  /** T_mem ≤ T_cross ≤ T_grok */
  warned: boolean;
}

/** A crossing warns of grokking when T_mem ≤ T_cross ≤ T_grok. */
function warns(mem: number | null, cross: number | null, grok: number | null): boolean {
  return mem !== null && grok !== null && cross !== null && cross >= mem && cross <= grok;
}

export function checkWarning(trace: RunTrace, threshold: number, rules: EventRules): WarningCheck {
  const mem = tMem(trace, rules);
  const grok = tGrok(trace, rules);
  const cross = tCross(trace, threshold, rules);
  const lead = grok !== null && cross !== null ? grok - cross : null;
  const warned = warns(mem, cross, grok);
  return { id: trace.id, seed: trace.seed, T_mem: mem, T_grok: grok, T_cross: cross, lead, warned };
}

/** A threshold's score from the leads of the runs it warned (in run order). */
function scoreOf(threshold: number, leads: number[]): ThresholdScore {
  return {
    threshold,
    warned: leads.length,
    leadStd: leads.length >= 2 ? std(leads) : leads.length === 1 ? 0 : null,
    leadMean: leads.length ? mean(leads) : null,
  };
}

/**
 * The best threshold for a set of grokked runs, or null when no threshold warns of any.
 * A run is warned at a grid value as in `checkWarning`, computed from each run's crossing steps
 * on the whole grid at once (no check object per run and value): the leave-one-seed-out fit
 * calls this once per seed (measured: the fit was ~1.5 s of a 100-run compare before).
 */
export function bestThreshold(traces: RunTrace[], rules: EventRules, grid = DEFAULT_GRID): number | null {
  const grokked = traces.filter((t) => tGrok(t, rules) !== null);
  if (grokked.length === 0) return null;
  const mems = grokked.map((t) => tMem(t, rules));
  const groks = grokked.map((t) => tGrok(t, rules)!);
  const crosses = grokked.map((t) => tCrossOnGrid(t, grid, rules));
  const scores: ThresholdScore[] = [];
  const leads: number[] = [];
  for (let g = 0; g < grid.length; g++) {
    const h = grid[g];
    leads.length = 0;
    for (let i = 0; i < grokked.length; i++) {
      const cross = crosses[i][g]; // NaN: no crossing
      if (!Number.isNaN(cross) && warns(mems[i], cross, groks[i])) leads.push(groks[i] - cross);
    }
    scores.push(scoreOf(h, leads));
  }
  const maxWarned = Math.max(...scores.map((s) => s.warned));
  if (maxWarned === 0) return null;
  const top = scores.filter((s) => s.warned === maxWarned);
  const minStd = Math.min(...top.map((s) => s.leadStd ?? Infinity));
  const tied = top.filter((s) => (s.leadStd ?? Infinity) <= minStd + 1e-9).map((s) => s.threshold);
  // The median of a tie, snapped to a grid value that is itself tied.
  const m = median(tied);
  return tied.reduce((best, h) => (Math.abs(h - m) < Math.abs(best - m) ? h : best), tied[0]);
}

export interface ThresholdEstimate {
  threshold: number | null;
  /** Percentile bootstrap CI over runs (resampled with replacement). */
  ci: [number, number] | null;
  /** Per-run best thresholds: their spread across seeds. */
  perRun: { id: string; seed: number; threshold: number | null }[];
  perRunStd: number | null;
  nGrokked: number;
}

export function estimateThreshold(traces: RunTrace[], rules: EventRules, rng: Rng, resamples = 500, grid = DEFAULT_GRID): ThresholdEstimate {
  const grokked = traces.filter((t) => tGrok(t, rules) !== null);
  const threshold = bestThreshold(grokked, rules, grid);
  const ci = grokked.length >= 2 && resamples > 0 ? bootstrapCI(grokked, (s) => bestThreshold(s, rules, grid) ?? NaN, rng, resamples) : null;
  const perRun = grokked.map((t) => ({ id: t.id, seed: t.seed, threshold: bestThreshold([t], rules, grid) }));
  const values = perRun.map((r) => r.threshold).filter((x): x is number => x !== null);
  return { threshold, ci, perRun, perRunStd: values.length >= 2 ? std(values) : null, nGrokked: grokked.length };
}

export interface HeldOutCheck extends WarningCheck {
  /** The threshold fitted without this run's seed. */
  threshold: number | null;
}

/** Leave-one-seed-out: fit H̃* on the other seeds' runs, test it on this seed's runs. */
export function leaveOneSeedOut(traces: RunTrace[], rules: EventRules, grid = DEFAULT_GRID): HeldOutCheck[] {
  const seeds = [...new Set(traces.map((t) => t.seed))].sort((a, b) => a - b);
  const out: HeldOutCheck[] = [];
  for (const seed of seeds) {
    const threshold = bestThreshold(traces.filter((t) => t.seed !== seed), rules, grid);
    for (const t of traces.filter((x) => x.seed === seed)) {
      const check = threshold === null ? { ...checkWarning(t, -1, rules), T_cross: null, lead: null, warned: false } : checkWarning(t, threshold, rules);
      out.push({ ...check, threshold });
    }
  }
  return out;
}
