/**
 * The one typed contract every host serves (Electron IPC through the preload bridge, the local
 * web server over WebSocket, tests in-process). The renderer talks to nothing else, and computes
 * no science: curves, bands, statistics and verdicts arrive ready to draw.
 * Kept free of imports so that the preload bundle and the renderer can include it as it is.
 * Why this file is over 300 lines: it is the whole contract in one place, each shape with its
 * comment; split in two, a host or the renderer would import half of a type's neighbours from
 * elsewhere, and the preload bundle would take two files where one is its rule.
 */
export interface RunListItem {
  id: string;
  task: string;
  arch: string;
  condition: string;
  seed: number;
  status: string;
  backend: string | null;
  origin: string;
  T_grok: number | null;
  T_cross: number | null;
  lead: number | null;
  stepsDone: number;
  steps: number;
  tags: string[];
}

export interface MetricPoint {
  step: number;
  train_acc: number;
  test_acc: number;
  train_loss: number;
  test_loss: number;
  weight_norm: number;
  entropy: Record<string, number>;
  /** Evaluation scalars by name (logit_scale, max_softmax, train_margin; alpha/<matrix>, traps/<matrix> at spectrum steps); absent when the run recorded none. */
  scalars?: Record<string, number>;
}

/**
 * A run's events (core/analysis/events.ts RunEvents; docs/methods.md, "Events of a run"): steps,
 * null where not reached. T_cross is the warning, counted from T_mem on; each lead is a marker
 * minus T_cross (positive: the warning came first). Fields marked optional are absent only from a
 * run without evaluations whose events were stored before 2026-12-05.
 */
export interface RunEventsView {
  T_mem: number | null;
  T_grok: number | null;
  T_grok_50: number | null;
  T_grok_99: number | null;
  T_cross: number | null;
  /** T_grok − T_cross. */
  lead: number | null;
  /** First evaluation with test accuracy ≥ chance + 0.1·(1 − chance): the start of the climb. */
  T_rise?: number | null;
  /** The largest test loss between T_mem and T_grok of a run that grokked: where test loss turns down. */
  T_loss_peak?: number | null;
  lead_rise?: number | null;
  lead_loss_peak?: number | null;
  lead_grok_50?: number | null;
  test_acc_at_cross?: number | null;
  /** H̃ was already below H̃* at memorisation: no warning (T_cross null). */
  below_at_mem?: boolean;
  T_anti?: number | null;
}

/** What getRun may leave out (both default to true): the forecast fit and the spectra are its costly parts. */
export interface RunDetailOptions {
  forecast?: boolean;
  spectra?: boolean;
}

export interface RunDetail {
  id: string;
  status: string;
  /** Steps trained so far (the last evaluated step). */
  stepsDone: number;
  /** Why a failed run failed. */
  error: string | null;
  backend: string | null;
  backendNote: string | null;
  origin: string;
  note: string | null;
  config: Record<string, unknown>;
  /** Recomputed from the metrics when read (null for a run without evaluations); see RunEventsView. */
  events: RunEventsView | null;
  metrics: MetricPoint[];
  /** Steps of the run's checkpoints (for exporting the model at one of them). */
  checkpoints: number[];
  /** Eigenvalue spectra over time, per probe (descending), for the heatmap. */
  spectra: { step: number; probe: string; eigenvalues: number[] }[];
  /**
   * Online forecast of the grokking step from other completed baseline runs of the same task,
   * architecture and size (null when there are too few to fit); see core/analysis/live-forecast.ts.
   */
  forecast: {
    threshold: number;
    referenceRuns: number;
    relError: number | null;
    points: { step: number; predicted: number; lo: number | null; hi: number | null }[];
  } | null;
}

/**
 * Mean and min–max band of one metric across the runs of a group, on a shared step grid. The
 * same shape as core/analysis/bands.ts's Band, restated because this file imports nothing.
 */
export interface Band {
  mean: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** Runs the band covers at each step; a run that stopped after grokking counts with its last value. */
  n: number[];
}

export interface CompareGroup {
  arch: string;
  condition: string;
  runs: string[];
  /** The step grid of the bands: every evaluation, or buckets of consecutive ones (≤ 2,000 points). */
  steps: number[];
  test_acc: Band;
  train_acc: Band;
  entropy: Band;
  weight_norm: Band;
  /** Each run's own curves, when asked for (`CompareOptions.lines`). */
  lines?: RunLine[];
  /** Runs of the group left out of the curves because they lack the event aligned on. */
  unaligned?: string[];
}

/**
 * One run drawn on its own: [step, value] pairs, decimated for a chart `columns` pixels wide on
 * the compare view's shared step axis (M4, core/analysis/decimate.ts), values rounded to a
 * millionth of the curve's range (far below a pixel; it halves what crosses the transport).
 */
export interface RunLine {
  id: string;
  seed: number;
  test_acc: LinePoints;
  entropy: LinePoints;
  weight_norm: LinePoints;
}

/** Columns rather than [step, value] pairs: no array per point to parse and collect (measured). */
export interface LinePoints {
  step: number[];
  value: number[];
}

export interface CompareOptions {
  /** Also every run's own curves, not only the bands across seeds. */
  lines?: boolean;
  /** Width in pixels the runs' curves are decimated for (default LINE_COLUMNS). */
  columns?: number;
  /**
   * Align the runs on an event: each run's steps counted from its own T_mem or T_grok (negative
   * before it), so bands show what happens around the event rather than at a fixed step. Runs
   * without that event are left out of the curves (`CompareGroup.unaligned`); the tables are not
   * aligned.
   */
  align?: 'T_mem' | 'T_grok';
}

export interface CompareData {
  probe: string;
  /** H̃* estimated from the selected Transformer baselines (null when it cannot be). */
  threshold: number | null;
  groups: CompareGroup[];
  necessity: { arch: string; n: number; crossed: number; grokked: number; grokkedWithoutCrossingFirst: number; crossedWithoutGrokking: number }[];
  interventions: {
    arch: string; condition: string; n: number; nBaseline: number; censored: number;
    delayMean: number | null; delayCI: [number, number] | null; p: number | null; d: number | null;
    /** Manipulation check: runs that held H̃ above H̃* through their baseline's crossing window, of those that could be checked. */
    manipulation: { assessed: number; held: number };
  }[];
  /**
   * The early warning as a detector over the selected runs (docs/methods.md): per task and signal,
   * AUROC for "groks within its budget" from data before each alarm, with a bootstrap CI, the
   * Youden operating point (threshold, false-alarm and detection rates, median lead) and the
   * median lead at a false-alarm rate ≤ 10 %. Null statistics: the selection lacks a class.
   */
  detection: { task: string; signal: string; negativeKind: string; positives: number; negatives: number; auroc: number | null; aurocCI: [number, number] | null; threshold: number | null; falseAlarmRate: number | null; truePositiveRate: number | null; leadMedian: number | null; leadAtFpr10: number | null }[];
  /**
   * Does the collapse come before generalisation begins, or during it (docs/methods.md, "Onset of
   * generalisation")? Per task and architecture, the selected grokked baselines judged held out:
   * where each warning crossing falls (`place`: before-onset, during-climb, after-grokking,
   * below-at-mem, none), the median leads against T_rise and T_grok, test accuracy at the crossing.
   */
  onset: { task: string; arch: string; probe: string; threshold: number | null; band: [number, number] | null; n: number; place: Record<string, number>; leadRiseMedian: number | null; leadGrokMedian: number | null; testAccAtCrossMedian: number | null; chance: number | null }[];
  /** The event the curves are aligned on (steps relative to it), or null. */
  align: 'T_mem' | 'T_grok' | null;
  /** Configuration fields whose values differ between the compared runs, with the runs per value. */
  configDiff: { field: string; values: { value: string; runs: string[] }[] }[];
}

export interface RunRequest {
  preset?: string;
  task?: string;
  arch?: string;
  seed?: number;
  steps?: number;
  evalEvery?: number;
  condition?: string;
  p?: number;
  dModel?: number;
  nHeads?: number;
  dMlp?: number;
  lr?: number;
  weightDecay?: number;
  trainFraction?: number;
  backend?: string;
  probe?: string;
  normTargetRun?: string;
  /** A fixed output temperature (absent = 1). */
  temperature?: number;
  /** Every initial weight multiplied by this (absent = 1). */
  initScale?: number;
}

/** Where a study trains: this host's pool (no options), or a Redis queue (`redis://[:PASSWORD@]HOST:PORT/DB`) of workers, results in a shared folder or (absent) through Redis. */
export interface StudyStartOptions { queue?: string; results?: string }

/** A file crossing the transport: name and base64 content. */
export interface UploadedFile { name: string; base64: string }

export interface ImportResult {
  file: string;
  ok: boolean;
  /** One line per run (imported / already there / renamed) or the problem. */
  messages: string[];
}

/** Pushed to subscribers while runs train. */
export type LiveEvent =
  | { type: 'run-progress'; id: string; step: number; totalSteps: number; stepsPerSecond: number | null; etaSeconds: number | null; backend: string | null; latest: MetricPoint | null }
  | { type: 'run-finished'; id: string; status: string; error: string | null }
  /** The first evaluation at which test accuracy reached the grokking threshold / H̃ fell below H̃*. */
  | { type: 'run-grokked'; id: string; step: number }
  | { type: 'run-crossed'; id: string; step: number; threshold: number }
  /** Test accuracy fell back after grokking (T_anti; docs/methods.md, "Anti-grokking"); testAcc when it was confirmed. */
  | { type: 'run-anti-grokking'; id: string; step: number; testAcc: number }
  | { type: 'study-progress'; name: string; done: number; failed: number; total: number; running: number }
  | { type: 'study-finished'; name: string; status: string; summary: string | null; report: string | null; verdicts: Record<string, string> | null; error: string | null }
  | { type: 'library-changed' }
  /** The host now serves another run library (desktop: File › Open library / Open recent). */
  | { type: 'library-switched'; dir: string }
  /** A native menu command for the window (desktop only). */
  | { type: 'menu'; action: MenuAction };

export type MenuAction = 'new-run' | 'new-study' | 'stop-run' | 'export-selected';
export type ExportKind = 'grokrun' | 'grokbundle' | 'csv';

/** What the launch forms offer, from core (the renderer imports nothing but this contract). */
export interface FormChoices {
  /** Preset name → its run config (the placeholders of the run form). */
  presets: Record<string, Record<string, unknown>>;
  backends: string[];
  probes: string[];
  tasks: string[];
  /** Task → its operation as Power et al. write it (the task menu's tooltips). */
  taskFormulas: Record<string, string>;
  archs: string[];
  conditions: string[];
  /** Named study → its spec (the study form's "start from"). */
  studies: Record<string, { name: string; preset: string; tasks: string[]; archs: string[]; conditions: string[]; seeds: number[]; earlyStopEvals: number }>;
}

export interface StudyPlan {
  name: string;
  runs: number;
  totalSteps: number;
  seconds: number | null;
  /** What the estimate rests on, or why there is none. */
  basis: string;
}

export interface GrokscopeApi {
  listRuns(): Promise<RunListItem[]>;
  getRun(id: string, options?: RunDetailOptions): Promise<RunDetail>;
  compare(ids: string[], options?: CompareOptions): Promise<CompareData>;
  startRun(request: RunRequest): Promise<{ id: string }>;
  /** Continue a stopped or failed run from its latest checkpoint. */
  resumeRun(id: string): Promise<{ id: string }>;
  stopRun(id: string): Promise<void>;
  deleteRuns(ids: string[]): Promise<void>;
  /** Add and remove tags on runs. */
  tagRuns(ids: string[], add: string[], remove: string[]): Promise<void>;
  /** Start a named study ('quick' | 'paper') or a spec object; resumes one of the same name. With `queue`, `grokscope worker`s train it (docs/scale-out.md); same events. */
  startStudy(spec: string | Record<string, unknown>, options?: StudyStartOptions): Promise<{ name: string; runs: number }>;
  /**
   * What a study would train, without starting it: its number of runs and steps, and an
   * estimated time from step rates measured on this library's completed runs (null, with the
   * reason, where none match). Refuses an invalid spec with core's messages, as startStudy does.
   */
  planStudy(spec: string | Record<string, unknown>): Promise<StudyPlan>;
  /** The choices the launch forms offer: presets, backends, probes, tasks, architectures, conditions, named studies. */
  formChoices(): Promise<FormChoices>;
  /** Import dropped files (.grokrun / .grokbundle; CSV or Parquet as external runs), each all or nothing. */
  importFiles(files: UploadedFile[]): Promise<ImportResult[]>;
  /**
   * The given runs as a file to save: a .grokbundle, a .grokrun (one run), or one run's metrics
   * as CSV (the columns of `grokscope export-csv`).
   */
  exportRuns(ids: string[], kind: ExportKind): Promise<UploadedFile>;
  /**
   * A run's model at a checkpoint (the latest when `step` is null) for TransformerLens: a zip of
   * model.safetensors, config.json and load.py (docs/formats.md, "For other tools").
   */
  exportModel(id: string, step: number | null): Promise<UploadedFile>;
  /** Live events; returns an unsubscribe function. */
  subscribe(listener: (event: LiveEvent) => void): () => void;
}

/** Methods callable over a transport (everything but subscribe). */
export const API_METHODS = ['listRuns', 'getRun', 'compare', 'startRun', 'resumeRun', 'stopRun', 'deleteRuns', 'tagRuns', 'startStudy', 'planStudy', 'formChoices', 'importFiles', 'exportRuns', 'exportModel'] as const;
export type ApiMethod = (typeof API_METHODS)[number];

/** IPC channel names, shared by main and preload so they cannot drift apart. */
export const API_CHANNELS = {
  listRuns: 'grokscope:listRuns',
  getRun: 'grokscope:getRun',
  compare: 'grokscope:compare',
  startRun: 'grokscope:startRun',
  resumeRun: 'grokscope:resumeRun',
  stopRun: 'grokscope:stopRun',
  deleteRuns: 'grokscope:deleteRuns',
  tagRuns: 'grokscope:tagRuns',
  startStudy: 'grokscope:startStudy',
  planStudy: 'grokscope:planStudy',
  formChoices: 'grokscope:formChoices',
  importFiles: 'grokscope:importFiles',
  exportRuns: 'grokscope:exportRuns',
  exportModel: 'grokscope:exportModel',
  event: 'grokscope:event',
} as const;
