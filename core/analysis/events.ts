/**
 * Per-run events (docs/methods.md, "Events of a run"): T_mem, T_grok at several accuracy thresholds, T_cross
 * with persistence, and the lead ΔT = T_grok − T_cross. Pure functions of a metric series, so
 * they can be recomputed whenever a threshold changes.
 */
export interface EventSeriesPoint {
  step: number;
  trainAcc: number;
  testAcc: number;
  /** H̃ of the probe that defines crossings; undefined where not measured. */
  entropy?: number;
}

export interface EventSettings {
  memThreshold: number;
  grokThreshold: number;
  entropyThreshold: number;
  crossPersistence: number;
}

export interface RunEvents {
  T_mem: number | null;
  T_grok: number | null;
  /** T_grok at the other stored test-accuracy thresholds. */
  T_grok_50: number | null;
  T_grok_99: number | null;
  T_cross: number | null;
  /** T_grok − T_cross, positive when the warning came first. */
  lead: number | null;
}

export function firstStep(series: EventSeriesPoint[], pred: (p: EventSeriesPoint) => boolean): number | null {
  for (const p of series) if (pred(p)) return p.step;
  return null;
}

/** First step at which H̃ < threshold and stays below for `persistence` consecutive evaluations. */
export function crossingStep(series: EventSeriesPoint[], threshold: number, persistence: number): number | null {
  let run = 0;
  let start: number | null = null;
  for (const p of series) {
    if (p.entropy !== undefined && p.entropy < threshold) {
      if (run === 0) start = p.step;
      run++;
      if (run >= persistence) return start;
    } else {
      run = 0;
      start = null;
    }
  }
  return null;
}

export function computeEvents(series: EventSeriesPoint[], s: EventSettings): RunEvents {
  const T_mem = firstStep(series, (p) => p.trainAcc >= s.memThreshold);
  const T_grok = firstStep(series, (p) => p.testAcc >= s.grokThreshold);
  const T_cross = crossingStep(series, s.entropyThreshold, s.crossPersistence);
  return {
    T_mem,
    T_grok,
    T_grok_50: firstStep(series, (p) => p.testAcc >= 0.5),
    T_grok_99: firstStep(series, (p) => p.testAcc >= 0.99),
    T_cross,
    lead: T_grok !== null && T_cross !== null ? T_grok - T_cross : null,
  };
}
