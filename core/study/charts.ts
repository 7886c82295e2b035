import type { StudyRunData, StudySummary } from './analyze.js';
import { powerLaw } from '../analysis/forecast.js';

/**
 * ECharts options (plain JSON, no functions) for the study's figures: the same options render to
 * PNG on the server (SSR → SVG → resvg) and live in report.html.
 */
export type ChartOption = Record<string, unknown>;

const PALETTE = { baseline: '#1f77b4', mix: '#d62728', 'norm-matched': '#2ca02c', 'logit-matched': '#9467bd' } as Record<string, string>;

function lineSeries(runs: StudyRunData[], value: (m: StudyRunData['metrics'][number]) => number | undefined, name: (d: StudyRunData) => string): unknown[] {
  return runs.map((d) => ({
    type: 'line',
    name: name(d),
    showSymbol: false,
    sampling: 'lttb',
    lineStyle: { width: 1.2, color: PALETTE[d.run.config.condition] },
    itemStyle: { color: PALETTE[d.run.config.condition] },
    data: d.metrics.map((m) => [m.step, value(m) ?? null]),
  }));
}

function base(title: string, yName: string, extra: ChartOption = {}): ChartOption {
  return {
    animation: false,
    title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 60, right: 20, top: 56, bottom: 45 },
    legend: { top: 24 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: yName, nameLocation: 'middle', nameGap: 42 },
    ...extra,
  };
}

export function entropyChart(summary: StudySummary, runs: StudyRunData[], task: string, arch: string): ChartOption {
  const selected = runs.filter((d) => d.run.config.task === task && d.run.config.arch === arch);
  const h = summary.thresholds.find((t) => t.task === task && t.arch === 'transformer')?.estimate.threshold;
  // Series share their condition's name, so the legend lists (and toggles) conditions.
  const series = lineSeries(selected, (m) => m.entropy[summary.probe], (d) => d.run.config.condition);
  if (h !== undefined && h !== null && series.length) {
    (series[0] as Record<string, unknown>).markLine = { symbol: 'none', lineStyle: { type: 'dashed', color: '#555' }, label: { formatter: `H̃* = ${h.toFixed(3)}` }, data: [{ yAxis: h }] };
  }
  return base(`${task} · ${arch}: H̃(${summary.probe})`, 'H̃', { series, yAxis: { type: 'value', name: 'H̃', nameLocation: 'middle', nameGap: 42, scale: true } });
}

export function accuracyChart(runs: StudyRunData[], task: string, arch: string): ChartOption {
  const selected = runs.filter((d) => d.run.config.task === task && d.run.config.arch === arch);
  return base(`${task} · ${arch}: test accuracy`, 'test accuracy', {
    series: lineSeries(selected, (m) => m.test_acc, (d) => d.run.config.condition),
    yAxis: { type: 'value', name: 'test accuracy', nameLocation: 'middle', nameGap: 42, min: 0, max: 1 },
  });
}

export function interventionChart(summary: StudySummary, runs: StudyRunData[], task: string, arch: string): ChartOption {
  const conditions = summary.spec.conditions;
  const points = runs
    .filter((d) => d.run.config.task === task && d.run.config.arch === arch)
    .map((d) => {
      const row = summary.runs.find((r) => r.id === d.run.id);
      return [conditions.indexOf(d.run.config.condition), row?.T_grok ?? d.run.config.steps, row?.T_grok === null ? 'did not grok' : 'grokked'];
    });
  return {
    animation: false,
    title: { text: `${task} · ${arch}: T_grok by condition (not grokked = budget)`, left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 60, right: 20, top: 40, bottom: 45 },
    xAxis: { type: 'category', data: conditions },
    yAxis: { type: 'value', name: 'T_grok', nameLocation: 'middle', nameGap: 42 },
    series: [
      { type: 'scatter', name: 'grokked', data: points.filter((p) => p[2] === 'grokked').map((p) => [p[0], p[1]]), itemStyle: { color: '#1f77b4' } },
      { type: 'scatter', name: 'did not grok', symbol: 'triangle', data: points.filter((p) => p[2] !== 'grokked').map((p) => [p[0], p[1]]), itemStyle: { color: '#d62728' } },
    ],
  };
}

export function forecastChart(summary: StudySummary, runs: StudyRunData[], task: string): ChartOption | null {
  const f = summary.forecast.find((x) => x.task === task && x.arch === 'transformer');
  const h = summary.thresholds.find((t) => t.task === task && t.arch === 'transformer')?.estimate.threshold;
  if (!f?.fit || h === undefined || h === null) return null;
  const pts: number[][] = [];
  for (const d of runs.filter((x) => x.run.config.task === task && x.run.config.arch === 'transformer' && x.run.config.condition === 'baseline')) {
    const g = summary.runs.find((r) => r.id === d.run.id)?.T_grok;
    if (g === null || g === undefined) continue;
    for (const m of d.metrics) {
      const gap = (m.entropy[summary.probe] ?? NaN) - h;
      if (m.step < g && gap > 0) pts.push([gap, g - m.step]);
    }
  }
  const maxG = Math.max(...pts.map((p) => p[0]), 0.01);
  const curve = Array.from({ length: 50 }, (_, i) => {
    const g = (maxG * (i + 1)) / 50;
    return [g, powerLaw(f.fit!, g)];
  });
  return {
    animation: false,
    title: { text: `${task}: ΔT = ${f.fit.C1.toPrecision(3)}·g^${f.fit.gamma.toFixed(2)} + ${f.fit.C2.toFixed(0)} (R² ${f.fit.r2.toFixed(2)})`, left: 'center', textStyle: { fontSize: 14 } },
    grid: { left: 60, right: 20, top: 40, bottom: 45 },
    xAxis: { type: 'value', name: 'g = H̃ − H̃*', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'steps to grokking', nameLocation: 'middle', nameGap: 42 },
    series: [
      { type: 'scatter', symbolSize: 3, data: pts, itemStyle: { color: '#1f77b4', opacity: 0.5 } },
      { type: 'line', showSymbol: false, data: curve, lineStyle: { color: '#d62728', width: 2 } },
    ],
  };
}

export function studyFigures(summary: StudySummary, runs: StudyRunData[]): { name: string; option: ChartOption }[] {
  const figures: { name: string; option: ChartOption }[] = [];
  for (const task of summary.spec.tasks) {
    for (const arch of summary.spec.archs) {
      figures.push({ name: `entropy-${task}-${arch}`, option: entropyChart(summary, runs, task, arch) });
      figures.push({ name: `accuracy-${task}-${arch}`, option: accuracyChart(runs, task, arch) });
      figures.push({ name: `tgrok-${task}-${arch}`, option: interventionChart(summary, runs, task, arch) });
    }
    const fc = forecastChart(summary, runs, task);
    if (fc) figures.push({ name: `forecast-${task}`, option: fc });
  }
  return figures;
}
