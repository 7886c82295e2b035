/**
 * Decimation of a line for drawing, M4 (Jugel et al., "M4: A Visualization-Oriented Time Series
 * Data Aggregation", VLDB 2014): split the x range into the chart's pixel columns and keep, per
 * column, the first, lowest, highest and last point in step order. A line through those points
 * rasterises like the line through all of them at that width, with at most 4 points per column:
 * 100 runs × 10,000 evaluations become ≤ 100 × 4 × columns points whatever the run length.
 * Non-finite values are left out (the line joins across them). Written here rather than taken
 * from a library: ECharts' own `sampling` runs in the renderer on every draw (after the data
 * crossed the transport), and we found no maintained npm package for M4.
 */
export function m4(x: ArrayLike<number>, y: ArrayLike<number>, columns: number, xMin: number, xMax: number): number[] {
  const out: number[] = [];
  const n = Math.min(x.length, y.length);
  const span = xMax - xMin;
  const cols = Math.max(1, Math.floor(columns));
  const columnOf = (v: number): number => (span > 0 ? Math.min(cols - 1, Math.max(0, Math.floor(((v - xMin) / span) * cols))) : 0);
  let col = -1;
  let first = -1;
  let last = -1;
  let lo = -1;
  let hi = -1;
  const flush = (): void => {
    if (first < 0) return;
    // The four indices in step order, each once.
    const idx = [first, lo, hi, last].sort((a, b) => a - b);
    for (let k = 0; k < idx.length; k++) if (k === 0 || idx[k] !== idx[k - 1]) out.push(x[idx[k]], y[idx[k]]);
  };
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (!Number.isFinite(v) || !Number.isFinite(x[i])) continue;
    const c = columnOf(x[i]);
    if (c !== col) {
      flush();
      col = c;
      first = last = lo = hi = i;
      continue;
    }
    last = i;
    if (v < y[lo]) lo = i;
    if (v > y[hi]) hi = i;
  }
  flush();
  return out;
}
