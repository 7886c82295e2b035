import { crossingStep, firstStep, type EventSeriesPoint } from './events.js';

/** One run as the analysis sees it: its identity and the series of one probe. */
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

export function tMem(trace: RunTrace, rules: EventRules): number | null {
  return firstStep(trace.points, (p) => p.trainAcc >= rules.memThreshold);
}

export function tGrok(trace: RunTrace, rules: EventRules): number | null {
  return firstStep(trace.points, (p) => p.testAcc >= rules.grokThreshold);
}

export function tCross(trace: RunTrace, threshold: number, rules: EventRules): number | null {
  return crossingStep(trace.points, threshold, rules.crossPersistence);
}
