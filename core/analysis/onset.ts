/**
 * Onset markers (docs/methods.md, "Onset of generalisation"): where in its climb from chance to
 * T_grok a run is when a warning fires. T_grok (95 % test accuracy) is the *end* of the climb; a
 * warning that fires once test accuracy is already rising warns of little. Pure functions of the
 * evaluation columns, shared by stored events (events.ts), traces (trace.ts) and every table.
 *
 * - **T_rise**: the first evaluation whose test accuracy is at least RISE_FRACTION of the way from
 *   chance to 1: (acc − chance) / (1 − chance) ≥ 0.1.
 * - **T_grok_50**: the first evaluation with test accuracy ≥ 50 % (stored with the events since
 *   2026-11; now also a marker).
 * - **T_loss_peak**: the step at which test loss turns down after memorisation — the evaluation
 *   with the largest test loss in [T_mem, T_grok] of a run that grokked (the memorising solution's
 *   test loss climbs while it fits the training pairs and falls once it generalises). None when
 *   the run did not grok, or did not record a test loss.
 */

/**
 * Why 0.1 of the way from chance (fixed 2026-12-05 before any run was analysed with it): high
 * enough that no evaluation reaches it by sampling noise — at the quick preset (p = 47, 1,436
 * test pairs, chance 2.1 %) it is 12.3 % accuracy, ≈ 26 binomial standard deviations above chance —
 * and low enough to sit at the start of the climb rather than in it (T_grok_50 marks its middle).
 */
export const RISE_FRACTION = 0.1;

/** Chance accuracy of a task with this many output classes (one residue or permutation of `classes`). */
export function chanceOf(classes: number): number {
  return classes > 0 ? 1 / classes : NaN;
}

/** Test accuracy that T_rise needs, for a chance level (NaN chance: no T_rise). */
export function riseLevel(chance: number, fraction = RISE_FRACTION): number {
  return chance + fraction * (1 - chance);
}

/** Index of the first value ≥ level (NaN never reaches), or −1. */
export function firstIndexReaching(values: ArrayLike<number>, level: number, from = 0): number {
  for (let i = from; i < values.length; i++) if (values[i] >= level) return i;
  return -1;
}

export function tRiseOf(step: ArrayLike<number>, testAcc: ArrayLike<number>, chance: number, fraction = RISE_FRACTION): number | null {
  if (!Number.isFinite(chance)) return null;
  const i = firstIndexReaching(testAcc, riseLevel(chance, fraction));
  return i < 0 ? null : step[i];
}

/** The step of the largest test loss over evaluations T_mem ≤ step ≤ T_grok (first of equal maxima); null without both events or any measured loss. */
export function tLossPeakOf(step: ArrayLike<number>, testLoss: ArrayLike<number> | undefined, tMem: number | null, tGrok: number | null): number | null {
  if (!testLoss || tMem === null || tGrok === null) return null;
  let best = -Infinity;
  let at: number | null = null;
  for (let i = 0; i < step.length; i++) {
    const s = step[i];
    if (s < tMem) continue;
    if (s > tGrok) break;
    const v = testLoss[i];
    if (v > best) {
      best = v;
      at = s;
    }
  }
  return at;
}

/** The value of a column at an evaluated step (exact match; null when the step is not evaluated or the value is missing). */
export function valueAtStep(step: ArrayLike<number>, values: ArrayLike<number>, at: number | null): number | null {
  if (at === null) return null;
  // Steps ascend: binary search.
  let lo = 0;
  let hi = step.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (step[mid] === at) return Number.isNaN(values[mid]) ? null : values[mid];
    if (step[mid] < at) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** The markers a warning's lead is measured against, from the start of the climb to its end. */
export const ONSET_MARKERS = ['T_rise', 'T_loss_peak', 'T_grok_50', 'T_grok'] as const;
export type OnsetMarker = (typeof ONSET_MARKERS)[number];
export type MarkerSteps = Record<OnsetMarker, number | null>;
export type MarkerLeads = Record<OnsetMarker, number | null>;

/** marker − warning for each marker (positive: the warning came first); null where either is missing. */
export function leadsAgainst(markers: MarkerSteps, warning: number | null): MarkerLeads {
  const out = {} as MarkerLeads;
  for (const m of ONSET_MARKERS) out[m] = warning === null || markers[m] === null ? null : markers[m]! - warning;
  return out;
}

/**
 * Where a warning falls in the climb: `before-onset` at or before T_rise (test accuracy had not
 * yet left chance), `during-climb` after T_rise and at or before T_grok, `after-grokking` later,
 * `none` without a warning. A warning before a run's T_rise that the run never reaches (no climb)
 * is `before-onset` too.
 */
export type WarningPlace = 'before-onset' | 'during-climb' | 'after-grokking' | 'none';
export function warningPlace(markers: MarkerSteps, warning: number | null): WarningPlace {
  if (warning === null) return 'none';
  if (markers.T_rise === null || warning <= markers.T_rise) return markers.T_grok !== null && warning > markers.T_grok ? 'after-grokking' : 'before-onset';
  if (markers.T_grok === null || warning <= markers.T_grok) return 'during-climb';
  return 'after-grokking';
}
