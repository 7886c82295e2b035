import { existsSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../library.js';
import { num, str } from '../sql.js';
import { currentEvents } from '../traces.js';
import type { RunEvents } from '../../analysis/events.js';
import { ExportError } from './export-error.js';
import { DEFAULT_INIT } from '../../models/init.js';

/**
 * `grokscope export RUN… --format csv|parquet -o FILE`: every metric of the runs as one long table
 * (run, step, metric, value) in FILE, and their runs (id, task, arch, condition, seed, status,
 * steps done, origin, init — the initialisation scheme, written out where the config leaves it to
 * its default, NULL for a run trained elsewhere —, the events as columns — T_grok, T_cross, T_rise, T_loss_peak, T_grok_50,
 * the leads against T_grok and T_rise, test accuracy at T_cross, below at memorisation — config
 * and events as JSON) in FILE's name with `.runs` before the extension — the shape pandas, R and
 * DuckDB users pivot from. The events are recomputed from the metrics (library/traces.ts
 * currentEvents), as every view shows them; the stored ones are left as they are. Metric names: the
 * metrics table's columns, `entropy/…`, `eff_rank/…`, `top5_share/…` per probe, `norm/…` per
 * tensor, the evaluation scalars (logit_scale, max_softmax, train_margin) and imported runs' extra columns under their own names. Missing values are left out.
 */
export function runsTableFile(file: string): string {
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}.runs${ext}`;
}

const METRIC_COLUMNS = ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'weight_norm', 'fourier_topk_share', 'fourier_gini'];

/** The `.runs` table's event columns: name, type, and the SQL literal of a run's value (NULL where not reached or not known). */
const EVENT_COLUMNS: [string, string, (e: RunEvents | null) => string][] = [
  ['t_grok', 'INTEGER', (e) => num(e?.T_grok)],
  ['t_cross', 'INTEGER', (e) => num(e?.T_cross)],
  ['t_rise', 'INTEGER', (e) => num(e?.T_rise)],
  ['t_loss_peak', 'INTEGER', (e) => num(e?.T_loss_peak)],
  ['t_grok_50', 'INTEGER', (e) => num(e?.T_grok_50)],
  ['lead', 'INTEGER', (e) => num(e?.lead)],
  ['lead_rise', 'INTEGER', (e) => num(e?.lead_rise)],
  ['test_acc_at_cross', 'DOUBLE', (e) => num(e?.test_acc_at_cross)],
  ['below_at_mem', 'BOOLEAN', (e) => (e?.below_at_mem === undefined ? 'NULL' : String(e.below_at_mem))],
];

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
    const events: { id: string; init: string | null; events: RunEvents | null }[] = [];
    // A run trained elsewhere (import --external) has no init we know of: NULL, not our default.
    const initOf = (run: { origin: string; config: object }): string | null => (run.origin === 'external' ? null : ((run.config as { init?: string }).init ?? DEFAULT_INIT));
    for (const run of await lib.getRuns(ids)) events.push({ id: run.id, init: initOf(run), events: currentEvents(run, await lib.getMetrics(run.id)) });
    // The recomputed events join the stored runs as a VALUES list in the query itself: nothing is written to the library.
    const values = events.map(({ id, init, events: e }) => `(${[str(id), str(init), ...EVENT_COLUMNS.map(([, , of]) => of(e ?? null)), str(e ? JSON.stringify(e) : null)].join(', ')})`);
    await lib.copyQuery(
      `SELECT r.id AS run, r.task, r.arch, r.condition, r.seed, r.status, r.steps_done, r.origin, CAST(e.init AS VARCHAR) AS init, ${EVENT_COLUMNS.map(([c, type]) => `CAST(e.${c} AS ${type}) AS ${c}`).join(', ')}, r.config, CAST(e.events AS VARCHAR) AS events
       FROM runs r JOIN (VALUES ${values.join(', ')}) AS e(id, init, ${EVENT_COLUMNS.map(([c]) => c).join(', ')}, events) ON e.id = r.id ORDER BY r.id`,
      runsFile,
      format,
    );
    return { metrics: file, runs: runsFile, runIds: ids };
  });
}
