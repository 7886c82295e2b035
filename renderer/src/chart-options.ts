import type { EChartsOption } from 'echarts';
import { formatLogTick, formatStep, formatValue } from './format';

/**
 * What EChart.vue adds to every view's option before drawing it, so that each view writes only
 * its data and the workbench's charts read alike: number formats (format.ts), zoom on the step
 * axis, and a logarithmic y axis on request. Each leaves what a view set itself untouched, and
 * returns a new option (the view's stays as it was: it is also what the SVG export redraws).
 */
type Axis = Record<string, unknown> & { type?: string; axisLabel?: Record<string, unknown>; axisPointer?: Record<string, unknown> & { label?: Record<string, unknown> } };

const list = <T>(x: T | T[] | undefined): T[] => (Array.isArray(x) ? x : x ? [x] : []);

/** The axis with `fmt` for its tick labels and its pointer's label, where the view set neither. */
function formatted(axis: Axis, tick: (v: unknown) => string, pointer: (v: unknown) => string): Axis {
  const label = axis.axisPointer?.label;
  return {
    ...axis,
    axisLabel: { ...axis.axisLabel, formatter: axis.axisLabel?.formatter ?? ((v: unknown) => tick(v)) },
    // The pointer's label is also the header of an axis tooltip; left alone, ECharts prints it at
    // the axis' pixel precision ("1,480.00").
    axisPointer: { ...axis.axisPointer, label: { ...label, formatter: label?.formatter ?? ((p: { value: unknown }) => pointer(p.value)) } },
  };
}

/** Same shape as given: one axis object stays an object, a list stays a list. */
function mapAxes(axes: unknown, fn: (a: Axis) => Axis): unknown {
  return Array.isArray(axes) ? axes.map((a) => fn(a as Axis)) : axes ? fn(axes as Axis) : axes;
}

/**
 * Numbers as the workbench prints them: on a step chart (`steps`) the x axis counts whole steps
 * with thousands separators; value axes use 4 significant digits, log axes 1e-8 labels; tooltips
 * without a formatter of their own get a value formatter at 4 significant digits. Category and
 * time axes are left as they are.
 */
export function withFormats(option: EChartsOption, steps: boolean): EChartsOption {
  const tooltip = option.tooltip as Record<string, unknown> | undefined;
  const valueAxis = (a: Axis, isX: boolean): Axis => {
    const type = a.type ?? (isX ? 'category' : 'value');
    if (type === 'log') return isX && steps ? formatted(a, formatStep, formatStep) : formatted(a, formatLogTick, formatValue);
    if (type !== 'value') return a;
    return isX && steps ? formatted(a, formatStep, formatStep) : formatted(a, formatValue, formatValue);
  };
  return {
    ...option,
    ...(option.xAxis ? { xAxis: mapAxes(option.xAxis, (a) => valueAxis(a, true)) as EChartsOption['xAxis'] } : {}),
    ...(option.yAxis ? { yAxis: mapAxes(option.yAxis, (a) => valueAxis(a, false)) as EChartsOption['yAxis'] } : {}),
    ...(tooltip && !Array.isArray(tooltip) && !tooltip.valueFormatter ? { tooltip: { ...tooltip, valueFormatter: (v: unknown) => formatValue(v) } } : {}),
  } as EChartsOption;
}

/** Height the zoom slider takes under a step chart's plot (px), added to its grid's bottom. */
export const SLIDER_PX = 26;

/**
 * Zoom on the step axis: drag the slider under the plot, or drag in the plot to pan and
 * Shift + wheel to zoom (a plain wheel keeps scrolling the page). No point is filtered out
 * (`filterMode: 'none'`): ECharts' filters drop the points just outside the window, and with them
 * the line segments that cross its edges; the y axis therefore keeps its range. Left alone where
 * a view set its own.
 */
export function withZoom(option: EChartsOption): EChartsOption {
  if (option.dataZoom !== undefined) return option;
  const grid = option.grid as Record<string, unknown> | undefined;
  const bottom = grid && !Array.isArray(grid) && typeof grid.bottom === 'number' ? grid.bottom : null;
  return {
    ...option,
    ...(bottom !== null ? { grid: { ...grid, bottom: bottom + SLIDER_PX } } : {}),
    dataZoom: [
      { type: 'inside', xAxisIndex: 0, filterMode: 'none', zoomOnMouseWheel: 'shift', moveOnMouseWheel: false, moveOnMouseMove: true },
      { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 14, bottom: 4, showDetail: false, showDataShadow: false, brushSelect: false },
    ],
  } as EChartsOption;
}

/** The first y axis of an option (ECharts allows one or several). */
function firstY(option: EChartsOption): Axis | undefined {
  return list(option.yAxis as Axis | Axis[] | undefined)[0];
}

/**
 * Whether a log y axis makes sense here: a value axis that is not pinned to [0, 1] (accuracy and
 * H̃ are read on their full range, where a log axis only stretches the part near 0).
 */
export function canLogY(option: EChartsOption): boolean {
  const y = firstY(option);
  if (!y || (y.type !== undefined && y.type !== 'value')) return false;
  return !(y.min === 0 && y.max === 1);
}

/**
 * The first y axis made logarithmic: its fixed range and `scale` go (ECharts fits a log axis to
 * the data); points at or below 0, which a log axis cannot place, are simply not drawn by ECharts.
 */
export function withLogY(option: EChartsOption): EChartsOption {
  const toLog = (a: Axis): Axis => ({ ...a, type: 'log', min: undefined, max: undefined, scale: undefined });
  const ys = option.yAxis;
  return { ...option, yAxis: (Array.isArray(ys) ? ys.map((a, i) => (i === 0 ? toLog(a as Axis) : a)) : toLog((ys ?? {}) as Axis)) as EChartsOption['yAxis'] };
}
