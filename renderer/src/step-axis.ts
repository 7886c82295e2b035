import { effectScope, ref, watch, type Ref } from 'vue';
import type { EChartsOption } from 'echarts';

/**
 * The step axis of a view's charts, linear or logarithmic (grokking is read on a log step axis in
 * the paper's and Nanda's plots). One setting per view — toggling it on any chart of the run view
 * switches them all — remembered across sessions in localStorage.
 */
const settings = new Map<string, Ref<boolean>>();

export function useLogSteps(view: string): Ref<boolean> {
  let r = settings.get(view);
  if (!r) {
    const key = `grokscope.logSteps.${view}`;
    let stored = false;
    try {
      stored = localStorage.getItem(key) === '1';
    } catch {
      /* no storage (private mode): not remembered */
    }
    const fresh = ref(stored);
    // A detached scope: the first chart to ask may unmount, the setting (and its saving) stays.
    effectScope(true).run(() =>
      watch(fresh, (v) => {
        try {
          localStorage.setItem(key, v ? '1' : '0');
        } catch {
          /* as above */
        }
      }),
    );
    settings.set(view, fresh);
    r = fresh;
  }
  return r;
}

const positive = (x: unknown): boolean => typeof x === 'number' && x > 0;

/** [step, …] points without step ≤ 0, which a log axis cannot place. */
function dropNonPositive(data: unknown): unknown {
  return Array.isArray(data) ? data.filter((p) => !Array.isArray(p) || positive(p[0])) : data;
}

/**
 * The same chart on a log step axis: the x axis becomes `log` (from step 1), and points,
 * dataset rows and vertical marker lines at step 0 are left out. Every series, dataset and
 * marker of the views' step charts is an [x, …] array, a columnar `{step, value}` dataset or a
 * markLine with `xAxis`; nothing else is touched.
 */
export function withLogSteps(option: EChartsOption): EChartsOption {
  const axis = option.xAxis as Record<string, unknown> | undefined;
  const datasets = (Array.isArray(option.dataset) ? option.dataset : option.dataset ? [option.dataset] : []) as { source?: unknown }[];
  const series = (Array.isArray(option.series) ? option.series : option.series ? [option.series] : []) as Record<string, unknown>[];
  return {
    ...option,
    xAxis: { ...axis, type: 'log', min: 1, max: axis?.max },
    dataset: datasets.map((d) => {
      const src = d.source as { step?: number[]; value?: number[] } | undefined;
      if (!src || !Array.isArray(src.step) || !Array.isArray(src.value)) return d;
      const keep = src.step.map(positive);
      return { ...d, source: { step: src.step.filter((_, i) => keep[i]), value: src.value.filter((_, i) => keep[i]) } };
    }),
    series: series.map((s) => {
      const markLine = s.markLine as { data?: Record<string, unknown>[] } | undefined;
      return {
        ...s,
        data: dropNonPositive(s.data),
        ...(markLine?.data ? { markLine: { ...markLine, data: markLine.data.filter((m) => m.xAxis === undefined || positive(m.xAxis)) } } : {}),
      };
    }) as EChartsOption['series'],
  };
}
