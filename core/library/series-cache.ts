import type { RunRecord } from './library.js';
import type { RunSeries } from './series.js';

/**
 * Typed series of finished runs, kept between calls of one service: comparing the same runs
 * again (another grouping, a run added to the selection, the view reopened) reads nothing from
 * the library. A run's entry is valid while its `updatedAt`, `stepsDone` and status are those it
 * was read with — every write to a run (evaluations, status, tags, a resume) changes `updatedAt`,
 * also when another process writes. Runs still training are never cached. Bounded by the number
 * of evaluations held (5 columns × 8 bytes each), least recently used first out.
 */
export const DEFAULT_CACHE_EVALUATIONS = 4_000_000;

const FINISHED = new Set(['completed', 'stopped', 'failed']);

export class SeriesCache {
  private readonly entries = new Map<string, { stamp: string; series: RunSeries }>();
  private held = 0;

  constructor(private readonly maxEvaluations = DEFAULT_CACHE_EVALUATIONS) {}

  private static key(id: string, probe: string): string {
    return `${id}\u0000${probe}`;
  }

  private static stamp(run: RunRecord): string {
    return `${run.updatedAt}|${run.stepsDone}|${run.status}`;
  }

  private static cacheable(run: RunRecord): boolean {
    return FINISHED.has(run.status);
  }

  get(run: RunRecord, probe: string): RunSeries | undefined {
    const key = SeriesCache.key(run.id, probe);
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.stamp !== SeriesCache.stamp(run)) {
      this.drop(key);
      return undefined;
    }
    // Refresh its place in the LRU order.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.series;
  }

  set(run: RunRecord, probe: string, series: RunSeries): void {
    if (!SeriesCache.cacheable(run) || series.step.length > this.maxEvaluations) return;
    const key = SeriesCache.key(run.id, probe);
    this.drop(key);
    this.entries.set(key, { stamp: SeriesCache.stamp(run), series });
    this.held += series.step.length;
    for (const k of this.entries.keys()) {
      if (this.held <= this.maxEvaluations) break;
      this.drop(k);
    }
  }

  /** Evaluations held now (for tests and diagnostics). */
  get size(): number {
    return this.held;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.held -= e.series.step.length;
  }
}
