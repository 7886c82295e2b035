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
  /** Anti-grokking: test accuracy fell back after grokking (AntiGrokDetector); absent in events stored before 2026-11-30. */
  T_anti?: number | null;
}

/** How far below the grokking threshold test accuracy must fall, after grokking, to count as falling back. */
export const ANTI_GROK_DROP = 0.1;

/**
 * The anti-grokking rule (docs/methods.md, "Anti-grokking"), fed one evaluation at a time: once a
 * run has grokked (test accuracy ≥ the grokking threshold), test accuracy below that threshold
 * minus ANTI_GROK_DROP for `persistence` consecutive evaluations; the alert's step is the first of
 * them, and it is raised at the last (the CrossingDetector's persistence, applied to accuracy).
 */
export class AntiGrokDetector {
  private grokked = false;
  private below = 0;
  private start: number | null = null;
  private lastStep = -Infinity;
  /** The step accuracy fell back at, once confirmed. */
  fell: number | null = null;

  constructor(
    readonly grokThreshold: number,
    readonly persistence: number,
  ) {}

  /** One evaluation, in step order; the anti-grokking step the first time it is confirmed, else null. */
  push(step: number, testAcc: number): number | null {
    if (this.fell !== null || step <= this.lastStep) return null;
    this.lastStep = step;
    if (!this.grokked) {
      this.grokked = testAcc >= this.grokThreshold;
      return null;
    }
    if (testAcc < this.grokThreshold - ANTI_GROK_DROP) {
      if (this.below === 0) this.start = step;
      this.below++;
      if (this.below >= this.persistence) return (this.fell = this.start);
    } else {
      this.below = 0;
      this.start = null;
    }
    return null;
  }
}

export function antiGrokStep(series: EventSeriesPoint[], grokThreshold: number, persistence: number): number | null {
  const detector = new AntiGrokDetector(grokThreshold, persistence);
  for (const p of series) if (detector.push(p.step, p.test_acc) !== null) break;
  return detector.fell;
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
    T_anti: antiGrokStep(series, s.grokThreshold, s.crossPersistence),
  };
}
