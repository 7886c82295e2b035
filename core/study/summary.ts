import type { BackendChoice } from '../schema/backend-choices.js';
import type { StudySpec } from '../schema/study-spec.js';
import type { MetricRow, RunRecord } from '../library/library.js';
import type { ProbeName } from '../models/config.js';
import type { fitPowerLaw } from '../analysis/forecast.js';
import type { NecessityRow } from '../analysis/necessity.js';
import type { Summary } from '../analysis/stats.js';
import type { ThresholdEstimate } from '../analysis/threshold.js';
import type { EventRules, RunTrace } from '../analysis/trace.js';
import type { DetectionRow } from '../analysis/warning-detector.js';
import type { OnsetPlace, OnsetRow } from './onset-report.js';

// The shapes a study's analysis reads and writes, in one file below the modules that compute them
// (analyze.ts, claims.ts, check.ts, detection-report.ts), so that none of those imports another's
// types back: the type-only circles of issue 29 came from these living at the top of the chain.

/**
 * Everything a study reports (summary.json; schema in docs/formats.md). Verdict rules are ours,
 * fixed before looking at results, and written next to each claim:
 * thresholds and forecasts are always judged on held-out seeds (leave-one-seed-out).
 */
export const SUMMARY_VERSION = 2;


export interface StudyRunData {
  key: string;
  run: RunRecord;
  metrics: MetricRow[];
}

/** A run whose trace was built already (from typed columns: `traceOfSeries`); no row objects. */
export interface TracedRunData {
  key: string;
  run: RunRecord;
  trace: RunTrace;
}

export type AnalysisInput = StudyRunData | TracedRunData;

export interface GroupRow {
  task: string;
  arch: string;
  condition: string;
  n: number;
  grokked: number;
  crossed: number;
  /** Runs whose H̃ was below H̃* already at memorisation (no warning possible). */
  belowAtMem: number;
  T_grok: Summary;
  lead: Summary;
}

export interface InterventionRow {
  task: string;
  arch: string;
  condition: string;
  n: number;
  nBaseline: number;
  /** Runs that did not grok within budget, counted at the budget (a lower bound). */
  censored: number;
  delayMean: number | null;
  delayCI: [number, number] | null;
  p: number | null;
  d: number | null;
  /**
   * Manipulation check (C3): of the intervention runs whose own baseline (same task, arch and
   * seed) crossed H̃*, how many held H̃ above H̃* through the window in which that baseline crossed
   * (manipulationWindow). `assessed` 0: nothing could be checked.
   */
  manipulation: { assessed: number; held: number };
}


export interface StudySummary {
  version: number;
  study: string;
  spec: StudySpec;
  probe: ProbeName;
  rules: EventRules;
  groups: GroupRow[];
  /** heldOut.warned: crossing from T_mem on and no later than T_grok (the one definition; precededGrokking is the same count, its version-1 name). */
  thresholds: { task: string; arch: string; estimate: ThresholdEstimate; heldOut: { n: number; warned: number; precededGrokking: number; belowAtMem: number; lead: Summary } }[];
  /** Where each probe's held-out crossing falls in the climb of generalisation (onset-report.ts). */
  onset: OnsetRow[];
  probes: { task: string; arch: string; probe: string; threshold: number | null; heldOutWarned: number; heldOutN: number; leadMean: number | null }[];
  interventions: InterventionRow[];
  forecast: {
    task: string;
    arch: string;
    fit: ReturnType<typeof fitPowerLaw>;
    /** Mean |T̂ − T_grok| / T_grok (held out). */
    heldOutMeanRelError: number | null;
    /** Mean |T̂ − T_grok| / (T_grok − t): the error relative to the time left. */
    heldOutMeanRelErrorToGo: number | null;
    heldOutMeanLead: number | null;
    /** The same errors for the nulls at the same forecast times (forecast.ts). */
    nulls: Record<'meanTGrok' | 'constantToGo', { relError: number | null; relErrorToGo: number | null }>;
    /** The power law's error is below both nulls' (null: not measurable). */
    beatsNulls: boolean | null;
    runs: number;
  }[];
  necessity: (NecessityRow & { task: string; threshold: number | null })[];
  /** n: grokked runs with a weight norm; notMeasured: grokked runs without one (imported runs). */
  phases: { task: string; arch: string; n: number; twoPhases: number; notMeasured?: number }[];
  /** n: runs with a finite correlation; measured: baseline runs that recorded Fourier shares (absent before version 2). */
  fourier: { task: string; arch: string; n: number; measured?: number; meanCorrelation: number | null }[];
  /** The early warning judged as a detector, per task and signal (detection-report.ts). */
  detection: DetectionRow[];
  claims: Claims;
  /** The same study trained on a second backend (`--check BACKEND`), verdict by verdict. */
  check?: BackendCheck;
  runs: {
    key: string;
    id: string;
    status: string;
    T_mem: number | null;
    /** Onset markers (analysis/onset.ts). */
    T_rise: number | null;
    T_loss_peak: number | null;
    T_grok_50: number | null;
    T_grok: number | null;
    /** The warning crossing (from T_mem on) at the run's H̃* (held out for baselines). */
    T_cross: number | null;
    belowAtMem: boolean;
    /** Leads of T_cross against T_grok, T_rise, T_loss_peak and T_grok_50 (marker − T_cross). */
    lead: number | null;
    leadRise: number | null;
    leadLossPeak: number | null;
    leadGrok50: number | null;
    testAccAtCross: number | null;
    /** Baselines: where the held-out crossing falls in the climb (onset table). */
    place: OnsetPlace | null;
    /** Intervention runs: whether H̃ stayed above H̃* through its baseline's crossing window (null: not assessable or a baseline). */
    heldAboveThreshold: boolean | null;
  }[];
}

/**
 * The verdict on each of the paper's claims (docs/methods.md, "Verdict rules"): fixed before any
 * study result was seen, and each result carries its rule in words.
 */
/** `not-measured`: the runs lack what the claim needs (imported runs without a weight norm or Fourier shares): never a failure. */
export type Verdict = 'reproduced' | 'refuted' | 'inconclusive' | 'not-run' | 'not-measured';

export interface ClaimResult {
  verdict: Verdict;
  rule: string;
  /** Share of seed-bootstrap resamples reaching the same verdict (study/stability.ts); null when not measured. */
  stability?: number | null;
  [figure: string]: unknown;
}

export type Claims = Record<'C1' | 'C2' | 'C3' | 'C4' | 'C5' | 'C6' | 'C7' | 'C8', ClaimResult>;

/**
 * A study's runs trained again on a second backend, and whether each verdict survives the move.
 * Backends round differently (BLAS kernels, GPU reductions) and Adam amplifies it; a verdict that
 * one backend's rounding can flip is not a finding (docs/science.md). The check is a study of its
 * own in the same library (resumable like any study), named after the study and the backend.
 */
export interface BackendCheck {
  /** The backend asked for, and the backends the study's own runs recorded. */
  backend: BackendChoice;
  studyBackends: string[];
  /** The check's own study name in the library. */
  study: string;
  verdicts: Record<keyof Claims, Verdict>;
  agree: Record<keyof Claims, boolean>;
  /** How many of the claims have the same verdict on both backends. */
  agreed: number;
}
