import type { Piscina } from 'piscina';
import type { BackendChoice } from '../schema/backend-choices.js';
import type { StudySpec } from '../schema/study-spec.js';
import { reportStudy } from '../study/finish.js';
import { runStudy, type StudyProgress, type StudyRunHooks, type StudyRunResult } from '../study/runner.js';
import { measuredRuns, type SliceReport } from '../study/slice.js';
import { Library } from '../library/library.js';
import { runStudyOnQueue, type QueueStudyProgress } from '../queue/coordinator.js';
import type { QueueConnection } from '../queue/connection.js';
import type { ResultStore } from '../queue/result-store.js';

/**
 * A study from its spec to its report, the one path every host takes (the service for the desktop
 * app and the web server, the CLI's `study`): train on this host's pool or through a Redis queue,
 * then, when asked, the same plan again on a second backend (`--check`), then the summary and
 * report. Hosts keep only their progress display, messages and exit codes.
 */
export interface ConductOptions {
  spec: StudySpec;
  libraryDir: string;
  /** Where it trains: this host's pool, or a queue of workers (then pool is null). */
  pool: Piscina | null;
  queue: { connection: QueueConnection; store: ResultStore } | null;
  signal: AbortSignal;
  /** Where summary.json, report.html and the figures go. */
  outDir: string;
  /** The same study trained again on a second backend, on this host's pool. */
  check?: { spec: StudySpec; backend: BackendChoice } | null;
  /** Progress of the study being trained (the spec says which: the study or its check). */
  onProgress?: (spec: StudySpec, p: { local: StudyProgress } | { queue: QueueStudyProgress }) => void;
  /** Each run trained on this host's pool, one by one (runner.ts StudyRunHooks); runs trained through a queue are not seen. */
  onRun?: StudyRunHooks;
  /** One line for the user (a refused queue result). */
  log?: (line: string) => void;
  /** Write the report even when stopped (the service does: a stopped study's runs so far); the CLI stops without one. */
  reportWhenStopped?: boolean;
  /**
   * A slice (`study --time-budget`): start only the groups expected to end within this many
   * seconds on `workers` workers (core/study/slice.ts). The report is written only once every run
   * of the study is done; until then `slice` says what is left.
   */
  budget?: { seconds: number; workers: number; graceSeconds?: number } | null;
  /** One part of the study (`study --part`): these planned keys and what they depend on (runner.ts `only`). */
  only?: ReadonlySet<string> | null;
}

export interface ConductResult {
  results: StudyRunResult[];
  checkResults: StudyRunResult[] | null;
  stopped: boolean;
  written: Awaited<ReturnType<typeof reportStudy>> | null;
  /** With a budget: what this slice trained and left (written is null while groups are left). */
  slice?: SliceReport;
}

export async function conductStudy(o: ConductOptions): Promise<ConductResult> {
  if (!o.pool && !o.queue) throw new Error('conductStudy needs a pool or a queue');
  if (o.check && o.queue) throw new Error('a backend check trains on this host’s pool, not through a queue');
  if (o.budget && (o.queue || o.check)) throw new Error('a time budget slices a study trained on this host’s pool, without --check or a queue');
  if (o.only && (o.queue || o.check)) throw new Error('one part of a study trains on this host’s pool, without --check or a queue');
  let slice: SliceReport | undefined;
  const budget = o.budget ? { ...o.budget, startedAt: Date.now(), measured: await Library.with(o.libraryDir, measuredRuns), onDone: (r: SliceReport) => (slice = r) } : undefined;
  const train = (spec: StudySpec): Promise<StudyRunResult[]> =>
    o.queue
      ? runStudyOnQueue({ spec, libraryDir: o.libraryDir, ...o.queue, signal: o.signal, log: o.log, onProgress: (p) => o.onProgress?.(spec, { queue: p }) })
      : runStudy({ spec, libraryDir: o.libraryDir, pool: o.pool!, signal: o.signal, onRun: o.onRun, onProgress: (p) => o.onProgress?.(spec, { local: p }), budget, ...(o.only && spec === o.spec ? { only: o.only } : {}) });
  const results = await train(o.spec);
  // A slice that left groups: no analysis of a part (the next invocation writes it when all are in).
  if (slice && slice.left > 0 && !o.signal.aborted) return { results, checkResults: null, stopped: false, written: null, slice };
  const checkResults = o.check && !o.signal.aborted ? await train(o.check.spec) : null;
  const stopped = o.signal.aborted;
  if (stopped && !o.reportWhenStopped) return { results, checkResults, stopped, written: null };
  const written = await reportStudy(o.libraryDir, o.spec, results, o.outDir, o.check && checkResults ? { spec: o.check.spec, backend: o.check.backend, results: checkResults } : undefined);
  return { results, checkResults, stopped, written, ...(slice ? { slice } : {}) };
}
