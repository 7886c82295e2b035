import { computeEvents, type RunEvents } from '../analysis/events.js';
import type { RunTrace } from '../analysis/trace.js';
import type { RunConfig } from '../schema/run-config.js';
import type { ProbeName } from '../models/config.js';
import type { MetricRow } from './metrics.js';
import { chanceOf } from '../analysis/onset.js';
import { outputClasses } from '../tasks/groups.js';
import type { RunRecord } from './runs.js';
import type { RunSeries } from './series.js';

/** Chance accuracy of a run's task (1 / output classes). */
export function chanceOfConfig(c: Pick<RunConfig, 'task' | 'p'>): number {
  return chanceOf(outputClasses(c.task, c.p));
}

/** A run of the library as the analysis sees it (analysis/trace.ts): from row objects, or from typed series. */
export function traceOf(run: RunRecord, m: MetricRow[], probe: ProbeName): RunTrace {
  const c = run.config;
  return {
    id: run.id,
    task: c.task,
    arch: c.arch,
    condition: c.condition,
    seed: c.seed,
    budget: c.steps,
    chance: chanceOfConfig(c),
    step: Float64Array.from(m, (r) => r.step),
    train_acc: Float64Array.from(m, (r) => r.train_acc),
    test_acc: Float64Array.from(m, (r) => r.test_acc),
    test_loss: Float64Array.from(m, (r) => r.test_loss ?? NaN),
    entropy: Float64Array.from(m, (r) => r.entropy[probe] ?? NaN),
    weight_norm: Float64Array.from(m, (r) => r.weight_norm),
    fourier: m.every((r) => r.fourier_topk_share !== null) ? Float64Array.from(m, (r) => r.fourier_topk_share!) : null,
    scalars: everyEvaluation(m),
  };
}

/**
 * The live scalars of a run's evaluations, as columns: those recorded at ≥ 90 % of the
 * evaluations from their first one on (NaN where missing: before it — the spectral-edge gap needs
 * W updates first — and at the odd evaluation without it, such as a window of rank one). Those of
 * some evaluations only (spectrum evaluations) are left out, and so are the `progress_final/…`
 * values, computed after the run with its final key frequencies: a warning must not see them.
 */
function everyEvaluation(m: MetricRow[]): Record<string, Float64Array> {
  if (m.length === 0) return {};
  const names = [...new Set(m.flatMap((r) => Object.keys(r.scalars ?? {})))].filter((name) => {
    if (name.startsWith('progress_final/')) return false;
    const first = m.findIndex((r) => r.scalars?.[name] !== undefined);
    const rest = m.slice(first);
    return rest.filter((r) => r.scalars?.[name] !== undefined).length >= 0.9 * rest.length;
  });
  return Object.fromEntries(names.map((name) => [name, Float64Array.from(m, (r) => r.scalars?.[name] ?? NaN)]));
}

/**
 * A trace straight from typed columns (no copy: the columns are shared with the series). The
 * same series object gives the same trace object, so a cached series (library/series-cache.ts)
 * keeps its memoised event steps and crossing profile between compares; a series belongs to one
 * run, whose config does not change.
 */
const traceBySeries = new WeakMap<RunSeries, RunTrace>();
export function traceOfSeries(run: RunRecord, s: RunSeries): RunTrace {
  const hit = traceBySeries.get(s);
  if (hit && hit.id === run.id) return hit;
  const c = run.config;
  // Fourier shares are not read into series (no view that uses series shows them).
  const trace: RunTrace = { id: run.id, task: c.task, arch: c.arch, condition: c.condition, seed: c.seed, budget: c.steps, chance: chanceOfConfig(c), step: s.step, train_acc: s.train_acc, test_acc: s.test_acc, test_loss: s.test_loss, entropy: s.entropy, weight_norm: s.weight_norm, fourier: null };
  traceBySeries.set(s, trace);
  return trace;
}

/** A run's events from its stored rows, by the rules in its config (docs/methods.md, "Events of a run"). */
export function eventsFromMetrics(config: RunConfig, rows: MetricRow[]): RunEvents {
  return computeEvents(
    rows.map((r) => ({ step: r.step, train_acc: r.train_acc, test_acc: r.test_acc, test_loss: r.test_loss, entropy: r.entropy[config.probe] })),
    { ...config, chance: chanceOfConfig(config) },
  );
}

/**
 * A run's events as every view and export shows them: recomputed from its metric rows by today's
 * rules (events are pure functions of the rows and the config, and those stored before 2026-12-05
 * lack the onset markers and counted T_cross from step 0), else the stored ones (a run without
 * evaluations). The stored object holds nothing else: it was always eventsFromMetrics' answer.
 */
export function currentEvents(run: Pick<RunRecord, 'config' | 'events'>, rows: MetricRow[]): RunEvents | null {
  return rows.length ? eventsFromMetrics(run.config, rows) : run.events;
}
