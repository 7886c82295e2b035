import type { AlignEvent, Band as DrawnBand, CompareData, CompareGroup, CompareOptions, LinePoints, RunLine } from '../api.js';
import type { TracedRunData } from '../study/analyze.js';
import { PROBES } from '../models/config.js';
import type { RunConfig } from '../schema/run-config.js';
import { MAX_BAND_POINTS, bandOf, decimateBands, stepGrid, type Band } from '../analysis/bands.js';
import { BAND_KINDS, smoothByStep, spreadOf, type BandKind } from '../analysis/band-spread.js';
import { settingOf, varyingSettingFields, type RunSetting } from '../analysis/settings.js';
import { markersOf, tGrok, tMem, type EventRules, type RunTrace } from '../analysis/trace.js';
import { m4 } from '../analysis/decimate.js';
import { configDifferences } from './config-diff.js';
import { compareTables } from './compare-tables.js';

/**
 * Pixel columns the runs' own curves are decimated for unless the view says its width: a compare
 * chart is ~600 px wide at 1280×800 (two architectures side by side).
 */
export const LINE_COLUMNS = 600;

/** Round to a millionth of the values' range: exact at any drawable size, short in JSON. */
function roundForDrawing(flat: number[]): void {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 1; i < flat.length; i += 2) {
    if (flat[i] < lo) lo = flat[i];
    if (flat[i] > hi) hi = flat[i];
  }
  const range = hi - lo || Math.abs(hi) || 1;
  const scale = 10 ** (6 - Math.floor(Math.log10(range)));
  for (let i = 1; i < flat.length; i += 2) flat[i] = Math.round(flat[i] * scale) / scale;
}

/** A trace with its steps counted from `origin` (the same arrays otherwise). */
function shiftSteps(trace: RunTrace, origin: number): RunTrace {
  return { ...trace, step: Float64Array.from(trace.step, (s) => s - origin) };
}

function rulesOf(c: RunConfig): EventRules {
  return { memThreshold: c.memThreshold, grokThreshold: c.grokThreshold, crossPersistence: c.crossPersistence };
}

/** A run's step of the event aligned on, recomputed from its curves by its own rules (null: not reached). */
function eventStep(d: TracedRunData, event: AlignEvent): number | null {
  const rules = rulesOf(d.run.config);
  if (event === 'T_mem') return tMem(d.trace, rules);
  if (event === 'T_grok') return tGrok(d.trace, rules);
  return markersOf(d.trace, rules).T_rise;
}

const ORDER = ['baseline', 'mix', 'norm-matched', 'logit-matched'];
const METRICS = ['test_acc', 'train_acc', 'entropy', 'weight_norm'] as const;

/** A group's name: condition (with its variant), then its setting. */
function labelOf(condition: string, s: RunSetting): string {
  return [s.variant ? `${condition} (${s.variant})` : condition, s.setting].filter(Boolean).join(' · ');
}

/**
 * One metric's band as the view draws it: mean (smoothed on request, the raw mean kept), the
 * shaded area of the band kind asked for, on the steps `keep` selects, at most MAX_BAND_POINTS
 * points (the envelope kept: decimateBands).
 */
function drawnBands(steps: ArrayLike<number>, full: Band[], kind: BandKind, smoothing: number, keep: number[] | null, maxPoints: number): { steps: number[]; bands: DrawnBand[] } {
  const pick = <T,>(xs: ArrayLike<T>): T[] => (keep ? keep.map((i) => xs[i]) : Array.from(xs));
  const grid = pick(steps);
  const parts = full.map((b) => {
    const { lower, upper } = spreadOf(b, kind);
    const mean = pick(b.mean);
    const smooth = (xs: (number | null)[]): (number | null)[] => (smoothing > 0 ? smoothByStep(grid, xs, smoothing) : xs);
    // Two bands through the decimation: the drawn one (mean, lower, upper) and min–max with the raw mean.
    return [
      { mean: smooth(mean), min: smooth(pick(lower)), max: smooth(pick(upper)), sd: pick(b.sd), n: pick(b.n) },
      { mean, min: pick(b.min), max: pick(b.max), sd: pick(b.sd), n: pick(b.n) },
    ];
  });
  const dec = decimateBands(grid, parts.flat(), maxPoints);
  const bands = full.map((_, j): DrawnBand => {
    const [drawn, raw] = [dec.bands[2 * j], dec.bands[2 * j + 1]];
    return { mean: drawn.mean, lower: drawn.min, upper: drawn.max, min: raw.min, max: raw.max, n: drawn.n, ...(smoothing > 0 ? { raw: raw.mean } : {}) };
  });
  return { steps: dec.steps, bands };
}

/**
 * What the workbench's compare view shows, from runs traced from typed series
 * (`traceOfSeries`): bands across seeds per architecture, setting and condition (a setting: every
 * configuration field but the seed that differs among the compared runs, or those of them the
 * user groups by; core/analysis/settings.ts), on request every run's own curves, and the tables
 * (compare-tables.ts), each setting on its own and judged at the runs' configured H̃*. Pure: the
 * service reads and caches the series (core/service/service.ts).
 */
export function compareRuns(data: TracedRunData[], options: CompareOptions = {}): CompareData {
  const probe = (options.probe ?? data[0].run.config.probe) as RunConfig['probe'];
  const kind: BandKind = options.band && (BAND_KINDS as readonly string[]).includes(options.band) ? options.band : 'minmax';
  const smoothing = options.smoothing && options.smoothing > 0 ? options.smoothing : 0;
  const configs = data.map((d) => ({ id: d.run.id, config: d.run.config as unknown as Record<string, unknown> }));
  const available = varyingSettingFields(configs);
  const fields = options.groupBy ? available.filter((f) => options.groupBy!.includes(f)) : available;
  const settings = new Map(data.map((d) => [d.run.id, settingOf(d.run.config as unknown as Record<string, unknown>, fields)]));
  const align = options.align ?? null;
  // Aligned: each run's steps counted from its own event; runs without it are not drawn.
  const origin = new Map(data.map((d) => [d.run.id, align ? eventStep(d, align) : 0]));
  const drawn = data.flatMap((d) => {
    const o = origin.get(d.run.id);
    return o === null || o === undefined ? [] : [{ ...d, trace: o ? shiftSteps(d.trace, o) : d.trace }];
  });
  // The view's shared step axis runs from 0 (or the earliest aligned step) to the last step of any run.
  let minStep = 0;
  let maxStep = 0;
  for (const { trace } of drawn) {
    if (!trace.step.length) continue;
    minStep = Math.min(minStep, trace.step[0]);
    maxStep = Math.max(maxStep, trace.step[trace.step.length - 1]);
  }
  const pairs = (step: ArrayLike<number>, values: ArrayLike<number>): LinePoints => {
    const flat = m4(step, values, options.columns ?? LINE_COLUMNS, minStep, maxStep);
    roundForDrawing(flat);
    const out: LinePoints = { step: new Array(flat.length / 2), value: new Array(flat.length / 2) };
    for (let i = 0; i < out.step.length; i++) {
      out.step[i] = flat[2 * i];
      out.value[i] = flat[2 * i + 1];
    }
    return out;
  };
  // Groups in a stable order: architecture (Transformer first), setting, condition, variant.
  // Each run's group key, once (the groups below select their runs by it).
  const keyOf = new Map(data.map((d) => {
    const s = settings.get(d.run.id)!;
    return [d.run.id, JSON.stringify([d.run.config.arch, s.setting, ORDER.indexOf(d.run.config.condition), d.run.config.condition, s.variant])];
  }));
  const groupKey = (d: TracedRunData): string => keyOf.get(d.run.id)!;
  const keys = [...new Set(keyOf.values())].sort((a, b) => {
    const [x, y] = [JSON.parse(a), JSON.parse(b)];
    return y[0].localeCompare(x[0]) || x[1].localeCompare(y[1]) || x[2] - y[2] || x[4].localeCompare(y[4]);
  });
  const groups: CompareGroup[] = [];
  for (const key of keys) {
    const all = data.filter((d) => groupKey(d) === key);
    const { arch, condition } = all[0].run.config;
    const s = settings.get(all[0].run.id)!;
    const head = { arch, condition, setting: s.setting, variant: s.variant, label: labelOf(condition, s) };
    const runs = drawn.filter((d) => groupKey(d) === key);
    const drawnIds = new Set(runs.map((d) => d.run.id));
    const unaligned = align ? all.filter((d) => !drawnIds.has(d.run.id)).map((d) => d.run.id) : [];
    const alignedPart = align ? { unaligned } : {};
    if (runs.length === 0) {
      const empty: DrawnBand = { mean: [], lower: [], upper: [], min: [], max: [], n: [] };
      groups.push({ ...head, runs: [], steps: [], test_acc: empty, train_acc: empty, entropy: empty, weight_norm: empty, ...alignedPart });
      continue;
    }
    const cols = runs.map((d) => d.trace);
    const steps = stepGrid(cols.map((c) => c.step));
    // A run that finished early on purpose (early stop after grokking) keeps counting.
    const carry = runs.map((d) => d.run.status === 'completed' && d.run.stepsDone < d.run.config.steps && tGrok(d.trace, rulesOf(d.run.config)) !== null);
    const full = METRICS.map((m) => bandOf(steps, cols.map((c, i) => ({ step: c.step, values: c[m], carryForward: carry[i] }))));
    // Aligned: only the steps where every run of the group has a value (accuracy and H̃ are measured at every evaluation).
    const keep = align ? Array.from(full[0].n.keys()).filter((i) => full[0].n[i] === runs.length) : null;
    const shown = drawnBands(steps, full, kind, smoothing, keep, options.full ? Infinity : MAX_BAND_POINTS);
    const [test_acc, train_acc, entropy, weight_norm] = shown.bands;
    const group: CompareGroup = { ...head, runs: runs.map((d) => d.run.id), steps: shown.steps, test_acc, train_acc, entropy, weight_norm, ...alignedPart };
    if (options.lines) {
      group.lines = runs.map((d, i): RunLine => ({
        id: d.run.id,
        seed: d.run.config.seed,
        test_acc: pairs(cols[i].step, cols[i].test_acc),
        entropy: pairs(cols[i].step, cols[i].entropy),
        weight_norm: pairs(cols[i].step, cols[i].weight_norm),
      }));
    }
    groups.push(group);
  }
  const tables = compareTables(data, settings, probe);
  const configDiff = configDifferences(configs);
  return {
    probe,
    probes: [...PROBES].filter((p) => p !== 'attn.out' || data.some((d) => d.run.config.arch === 'transformer')),
    band: kind,
    smoothing,
    grouping: { available, fields, pooled: available.filter((f) => !fields.includes(f)) },
    groups,
    ...tables,
    align,
    configDiff,
  };
}
