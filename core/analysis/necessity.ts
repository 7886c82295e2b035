import { belowAtMem, tCross, tGrok, type EventRules, type RunTrace } from './trace.js';

/**
 * Necessity without sufficiency (C7), per architecture: how many runs cross H̃* (the warning
 * crossing: from T_mem on), grok, grok without crossing first (necessity violations), and cross
 * without grokking within their budget (non-sufficiency); runs below H̃* already at memorisation
 * are counted apart.
 */
export interface NecessityRow {
  arch: string;
  n: number;
  crossed: number;
  grokked: number;
  grokkedWithoutCrossingFirst: number;
  crossedWithoutGrokking: number;
  /** Below H̃* already at memorisation: no warning crossing possible (counted in neither crossed column). */
  belowAtMem: number;
}

export function necessityTable(traces: RunTrace[], threshold: number, rules: EventRules): NecessityRow[] {
  const archs = [...new Set(traces.map((t) => t.arch))].sort();
  return archs.map((arch) => {
    const row: NecessityRow = { arch, n: 0, crossed: 0, grokked: 0, grokkedWithoutCrossingFirst: 0, crossedWithoutGrokking: 0, belowAtMem: 0 };
    for (const t of traces.filter((x) => x.arch === arch)) {
      const cross = tCross(t, threshold, rules);
      const grok = tGrok(t, rules);
      row.n++;
      if (cross !== null) row.crossed++;
      if (belowAtMem(t, threshold, rules)) row.belowAtMem++;
      if (grok !== null) row.grokked++;
      if (grok !== null && (cross === null || cross > grok)) row.grokkedWithoutCrossingFirst++;
      if (cross !== null && grok === null) row.crossedWithoutGrokking++;
    }
    return row;
  });
}
