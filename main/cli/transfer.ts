import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../../core/library/library.js';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { exportRuns, type ImportReport } from '../../core/library/transfer.js';
import { importPaths } from '../../core/service/import-paths.js';
import { parseExternalSettings, type ExternalOptions, type ExternalSetting, type RawExternalSettings } from '../../core/library/external.js';
import { readConfigTable } from '../../core/library/config-table.js';
import { firstLine } from '../../core/errors.js';
import { scratchDir } from '../../core/library/saved-run.js';
import { createTrainingPool, defaultWorkerCount } from '../../core/runs/pool.js';
import { reproduceBundle } from '../../core/runs/reproduce.js';
import { StudySpecSchema, type StudySpec } from '../../core/schema/study-spec.js';
import { UserError } from './errors.js';
import { cmdExportFormat, OTHER_FORMATS, type OtherFormat } from './export-formats.js';
import { interruptible } from './interrupt.js';

interface ExportOpts {
  library?: string;
  json?: boolean;
  output?: string;
  study?: string;
  checkpoints?: boolean;
  compact?: boolean;
  format?: string;
  step?: string;
  allCheckpoints?: boolean;
}

export async function cmdExport(ids: string[], opts: ExportOpts): Promise<number> {
  if (opts.format !== undefined && opts.format !== 'grokrun' && opts.format !== 'grokbundle') {
    if (!(OTHER_FORMATS as readonly string[]).includes(opts.format)) throw new UserError(`--format must be one of grokrun, grokbundle, ${OTHER_FORMATS.join(', ')} (got '${opts.format}')`);
    return cmdExportFormat(opts.format as OtherFormat, ids, opts);
  }
  if (opts.step !== undefined || opts.allCheckpoints) throw new UserError('--step and --all-checkpoints are for --format transformerlens');
  if (!opts.output) throw new UserError('export needs -o FILE.grokrun or -o FILE.grokbundle');
  const libraryDir = resolveLibraryDir(opts.library);
  if (opts.compact && opts.checkpoints) throw new UserError('--compact leaves checkpoints out; drop --checkpoints');
  if (opts.compact && !opts.output.endsWith('.grokbundle')) throw new UserError('--compact writes a .grokbundle');
  let study: StudySpec | null = null;
  let runIds = [...ids];
  let leftOut = 0;
  if (opts.study) {
    const found = await Library.with(libraryDir, async (lib) => {
      const runs = await lib.getStudyRuns(opts.study!);
      const statuses = new Map((await lib.getRuns([...runs.values()])).map((r) => [r.id, r.status]));
      return { spec: await lib.getStudySpec(opts.study!), runs, statuses };
    });
    if (found.spec === null) throw new UserError(`no study '${opts.study}' in library ${libraryDir}`);
    const parsed = StudySpecSchema.safeParse(JSON.parse(found.spec));
    if (parsed.success) study = parsed.data;
    // A compact export carries the study's completed runs (a slice's, or a whole study's).
    const entries = [...found.runs.entries()].filter(([, id]) => found.statuses.has(id) && (!opts.compact || found.statuses.get(id) === 'completed'));
    leftOut = found.runs.size - entries.length;
    runIds = [...new Set([...runIds, ...entries.sort(([a], [b]) => a.localeCompare(b)).map(([, id]) => id)])];
    if (runIds.length === 0) throw new UserError(`study '${opts.study}' has no ${opts.compact ? 'completed ' : ''}runs in library ${libraryDir}`);
  }
  const out = path.resolve(opts.output);
  const r = await exportRuns(libraryDir, runIds, out, { checkpoints: opts.checkpoints ?? false, study, compact: opts.compact ?? false });
  if (leftOut) process.stderr.write(`left out ${leftOut} run(s) of study ${opts.study} that ${opts.compact ? 'are not completed' : 'are no longer in the library'}\n`);
  for (const id of r.added) process.stderr.write(`added ${id}: a norm-matched run in the bundle replays its weight norm\n`);
  if (opts.json) process.stdout.write(`${JSON.stringify({ file: r.file, kind: r.kind, runs: r.runs, bytes: r.bytes })}\n`);
  else process.stdout.write(`${r.file}: ${r.runs.length} run(s), ${r.bytes} bytes\n`);
  return 0;
}

interface ImportOpts {
  library?: string;
  json?: boolean;
  external?: boolean;
  metric?: string;
  task?: string;
  arch?: string;
  probe?: string;
  p?: string;
  condition?: string;
  seed?: string;
  steps?: string;
  trainFraction?: string;
  require?: string;
  configTable?: string;
}

/** One file to import: its settings, or why it cannot be (a config-table row's bad value), and the row it came from. */
interface ImportItem {
  source: string;
  options?: ExternalOptions;
  error?: string;
  row?: string;
}

export async function cmdImport(files: string[], opts: ImportOpts): Promise<number> {
  const libraryDir = resolveLibraryDir(opts.library);
  const external = Boolean(opts.external || opts.configTable);
  const raw: RawExternalSettings = {
    task: opts.task,
    p: opts.p,
    arch: opts.arch,
    condition: opts.condition,
    seed: opts.seed,
    probe: opts.probe,
    steps: opts.steps,
    train_fraction: opts.trainFraction,
    metric: opts.metric,
    require: opts.require,
  };
  const flag = (k: ExternalSetting): string => `--${k.replace(/_/g, '-')}`;
  const flagsGiven = (Object.keys(raw) as ExternalSetting[]).filter((k) => raw[k] !== undefined);
  if (!external && flagsGiven.length) throw new UserError(`${flagsGiven.map(flag).join(', ')} ${flagsGiven.length > 1 ? 'are' : 'is'} for --external (or --config-table) imports`);
  if (files.length === 0 && !opts.configTable) throw new UserError('import needs files (or --config-table FILE.csv)');
  // Flags are checked whole here (a bad one stops the import before anything is read); in a config
  // table they are the defaults of empty cells, and a row whose settings are bad fails alone.
  let defaults: ExternalOptions = {};
  if (external) {
    try {
      defaults = parseExternalSettings(raw, flag);
    } catch (err) {
      throw new UserError(firstLine(err));
    }
  }
  const items: ImportItem[] = files.map((f) => ({ source: path.resolve(f), options: defaults }));
  if (opts.configTable) {
    const table = path.resolve(opts.configTable);
    let rows;
    try {
      rows = readConfigTable(table);
    } catch (err) {
      throw new UserError(firstLine(err));
    }
    if (rows.length === 0) throw new UserError(`config table ${path.basename(table)} has no rows below its header`);
    for (const r of rows) {
      const item: ImportItem = { source: r.file || table, row: `${path.basename(table)} line ${r.line}` };
      try {
        if (r.error) throw new Error(r.error);
        item.options = parseExternalSettings({ ...raw, ...r.settings });
      } catch (err) {
        item.error = r.file ? `${path.basename(r.file)}: ${firstLine(err)}` : firstLine(err);
      }
      items.push(item);
    }
  }
  const todo = items.filter((i) => i.error === undefined);
  const done = await importPaths(libraryDir, todo.map((i) => i.source), { external: () => external, externalOptions: (_file, index) => todo[index].options });
  const reports: ImportReport[] = items.map((i) => {
    const r = i.error === undefined ? done[todo.indexOf(i)] : { source: i.source, ok: false as const, error: i.error };
    return i.row && !r.ok ? { ...r, error: `${i.row}: ${r.error}` } : r;
  });
  let failed = 0;
  for (const r of reports) {
    if (!r.ok) {
      failed++;
      process.stderr.write(`grokscope: import failed: ${r.error}; nothing from it was imported\n`);
      continue;
    }
    for (const o of r.outcomes) process.stderr.write(`${path.basename(r.source)}: ${o.message}\n`);
    for (const w of r.warnings) process.stderr.write(`${path.basename(r.source)}: warning: ${w}\n`);
    for (const n of r.notes ?? []) process.stderr.write(`${path.basename(r.source)}: ${n}\n`);
  }
  const imported = reports.flatMap((r) => (r.ok ? r.outcomes.map((o) => ({ id: o.id, source_id: o.sourceId, action: o.action, file: r.source })) : []));
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ imported, failed: reports.flatMap((r) => (r.ok ? [] : [{ file: r.source, error: r.error }])) })}\n`);
  } else {
    for (const i of imported) process.stdout.write(`${i.id}\t${i.action}\n`);
  }
  return failed ? 1 : 0;
}

export async function cmdReproduce(bundle: string, opts: { json?: boolean; workers?: string; keep?: string }): Promise<number> {
  const workers = opts.workers === undefined ? defaultWorkerCount() : Number(opts.workers);
  if (!Number.isInteger(workers) || workers < 1) throw new UserError(`--workers expects a positive integer (got '${opts.workers}')`);
  const source = path.resolve(bundle);
  if (!existsSync(source)) throw new UserError(`no such bundle: ${bundle}`);
  const work = opts.keep ? { dir: path.resolve(opts.keep), cleanup: () => {} } : scratchDir('reproduce');
  if (opts.keep && existsSync(work.dir) && readdirSync(work.dir).length > 0) throw new UserError(`--keep folder ${work.dir} is not empty`);
  const pool = createTrainingPool(workers);
  const stop = interruptible(null, false);
  const progress = new Map<string, string>();
  let lastDraw = 0;
  try {
    const result = await reproduceBundle({
      source,
      pool,
      workDir: work.dir,
      signal: stop.signal,
      onProgress: (id, p) => {
        progress.set(id, `${id} ${p.step}/${p.totalSteps}`);
        if (Date.now() - lastDraw > 2000) {
          lastDraw = Date.now();
          process.stderr.write(`reproducing: ${[...progress.values()].join(' · ')}\n`);
        }
      },
    });
    let bad = 0;
    for (const r of result.runs) {
      if (r.verdict === 'differs' || r.verdict === 'failed') bad++;
      if (!opts.json) {
        process.stdout.write(`${r.id}\t${r.verdict}\t${r.rule}\n`);
        for (const d of r.differences) process.stdout.write(`    ${d}\n`);
      }
    }
    if (opts.json) process.stdout.write(`${JSON.stringify({ runs: result.runs.map((r) => ({ ...r, match: r.verdict === 'identical' || r.verdict === 'within-tolerance' })) })}\n`);
    if (opts.keep) process.stderr.write(`originals and reproductions kept in ${work.dir}/originals and ${work.dir}/reproduced\n`);
    return bad ? 1 : 0;
  } finally {
    stop.release();
    await pool.destroy();
    work.cleanup();
  }
}
