import path from 'node:path';
import { Library } from '../../core/library/library.js';
import { resolveLibraryDir } from '../../core/library/paths.js';
import { exportRuns, importSources } from '../../core/library/transfer.js';
import { StudySpecSchema, type StudySpec } from '../../core/study/spec.js';
import { UserError } from './errors.js';

interface ExportOpts {
  library?: string;
  json?: boolean;
  output?: string;
  study?: string;
  checkpoints?: boolean;
}

export async function cmdExport(ids: string[], opts: ExportOpts): Promise<number> {
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

export async function cmdImport(files: string[], opts: { library?: string; json?: boolean }): Promise<number> {
  const libraryDir = resolveLibraryDir(opts.library);
  const reports = await importSources(libraryDir, files.map((f) => path.resolve(f)));
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
