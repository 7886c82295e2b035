import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { PRESETS, type RunConfig } from '../schema/run-config.js';
import { PROBES, type Arch as ArchName, type ProbeName } from '../models/config.js';
import type { TaskName } from '../tasks/groups.js';
import { Library, type RunImportOutcome } from './library.js';
import { ImportError } from './zip.js';
import { firstLine } from '../errors.js';

/**
 * Runs from other tools: a CSV or Parquet file with a step column and metric columns becomes a
 * read-only `external` run that the library, analysis and compare views treat like any other.
 *
 * Accepted layouts (what TensorBoard and W&B download):
 * - TensorBoard scalar CSV: `Wall time, Step, Value`: one metric, named by `--metric` or by the
 *   `-tag-NAME` part of the file name TensorBoard gives it;
 * - W&B CSV: `Step, RUN - metric, RUN - metric__MIN, RUN - metric__MAX …`: the `RUN - ` prefix is
 *   dropped and the __MIN/__MAX band columns are ignored;
 * - any table with a step column (step, _step, global_step, iteration, iter, epoch) and numeric
 *   metric columns.
 * Known names map onto ours (METRIC_ALIASES); other numeric columns are kept in
 * `external_metrics` so nothing is lost. Rows with the same step are merged (first non-null value
 * of each column).
 */
const STEP_NAMES = ['step', '_step', 'global_step', 'steps', 'iteration', 'iter', 'epoch'];
const IGNORED = /^(wall[ _]?time|_?timestamp|_runtime|time)$/i;

export const METRIC_ALIASES: Record<string, string[]> = {
  train_acc: ['train_acc', 'train_accuracy', 'acc_train', 'accuracy/train', 'train/acc', 'train/accuracy', 'train acc'],
  test_acc: ['test_acc', 'test_accuracy', 'val_acc', 'val_accuracy', 'acc_test', 'accuracy/test', 'test/acc', 'test/accuracy', 'val/acc', 'test acc'],
  train_loss: ['train_loss', 'loss', 'loss/train', 'train/loss', 'train loss'],
  test_loss: ['test_loss', 'val_loss', 'loss/test', 'test/loss', 'val/loss', 'test loss'],
  weight_norm: ['weight_norm', 'param_norm', 'parameter_norm', 'norm/weights', 'weights/norm'],
  fourier_topk_share: ['fourier_topk_share'],
  fourier_gini: ['fourier_gini'],
};
const ENTROPY_NAMES = ['entropy', 'spectral_entropy', 'normalized_entropy', 'h_tilde'];
const NUMERIC = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;
export const MAX_EXTERNAL_BYTES = 2 ** 30;

export interface ExternalOptions {
  /** Name for a single-value TensorBoard CSV (default: the `-tag-NAME` of its file name). */
  metric?: string;
  task?: TaskName;
  arch?: ArchName;
  /** Probe the entropy columns without a probe name belong to. */
  probe?: ProbeName;
}

function metricName(column: string): string {
  const parts = column.split(' - ');
  return parts[parts.length - 1].trim();
}

/** Our field for an external column name, or null. `entropy.<probe>`-style names keep their probe. */
export function mapColumn(name: string, defaultProbe: string): { table: 'metrics'; field: string } | { table: 'probe'; probe: string } | null {
  const n = name.toLowerCase();
  for (const [field, aliases] of Object.entries(METRIC_ALIASES)) if (aliases.includes(n)) return { table: 'metrics', field };
  if (ENTROPY_NAMES.includes(n)) return { table: 'probe', probe: defaultProbe };
  const m = /^(?:entropy|h_tilde|spectral_entropy)[./:]([a-z.]+)$/.exec(n);
  if (m && (PROBES as readonly string[]).includes(m[1])) return { table: 'probe', probe: m[1] };
  return null;
}

const q = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

export async function importExternal(lib: Library, file: string, opts: ExternalOptions = {}): Promise<RunImportOutcome> {
  if (!existsSync(file)) throw new ImportError(file, 'no such file');
  const bytes = statSync(file).size;
  if (bytes > MAX_EXTERNAL_BYTES) throw new ImportError(file, `file is ${bytes} bytes, over the ${MAX_EXTERNAL_BYTES}-byte limit`);
  const ext = path.extname(file).toLowerCase();
  const reader = ext === '.parquet' ? `read_parquet(${lit(file)})` : ext === '.csv' || ext === '.tsv' ? `read_csv(${lit(file)}, header = true)` : null;
  if (!reader) throw new ImportError(file, 'external runs are read from .csv, .tsv or .parquet files');
  let columns: [string, string][];
  try {
    columns = await lib.describeQuery(`SELECT * FROM ${reader}`);
  } catch (err) {
    throw new ImportError(file, `cannot read it as ${ext.slice(1).toUpperCase()}: ${firstLine(err)}`);
  }
  const stepCol = columns.find(([c]) => STEP_NAMES.includes(c.toLowerCase()));
  if (!stepCol) throw new ImportError(file, `no step column (looked for ${STEP_NAMES.join(', ')}); its columns are ${columns.map(([c]) => c).join(', ')}`);
  const probe = opts.probe ?? 'resid.final';
  const metricCols = columns.filter(([c, t]) => c !== stepCol[0] && !IGNORED.test(c) && !/__(min|max)$/i.test(c) && NUMERIC.test(t));
  if (metricCols.length === 0) throw new ImportError(file, 'no numeric metric columns besides the step');
  const tbTag = /-tag-(.+)\.csv$/i.exec(path.basename(file))?.[1];
  const named = metricCols.map(([c]) => {
    const name = metricCols.length === 1 && c === 'Value' ? (opts.metric ?? tbTag ?? path.basename(file, ext)) : metricName(c);
    return { column: c, name, target: mapColumn(name, probe) };
  });
  const taken = new Set<string>();
  for (const n of named) {
    const key = n.target ? (n.target.table === 'metrics' ? n.target.field : `entropy.${n.target.probe}`) : `x:${n.name}`;
    if (taken.has(key)) throw new ImportError(file, `two columns map to the same metric '${key.replace(/^x:/, '')}' (rename one)`);
    taken.add(key);
  }
  const task = opts.task ?? 'mod-add';
  const arch = opts.arch ?? 'transformer';
  const config: RunConfig = { ...PRESETS.reference, preset: 'external', task, arch, probe: arch === 'mlp' && probe === 'attn.out' ? 'resid.final' : probe };
  const baseId = `ext-${path.basename(file, ext).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60)}`;
  const note = `external run from ${path.basename(file)}; task '${task}' and arch '${arch}' as given at import, other config fields are placeholders; columns: ${named
    .map((n) => `${n.column} → ${n.target ? (n.target.table === 'metrics' ? n.target.field : `entropy.${n.target.probe}`) : `extra '${n.name}'`}`)
    .join(', ')}`;
  try {
    return await lib.importExternalRows({ baseId, config, note, reader, stepColumn: stepCol[0], columns: named });
  } catch (err) {
    throw new ImportError(file, firstLine(err));
  }
}

export { q as quoteIdent };
