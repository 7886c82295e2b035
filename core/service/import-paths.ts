import path from 'node:path';
import { firstLine } from '../errors.js';
import { archiveImported } from '../library/archive.js';
import { importExternal, type ExternalOptions } from '../library/external.js';
import { Library } from '../library/library.js';
import { importSourcesInto, type ImportReport } from '../library/transfer.js';
import { ImportError } from '../library/zip.js';
import { adoptStudyRuns } from '../study/adopt.js';

/**
 * Files into the library, the one path for every host (the app's drop and upload through
 * files.ts, `grokscope import`): each file is either another tool's metrics (CSV, TSV, Parquet,
 * through importExternal) or our saved runs and bundles (importSourcesInto), all or nothing per
 * file, a bad one reported in one line while the others still import; then a saved run of each
 * run that came in is kept beside the database, so that a rebuild brings imported runs back too
 * (library/archive.ts).
 */
export async function importPaths(
  libraryDir: string,
  files: string[],
  // Options per file (by its index in `files`) for a config table's rows, or the same for all.
  o: { external: (file: string) => boolean; externalOptions?: ExternalOptions | ((file: string, index: number) => ExternalOptions | undefined) },
): Promise<ImportReport[]> {
  const reports = await Library.with(libraryDir, async (lib) => {
    const out: ImportReport[] = [];
    for (const [index, file] of files.entries()) {
      if (!o.external(file)) {
        const reports = await importSourcesInto(lib, [file]);
        // A bundle of a study's runs: they take their planned places in the study here (study/adopt.ts).
        for (const r of reports) {
          if (!r.ok || !r.study) continue;
          const a = await adoptStudyRuns(lib, r.study, r.outcomes.map((x) => x.id));
          r.notes = [
            a.refused ??
              `study ${a.study}: ${a.adopted} run(s) added to it${a.kept ? `, ${a.kept} already there` : ''}${a.unplanned.length ? `, ${a.unplanned.length} not in its plan` : ''}; it now holds ${a.completed} of ${a.planned} planned runs completed`,
          ];
        }
        out.push(...reports);
        continue;
      }
      try {
        out.push({ source: file, ok: true, kind: 'external', outcomes: [await importExternal(lib, file, typeof o.externalOptions === 'function' ? o.externalOptions(file, index) : o.externalOptions)], warnings: [] });
      } catch (err) {
        out.push({ source: file, ok: false, error: err instanceof ImportError ? err.message : `${path.basename(file)}: ${firstLine(err)}` });
      }
    }
    return out;
  });
  // After the import's session: archiving opens sessions of its own.
  for (const r of reports) if (r.ok) r.warnings.push(...(await archiveImported(libraryDir, r.outcomes.filter((x) => x.action !== 'unchanged').map((x) => x.id))));
  return reports;
}
