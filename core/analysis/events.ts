/**
 * Per-run events (docs/methods.md, "Events of a run"): T_mem, T_grok at several accuracy thresholds, T_cross
 * with persistence, and the lead ΔT = T_grok − T_cross. Pure functions of a metric series, so
 * they can be recomputed whenever a threshold changes.
 */
export interface EventSeriesPoint {
  step: number;
  train_acc: number;
  test_acc: number;
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

/**
 * The crossing rule, fed one evaluation at a time: H̃ below the threshold for `persistence`
 * consecutive evaluations; the crossing step is the first of them. Missing H̃ (undefined or NaN)
 * breaks a run of evaluations below. The one statement of the rule: `crossingStep` scans a
 * series with it, hosts watch live runs with it, and analysis/crossing.ts answers every threshold
 * at once by a profile that is tested against it.
 */
export class CrossingDetector {
  private below = 0;
  private start: number | null = null;
  private lastStep = -Infinity;
  /** The crossing step, once confirmed. */
  crossed: number | null = null;

  constructor(
    readonly threshold: number,
    readonly persistence: number,
  ) {}

  /** One evaluation, in step order (a repeated step is ignored); the crossing step the first time it is confirmed, else null. */
  push(step: number, entropy: number | undefined): number | null {
    if (this.crossed !== null || step <= this.lastStep) return null;
    this.lastStep = step;
    if (entropy !== undefined && entropy < this.threshold) {
      if (this.below === 0) this.start = step;
      this.below++;
      if (this.below >= this.persistence) return (this.crossed = this.start);
    } else {
      this.below = 0;
      this.start = null;
    }
    return null;
  }
}

/** First step at which H̃ < threshold and stays below for `persistence` consecutive evaluations. */
export function crossingStep(series: EventSeriesPoint[], threshold: number, persistence: number): number | null {
  const detector = new CrossingDetector(threshold, persistence);
  for (const p of series) if (detector.push(p.step, p.entropy) !== null) break;
  return detector.crossed;
}

export function computeEvents(series: EventSeriesPoint[], s: EventSettings): RunEvents {
  const T_mem = firstStep(series, (p) => p.train_acc >= s.memThreshold);
  const T_grok = firstStep(series, (p) => p.test_acc >= s.grokThreshold);
  const T_cross = crossingStep(series, s.entropyThreshold, s.crossPersistence);
  return {
    T_mem,
    T_grok,
    T_grok_50: firstStep(series, (p) => p.test_acc >= 0.5),
    T_grok_99: firstStep(series, (p) => p.test_acc >= 0.99),
    T_cross,
    lead: T_grok !== null && T_cross !== null ? T_grok - T_cross : null,
  };
}
