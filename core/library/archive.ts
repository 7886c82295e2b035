import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Library } from './library.js';
import { exportRuns, importSources, stageSource } from './transfer.js';
import { firstLine } from '../errors.js';
import { checkpointDirFor } from './paths.js';

/**
 * The library as an index over files (docs/reliability.md, "Rebuilding a library"): every
 * completed run is also kept as a saved run (the .grokrun layout, with its SHA-256 manifest) in
 * `<library>/saved-runs/`, written when the run completes. `checkLibrary` reads every table whole
 * and verifies every saved run's digests; `rebuildLibrary` sets a damaged database aside (renamed,
 * never overwritten) and builds a new one from the saved runs.
 *
 * What a rebuild cannot bring back: runs that had not completed (their metrics live only in the
 * database), studies' bookkeeping (which run stands for which planned key: running the study again
 * re-plans it, and its completed runs are found again only by training them again), and tags or
 * notes changed after a run completed.
 */
export function savedRunsDir(libraryDir: string): string {
  return path.join(libraryDir, 'saved-runs');
}

export function savedRunFile(libraryDir: string, id: string): string {
  return path.join(savedRunsDir(libraryDir), `${id}.grokrun`);
}

/**
 * Delete runs (ids or unique prefixes) from the library, and then their files: checkpoints
 * (progress snapshots included) and saved runs — left behind, a saved run would bring its
 * deleted run back at the next rebuild.
 */
export async function deleteRunsAndFiles(libraryDir: string, ids: string[]): Promise<void> {
  const deleted = await Library.with(libraryDir, async (lib) => {
    const full = await Promise.all(ids.map((id) => lib.resolveRunId(id)));
    for (const id of full) await lib.deleteRun(id);
    return full;
  });
  for (const id of deleted) {
    rmSync(checkpointDirFor(libraryDir, id), { recursive: true, force: true });
    rmSync(savedRunFile(libraryDir, id), { force: true });
  }
}

/** Write (or replace) the saved run of a run; written beside and renamed, so never half there. */
export async function archiveRun(libraryDir: string, id: string): Promise<string> {
  const dir = savedRunsDir(libraryDir);
  mkdirSync(dir, { recursive: true });
  const file = savedRunFile(libraryDir, id);
  const partial = path.join(dir, `.${id}.${process.pid}.partial.grokrun`);
  try {
    await exportRuns(libraryDir, [id], partial);
    renameSync(partial, file);
  } finally {
    rmSync(partial, { force: true });
  }
  return file;
}

/**
 * Keep saved runs of runs that came in from files (a saved run or bundle): completed ones are
 * archived as if they had completed here, so a rebuild brings them back too. Runs imported from
 * other tools' CSV or Parquet are not: their extra columns (external_metrics) have no place in the
 * saved-run layout, and their source file is the user's to keep. Returns one warning per run whose
 * saved run could not be written (the import itself stands).
 */
export async function archiveImported(libraryDir: string, ids: string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const runs = await Library.with(libraryDir, (lib) => lib.getRuns(ids));
  const warnings: string[] = [];
  for (const run of runs) {
    if (run.status !== 'completed' || run.origin === 'external') continue;
    await archiveRun(libraryDir, run.id).catch((err: unknown) => warnings.push(`${run.id}: imported, but its saved run for rebuilding the library could not be written (${firstLine(err)})`));
  }
  return warnings;
}

/** Runs a check expects a saved run of: completed, and trained here or imported from a saved run or bundle. */
function needsSavedRun(run: { status: string; origin: string }): boolean {
  return run.status === 'completed' && run.origin !== 'external';
}

export interface LibraryCheck {
  ok: boolean;
  database: { file: string; ok: boolean; error: string | null; rows: Record<string, number> | null };
  savedRuns: { dir: string; checked: number; damaged: { file: string; error: string }[]; missing: string[] };
}

function savedRunFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.grokrun') && !f.startsWith('.'))
    .sort()
    .map((f) => path.join(dir, f));
}

export async function checkLibrary(libraryDir: string): Promise<LibraryCheck> {
  const database: LibraryCheck['database'] = { file: Library.dbPath(libraryDir), ok: false, error: null, rows: null };
  let completed: string[] = [];
  if (!existsSync(database.file)) database.error = `no library database at ${database.file}`;
  else {
    try {
      await Library.with(libraryDir, async (lib) => {
        database.rows = await lib.scanAll();
        completed = (await lib.listRunsDetailed()).filter(needsSavedRun).map((r) => r.id);
      });
      database.ok = true;
    } catch (err) {
      database.error = firstLine(err);
    }
  }
  const dir = savedRunsDir(libraryDir);
  const damaged: LibraryCheck['savedRuns']['damaged'] = [];
  const files = savedRunFiles(dir);
  for (const file of files) {
    try {
      (await stageSource(file)).cleanup();
    } catch (err) {
      damaged.push({ file, error: firstLine(err) });
    }
  }
  const present = new Set(files.map((f) => path.basename(f, '.grokrun')));
  const missing = completed.filter((id) => !present.has(id));
  return { ok: database.ok && damaged.length === 0 && missing.length === 0, database, savedRuns: { dir, checked: files.length, damaged, missing } };
}

export interface RebuildReport {
  /** Where the old database was moved (null if there was none). */
  setAside: string | null;
  imported: string[];
  failed: { file: string; error: string }[];
}

/**
 * A new database from the saved runs in `fromDir` (default: the library's own). The old database
 * and its write-ahead log are renamed to `grokscope.duckdb.set-aside-<time>`; nothing is deleted.
 */
export async function rebuildLibrary(libraryDir: string, fromDir = savedRunsDir(libraryDir)): Promise<RebuildReport> {
  const files = savedRunFiles(fromDir);
  if (files.length === 0) throw new Error(`no saved runs (*.grokrun) in ${fromDir}: nothing to rebuild from`);
  const db = Library.dbPath(libraryDir);
  let setAside: string | null = null;
  if (existsSync(db)) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    setAside = `${db}.set-aside-${stamp}`;
    if (existsSync(setAside)) throw new Error(`${setAside} exists already; try again in a moment`);
    renameSync(db, setAside);
    if (existsSync(`${db}.wal`)) renameSync(`${db}.wal`, `${setAside}.wal`);
  }
  const reports = await importSources(libraryDir, files);
  const imported: string[] = [];
  const failed: RebuildReport['failed'] = [];
  for (const r of reports) {
    if (r.ok) imported.push(...r.outcomes.map((o) => o.id));
    else failed.push({ file: r.source, error: r.error });
  }
  // Rebuilt from elsewhere: keep the runs' saved runs here too, as for any import.
  if (path.resolve(fromDir) !== path.resolve(savedRunsDir(libraryDir))) {
    for (const w of await archiveImported(libraryDir, imported)) failed.push({ file: fromDir, error: w });
  }
  return { setAside, imported, failed };
}
