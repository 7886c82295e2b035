import type { RunTrace } from './trace.js';

/**
 * The two-phase check (C1): the end of weight-norm expansion is the step of maximum ‖θ‖; the
 * collapse is the step of steepest H̃ descent, measured on a centred moving average (window of
 * `window` evaluations) so that a single noisy evaluation cannot decide it. A run "shows two
 * phases" when expansion ends before the steepest collapse.
 */
export interface PhaseCheck {
  expansionEnd: number | null;
  steepestCollapse: number | null;
  twoPhases: boolean;
}

export function smooth(xs: number[], window: number): number[] {
  const half = Math.floor(window / 2);
  return xs.map((_, i) => {
    const lo = Math.max(0, i - half);
    const hi = Math.min(xs.length, i + half + 1);
    let s = 0;
    for (let j = lo; j < hi; j++) s += xs[j];
    return s / (hi - lo);
  });
}

export function phaseCheck(trace: RunTrace, window = 5): PhaseCheck {
  // Evaluations where H̃ was measured.
  const at: number[] = [];
  for (let i = 0; i < trace.entropy.length; i++) if (!Number.isNaN(trace.entropy[i])) at.push(i);
  if (at.length < 3 || trace.weight_norm.length !== trace.step.length) return { expansionEnd: null, steepestCollapse: null, twoPhases: false };
  let maxI = 0;
  for (let i = 1; i < trace.weight_norm.length; i++) if (trace.weight_norm[i] > trace.weight_norm[maxI]) maxI = i;
  const stepAt = (k: number): number => trace.step[at[k]];
  const h = smooth(at.map((i) => trace.entropy[i]), window);
  let steepest = 1;
  let minSlope = Infinity;
  for (let i = 1; i < h.length; i++) {
    const slope = (h[i] - h[i - 1]) / (stepAt(i) - stepAt(i - 1));
    if (slope < minSlope) {
      minSlope = slope;
      steepest = i;
    }
  }
  const expansionEnd = trace.step[maxI];
  const steepestCollapse = minSlope < 0 ? stepAt(steepest) : null;
  return { expansionEnd, steepestCollapse, twoPhases: steepestCollapse !== null && expansionEnd < steepestCollapse };
}
