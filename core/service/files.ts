import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ExportKind, ImportResult, UploadedFile } from '../api.js';
import { firstLine } from '../errors.js';
import { metricsToCsv } from '../library/csv.js';
import { Library } from '../library/library.js';
import { scratchDir } from '../library/saved-run.js';
import { exportRuns } from '../library/transfer.js';
import { importPaths } from './import-paths.js';
import { writeZip } from '../library/zip.js';
import { exportTransformerLens } from '../library/exports/transformerlens.js';
import { ApiError } from './validate.js';

/** Files crossing the transport: dropped files imported (each all or nothing), runs exported as a file to save. */
export async function importFiles(libraryDir: string, files: UploadedFile[]): Promise<ImportResult[]> {
  const scratch = scratchDir('upload');
  try {
    // Only the base name, in a folder of its own: a dropped name never picks the path.
    const paths = files.map((f, i) => {
      const safe = path.basename(f.name).replace(/[^A-Za-z0-9._ -]+/g, '_') || 'file';
      const dir = path.join(scratch.dir, String(i));
      mkdirSync(dir);
      const file = path.join(dir, safe);
      writeFileSync(file, Buffer.from(f.base64, 'base64'));
      return file;
    });
    return await importLocalFiles(libraryDir, paths, files.map((f) => f.name));
  } finally {
    scratch.cleanup();
  }
}

/**
 * Files on this machine into the library by the one path (import-paths.ts): another tool's
 * metrics by extension, else saved runs and bundles. What importFiles does once the upload is on
 * disk; the desktop host calls it with the paths its Import dialog or a dropped file gives.
 */
export async function importLocalFiles(libraryDir: string, paths: string[], names: string[] = paths.map((p) => path.basename(p))): Promise<ImportResult[]> {
  const reports = await importPaths(libraryDir, paths, { external: (file) => /\.(csv|tsv|parquet)$/i.test(file) });
  return reports.map((r, i) => (r.ok ? { file: names[i], ok: true, messages: [...r.outcomes.map((o) => o.message), ...r.warnings] } : { file: names[i], ok: false, messages: [r.error] }));
}

/** A run's model for TransformerLens as one zip (exports/transformerlens.ts writes the folder). */
export async function exportModelFile(libraryDir: string, id: string, step: number | null): Promise<UploadedFile> {
  const scratch = scratchDir('model');
  try {
    const dir = path.join(scratch.dir, 'model');
    const { files, runId, steps } = await exportTransformerLens(libraryDir, id, dir, step === null ? {} : { step });
    const name = `${runId}-transformerlens-step${steps[0]}.zip`;
    const out = path.join(scratch.dir, name);
    await writeZip(out, files.map((f): [string, string] => [path.relative(dir, f), f]));
    return { name, base64: readFileSync(out).toString('base64') };
  } catch (err) {
    throw new ApiError(firstLine(err));
  } finally {
    scratch.cleanup();
  }
}

export async function exportFile(libraryDir: string, ids: string[], kind: ExportKind): Promise<UploadedFile> {
  if (kind === 'csv') return exportCsv(libraryDir, ids);
  const scratch = scratchDir('download');
  try {
    const name = kind === 'grokrun' ? `${ids[0]}.grokrun` : `grokscope-${ids.length}-runs.grokbundle`;
    const out = path.join(scratch.dir, name);
    await exportRuns(libraryDir, ids, out);
    return { name, base64: readFileSync(out).toString('base64') };
  } catch (err) {
    throw new ApiError(firstLine(err));
  } finally {
    scratch.cleanup();
  }
}

async function exportCsv(libraryDir: string, ids: string[]): Promise<UploadedFile> {
  if (ids.length !== 1) throw new ApiError(`a CSV holds one run's metrics (got ${ids.length} runs)`);
  const { id, csv } = await Library.with(libraryDir, async (lib) => {
    const rid = await lib.resolveRunId(ids[0]);
    return { id: rid, csv: metricsToCsv(await lib.getMetrics(rid)) };
  });
  return { name: `${id}.csv`, base64: Buffer.from(csv).toString('base64') };
}
