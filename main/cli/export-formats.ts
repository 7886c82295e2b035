import path from 'node:path';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { exportTransformerLens } from '../../core/library/exports/transformerlens.js';
import { exportTensorBoard } from '../../core/library/exports/tensorboard.js';
import { exportLongTable } from '../../core/library/exports/long-table.js';
import { UserError } from './errors.js';

/** `export --format …` for other tools' formats (the .grokrun/.grokbundle path is cmdExport's). */
export const OTHER_FORMATS = ['transformerlens', 'tensorboard', 'csv', 'parquet'] as const;
export type OtherFormat = (typeof OTHER_FORMATS)[number];

export interface FormatExportOpts {
  library?: string;
  json?: boolean;
  output?: string;
  step?: string;
  allCheckpoints?: boolean;
}

function stepOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UserError(`--step must be a step number (got '${value}')`);
  return Number(value);
}

export async function cmdExportFormat(format: OtherFormat, ids: string[], opts: FormatExportOpts): Promise<number> {
  if (!opts.output) throw new UserError(`export --format ${format} needs -o ${format === 'csv' || format === 'parquet' ? 'FILE' : 'DIR'}`);
  const libraryDir = resolveLibraryDir(opts.library);
  const out = path.resolve(opts.output);
  if (format !== 'transformerlens' && (opts.step !== undefined || opts.allCheckpoints)) throw new UserError('--step and --all-checkpoints are for --format transformerlens');
  if (format === 'tensorboard') {
    const files = await exportTensorBoard(libraryDir, ids, out);
    if (opts.json) process.stdout.write(`${JSON.stringify({ dir: out, files })}\n`);
    else process.stdout.write(`${out}: ${files.length} run(s); view with: tensorboard --logdir ${out}\n`);
    return 0;
  }
  if (format === 'csv' || format === 'parquet') {
    const r = await exportLongTable(libraryDir, ids, out, format);
    if (opts.json) process.stdout.write(`${JSON.stringify({ metrics: r.metrics, runs: r.runs, run_ids: r.runIds })}\n`);
    else process.stdout.write(`${r.metrics}: metrics of ${r.runIds.length} run(s) as (run, step, metric, value); ${r.runs}: their configs and events\n`);
    return 0;
  }
  if (ids.length !== 1) throw new UserError(`--format transformerlens exports one run (got ${ids.length})`);
  const { files } = await exportTransformerLens(libraryDir, ids[0], out, { step: stepOf(opts.step), allCheckpoints: opts.allCheckpoints });
  if (opts.json) process.stdout.write(`${JSON.stringify({ dir: out, files })}\n`);
  else process.stdout.write(`${out}: ${files.map((f) => path.relative(out, f)).join(', ')}\n`);
  return 0;
}
