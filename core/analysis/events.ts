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
  private readonly run: PersistentRun;

  constructor(
    readonly grokThreshold: number,
    readonly persistence: number,
  ) {
    this.run = new PersistentRun(persistence);
  }

  /** The step accuracy fell back at, once confirmed. */
  get fell(): number | null {
    return this.run.confirmed;
  }

  /** One evaluation, in step order; the anti-grokking step the first time it is confirmed, else null. */
  push(step: number, testAcc: number): number | null {
    if (!this.grokked) {
      // Grokking itself is not persistent: the first evaluation at the threshold arms the alert.
      if (this.run.seen(step)) this.grokked = testAcc >= this.grokThreshold;
      return null;
    }
    return this.run.push(step, testAcc < this.grokThreshold - ANTI_GROK_DROP);
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
  private readonly run: PersistentRun;

  constructor(
    readonly threshold: number,
    readonly persistence: number,
  ) {
    this.run = new PersistentRun(persistence);
  }

  /** The crossing step, once confirmed. */
  get crossed(): number | null {
    return this.run.confirmed;
  }

  /** One evaluation, in step order (a repeated step is ignored); the crossing step the first time it is confirmed, else null. */
  push(step: number, entropy: number | undefined): number | null {
    return this.run.push(step, entropy !== undefined && entropy < this.threshold);
  }
}

/**
 * A condition held for `persistence` consecutive evaluations, fed in step order (a repeated step is
 * ignored): confirmed once, at the first step of the run of evaluations that holds it. The one
 * persistence rule of the crossing and the anti-grokking alert.
 */
class PersistentRun {
  private held = 0;
  private start: number | null = null;
  private lastStep = -Infinity;
  confirmed: number | null = null;

  constructor(private readonly persistence: number) {}

  /** Whether `step` is new (and now seen); false for a repeat or anything after confirmation. */
  seen(step: number): boolean {
    if (this.confirmed !== null || step <= this.lastStep) return false;
    this.lastStep = step;
    return true;
  }

  push(step: number, holds: boolean): number | null {
    if (!this.seen(step)) return null;
    if (!holds) {
      this.held = 0;
      this.start = null;
      return null;
    }
    if (this.held === 0) this.start = step;
    this.held++;
    return this.held >= this.persistence ? (this.confirmed = this.start) : null;
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
