import type { RunDetail, RunDetailOptions } from '../api.js';
import { PROBES } from '../models/config.js';
import type { TracedRunData } from '../study/analyze.js';
import { checkpointDirFor } from '../library/paths.js';
import { checkpointSteps } from '../train/checkpoint.js';
import { currentEvents } from '../library/traces.js';
import { ApiError } from './validate.js';
import { configView } from './preset-diff.js';
import { pointFromRow } from './points.js';
import { applyForecast, forecastModel, type ForecastModel } from '../analysis/live-forecast.js';
import type { Library, MetricRow, RunRecord } from '../library/library.js';
import { SeriesCache } from '../library/series-cache.js';
import type { RunSeries } from '../library/series.js';
import { traceOf, traceOfSeries } from '../library/traces.js';
import { sameSetting } from '../analysis/settings.js';

/**
 * Reading runs for the views, with what is worth keeping between calls: typed series of finished
 * runs (library/series-cache.ts) and live-forecast models per reference set.
 */
export class RunReader {
  /** Typed series of finished runs between compares (library/series-cache.ts). */
  private readonly seriesCache = new SeriesCache();
  /** Live-forecast models by reference set (see forecastFor); null: no model from that set. */
  private readonly forecastModels = new Map<string, ForecastModel | null>();

  /** `isTraining`: runs whose series change while they train are never cached. */
  constructor(private readonly isTraining: (id: string) => boolean) {}

  /**
   * Reference: up to 20 other completed baseline runs of the same task, architecture and setting
   * (every configuration field but the seed: a weight-decay-0 or another-lr run is no reference),
   * judged at the target's configured H̃*.
   */
  async forecastFor(lib: Library, run: RunRecord, rows: MetricRow[]): Promise<RunDetail['forecast']> {
    const c = run.config;
    const candidates = (await lib.listRunsDetailed()).filter((r) => r.id !== run.id && r.status === 'completed' && r.condition === 'baseline' && r.task === c.task && r.arch === c.arch);
    const reference = (await lib.getRuns(candidates.reverse().map((r) => r.id)))
      .filter((other) => {
        return other.origin !== 'external' && sameSetting(other.config as unknown as Record<string, unknown>, c as unknown as Record<string, unknown>);
      })
      .slice(0, 20);
    if (reference.length < 2) return null;
    const rules = { memThreshold: c.memThreshold, grokThreshold: c.grokThreshold, crossPersistence: c.crossPersistence };
    // The model depends on the reference runs only: fitted once per reference set, not on every
    // refresh of a live run (one power-law fit per held-out reference seed).
    const key = JSON.stringify([rules, c.probe, c.entropyThreshold, reference.map((r) => [r.id, r.updatedAt, r.stepsDone])]);
    let model = this.forecastModels.get(key);
    if (model === undefined) {
      const series = await this.seriesOf(lib, reference, c.probe);
      model = forecastModel(
        reference.map((r) => traceOfSeries(r, series.get(r.id)!)),
        rules,
        c.entropyThreshold,
      );
      if (this.forecastModels.size >= 32) this.forecastModels.delete(this.forecastModels.keys().next().value!);
      this.forecastModels.set(key, model);
    }
    if (!model) return null;
    const f = applyForecast(model, traceOf(run, rows, c.probe));
    return { threshold: f.threshold, referenceRuns: f.referenceRuns, relError: f.relError, points: f.points };
  }

  /** One run as the run view shows it. */
  async runDetail(lib: Library, libraryDir: string, id: string, options: RunDetailOptions): Promise<RunDetail> {
    const run = await lib.getRun(await lib.resolveRunId(id));
    const rows = await lib.getMetrics(run.id);
    return {
      id: run.id,
      status: run.status,
      stepsDone: run.stepsDone,
      error: run.error,
      backend: run.backend,
      backendNote: run.backendNote,
      origin: run.origin,
      note: run.note,
      // The config in schema order, its study and how it departs from its preset (preset-diff.ts).
      ...(await configView(lib, run)),
      // Recomputed by today's rules (stored events may predate the onset markers and the warning from T_mem on).
      events: currentEvents(run, rows),
      // The one H̃* of every view (docs/decisions.md, "One H̃* in every view").
      threshold: { value: run.config.entropyThreshold, source: 'configured', detail: "configured (the run's entropyThreshold)" },
      metrics: rows.map(pointFromRow),
      checkpoints: checkpointSteps(checkpointDirFor(libraryDir, run.id)),
      spectra: options.spectra === false ? [] : await lib.getSpectra(run.id),
      forecast: options.forecast === false ? null : await this.forecastFor(lib, run, rows),
    };
  }

  /** Runs traced from typed series of one probe (default: the first run's), for compare. */
  async tracedRuns(lib: Library, ids: string[], probeAsked?: string): Promise<TracedRunData[]> {
    const runs = await lib.getRuns(await lib.resolveRunIds(ids));
    if (runs.length === 0) throw new ApiError('no runs to compare: select runs in the library');
    const probe = probeAsked ?? runs[0].config.probe;
    if (!(PROBES as readonly string[]).includes(probe)) throw new ApiError(`unknown probe '${probe}' (one of ${PROBES.join(', ')})`);
    const series = await this.seriesOf(lib, runs, probe);
    return runs.map((run) => ({ key: run.id, run, trace: traceOfSeries(run, series.get(run.id)!) }));
  }

  /** Typed series of runs, from the cache where it holds them (finished runs), else the library. */
  async seriesOf(lib: Library, runs: RunRecord[], probe: string): Promise<Map<string, RunSeries>> {
    const series = new Map<string, RunSeries>();
    const missing = runs.filter((r) => {
      const hit = this.seriesCache.get(r, probe);
      if (hit) series.set(r.id, hit);
      return !hit;
    });
    const read = await lib.getSeries(
      missing.map((r) => r.id),
      probe,
    );
    for (const r of missing) {
      const s = read.get(r.id)!;
      series.set(r.id, s);
      if (!this.isTraining(r.id)) this.seriesCache.set(r, probe, s);
    }
    return series;
  }
}
