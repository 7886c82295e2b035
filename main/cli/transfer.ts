import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Library } from '../../core/library/library.js';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { exportRuns } from '../../core/library/transfer.js';
import { importPaths } from '../../core/service/import-paths.js';
import { ARCHS, PROBES, type Arch, type ProbeName } from '../../core/models/config.js';
import { TASK_NAMES, type TaskName } from '../../core/tasks/groups.js';
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
  let study: StudySpec | null = null;
  let runIds = [...ids];
  if (opts.study) {
    const found = await Library.with(libraryDir, async (lib) => ({ spec: await lib.getStudySpec(opts.study!), runs: await lib.getStudyRuns(opts.study!) }));
    if (found.spec === null) throw new UserError(`no study '${opts.study}' in library ${libraryDir}`);
    const parsed = StudySpecSchema.safeParse(JSON.parse(found.spec));
    if (parsed.success) study = parsed.data;
    runIds = [...new Set([...runIds, ...[...found.runs.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, id]) => id)])];
  }
  const out = path.resolve(opts.output);
  const r = await exportRuns(libraryDir, runIds, out, { checkpoints: opts.checkpoints ?? false, study });
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
}

export async function cmdImport(files: string[], opts: ImportOpts): Promise<number> {
  const libraryDir = resolveLibraryDir(opts.library);
  const sources = files.map((f) => path.resolve(f));
  if (opts.external && opts.task !== undefined && !(TASK_NAMES as readonly string[]).includes(opts.task)) throw new UserError(`--task must be one of ${TASK_NAMES.join(', ')} (got '${opts.task}')`);
  if (opts.external && opts.arch !== undefined && !(ARCHS as readonly string[]).includes(opts.arch)) throw new UserError(`--arch must be one of ${ARCHS.join(', ')} (got '${opts.arch}')`);
  if (opts.external && opts.probe !== undefined && !(PROBES as readonly string[]).includes(opts.probe)) throw new UserError(`--probe must be one of ${PROBES.join(', ')} (got '${opts.probe}')`);
  const externalOptions = { metric: opts.metric, task: opts.task as TaskName | undefined, arch: opts.arch as Arch | undefined, probe: opts.probe as ProbeName | undefined };
  const reports = await importPaths(libraryDir, sources, { external: () => Boolean(opts.external), externalOptions });
  let failed = 0;
  for (const r of reports) {
    if (!r.ok) {
      failed++;
      process.stderr.write(`grokscope: import failed: ${r.error}; nothing from it was imported\n`);
      continue;
    }
    for (const o of r.outcomes) process.stderr.write(`${path.basename(r.source)}: ${o.message}\n`);
    for (const w of r.warnings) process.stderr.write(`${path.basename(r.source)}: warning: ${w}\n`);
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
