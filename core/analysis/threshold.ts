import { Rng } from '../rng.js';
import { bootstrapCI, median, std } from './stats.js';
import { belowAtMem, tCross, tCrossOnGrid, tGrok, tMem, type EventRules, type RunTrace } from './trace.js';

/**
 * Estimating H̃* (docs/methods.md, "Estimating H̃*"; rule registered in docs/preregistration.md §4
 * on 2026-12-05 before any study used it). A crossing is a *warning* for a run under the one
 * definition of events.ts: counted from T_mem on, none when H̃ is already below at memorisation,
 * and it must come no later than grokking (T_cross ≤ T_grok). Over a grid of candidate thresholds,
 * the *admissible band* is the longest run of consecutive grid values that warn the most grokked
 * runs; H̃* is its midpoint.
 *
 * Why the midpoint (the rule before 2026-12-05 took, among the values warning the most runs, the
 * one with the smallest spread of leads): leads shrink as the threshold drops, so the spread is
 * smallest at the band's lower edge, and the old rule sat there — where a held-out run that
 * collapses a little less deeply is the first to be missed. The band's upper edge fails the other
 * way (a run already below at memorisation). The midpoint keeps the largest margin to both.
 * Only grokked runs enter; the estimate is evaluated on held-out seeds (leaveOneSeedOut).
 */
export const DEFAULT_GRID = Array.from({ length: 171 }, (_, i) => +(0.1 + i * 0.005).toFixed(3));

export interface WarningCheck {
  id: string;
  seed: number;
  T_mem: number | null;
  T_grok: number | null;
  /** The warning crossing (from T_mem on). */
  T_cross: number | null;
  lead: number | null;
  /** T_mem ≤ T_cross ≤ T_grok */
  warned: boolean;
  /** H̃ already below the threshold at T_mem: reported apart, never a warning. */
  belowAtMem: boolean;
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
  return { id: trace.id, seed: trace.seed, T_mem: mem, T_grok: grok, T_cross: cross, lead, warned, belowAtMem: belowAtMem(trace, threshold, rules) };
}

export interface ThresholdBand {
  /** The midpoint of the band. */
  threshold: number;
  /** The admissible band: lowest and highest grid value of the longest run of values warning the most runs. */
  band: [number, number];
  /** How many grokked runs every value of the band warns, of how many. */
  warned: number;
  n: number;
  /** The values warning the most runs form more than one run of the grid (the band is the longest). */
  split: boolean;
}

/** Warned-run count at every grid value. */
function warnedOnGrid(grokked: RunTrace[], rules: EventRules, grid: readonly number[]): number[] {
  const mems = grokked.map((t) => tMem(t, rules));
  const groks = grokked.map((t) => tGrok(t, rules)!);
  const crosses = grokked.map((t) => tCrossOnGrid(t, grid, rules));
  return grid.map((_, g) => {
    let warned = 0;
    for (let i = 0; i < grokked.length; i++) {
      const cross = crosses[i][g]; // NaN: no warning
      if (!Number.isNaN(cross) && warns(mems[i], cross, groks[i])) warned++;
    }
    return warned;
  });
}

/**
 * The admissible band and its midpoint for a set of runs (grokked ones enter), or null when no
 * threshold warns of any. Equal longest runs: the one whose centre lies nearest the median of
 * every value warning the most runs, then the lower.
 */
export function thresholdBand(traces: RunTrace[], rules: EventRules, grid: readonly number[] = DEFAULT_GRID): ThresholdBand | null {
  const grokked = traces.filter((t) => tGrok(t, rules) !== null);
  if (grokked.length === 0) return null;
  const counts = warnedOnGrid(grokked, rules, grid);
  const most = Math.max(...counts);
  if (most === 0) return null;
  const runs: [number, number][] = [];
  for (let g = 0; g < grid.length; g++) {
    if (counts[g] !== most) continue;
    if (runs.length && runs[runs.length - 1][1] === g - 1) runs[runs.length - 1][1] = g;
    else runs.push([g, g]);
  }
  const admissibleMedian = median(runs.flatMap(([a, b]) => grid.slice(a, b + 1)));
  const centre = ([a, b]: [number, number]): number => (grid[a] + grid[b]) / 2;
  const [a, b] = runs.reduce((best, r) => {
    const len = r[1] - r[0];
    const bestLen = best[1] - best[0];
    if (len !== bestLen) return len > bestLen ? r : best;
    return Math.abs(centre(r) - admissibleMedian) < Math.abs(centre(best) - admissibleMedian) ? r : best;
  });
  // Off the grid, the midpoint could in principle fall where a run's own interval ends: then the
  // band's middle grid value (the lower of two) stands in, which warns the most by construction.
  const mid = +centre([a, b]).toFixed(4);
  const warnedAtMid = grokked.filter((t) => checkWarning(t, mid, rules).warned).length;
  return { threshold: warnedAtMid === most ? mid : grid[a + Math.floor((b - a) / 2)], band: [grid[a], grid[b]], warned: most, n: grokked.length, split: runs.length > 1 };
}

/** H̃* for a set of runs (the midpoint of its admissible band), or null when no threshold warns of any. */
export function bestThreshold(traces: RunTrace[], rules: EventRules, grid: readonly number[] = DEFAULT_GRID): number | null {
  return thresholdBand(traces, rules, grid)?.threshold ?? null;
}

export interface ThresholdEstimate {
  threshold: number | null;
  /** The admissible band the threshold is the midpoint of (thresholdBand), with its counts; null without a threshold. */
  band: ThresholdBand | null;
  /** Percentile bootstrap CI over runs (resampled with replacement). */
  ci: [number, number] | null;
  /** Per-run best thresholds: their spread across seeds. */
  perRun: { id: string; seed: number; threshold: number | null }[];
  perRunStd: number | null;
  nGrokked: number;
}

export function estimateThreshold(traces: RunTrace[], rules: EventRules, rng: Rng, resamples = 500, grid: readonly number[] = DEFAULT_GRID): ThresholdEstimate {
  const grokked = traces.filter((t) => tGrok(t, rules) !== null);
  const band = thresholdBand(grokked, rules, grid);
  const threshold = band?.threshold ?? null;
  const ci = grokked.length >= 2 && resamples > 0 ? bootstrapCI(grokked, (s) => bestThreshold(s, rules, grid) ?? NaN, rng, resamples) : null;
  const perRun = grokked.map((t) => ({ id: t.id, seed: t.seed, threshold: bestThreshold([t], rules, grid) }));
  const values = perRun.map((r) => r.threshold).filter((x): x is number => x !== null);
  return { threshold, band, ci, perRun, perRunStd: values.length >= 2 ? std(values) : null, nGrokked: grokked.length };
}

export interface HeldOutCheck extends WarningCheck {
  /** The threshold fitted without this run's seed. */
  threshold: number | null;
}

/** Leave-one-seed-out: fit H̃* on the other seeds' runs, test it on this seed's runs. */
export function leaveOneSeedOut(traces: RunTrace[], rules: EventRules, grid: readonly number[] = DEFAULT_GRID): HeldOutCheck[] {
  const seeds = [...new Set(traces.map((t) => t.seed))].sort((a, b) => a - b);
  const out: HeldOutCheck[] = [];
  for (const seed of seeds) {
    const threshold = bestThreshold(traces.filter((t) => t.seed !== seed), rules, grid);
    for (const t of traces.filter((x) => x.seed === seed)) {
      const check = threshold === null ? { ...checkWarning(t, -1, rules), T_cross: null, lead: null, warned: false, belowAtMem: false } : checkWarning(t, threshold, rules);
      out.push({ ...check, threshold });
    }
  }
  return out;
}
