import { ref, shallowRef } from 'vue';
import type { CompareData, CompareOptions, GrokscopeApi } from '../../core/api';
import { aggregatedCsv } from './compare-charts';
import { download, textToBase64 } from './file-transfer';

/**
 * The workbench's compare: the data on screen, the compare on its way, and the options kept
 * between selections. Alignment, band kind and smoothing carry over to a new selection; the
 * probe, the grouping and the runs' own curves belong to one selection and start afresh.
 */
export function useCompare(api: GrokscopeApi, guard: <T>(fn: () => Promise<T>) => Promise<T | undefined>, show: () => void) {
  const compared = shallowRef<CompareData | null>(null);
  /** What is being compared while a compare is on its way (a cold compare of 100 long runs takes seconds). */
  const comparing = ref<string | null>(null);
  let comparedIds: string[] = [];
  let kept: CompareOptions = {};

  async function compare(ids: string[], asked?: CompareOptions): Promise<void> {
    const { probe: _probe, groupBy: _groupBy, lines: _lines, ...carried } = kept;
    const wanted: CompareOptions = asked ?? carried;
    comparing.value = wanted.lines ? `Reading every run's own curves (${ids.length} runs)…` : `Comparing ${ids.length} run(s)…`;
    // Runs' own curves are decimated for the width of one of the two side-by-side charts.
    const columns = Math.min(4000, Math.max(50, Math.round(window.innerWidth / 2)));
    const options = { ...wanted, ...(wanted.lines ? { columns } : {}) };
    const data = await guard(() => api.compare(ids, Object.keys(options).length ? options : undefined)).finally(() => (comparing.value = null));
    if (data) {
      comparedIds = ids;
      kept = wanted;
      compared.value = data;
      show();
    }
  }

  /** The same runs again with other options (a control of the compare view changed). */
  const compareAgain = (options: CompareOptions): Promise<void> => compare(comparedIds, options);

  /** The aggregated series at every step (not decimated) as a CSV file. */
  async function compareCsv(options: CompareOptions): Promise<void> {
    comparing.value = `Reading every step of ${comparedIds.length} run(s) for the CSV…`;
    const data = await guard(() => api.compare(comparedIds, options)).finally(() => (comparing.value = null));
    if (data) download({ name: 'compare-aggregated.csv', base64: textToBase64(aggregatedCsv(data)) }, 'text/csv');
  }

  return { compared, comparing, compare, compareAgain, compareCsv };
}
