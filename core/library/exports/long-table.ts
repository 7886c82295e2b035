import { existsSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../library.js';
import { str } from '../sql.js';
import { ExportError } from './export-error.js';

/**
 * `grokscope export RUN… --format csv|parquet -o FILE`: every metric of the runs as one long table
 * (run, step, metric, value) in FILE, and their runs (id, task, arch, condition, seed, status,
 * steps done, origin, T_grok, T_cross, config and events as JSON) in FILE's name with `.runs`
 * before the extension — the shape pandas, R and DuckDB users pivot from. Metric names: the
 * metrics table's columns, `entropy/…`, `eff_rank/…`, `top5_share/…` per probe, `norm/…` per
 * tensor, the evaluation scalars (logit_scale, max_softmax, train_margin) and imported runs' extra columns under their own names. Missing values are left out.
 */
export function runsTableFile(file: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.runs${ext}`;
}

const METRIC_COLUMNS = ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'weight_norm', 'fourier_topk_share', 'fourier_gini'];

export async function exportLongTable(libraryDir: string, runArgs: string[], file: string, format: 'csv' | 'parquet'): Promise<{ metrics: string; runs: string; runIds: string[] }> {
  if (runArgs.length === 0) throw new ExportError('name at least one run to export');
  if (path.extname(file).toLowerCase() !== `.${format}`) throw new ExportError(`-o must end in .${format} for --format ${format} (got ${path.basename(file)})`);
  const runsFile = runsTableFile(file);
  for (const f of [file, runsFile]) if (existsSync(f)) throw new ExportError(`${f} exists: choose another name (nothing is overwritten)`);
  return Library.with(libraryDir, async (lib) => {
    const ids = await lib.resolveRunIds(runArgs);
    const inRuns = `run_id IN (${ids.map(str).join(', ')})`;
    const parts = [
      ...METRIC_COLUMNS.map((c) => `SELECT run_id, step, '${c}' AS metric, ${c} AS value FROM metrics WHERE ${inRuns}`),
      ...['entropy', 'eff_rank', 'top5_share'].map((c) => `SELECT run_id, step, '${c}/' || probe, ${c} FROM probe_metrics WHERE ${inRuns}`),
      `SELECT run_id, step, 'norm/' || tensor, norm FROM tensor_norms WHERE ${inRuns}`,
      `SELECT run_id, CAST(step AS INTEGER), name, value FROM external_metrics WHERE ${inRuns}`,
      `SELECT run_id, step, name, value FROM eval_scalars WHERE ${inRuns}`,
    ];
    await lib.copyQuery(`SELECT run_id AS run, step, metric, value FROM (${parts.join(' UNION ALL ')}) WHERE value IS NOT NULL AND NOT isnan(value) ORDER BY run, step, metric`, file, format);
    await lib.copyQuery(
      `SELECT id AS run, task, arch, condition, seed, status, steps_done, origin, t_grok, t_cross, config, events FROM runs WHERE id IN (${ids.map(str).join(', ')}) ORDER BY id`,
      runsFile,
      format,
    );
    return { metrics: file, runs: runsFile, runIds: ids };
  });
}
