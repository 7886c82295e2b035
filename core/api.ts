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
  /** Settings that tell otherwise alike runs apart, from the config (no metric read); p null where the task does not use it (S5), any null where the config lacks it. */
  p: number | null;
  lr: number | null;
  weightDecay: number | null;
  trainFraction: number | null;
  /** The study whose plan names the run; of several, the one created first (core/library/studies.ts). Null: not a study's run. */
  study: string | null;
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
  /** The H̃* the events, the H̃ chart and the forecast judge this run by (its configured one). */
  threshold: ThresholdInUse;
  metrics: MetricPoint[];
  /** Steps of the run's checkpoints (for exporting the model at one of them). */
  checkpoints: number[];
  /** Eigenvalue spectra over time, per probe (descending), for the heatmap. */
  spectra: { step: number; probe: string; eigenvalues: number[] }[];
  /**
   * Online forecast of the grokking step from other completed baseline runs of the same setting
   * (every configuration field but the seed; core/analysis/settings.ts), judged at this run's
   * H̃* (null when there are too few to fit); see core/analysis/live-forecast.ts.
   */
  forecast: {
    threshold: number;
    referenceRuns: number;
    relError: number | null;
    points: { step: number; predicted: number; lo: number | null; hi: number | null }[];
  } | null;
  /** The study whose plan names the run (as RunListItem.study), or null. */
  study: string | null;
  /**
   * Where the config departs from the preset it names (config.preset), in the schema's field order
   * (core/service/preset-diff.ts): every field but the seeds and normTargetRun; null for a value
   * the config lacks. Null: it names no preset this Grokscope knows. `config` arrives in the same order.
   */
  presetDiff: { field: string; value: unknown; preset: unknown }[] | null;
}

/**
 * One metric across the runs of a group, on a shared step grid: the mean, the shaded area's edges
 * for the band kind asked for (`CompareOptions.band`), min–max always. The same numbers as
 * core/analysis/bands.ts computes, restated because this file imports nothing.
 */
export interface Band {
  mean: (number | null)[];
  /** Lower and upper edge of the shaded area: min–max, mean ± SD, mean ± SE or the mean's 95 % CI (`CompareData.band`). */
  lower: (number | null)[];
  upper: (number | null)[];
  min: (number | null)[];
  max: (number | null)[];
  /** Runs the band covers at each step; a run that stopped after grokking counts with its last value. */
  n: number[];
  /** The mean before smoothing (drawn faint under the smoothed one); only when smoothing was asked for. */
  raw?: (number | null)[];
}

export interface CompareGroup {
  arch: string;
  condition: string;
  /**
   * What distinguishes this group's runs from the other groups' beyond arch and condition: the
   * grouped-by configuration fields' values ("weightDecay 0 · lr 0.001"); "" when the compared
   * runs differ in nothing but seed, arch and condition (CompareData.grouping).
   */
  setting: string;
  /** A condition's own fields where they differ between its runs (a mix's strength), else "". */
  variant: string;
  /** The group's name in legends and tables: condition, variant and setting together. */
  label: string;
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
   * Align the runs on an event: each run's steps counted from its own T_mem, T_rise or T_grok
   * (negative before it), so bands show what happens around the event rather than at a fixed
   * step. Runs without that event are left out of the curves (`CompareGroup.unaligned`); a band
   * covers only the steps where every aligned run of its group has a value (a run entering late
   * at chance would drag the mean); the tables are not aligned.
   */
  align?: AlignEvent;
  /** What the shaded area of each band shows (default `minmax`). */
  band?: BandKind;
  /** Half-life in steps of the time-weighted smoothing of the bands (0 or absent: none). */
  smoothing?: number;
  /** Every step of the bands, not decimated for drawing (the aggregated CSV download). */
  full?: boolean;
  /** The probe whose H̃ is drawn and judged (default: the first run's configured probe). */
  probe?: string;
  /**
   * Coarsen the grouping: group only by these of the configuration fields that differ (absent: by
   * every one of them). Fields left out are pooled, and CompareData.grouping.pooled names them.
   */
  groupBy?: string[];
}

/** Events a compare can align runs on. */
export type AlignEvent = 'T_mem' | 'T_rise' | 'T_grok';
/** Band kinds: min–max, mean ± SD, mean ± SE, the mean's 95 % CI (Student's t). */
export type BandKind = 'minmax' | 'sd' | 'se' | 'ci95';

/**
 * The H̃* a view judges crossings by, and where it comes from. The workbench's views (run view,
 * compare, live forecast, `grokscope show`) all use the runs' configured `entropyThreshold`
 * (docs/decisions.md, "One H̃* in every view"); a study's report fits its own on training seeds
 * and says so.
 */
export interface ThresholdInUse {
  /** Null only when the compared runs configure different values (each run is then judged by its own). */
  value: number | null;
  source: 'configured';
  /** Words for the view: "configured (entropyThreshold of all 6 runs)". */
  detail: string;
}

export interface CompareData {
  probe: string;
  /** Probes the view can switch to. */
  probes: string[];
  /** The H̃* every crossing in this view is judged by (the line on the H̃ charts, the tables). */
  threshold: ThresholdInUse;
  /** H̃* fitted on the selected Transformer baselines of each setting, for information only: the tables do not use it (it would judge the runs it was fitted on). */
  fittedThresholds: { setting: string; task: string; arch: string; value: number | null; runs: number }[];
  /** The band kind drawn and the smoothing half-life (steps; 0 none). */
  band: BandKind;
  smoothing: number;
  /**
   * How runs were grouped: `available` are the configuration fields (besides seed, arch and
   * condition) whose values differ among the compared runs, `fields` those grouped by, `pooled`
   * those the user chose to pool (every group's label says so).
   */
  grouping: { available: string[]; fields: string[]; pooled: string[] };
  groups: CompareGroup[];
  /** Per setting (the groups' `setting`) and architecture. */
  necessity: { setting: string; arch: string; n: number; crossed: number; grokked: number; grokkedWithoutCrossingFirst: number; crossedWithoutGrokking: number }[];
  /** Interventions against the baselines of their own setting; `variant` names a mix's own differing fields. */
  interventions: {
    setting: string; variant: string;
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
   * generalisation")? Per setting, task and architecture, the selected grokked baselines judged at the view's H̃*:
   * where each warning crossing falls (`place`: before-onset, during-climb, after-grokking,
   * below-at-mem, none), the median leads against T_rise and T_grok, test accuracy at the crossing.
   */
  onset: { setting: string; task: string; arch: string; probe: string; threshold: number | null; band: [number, number] | null; n: number; place: Record<string, number>; leadRiseMedian: number | null; leadGrokMedian: number | null; testAccAtCrossMedian: number | null; chance: number | null }[];
  /** The event the curves are aligned on (steps relative to it), or null. */
  align: AlignEvent | null;
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
  /** How the initial parameters are drawn: 'normal-fan-in' (absent) or 'torch-linear' (RunConfig.init). */
  init?: string;
  /** Stop after this many evaluations in a row at test accuracy ≥ the grokking threshold (0 = never; a mix run must train its whole budget). */
  earlyStopEvals?: number;
  checkpointEvery?: number;
  /** Steps between full spectra, a multiple of evalEvery (absent: the preset's ratio to evalEvery). */
  spectrumEvery?: number;
  /** How `mix` prevents collapse ('orthogonal' | 'entropy-penalty'), and its α or λ. */
  mixForm?: string;
  mixStrength?: number;
  /**
   * Several runs, one per seed, as `grokscope run --seeds` reads them ("0-4", "0,3,7", "0-2,9"),
   * trained as one run group; instead of `seed`. startRun answers with the first run's id (the
   * others train beside it and show under "Training now").
   */
  seeds?: string;
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
  /** `study`: the study whose run this is, when a study trains it in this host's pool (absent for a run started alone). */
  | { type: 'run-progress'; id: string; step: number; totalSteps: number; stepsPerSecond: number | null; etaSeconds: number | null; backend: string | null; latest: MetricPoint | null; study?: string }
  | { type: 'run-finished'; id: string; status: string; error: string | null; study?: string }
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
  /** The forms of the `mix` intervention (RunConfig.mixForm). */
  mixForms: string[];
  /** The initialisation schemes (RunConfig.init; the first is what its absence means). */
  inits: string[];
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
  /**
   * Shapes being measured now: where neither completed runs of a shape nor `auto`'s speed figures
   * give a step rate (an empty library), a host that trains here times a short run of it (a few
   * dozen steps and an evaluation in a child process: a second or two on an idle machine, once per shape). planStudy then answers at
   * once with `seconds` null and these shapes; asked again, it waits for the measurement and
   * its basis says "measured N steps of this shape on this machine now". Absent otherwise.
   */
  measuring?: string[];
}

/** A study the library remembers (its spec, status and runs), for the studies view. */
export interface StudyListItem {
  name: string;
  /** The library's record: running (here, in another process, or interrupted), completed, incomplete or stopped. */
  status: string;
  /** This host trains it now (its live progress arrives as study-progress events). */
  trainingHere: boolean;
  /** Planned runs, and of them those the library holds completed and failed. */
  total: number;
  done: number;
  failed: number;
  preset: string;
  tasks: string[];
  archs: string[];
  conditions: string[];
  seeds: number;
  updatedAt: string;
  /** Claim → verdict as its report words it ("reproduced, unstable: 0.62"); null: no report in the library yet. */
  verdicts: Record<string, string> | null;
}

/** One table of a study's report: cells are numbers as computed (the view rounds them) or words; ranges and shares come as words. */
export interface StudyReportTable {
  id: string;
  title: string;
  /** What the table shows and how to read it, as report.html says it. */
  note: string;
  columns: string[];
  rows: (string | number | null)[][];
}

/** A finished study's report (its summary.json, core/study/summary.ts) for the workbench to show in place of report.html. */
export interface StudyReportView {
  name: string;
  /** When the report was written (ISO time of summary.json). */
  writtenAt: string;
  probe: string;
  /** The event rules the verdicts were judged under, in a sentence. */
  rules: string;
  claims: { claim: string; verdict: string; text: string; stability: number | null; rule: string; otherBackend: string | null }[];
  /** Onset, forecast against nulls, groups, interventions, detector, necessity: the tables of report.html. */
  tables: StudyReportTable[];
  /** The report's figures as written (figures/NAME.png), base64. */
  figures: { name: string; png: string }[];
  /** The report's folder on the host (for a researcher who wants report.html itself). */
  folder: string;
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
   * estimated time from step rates measured on this library's completed runs, else on a short
   * run of the shape on this machine (StudyPlan.measuring; null, with the reason, where neither
   * can be had). Refuses an invalid spec with core's messages, as startStudy does.
   */
  planStudy(spec: string | Record<string, unknown>): Promise<StudyPlan>;
  /** The library's studies, most recently updated first, each with its progress and (once reported) its verdicts. */
  listStudies(): Promise<StudyListItem[]>;
  /** A study's report from the library's reports/NAME folder; refuses, saying why, a study without one. */
  getStudyReport(name: string): Promise<StudyReportView>;
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
export const API_METHODS = ['listRuns', 'getRun', 'compare', 'startRun', 'resumeRun', 'stopRun', 'deleteRuns', 'tagRuns', 'startStudy', 'planStudy', 'listStudies', 'getStudyReport', 'formChoices', 'importFiles', 'exportRuns', 'exportModel'] as const;
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
  listStudies: 'grokscope:listStudies',
  getStudyReport: 'grokscope:getStudyReport',
  formChoices: 'grokscope:formChoices',
  importFiles: 'grokscope:importFiles',
  exportRuns: 'grokscope:exportRuns',
  exportModel: 'grokscope:exportModel',
  event: 'grokscope:event',
} as const;

/**
 * What an IPC handler answers (main/electron → preload): the result, or the service's one-line
 * error as a value. A thrown error would reach the renderer as Electron words it, "Error invoking
 * remote method 'grokscope:getRun': ApiError: …", with every line of the message.
 */
export type IpcReply = { ok: true; result: unknown } | { ok: false; error: string };
