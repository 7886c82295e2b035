import { LibraryDb, isDuckDbDamage, libraryFailure } from './db.js';
import { isOutOfSpace } from '../errors.js';
import * as interchange from './interchange.js';
import * as metrics from './metrics.js';
import * as runs from './runs.js';
import * as studies from './studies.js';

/**
 * The run library: one DuckDB file per library folder, opened for short sessions
 * (`Library.with(dir, fn)`; db.ts says why). This class is only the front door: each concern lives
 * in a module of its own, as functions over the session — run records (runs.ts), evaluations
 * (metrics.ts), studies (studies.ts), Parquet tables, digests and imports (interchange.ts) — and
 * is bound here to one open session, so callers write `lib.getRun(id)`.
 */
export { LIBRARY_SCHEMA_VERSION, LibraryError } from './db.js';
export { canonicalJson, newRunId, normaliseTags, type RunOrigin, type RunRecord, type RunStatus, type RunSummary } from './runs.js';
export type { MetricRow } from './metrics.js';
export { RUN_TABLES, RUN_TABLE_NAMES, type RunImport, type RunImportOutcome, type RunTable } from './interchange.js';

export class Library {
  private constructor(private readonly db: LibraryDb) {}

  get dir(): string {
    return this.db.dir;
  }

  static dbPath(dir: string): string {
    return LibraryDb.dbPath(dir);
  }

  /** Open (creating if needed); waits up to `lockTimeoutMs` while another process holds it. */
  static async open(dir: string, lockTimeoutMs = 15_000): Promise<Library> {
    return new Library(await LibraryDb.open(dir, lockTimeoutMs));
  }

  /** Run `fn` in a short session on the library at `dir`. */
  static async with<T>(dir: string, fn: (lib: Library) => Promise<T>): Promise<T> {
    const lib = await Library.open(dir);
    try {
      return await fn(lib);
    } catch (err) {
      // A damaged block can surface at any read, and a full disk at any write, not only at open:
      // name them there too.
      throw isDuckDbDamage(err) || isOutOfSpace(err) ? libraryFailure(err, dir) : err;
    } finally {
      lib.close();
    }
  }

  close(): void {
    this.db.close();
  }

  /** A module function over a session, bound to this one (read when called, so field order does not matter). */
  private bound<A extends unknown[], R>(fn: (db: LibraryDb, ...args: A) => R): (...args: A) => R {
    return (...args: A) => fn(this.db, ...args);
  }

  /** Read every table whole (library check); row counts per table. */
  scanAll(): Promise<Record<string, number>> {
    return this.db.scanAll();
  }

  readonly createRun = this.bound(runs.createRun);
  readonly updateRun = this.bound(runs.updateRun);
  readonly deleteRun = this.bound(runs.deleteRun);
  readonly listRuns = this.bound(runs.listRuns);
  readonly listRunsDetailed = this.bound(runs.listRunsDetailed);
  readonly setTags = this.bound(runs.setTags);
  readonly resolveRunId = this.bound(runs.resolveRunId);
  readonly resolveRunIds = this.bound(runs.resolveRunIds);
  readonly getRun = this.bound(runs.getRun);
  readonly getRuns = this.bound(runs.getRuns);

  readonly appendEvals = this.bound(metrics.appendEvals);
  readonly deleteEvalsFrom = this.bound(metrics.deleteEvalsFrom);
  readonly replaceFinalProgress = this.bound(metrics.replaceFinalProgress);
  readonly getStepNorms = this.bound(metrics.getStepNorms);
  readonly getMetrics = this.bound(metrics.getMetrics);
  readonly getSeries = this.bound(metrics.getSeries);
  readonly getTensorNorms = this.bound(metrics.getTensorNorms);
  readonly getSpectra = this.bound(metrics.getSpectra);
  readonly getExternalMetrics = this.bound(metrics.getExternalMetrics);

  readonly getStudySpec = this.bound(studies.getStudySpec);
  readonly upsertStudy = this.bound(studies.upsertStudy);
  readonly getStudyRuns = this.bound(studies.getStudyRuns);
  readonly setStudyRun = this.bound(studies.setStudyRun);
  readonly listStudies = this.bound(studies.listStudies);
  readonly studyOfRun = this.bound(studies.studyOfRun);

  readonly exportTable = this.bound(interchange.exportTable);
  readonly describeParquet = this.bound(interchange.describeParquet);
  readonly describeQuery = this.bound(interchange.describeQuery);
  readonly dataDigest = this.bound(interchange.dataDigest);
  readonly importRuns = this.bound(interchange.importRuns);
  readonly importExternalRows = this.bound(interchange.importExternalRows);
  readonly tableCounts = this.bound(interchange.tableCounts);
  readonly copyQueryToParquet = this.bound(interchange.copyQueryToParquet);
  readonly copyQuery = this.bound(interchange.copyQuery);
}
