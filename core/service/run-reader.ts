import type { RunDetail } from '../api.js';
import { applyForecast, forecastModel, type ForecastModel } from '../analysis/live-forecast.js';
import type { Library, MetricRow, RunRecord } from '../library/library.js';
import { SeriesCache } from '../library/series-cache.js';
import type { RunSeries } from '../library/series.js';
import { traceOf, traceOfSeries } from '../library/traces.js';

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

  /** Reference: up to 20 other completed baseline runs with the same task, arch, p and width. */
  async forecastFor(lib: Library, run: RunRecord, rows: MetricRow[]): Promise<RunDetail['forecast']> {
    const c = run.config;
    const candidates = (await lib.listRunsDetailed()).filter((r) => r.id !== run.id && r.status === 'completed' && r.condition === 'baseline' && r.task === c.task && r.arch === c.arch);
    const reference = (await lib.getRuns(candidates.reverse().map((r) => r.id)))
      .filter((other) => {
        const o = other.config;
        return other.origin !== 'external' && o.p === c.p && o.dModel === c.dModel && o.dMlp === c.dMlp && o.trainFraction === c.trainFraction;
      })
      .slice(0, 20);
    if (reference.length < 2) return null;
    const rules = { memThreshold: c.memThreshold, grokThreshold: c.grokThreshold, crossPersistence: c.crossPersistence };
    // The model depends on the reference runs only: fitted once per reference set, not on every
    // refresh of a live run (one power-law fit per held-out reference seed).
    const key = JSON.stringify([rules, c.probe, reference.map((r) => [r.id, r.updatedAt, r.stepsDone])]);
    let model = this.forecastModels.get(key);
    if (model === undefined) {
      const series = await this.seriesOf(lib, reference, c.probe);
      model = forecastModel(
        reference.map((r) => traceOfSeries(r, series.get(r.id)!)),
        rules,
      );
      if (this.forecastModels.size >= 32) this.forecastModels.delete(this.forecastModels.keys().next().value!);
      this.forecastModels.set(key, model);
    }
    if (!model) return null;
    const f = applyForecast(model, traceOf(run, rows, c.probe));
    return { threshold: f.threshold, referenceRuns: f.referenceRuns, relError: f.relError, points: f.points };
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
