import path from 'node:path';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { exportTransformerLens } from '../../core/library/exports/transformerlens.js';
import { UserError } from './errors.js';

/** `export --format …` for other tools' formats (the .grokrun/.grokbundle path is cmdExport's). */
export const OTHER_FORMATS = ['transformerlens'] as const;
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
  if (!opts.output) throw new UserError(`export --format ${format} needs -o DIR`);
  const libraryDir = resolveLibraryDir(opts.library);
  const out = path.resolve(opts.output);
  if (ids.length !== 1) throw new UserError(`--format transformerlens exports one run (got ${ids.length})`);
  const files = await exportTransformerLens(libraryDir, ids[0], out, { step: stepOf(opts.step), allCheckpoints: opts.allCheckpoints });
  if (opts.json) process.stdout.write(`${JSON.stringify({ dir: out, files })}\n`);
  else process.stdout.write(`${out}: ${files.map((f) => path.relative(out, f)).join(', ')}\n`);
  return 0;
}
