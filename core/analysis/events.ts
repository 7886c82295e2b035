import { leadsAgainst, tLossPeakOf, tRiseOf, valueAtStep, type MarkerSteps } from './onset.js';

/**
 * Per-run events (docs/methods.md, "Events of a run"): T_mem, T_grok at several accuracy thresholds,
 * the onset markers (onset.ts), T_cross with persistence — counted from memorisation on (the one
 * definition of a warning, below) — and its leads against every marker. Pure functions of a metric
 * series, so they can be recomputed whenever a threshold changes.
 */
export interface EventSeriesPoint {
  step: number;
  train_acc: number;
  test_acc: number;
  /** Test loss; undefined or NaN where not measured (T_loss_peak needs it). */
  test_loss?: number;
  /** H̃ of the probe that defines crossings; undefined where not measured. */
  entropy?: number;
}

/**
 * From when an alarm counts: `memorisation` (the default, and the only rule our tables use since
 * 2026-12-05) counts a crossing only at or after T_mem, and a run whose signal is already past
 * the threshold at T_mem is "below at memorisation", not warned; `start` is the rule before it
 * (any crossing from step 0), kept so that earlier reports can be recomputed.
 */
export type AlarmFrom = 'memorisation' | 'start';
export const ALARM_FROM: readonly AlarmFrom[] = ['memorisation', 'start'];

export interface EventSettings {
  memThreshold: number;
  grokThreshold: number;
  entropyThreshold: number;
  crossPersistence: number;
  /** Default `memorisation`. */
  alarmFrom?: AlarmFrom;
  /** Chance accuracy (1 / classes) for T_rise; without it T_rise is null. */
  chance?: number;
}

export interface RunEvents {
  T_mem: number | null;
  T_grok: number | null;
  /** T_grok at the other stored test-accuracy thresholds. */
  T_grok_50: number | null;
  T_grok_99: number | null;
  /** The warning crossing (from T_mem on, unless alarmFrom says otherwise). */
  T_cross: number | null;
  /** T_grok − T_cross, positive when the warning came first. */
  lead: number | null;
  /** Onset markers (onset.ts) and the warning's lead against each; absent in events stored before 2026-12-05. */
  T_rise?: number | null;
  T_loss_peak?: number | null;
  lead_rise?: number | null;
  lead_loss_peak?: number | null;
  lead_grok_50?: number | null;
  /** Test accuracy at T_cross. */
  test_acc_at_cross?: number | null;
  /** H̃ was already below the threshold at T_mem: no warning possible (T_cross null). */
  below_at_mem?: boolean;
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

/**
 * The one definition of a warning (docs/methods.md, "Events of a run"), fed one evaluation at a
 * time: nothing counts before T_mem (the first evaluation with train accuracy ≥ memThreshold);
 * at the first evaluation from T_mem on that measured H̃, a value already below the threshold
 * makes the run "below at memorisation" — it warns of nothing, whatever follows; otherwise the
 * crossing rule (CrossingDetector) runs from there. The fit of H̃*, the verdicts, stored events
 * and the live `run-crossed` event use it; trace.ts answers every threshold at once by the same
 * rule (tested against this class). The detector (warning-detector.ts) scores windows from T_mem
 * the same way but keeps runs past the threshold at T_mem in its rates, counted apart.
 */
export class WarningDetector {
  private memorised = false;
  private judged = false;
  /** H̃ was below the threshold at the first measured evaluation from T_mem on. */
  belowAtMem = false;
  private readonly crossing: CrossingDetector;

  constructor(
    readonly threshold: number,
    readonly persistence: number,
    readonly memThreshold: number,
    readonly alarmFrom: AlarmFrom = 'memorisation',
  ) {
    this.crossing = new CrossingDetector(threshold, persistence);
  }

  get crossed(): number | null {
    return this.crossing.crossed;
  }

  /** One evaluation in step order; the warning's step the first time it is confirmed, else null. */
  push(step: number, trainAcc: number, entropy: number | undefined): number | null {
    if (this.alarmFrom === 'start') return this.crossing.push(step, entropy);
    if (!this.memorised) {
      if (!(trainAcc >= this.memThreshold)) return null;
      this.memorised = true;
    }
    if (this.belowAtMem) return null;
    if (!this.judged && entropy !== undefined && !Number.isNaN(entropy)) {
      this.judged = true;
      if (entropy < this.threshold) {
        this.belowAtMem = true;
        return null;
      }
    }
    return this.crossing.push(step, entropy);
  }
}

/** The warning crossing of a series (WarningDetector), and whether it was below at memorisation. */
export function warningCrossing(series: EventSeriesPoint[], threshold: number, persistence: number, memThreshold: number, alarmFrom: AlarmFrom = 'memorisation'): { step: number | null; belowAtMem: boolean } {
  const detector = new WarningDetector(threshold, persistence, memThreshold, alarmFrom);
  for (const p of series) if (detector.push(p.step, p.train_acc, p.entropy) !== null) break;
  return { step: detector.crossed, belowAtMem: detector.belowAtMem };
}

export function computeEvents(series: EventSeriesPoint[], s: EventSettings): RunEvents {
  const T_mem = firstStep(series, (p) => p.train_acc >= s.memThreshold);
  const T_grok = firstStep(series, (p) => p.test_acc >= s.grokThreshold);
  const warning = warningCrossing(series, s.entropyThreshold, s.crossPersistence, s.memThreshold, s.alarmFrom);
  const T_cross = warning.step;
  const step = series.map((p) => p.step);
  const testAcc = series.map((p) => p.test_acc);
  const testLoss = series.some((p) => p.test_loss !== undefined && !Number.isNaN(p.test_loss)) ? series.map((p) => p.test_loss ?? NaN) : undefined;
  const markers: MarkerSteps = {
    T_rise: tRiseOf(step, testAcc, s.chance ?? NaN),
    T_loss_peak: tLossPeakOf(step, testLoss, T_mem, T_grok),
    T_grok_50: firstStep(series, (p) => p.test_acc >= 0.5),
    T_grok,
  };
  const leads = leadsAgainst(markers, T_cross);
  return {
    T_mem,
    T_grok,
    T_grok_50: markers.T_grok_50,
    T_grok_99: firstStep(series, (p) => p.test_acc >= 0.99),
    T_cross,
    lead: leads.T_grok,
    T_anti: antiGrokStep(series, s.grokThreshold, s.crossPersistence),
    T_rise: markers.T_rise,
    T_loss_peak: markers.T_loss_peak,
    lead_rise: leads.T_rise,
    lead_loss_peak: leads.T_loss_peak,
    lead_grok_50: leads.T_grok_50,
    test_acc_at_cross: valueAtStep(step, testAcc, T_cross),
    below_at_mem: warning.belowAtMem,
  };
}
