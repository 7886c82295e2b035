import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { GrokscopeError, firstLine, isOutOfSpace, outOfSpaceMessage } from '../errors.js';
import { makeDirs } from './paths.js';

/**
 * The run library: one DuckDB file per library folder. Runs (config, status, backend, versions,
 * timestamps, events) and their metrics are tables; evaluations are written in batches, each
 * batch one transaction, so a crash loses at most the batch in flight.
 *
 * DuckDB lets one process hold a database file at a time. The library is therefore opened for
 * short sessions (open → work → close, ~10 ms) with a retry while another process holds the lock,
 * so that `grokscope list` works while a `grokscope run` is writing in another terminal.
 */
export const LIBRARY_SCHEMA_VERSION = 2;

export class LibraryError extends GrokscopeError {}

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS runs (
     id VARCHAR PRIMARY KEY, created_at VARCHAR, updated_at VARCHAR, status VARCHAR,
     task VARCHAR, arch VARCHAR, condition VARCHAR, seed INTEGER, preset VARCHAR,
     config VARCHAR, backend VARCHAR, backend_note VARCHAR, versions VARCHAR, events VARCHAR,
     steps_done INTEGER, error VARCHAR, t_grok INTEGER, t_cross INTEGER)`,
  `CREATE TABLE IF NOT EXISTS metrics (run_id VARCHAR, step INTEGER, train_loss DOUBLE, train_acc DOUBLE,
     test_loss DOUBLE, test_acc DOUBLE, weight_norm DOUBLE, fourier_topk_share DOUBLE, fourier_gini DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS probe_metrics (run_id VARCHAR, step INTEGER, probe VARCHAR, entropy DOUBLE,
     eff_rank DOUBLE, top5_share DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS tensor_norms (run_id VARCHAR, step INTEGER, tensor VARCHAR, norm DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS spectra (run_id VARCHAR, step INTEGER, probe VARCHAR, eigenvalues DOUBLE[])`,
  `CREATE TABLE IF NOT EXISTS step_norms (run_id VARCHAR, step INTEGER, weight_norm DOUBLE)`,
  `CREATE TABLE IF NOT EXISTS studies (id VARCHAR PRIMARY KEY, spec VARCHAR, created_at VARCHAR, updated_at VARCHAR, status VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS study_runs (study_id VARCHAR, key VARCHAR, run_id VARCHAR)`,
  // Schema 2: provenance of imported runs.
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS origin VARCHAR DEFAULT 'trained'`,
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS note VARCHAR`,
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS source_id VARCHAR`,
  `ALTER TABLE runs ADD COLUMN IF NOT EXISTS tags VARCHAR`,
  // Columns of external runs that have no place in our tables, kept so nothing is lost.
  `CREATE TABLE IF NOT EXISTS external_metrics (run_id VARCHAR, step BIGINT, name VARCHAR, value DOUBLE)`,
  // Per-evaluation scalars measured since 2026-11-30 (logit scale, …), one row per name: new
  // measurements need no new columns, and runs recorded before simply have none.
  `CREATE TABLE IF NOT EXISTS eval_scalars (run_id VARCHAR, step INTEGER, name VARCHAR, value DOUBLE)`,
];

/** Tables with rows per run and step (all but the run record and per-step norms). */
export const METRIC_TABLES = ['metrics', 'probe_metrics', 'tensor_norms', 'spectra', 'external_metrics', 'eval_scalars'];

/**
 * DuckDB's own words for a file another process holds ("Could not set lock on file …: Conflicting
 * lock is held in …"); nothing else is lock contention. A looser /lock/ matched "block" in
 * DuckDB's corruption message and sent users looking for a process that did not exist.
 */
function isLockError(err: unknown): boolean {
  return err instanceof Error && /Could not set lock on file|Conflicting lock is held/i.test(err.message);
}

/** DuckDB's messages for a damaged or foreign database file. */
const DAMAGE = /Corrupt database file|checksum|not a valid DuckDB database|Serialization Error|database file .* (is|was) (truncated|too small)|Unexpected end of file|Could not read enough bytes/i;

export function isDuckDbDamage(err: unknown): boolean {
  return !(err instanceof LibraryError) && DAMAGE.test(firstLine(err));
}

/**
 * What a failure to open or read a library means, in one line that names the file and, for a
 * damaged file, how to get the runs back.
 */
export function libraryFailure(err: unknown, dir: string): LibraryError {
  if (err instanceof LibraryError) return err;
  const file = LibraryDb.dbPath(dir);
  if (isOutOfSpace(err)) {
    // DuckDB rolls the failed transaction back; what was committed before stays readable.
    return new LibraryError(`${outOfSpaceMessage(`library database ${file}`, err)}. What was written before is kept`);
  }
  if (isDuckDbDamage(err)) {
    return new LibraryError(
      `library database ${file} is damaged (DuckDB: ${firstLine(err)}). ` +
        `To recover, move it aside and import the saved runs and bundles you exported (grokscope import FILE…) into a new library`,
    );
  }
  return new LibraryError(`cannot use library database ${file}: ${firstLine(err)}`);
}

export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * Sessions on one library within one process run one at a time: DuckDB must not have two
 * instances of the same file in one process, and the file lock only separates processes.
 */
const sessionQueues = new Map<string, Promise<void>>();

async function acquireSession(key: string): Promise<() => void> {
  const previous = sessionQueues.get(key) ?? Promise.resolve();
  let release!: () => void;
  const mine = new Promise<void>((r) => (release = r));
  const tail = previous.then(() => mine);
  sessionQueues.set(key, tail);
  await previous;
  return () => {
    release();
    if (sessionQueues.get(key) === tail) sessionQueues.delete(key);
  };
}

/** One open session on a library file: the connection every library module works through. */
export class LibraryDb {
  private constructor(
    readonly dir: string,
    private readonly instance: DuckDBInstance,
    readonly con: DuckDBConnection,
    private readonly release: () => void,
  ) {}

  static dbPath(dir: string): string {
    return path.join(dir, 'grokscope.duckdb');
  }

  /** Open (creating if needed); waits up to `lockTimeoutMs` while another process holds it. */
  static async open(dir: string, lockTimeoutMs = 15_000): Promise<LibraryDb> {
    try {
      // Not mkdirSync's recursive mode: it spins forever under /proc (paths.ts, makeDirs).
      makeDirs(dir);
    } catch (err) {
      throw new LibraryError(`cannot create library folder ${dir}: ${(err as Error).message}`);
    }
    const file = LibraryDb.dbPath(dir);
    const release = await acquireSession(path.resolve(file));
    const deadline = Date.now() + lockTimeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      let instance: DuckDBInstance | null = null;
      try {
        instance = await DuckDBInstance.create(file);
        const con = await instance.connect();
        const db = new LibraryDb(dir, instance, con, release);
        await db.migrate();
        return db;
      } catch (err) {
        instance?.closeSync();
        if (!isLockError(err) || Date.now() > deadline) {
          release();
          if (isLockError(err)) throw new LibraryError(`library ${dir} is in use by another process (waited ${lockTimeoutMs / 1000} s)`);
          throw libraryFailure(err, dir);
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  close(): void {
    try {
      this.con.closeSync();
      this.instance.closeSync();
    } finally {
      this.release();
    }
  }

  private async migrate(): Promise<void> {
    for (const sql of SCHEMA) await this.con.run(sql);
    const reader = await this.con.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`);
    const rows = reader.getRowsJS();
    if (rows.length === 0) {
      await this.con.run(`INSERT INTO meta VALUES ('schema_version', '${LIBRARY_SCHEMA_VERSION}')`);
    } else if (Number(rows[0][0]) > LIBRARY_SCHEMA_VERSION) {
      throw new LibraryError(`library schema version ${rows[0][0]} is newer than this Grokscope supports (${LIBRARY_SCHEMA_VERSION})`);
    }
  }

  /**
   * Read every row and column of every table (a check: DuckDB verifies each block's checksum as
   * it reads it). Returns the row count per table.
   */
  async scanAll(): Promise<Record<string, number>> {
    const tables = (await this.con.runAndReadAll(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name`)).getRowsJS().map((r) => String(r[0]));
    const out: Record<string, number> = {};
    for (const t of tables) {
      // Casting each row to text touches every column of every row.
      const r = (await this.con.runAndReadAll(`SELECT count(*), coalesce(sum(length(CAST(t AS VARCHAR))), 0) FROM "${t}" AS t`)).getRowsJS();
      out[t] = Number(r[0][0]);
    }
    return out;
  }

  async transaction(statements: string[]): Promise<void> {
    await this.con.run('BEGIN TRANSACTION');
    try {
      for (const s of statements) await this.con.run(s);
      await this.con.run('COMMIT');
    } catch (err) {
      // A COMMIT that failed (e.g. no room for the WAL) has already ended the transaction, and
      // ROLLBACK then fails with "no transaction is active", which hid the cause: keep the first.
      await this.con.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}
