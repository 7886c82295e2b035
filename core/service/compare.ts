import type { CompareData, CompareGroup, CompareOptions, LinePoints, RunLine } from '../api.js';
import { analyzeStudy, type TracedRunData } from '../study/analyze.js';
import type { StudySpec } from '../schema/study-spec.js';
import { bandOf, decimateBands, stepGrid, type Band } from '../analysis/bands.js';
import type { RunTrace } from '../analysis/trace.js';
import { m4 } from '../analysis/decimate.js';
import { configDifferences } from './config-diff.js';

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

/**
 * What the workbench's compare view shows, from runs traced from typed series
 * (`traceOfSeries`): bands across seeds per architecture and condition (and, on request, every
 * run's own curves), H̃* from the selected Transformer baselines, the necessity table and the
 * intervention deltas, the warning's detection table. Pure: the service reads and caches the series (core/service/service.ts).
 */
export function compareRuns(data: TracedRunData[], options: CompareOptions = {}): CompareData {
  const probe = data[0].run.config.probe;
  const order = ['baseline', 'mix', 'norm-matched', 'logit-matched'];
  const conditions = [...new Set(data.map((d) => d.run.config.condition))].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const groups: CompareGroup[] = [];
  const align = options.align ?? null;
  // Aligned: each run's steps counted from its own event; runs without it are not drawn.
  const drawn = align ? data.flatMap((d) => (typeof d.run.events?.[align] === 'number' ? [{ ...d, trace: shiftSteps(d.trace, d.run.events[align]!) }] : [])) : data;
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
  for (const arch of [...new Set(data.map((d) => d.run.config.arch))].sort().reverse()) {
    for (const condition of conditions) {
      const all = data.filter((d) => d.run.config.arch === arch && d.run.config.condition === condition);
      if (all.length === 0) continue;
      const runs = drawn.filter((d) => d.run.config.arch === arch && d.run.config.condition === condition);
      const drawnIds = new Set(runs.map((d) => d.run.id));
      const unaligned = align ? all.filter((d) => !drawnIds.has(d.run.id)).map((d) => d.run.id) : [];
      if (runs.length === 0) {
        const empty = { mean: [], min: [], max: [], n: [] };
        groups.push({ arch, condition, runs: [], steps: [], test_acc: empty, train_acc: empty, entropy: empty, weight_norm: empty, unaligned });
        continue;
      }
      const cols = runs.map((d) => d.trace);
      const steps = stepGrid(cols.map((c) => c.step));
      // A run that finished early on purpose (early stop after grokking) keeps counting.
      const carry = runs.map((d) => d.run.status === 'completed' && d.run.stepsDone < d.run.config.steps && (d.run.events?.T_grok ?? null) !== null);
      const band = (values: (c: RunTrace) => ArrayLike<number>): Band => bandOf(steps, cols.map((c, i) => ({ step: c.step, values: values(c), carryForward: carry[i] })));
      const full = [band((c) => c.test_acc), band((c) => c.train_acc), band((c) => c.entropy), band((c) => c.weight_norm)];
      const shown = decimateBands(steps, full);
      const [test_acc, train_acc, entropy, weight_norm] = shown.bands;
      const group: CompareGroup = { arch, condition, runs: runs.map((d) => d.run.id), steps: shown.steps, test_acc, train_acc, entropy, weight_norm, ...(align ? { unaligned } : {}) };
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
  }
  let threshold: number | null = null;
  let necessity: CompareData['necessity'] = [];
  let interventions: CompareData['interventions'] = [];
  let detection: CompareData['detection'] = [];
  let onset: CompareData['onset'] = [];
  if (data.some((d) => d.run.config.condition === 'baseline')) {
    const spec: StudySpec = {
      version: 1,
      name: 'compare',
      preset: 'quick',
      overrides: {},
      tasks: [...new Set(data.map((d) => d.run.config.task))],
      archs: [...new Set(data.map((d) => d.run.config.arch))],
      conditions: conditions as StudySpec['conditions'],
      seeds: [...new Set(data.map((d) => d.run.config.seed))],
      earlyStopEvals: 0,
    };
    // Only what the compare view shows: no per-probe comparison, no forecast fits, no CI of H̃*.
    const summary = analyzeStudy(spec, data, 0, { probes: false, forecast: false, thresholdResamples: 0 });
    threshold = summary.thresholds.find((t) => t.arch === 'transformer')?.estimate.threshold ?? summary.thresholds[0]?.estimate.threshold ?? null;
    necessity = summary.necessity.map(({ arch, n, crossed, grokked, grokkedWithoutCrossingFirst, crossedWithoutGrokking }) => ({ arch, n, crossed, grokked, grokkedWithoutCrossingFirst, crossedWithoutGrokking }));
    interventions = summary.interventions.map(({ arch, condition, n, nBaseline, censored, delayMean, delayCI, p, d, manipulation }) => ({ arch, condition, n, nBaseline, censored, delayMean, delayCI, p, d, manipulation }));
    detection = summary.detection;
    onset = summary.onset.map(({ task, arch, probe, threshold, band, n, place, leads, testAccAtCross, chance }) => ({
      task,
      arch,
      probe,
      threshold,
      band,
      n,
      place,
      leadRiseMedian: leads.T_rise.median,
      leadGrokMedian: leads.T_grok.median,
      testAccAtCrossMedian: testAccAtCross.median,
      chance,
    }));
  }
  const configDiff = configDifferences(data.map((d) => ({ id: d.run.id, config: d.run.config as unknown as Record<string, unknown> })));
  return { probe, threshold, groups, necessity, interventions, detection, onset, align, configDiff };
}
