import { tCross, type EventRules, type RunTrace } from '../analysis/trace.js';

/**
 * The window in which a baseline collapsed: from its crossing of H̃* to its grokking step (to
 * the end of its budget when it did not grok); null when it never crossed. An intervention that
 * "blocks the collapse" must keep its own H̃ above H̃* over this window.
 */
export function manipulationWindow(baselineCross: number | null, baselineGrok: number | null, budget: number): [number, number] | null {
  if (baselineCross === null) return null;
  return [baselineCross, baselineGrok !== null && baselineGrok >= baselineCross ? baselineGrok : budget];
}

/**
 * Whether a run held H̃ above `threshold` through `window`, by the crossing rule itself (the same
 * persistence, counted from step 0): held unless it has a crossing that starts at or before the
 * window's end. Null
 * when there is no window or the run has no evaluation inside it (nothing to check).
 */
export function heldAboveThreshold(run: RunTrace, threshold: number, window: [number, number] | null, rules: EventRules): boolean | null {
  if (!window) return null;
  let inside = false;
  for (let i = 0; i < run.step.length && !inside; i++) inside = run.step[i] >= window[0] && run.step[i] <= window[1] && !Number.isNaN(run.entropy[i]);
  if (!inside) return null;
  // A level in a window, not a warning: any crossing from step 0 counts (a run that collapsed
  // before memorisation did not hold H̃ above H̃*; the warning rule would call it "no crossing").
  const cross = tCross(run, threshold, { ...rules, alarmFrom: 'start' });
  return cross === null || cross > window[1];
}
