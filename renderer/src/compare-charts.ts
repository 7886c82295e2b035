import type { EChartsOption } from 'echarts';
import type { Band, BandKind, CompareData, CompareGroup, LinePoints } from '../../core/api';
import { formatStep } from './format';

/**
 * The compare view's chart options, built from what core computed (no statistics here): per
 * group a faint raw mean (under smoothing), the shaded band of the kind asked for and the mean;
 * on request every run's own curve, hoverable, named by run and seed.
 */
export type Metric = 'test_acc' | 'entropy' | 'weight_norm';

/** The band kinds as the legend names them. */
export const BAND_NAMES: Record<BandKind, string> = { minmax: 'min–max across seeds', sd: 'mean ± SD across seeds', se: 'mean ± SE', ci95: '95 % CI of the mean (Student t)' };

const CONDITION_COLORS: Record<string, string[]> = {
  baseline: ['#3b6fd4', '#17becf', '#1f3f8f', '#6a8fe0'],
  mix: ['#d4553b', '#e08a2c', '#8f2f1f', '#c9407a'],
  'norm-matched': ['#2f9e5a', '#7fb800', '#1d6b3b', '#4fc08d'],
  'logit-matched': ['#8a4fbf', '#b15fd4', '#5b2f87', '#a884d4'],
};

/** One colour per group: its condition's hue, another shade for each further setting or variant of that condition. */
export function colorsOf(groups: readonly CompareGroup[]): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Map<string, string[]>();
  for (const g of groups) {
    const labels = seen.get(g.condition) ?? [];
    if (!labels.includes(g.label)) labels.push(g.label);
    seen.set(g.condition, labels);
    const palette = CONDITION_COLORS[g.condition] ?? ['#888'];
    out.set(g.label, palette[labels.indexOf(g.label) % palette.length]);
  }
  return out;
}

/** A number as a person reads it: 4 significant digits, integers as they are. */
export function num(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : String(Number(v.toPrecision(4)));
}

function bandSeries(name: string, color: string, steps: number[], b: Band) {
  const lower = steps.map((s, i) => [s, b.lower[i]]);
  const width = steps.map((s, i) => [s, b.upper[i] !== null && b.lower[i] !== null ? b.upper[i]! - b.lower[i]! : null]);
  return [
    ...(b.raw ? [{ name: `${name} raw`, type: 'line', data: steps.map((s, i) => [s, b.raw![i]]), showSymbol: false, silent: true, tooltip: { show: false }, lineStyle: { color, width: 1, opacity: 0.3 } }] : []),
    { name: `${name} band`, type: 'line', data: lower, stack: name, lineStyle: { opacity: 0 }, showSymbol: false, silent: true, tooltip: { show: false } },
    { name: `${name} band`, type: 'line', data: width, stack: name, lineStyle: { opacity: 0 }, areaStyle: { color, opacity: 0.18 }, showSymbol: false, silent: true, tooltip: { show: false } },
    // The third value is how many runs the mean covers there (the tooltip says it).
    { name, type: 'line', data: steps.map((s, i) => [s, b.mean[i], b.n[i]]), encode: { x: 0, y: 1 }, showSymbol: false, sampling: 'lttb', large: true, lineStyle: { color, width: 2 }, itemStyle: { color } },
  ];
}

/** The name of a run's own line: the tooltip and the emphasis on hover use it. */
export const runLineName = (id: string, seed: number): string => `run ${id} · seed ${seed}`;

/**
 * Thin lines, one per run, under the bands; already decimated by core (M4). Each run is one series
 * over its own column dataset (measured faster than [step, value] arrays, docs/benchmarks.md).
 * Hovering one brings it forward and names it (emphasis: focus on the series).
 */
function runLineSeries(g: CompareGroup, metric: Metric, color: string, dataset: { source: LinePoints }[]) {
  return (g.lines ?? []).map((l) => ({
    name: runLineName(l.id, l.seed),
    type: 'line',
    datasetIndex: dataset.push({ source: l[metric] }) - 1,
    encode: { x: 'step', y: 'value' },
    showSymbol: false,
    triggerLineEvent: true,
    emphasis: { focus: 'series', lineStyle: { width: 2, opacity: 1 } },
    lineStyle: { color, width: 0.7, opacity: 0.35 },
    z: 1,
  }));
}

interface TooltipItem {
  marker: string;
  seriesName: string;
  value: unknown;
}

/**
 * The means under the pointer, each with the runs it covers, and, where the runs' own curves are
 * drawn, the lowest and highest run at that step by name and seed: which seed is the outlier.
 */
export function tooltipText(params: unknown): string {
  const items = (Array.isArray(params) ? params : [params]) as TooltipItem[];
  const means = items.filter((p) => Array.isArray(p.value) && p.value.length === 3) as (TooltipItem & { value: [number, number | null, number] })[];
  const runValue = (p: TooltipItem): number | null => {
    const v = p.value as unknown;
    const y = Array.isArray(v) ? v[1] : v && typeof v === 'object' ? (v as { value?: number }).value : null;
    return typeof y === 'number' && Number.isFinite(y) ? y : null;
  };
  const runs = items.filter((p) => p.seriesName.startsWith('run ')).map((p) => ({ p, y: runValue(p) })).filter((r) => r.y !== null);
  if (!means.length && !runs.length) return '';
  const step = means[0]?.value[0];
  const lines = step === undefined ? [] : [`step ${formatStep(step)}`];
  for (const p of means) lines.push(`${p.marker}${p.seriesName}: ${num(p.value[1])} (${p.value[2]} run${p.value[2] === 1 ? '' : 's'})`);
  if (runs.length > 1) {
    runs.sort((a, b) => a.y! - b.y!);
    lines.push(`lowest: ${runs[0].p.seriesName} ${num(runs[0].y)}`, `highest: ${runs.at(-1)!.p.seriesName} ${num(runs.at(-1)!.y)}`);
  } else if (runs.length === 1) lines.push(`${runs[0].p.seriesName}: ${num(runs[0].y)}`);
  return lines.join('<br>');
}

export interface ChartSpec {
  arch: string;
  metric: Metric;
  title: string;
  range?: [number, number];
  logY?: boolean;
}

export function compareChart(data: CompareData, spec: ChartSpec, minStep: number, maxStep: number): EChartsOption {
  const groups = data.groups.filter((g) => g.arch === spec.arch);
  const colors = colorsOf(data.groups);
  const dataset: { source: LinePoints }[] = [];
  const series = groups.flatMap((g) => {
    const color = colors.get(g.label) ?? '#888';
    return [...runLineSeries(g, spec.metric, color, dataset), ...bandSeries(g.label, color, g.steps, g[spec.metric])];
  });
  const h = data.threshold.value;
  if (spec.metric === 'entropy' && h !== null && series.length) {
    (series[series.length - 1] as Record<string, unknown>).markLine = { symbol: 'none', silent: true, data: [{ yAxis: h, label: { formatter: `H̃* ${h}` } }] };
  }
  return {
    title: { text: `${spec.arch}: ${spec.title}`, top: 0, left: 0, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis', formatter: tooltipText, confine: true },
    // A row of its own under the title: the two never overlap at any width.
    legend: { type: 'scroll', top: 24, left: 0, right: 0, data: groups.map((g) => g.label) },
    grid: { left: 55, right: 15, top: 62, bottom: 35 },
    xAxis: { type: 'value', min: minStep, max: maxStep, name: data.align ? `steps from ${data.align}` : 'step', nameLocation: 'middle', nameGap: 22, axisLabel: { formatter: (v: number) => num(v) } },
    yAxis: spec.logY ? { type: 'log', axisLabel: { formatter: (v: number) => num(v) } } : { type: 'value', ...(spec.range ? { min: spec.range[0], max: spec.range[1] } : { scale: true }), axisLabel: { formatter: (v: number) => num(v) } },
    dataset,
    series: series as EChartsOption['series'],
    animation: false,
  };
}

/** The aggregated series of every group as CSV: one row per group and step, mean, band edges and runs covered per metric. */
export function aggregatedCsv(data: CompareData): string {
  const metrics = ['test_acc', 'train_acc', 'entropy', 'weight_norm'] as const;
  const head = ['group', 'arch', 'condition', 'variant', 'setting', 'band', data.align ? `steps_from_${data.align}` : 'step', ...metrics.flatMap((m) => [`${m}_mean`, `${m}_lower`, `${m}_upper`, `${m}_n`])];
  const cell = (v: string | number | null): string => (v === null ? '' : typeof v === 'number' ? String(v) : /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = [head.join(',')];
  for (const g of data.groups) {
    g.steps.forEach((s, i) => {
      rows.push([g.label, g.arch, g.condition, g.variant, g.setting, data.band, s, ...metrics.flatMap((m) => [g[m].mean[i], g[m].lower[i], g[m].upper[i], g[m].n[i]])].map(cell).join(','));
    });
  }
  return rows.join('\n') + '\n';
}
