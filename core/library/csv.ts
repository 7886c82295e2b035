import type { MetricRow } from './library.js';

/** A run's metrics as CSV: one row per evaluation, per-probe columns named `entropy.<probe>` etc. */
export function metricsToCsv(rows: MetricRow[]): string {
  const probes = [...new Set(rows.flatMap((r) => Object.keys(r.entropy)))].sort();
  const head = ['step', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'weight_norm'];
  for (const kind of ['entropy', 'eff_rank', 'top5_share'] as const) for (const p of probes) head.push(`${kind}.${p}`);
  head.push('fourier_topk_share', 'fourier_gini');
  const scalars = [...new Set(rows.flatMap((r) => Object.keys(r.scalars ?? {})))].sort();
  head.push(...scalars);
  const cell = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '' : String(x));
  const lines = [head.join(',')];
  for (const r of rows) {
    const cells = [r.step, r.train_loss, r.train_acc, r.test_loss, r.test_acc, r.weight_norm].map(cell);
    for (const kind of ['entropy', 'eff_rank', 'top5_share'] as const) for (const p of probes) cells.push(cell(r[kind][p]));
    cells.push(cell(r.fourier_topk_share), cell(r.fourier_gini));
    for (const s of scalars) cells.push(cell(r.scalars?.[s]));
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}
