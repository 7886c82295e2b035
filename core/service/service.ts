import type { Piscina } from 'piscina';
import type { CompareData, CompareOptions, ExportKind, FormChoices, StudyListItem, StudyPlan, StudyReportView, StudyStartOptions, GrokscopeApi, ImportResult, LiveEvent, RunDetail, RunDetailOptions, RunListItem, RunRequest, UploadedFile } from '../api.js';
import { API_METHODS, type ApiMethod } from '../api.js';
import { CONDITIONS, MIX_FORMS, PRESETS, describeZodError, type RunConfig } from '../schema/run-config.js';
import { ARGS, ApiError, configsFromRequest } from './validate.js';
import { exportFile, exportModelFile, importFiles, importLocalFiles } from './files.js';
import { speedFileFor } from '../library/paths.js';
import { deleteRunsAndFiles } from '../library/archive.js';
import { speedFigures } from '../train/backend-speed.js';
import { Library, type RunRecord } from '../library/library.js';
import { compareRuns } from './compare.js';
import { RunReader } from './run-reader.js';
import { ReadCache } from './read-cache.js';
import { NAMED_STUDIES, planRuns, resolveStudySpec } from '../study/spec.js';
import { BACKEND_CHOICES } from '../schema/backend-choices.js';
import { ARCHS, PROBES } from '../models/config.js';
import { INIT_SCHEMES } from '../models/init.js';
import { TASK_FORMULAS, TASK_NAMES } from '../tasks/groups.js';
import { StudySpecError, type StudySpec } from '../schema/study-spec.js';
import { QueueUrlError, type QueueConnection } from '../queue/connection.js';
import { openQueue } from '../queue/open.js';
import type { ResultStore } from '../queue/result-store.js';
import type { MeasuredRun } from '../study/estimate.js';
import { ShapeRates, estimateWithProbes } from './shape-rate.js';
import { conductStudy, type ConductOptions } from './conduct-study.js';
import { verdictText } from '../study/stability.js';
import type { MemberOutcome, RunOutcome } from '../runs/run-executor.js';
import { RunLauncher } from './launcher.js';
import { studyRunEvents } from './live-run.js';
import { listStudies, reportDirFor, studyReport } from './studies-view.js';
import { firstLine } from '../errors.js';

export { ApiError, configFromRequest } from './validate.js';

/**
 * The api.ts contract implemented once, on the run library and a training pool; every host
 * (Electron main, `grokscope serve`, tests) serves this object through its own transport, and
 * passes calls through `dispatch`, which validates every argument first.
 */
export class GrokscopeService implements GrokscopeApi {
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly active = new Map<string, AbortController>();
  private readonly reader = new RunReader((id) => this.active.has(id));
  private readonly studies = new Map<string, AbortController>();
  /** Answers of listRuns and getRun while the library's files are unchanged (read-cache.ts). */
  private readonly answers: ReadCache;

  private readonly launcher: RunLauncher;
  /** Short measured runs of shapes the library has no completed run of, for planStudy (shape-rate.ts). */
  private readonly shapeRates = new ShapeRates();

  constructor(
    readonly libraryDir: string,
    private readonly pool: Piscina | null,
  ) {
    this.answers = new ReadCache(libraryDir);
    this.launcher = new RunLauncher(libraryDir, () => this.requirePool(), this.active, (e) => this.emit(e));
  }

  private emit(e: LiveEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        /* a failing listener must not stop the others */
      }
    }
  }

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async listRuns(): Promise<RunListItem[]> {
    return this.answers.read('listRuns', () => Library.with(this.libraryDir, (lib) => lib.listRunsDetailed()));
  }

  async getRun(id: string, options: RunDetailOptions = {}): Promise<RunDetail> {
    const key = JSON.stringify(['getRun', id, options.forecast !== false, options.spectra !== false]);
    return this.answers.read(key, () => this.readRun(id, options));
  }

  private async readRun(id: string, options: RunDetailOptions): Promise<RunDetail> {
    return Library.with(this.libraryDir, (lib) => this.reader.runDetail(lib, this.libraryDir, id, options));
  }

  async compare(ids: string[], options: CompareOptions = {}): Promise<CompareData> {
    return compareRuns(await Library.with(this.libraryDir, (lib) => this.reader.tracedRuns(lib, ids, options.probe)), options);
  }

  async startRun(request: RunRequest): Promise<{ id: string }> {
    this.requirePool();
    const configs = configsFromRequest(request);
    if (configs.length > 1) return { id: (await this.launcher.launchSeeds(configs))[0] };
    return { id: await this.launcher.launch(configs[0], undefined).created };
  }

  async resumeRun(id: string): Promise<{ id: string }> {
    const run = await this.resumable(id);
    return { id: await this.launcher.launch(run.config, run.id).created };
  }

  /**
   * Train a run to its end in this host's pool, with the same live events as startRun: the CLI's
   * `run` (a full config, or a run to resume). Not on the transport: a config object is for
   * in-process hosts. `signal` stops the run at its next step, with a checkpoint.
   */
  async train(request: { config: RunConfig } | { resume: string }, signal?: AbortSignal): Promise<RunOutcome> {
    this.requirePool();
    const run = 'resume' in request ? await this.resumable(request.resume) : null;
    const launched = this.launcher.launch(run ? run.config : (request as { config: RunConfig }).config, run?.id, signal);
    await launched.created;
    return launched.finished.catch((err: unknown) => {
      throw new ApiError(firstLine(err));
    });
  }

  /**
   * Train runs of one shape as one run group (core/train/run-group.ts), each with its own live
   * events: the CLI's `run --seeds`. A run that cannot start is reported failed alone.
   */
  async trainGroup(configs: RunConfig[], signal?: AbortSignal): Promise<MemberOutcome[]> {
    this.requirePool();
    const launched = this.launcher.launchGroup(configs.map((config) => ({ config })), signal);
    await launched.created;
    return launched.finished.catch((err: unknown) => {
      throw new ApiError(firstLine(err));
    });
  }

  /** The worker pool, or an ApiError for a host that cannot train (tests and read-only hosts pass none). */
  private requirePool(): Piscina {
    if (!this.pool) throw new ApiError('this host cannot train (no worker pool)');
    return this.pool;
  }

  /** A run that can be resumed here, or an ApiError saying why not. */
  private async resumable(id: string): Promise<RunRecord> {
    this.requirePool();
    const run = await Library.with(this.libraryDir, async (lib) => lib.getRun(await lib.resolveRunId(id))).catch((err: unknown) => {
      throw new ApiError(firstLine(err));
    });
    if (this.active.has(run.id)) throw new ApiError(`run ${run.id} is already training`);
    if (run.status === 'completed') throw new ApiError(`run ${run.id} is completed: nothing to resume`);
    if (run.origin === 'external') throw new ApiError(`run ${run.id} was imported from another tool's logs: it has no checkpoints to resume from`);
    return run;
  }

  async tagRuns(ids: string[], add: string[], remove: string[]): Promise<void> {
    await Library.with(this.libraryDir, async (lib) => {
      for (const id of ids) {
        const run = await lib.getRun(await lib.resolveRunId(id));
        await lib.setTags(run.id, [...run.tags.filter((t) => !remove.includes(t)), ...add]);
      }
    });
    this.emit({ type: 'library-changed' });
  }

  async startStudy(specArg: string | Record<string, unknown>, options: StudyStartOptions = {}): Promise<{ name: string; runs: number }> {
    // On a queue the workers train: this host only enqueues, imports and reports.
    const queue = options.queue === undefined ? null : await queueOf(options);
    const pool = queue ? null : this.requirePool();
    let spec: StudySpec;
    try {
      spec = resolveStudySpec(specArg);
    } catch (err) {
      throw err instanceof StudySpecError ? new ApiError(err.message) : err;
    }
    if (this.studies.has(spec.name)) throw new ApiError(`study ${spec.name} is already running`);
    let planned: number;
    try {
      planned = planRuns(spec).length;
    } catch (err) {
      throw new ApiError(firstLine(err));
    }
    const controller = new AbortController();
    this.studies.set(spec.name, controller);
    let last = 0;
    const progress = (p: { done: number; failed: number; total: number }, running: number): void => {
      if (Date.now() - last < 500 && p.done + p.failed < p.total) return;
      last = Date.now();
      this.emit({ type: 'study-progress', name: spec.name, done: p.done, failed: p.failed, total: p.total, running });
    };
    // The one path from spec to report (conduct-study.ts); a stopped study still gets its report.
    const outDir = reportDirFor(this.libraryDir, spec.name);
    // Its runs' own live events, so that they show under "Training now" as runs started alone do.
    const runEvents = studyRunEvents(spec.name, (e) => this.emit(e));
    const onProgress: ConductOptions['onProgress'] = (_s, p) => ('queue' in p ? progress(p.queue, p.queue.active) : progress(p.local, p.local.running.size));
    const trained = conductStudy({ spec, libraryDir: this.libraryDir, pool, queue, signal: controller.signal, outDir, reportWhenStopped: true, onProgress, onRun: runEvents }).finally(() => (runEvents.close(), queue?.store.close()));
    // No longer this host's before study-finished goes out: a view listing the studies on it sees it finished.
    void trained
      .finally(() => this.studies.delete(spec.name))
      .then(({ results, written: report }) => {
        const failed = results.filter((r) => r.status !== 'completed').length;
        const written = report!;
        const summary = written.summary;
        this.emit({
          type: 'study-finished',
          name: spec.name,
          status: failed ? 'incomplete' : 'completed',
          summary: written.summaryPath,
          report: written.reportPath,
          verdicts: Object.fromEntries(Object.entries(summary.claims).map(([k, c]) => [k, verdictText(c)])),
          error: failed ? `${failed} run(s) did not complete` : null,
        });
      })
      .catch((err: Error) => this.emit({ type: 'study-finished', name: spec.name, status: 'failed', summary: null, report: null, verdicts: null, error: firstLine(err) }))
      .finally(() => {
        this.studies.delete(spec.name);
        this.emit({ type: 'library-changed' });
      });
    return { name: spec.name, runs: planned };
  }

  async listStudies(): Promise<StudyListItem[]> {
    return listStudies(this.libraryDir, new Set(this.studies.keys()));
  }

  async getStudyReport(name: string): Promise<StudyReportView> {
    return studyReport(this.libraryDir, name);
  }

  async formChoices(): Promise<FormChoices> {
    return { presets: PRESETS, backends: [...BACKEND_CHOICES], probes: [...PROBES], tasks: [...TASK_NAMES], taskFormulas: TASK_FORMULAS, archs: [...ARCHS], conditions: [...CONDITIONS], mixForms: [...MIX_FORMS], inits: [...INIT_SCHEMES], studies: NAMED_STUDIES };
  }

  async planStudy(specArg: string | Record<string, unknown>): Promise<StudyPlan> {
    let spec: StudySpec;
    let plan: ReturnType<typeof planRuns>;
    try {
      spec = resolveStudySpec(specArg);
      plan = planRuns(spec);
    } catch (err) {
      throw new ApiError(firstLine(err));
    }
    const measured = await Library.with(this.libraryDir, async (lib) => {
      const done = (await lib.listRunsDetailed()).filter((r) => r.status === 'completed' && r.origin === 'trained').slice(-200);
      return (await lib.getRuns(done.map((r) => r.id))).map((r): MeasuredRun => ({ ...r.config, steps: r.stepsDone, seconds: (Date.parse(r.updatedAt) - Date.parse(r.createdAt)) / 1000 }));
    });
    const estimate = await estimateWithProbes(plan, measured, this.pool?.maxThreads ?? 1, speedFigures(speedFileFor(this.libraryDir)), this.pool ? this.shapeRates : null);
    return { name: spec.name, ...estimate };
  }

  async stopRun(id: string): Promise<void> {
    const c = this.active.get(id);
    if (!c) throw new ApiError(`run ${id} is not training in this session`);
    c.abort();
  }

  async deleteRuns(ids: string[]): Promise<void> {
    for (const id of ids) if (this.active.has(id)) throw new ApiError(`run ${id} is training; stop it first`);
    await deleteRunsAndFiles(this.libraryDir, ids);
    this.emit({ type: 'library-changed' });
  }

  async importFiles(files: UploadedFile[]): Promise<ImportResult[]> {
    const results = await importFiles(this.libraryDir, files);
    if (results.some((r) => r.ok)) this.emit({ type: 'library-changed' });
    return results;
  }

  /** importFiles for files already on this machine (the desktop's Import dialog and dropped paths); not on the transport: a page names no local path. */
  async importLocalFiles(paths: string[]): Promise<ImportResult[]> {
    const results = await importLocalFiles(this.libraryDir, paths);
    if (results.some((r) => r.ok)) this.emit({ type: 'library-changed' });
    return results;
  }

  async exportRuns(ids: string[], kind: ExportKind): Promise<UploadedFile> {
    return exportFile(this.libraryDir, ids, kind);
  }

  async exportModel(id: string, step: number | null): Promise<UploadedFile> {
    return exportModelFile(this.libraryDir, id, step);
  }

  /** Validate a transport call and run it; errors come back as one-line messages. */
  async dispatch(method: string, args: unknown): Promise<unknown> {
    if (!(API_METHODS as readonly string[]).includes(method)) throw new ApiError(`unknown method '${method}'`);
    const schema = ARGS[method as ApiMethod];
    const parsed = schema.safeParse(args);
    if (!parsed.success) throw new ApiError(`${method}: invalid arguments: ${describeZodError(parsed.error)}`);
    const fn = (this[method as ApiMethod] as (...a: unknown[]) => Promise<unknown>).bind(this);
    return fn(...parsed.data);
  }
}

/** A queue for startStudy (core/queue/open.ts), its problems as one-line ApiErrors. */
async function queueOf(options: StudyStartOptions): Promise<{ connection: QueueConnection; store: ResultStore }> {
  return openQueue(options.queue!, options.results).catch((err) => {
    throw err instanceof QueueUrlError ? new ApiError(err.message) : err;
  });
}
