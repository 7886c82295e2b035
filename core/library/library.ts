import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { RunConfig } from '../schema/run-config.js';
import type { RunEvents } from '../analysis/events.js';
import type { EvalRecord } from '../schema/eval-record.js';
import { doubleList, num, str } from './sql.js';
import { readRunSeries, type RunSeries } from './series.js';
import { GrokscopeError, firstLine } from '../errors.js';

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

export type RunStatus = 'queued' | 'running' | 'completed' | 'stopped' | 'failed';

export interface RunRecord {
  id: string;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  config: RunConfig;
  backend: string | null;
  backendNote: string | null;
  versions: Record<string, string>;
  events: RunEvents | null;
  stepsDone: number;
  error: string | null;
  /** `trained` here, `imported` from a saved run or bundle, `external` from another tool's CSV/Parquet. */
  origin: RunOrigin;
  /** A note shown with the run (e.g. why an import got a new id). */
  note: string | null;
  /** The id the run had where it was trained, for imported runs. */
  sourceId: string | null;
  /** The researcher's labels (free text, sorted, unique). */
  tags: string[];
}

export type RunOrigin = 'trained' | 'imported' | 'external';

export interface RunSummary {
  id: string;
  task: string;
  arch: string;
  condition: string;
  seed: number;
  status: RunStatus;
  T_grok: number | null;
  T_cross: number | null;
}

export interface MetricRow {
  step: number;
  train_acc: number;
  test_acc: number;
  train_loss: number;
  test_loss: number;
  weight_norm: number;
  entropy: Record<string, number>;
  eff_rank: Record<string, number>;
  top5_share: Record<string, number>;
  fourier_topk_share: number | null;
  fourier_gini: number | null;
}

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
];

/**
 * The per-run data tables, their columns (after run_id) as DuckDB types, and the order that makes
 * a run's rows canonical. Saved runs hold one Parquet file per table with exactly these columns.
 */
export const RUN_TABLES = {
  metrics: {
    columns: [
      ['step', 'INTEGER'], ['train_loss', 'DOUBLE'], ['train_acc', 'DOUBLE'], ['test_loss', 'DOUBLE'], ['test_acc', 'DOUBLE'],
      ['weight_norm', 'DOUBLE'], ['fourier_topk_share', 'DOUBLE'], ['fourier_gini', 'DOUBLE'],
    ],
    order: 'step',
  },
  probe_metrics: {
    columns: [['step', 'INTEGER'], ['probe', 'VARCHAR'], ['entropy', 'DOUBLE'], ['eff_rank', 'DOUBLE'], ['top5_share', 'DOUBLE']],
    order: 'step, probe',
  },
  tensor_norms: { columns: [['step', 'INTEGER'], ['tensor', 'VARCHAR'], ['norm', 'DOUBLE']], order: 'step, tensor' },
  spectra: { columns: [['step', 'INTEGER'], ['probe', 'VARCHAR'], ['eigenvalues', 'DOUBLE[]']], order: 'step, probe' },
  step_norms: { columns: [['step', 'INTEGER'], ['weight_norm', 'DOUBLE']], order: 'step' },
} as const satisfies Record<string, { columns: readonly (readonly [string, string])[]; order: string }>;

export type RunTable = keyof typeof RUN_TABLES;
export const RUN_TABLE_NAMES = Object.keys(RUN_TABLES) as RunTable[];

/** What a saved run or bundle brings into the library: its record and one Parquet file per table. */
export interface RunImport {
  record: Omit<RunRecord, 'origin' | 'note' | 'sourceId' | 'tags'> & { tags?: string[] };
  /** table → Parquet file on disk (already validated by the caller). */
  files: Record<RunTable, string>;
  origin: RunOrigin;
  /** Where it came from, for the note when its id is taken. */
  sourceName: string;
}

export interface RunImportOutcome {
  /** The id the run has in this library. */
  id: string;
  sourceId: string;
  action: 'imported' | 'unchanged' | 'renamed';
  message: string;
}

const METRIC_TABLES = ['metrics', 'probe_metrics', 'tensor_norms', 'spectra', 'external_metrics'];
const RUN_COLUMNS =
  'id, created_at, updated_at, status, task, arch, condition, seed, preset, config, backend, backend_note, versions, events, steps_done, error, t_grok, t_cross, origin, note, source_id, tags';

function isLockError(err: unknown): boolean {
  return err instanceof Error && /lock/i.test(err.message);
}

/** JSON with object keys sorted, so that equal values print equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** Tags as stored: sorted, unique, trimmed, non-empty, at most 64 characters each. */
export function normaliseTags(tags: string[]): string[] {
  return [...new Set(tags.map((t) => t.trim()).filter((t) => t.length > 0 && t.length <= 64))].sort();
}

function parseTags(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  try {
    const t = JSON.parse(String(v)) as unknown;
    return Array.isArray(t) ? t.map(String) : [];
  } catch {
    return [];
  }
}

const SUMMARY_COLUMNS = 'id, task, arch, condition, seed, status, t_grok, t_cross';

/** A row of SUMMARY_COLUMNS as a RunSummary. */
function summaryOf(r: Record<string, unknown>): RunSummary {
  return {
    id: String(r.id),
    task: String(r.task),
    arch: String(r.arch),
    condition: String(r.condition),
    seed: Number(r.seed),
    status: r.status as RunStatus,
    T_grok: r.t_grok === null ? null : Number(r.t_grok),
    T_cross: r.t_cross === null ? null : Number(r.t_cross),
  };
}

/** SQL NULL (a metric an external run does not have) reads as NaN. */
function orNaN(v: unknown): number {
  return v === null || v === undefined ? NaN : Number(v);
}

function recordFromRow(r: Record<string, unknown>): RunRecord {
  return {
    id: String(r.id),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
    status: r.status as RunStatus,
    config: JSON.parse(String(r.config)) as RunConfig,
    backend: r.backend === null ? null : String(r.backend),
    backendNote: r.backend_note === null ? null : String(r.backend_note),
    versions: JSON.parse(String(r.versions)) as Record<string, string>,
    events: r.events === null ? null : (JSON.parse(String(r.events)) as RunEvents),
    stepsDone: Number(r.steps_done),
    error: r.error === null ? null : String(r.error),
    origin: (r.origin ?? 'trained') as RunOrigin,
    note: r.note === null || r.note === undefined ? null : String(r.note),
    sourceId: r.source_id === null || r.source_id === undefined ? null : String(r.source_id),
    tags: parseTags(r.tags),
  };
}

function nowIso(): string {
  return new Date().toISOString();
}

export function newRunId(config: Pick<RunConfig, 'task' | 'arch' | 'seed'>): string {
  return `${config.task}-${config.arch}-s${config.seed}-${randomBytes(3).toString('hex')}`;
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

export class Library {
  private constructor(
    readonly dir: string,
    private readonly instance: DuckDBInstance,
    private readonly con: DuckDBConnection,
    private readonly release: () => void,
  ) {}

  static dbPath(dir: string): string {
    return path.join(dir, 'grokscope.duckdb');
  }

  /** Open (creating if needed); waits up to `lockTimeoutMs` while another process holds it. */
  static async open(dir: string, lockTimeoutMs = 15_000): Promise<Library> {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new LibraryError(`cannot create library folder ${dir}: ${(err as Error).message}`);
    }
    const file = Library.dbPath(dir);
    const release = await acquireSession(path.resolve(file));
    const deadline = Date.now() + lockTimeoutMs;
    for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
      let instance: DuckDBInstance | null = null;
      try {
        instance = await DuckDBInstance.create(file);
        const con = await instance.connect();
        const lib = new Library(dir, instance, con, release);
        await lib.migrate();
        return lib;
      } catch (err) {
        instance?.closeSync();
        if (!isLockError(err) || Date.now() > deadline) {
          release();
          if (isLockError(err)) throw new LibraryError(`library ${dir} is in use by another process (waited ${lockTimeoutMs / 1000} s)`);
          if (err instanceof LibraryError) throw err;
          throw new LibraryError(`cannot open library ${dir}: ${firstLine(err)}`);
        }
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Run `fn` in a short session on the library at `dir`. */
  static async with<T>(dir: string, fn: (lib: Library) => Promise<T>): Promise<T> {
    const lib = await Library.open(dir);
    try {
      return await fn(lib);
    } finally {
      lib.close();
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

  private async transaction(statements: string[]): Promise<void> {
    await this.con.run('BEGIN TRANSACTION');
    try {
      for (const s of statements) await this.con.run(s);
      await this.con.run('COMMIT');
    } catch (err) {
      await this.con.run('ROLLBACK');
      throw err;
    }
  }

  async createRun(config: RunConfig, versions: Record<string, string>, id = newRunId(config)): Promise<string> {
    const t = nowIso();
    await this.con.run(
      `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${str(id)}, ${str(t)}, ${str(t)}, 'queued', ${str(config.task)}, ${str(config.arch)},
        ${str(config.condition)}, ${num(config.seed)}, ${str(config.preset ?? null)}, ${str(JSON.stringify(config))},
        NULL, NULL, ${str(JSON.stringify(versions))}, NULL, 0, NULL, NULL, NULL, 'trained', NULL, NULL, NULL)`,
    );
    return id;
  }

  async updateRun(
    id: string,
    patch: Partial<Pick<RunRecord, 'status' | 'backend' | 'backendNote' | 'events' | 'stepsDone' | 'error'>>,
  ): Promise<void> {
    const sets = [`updated_at = ${str(nowIso())}`];
    if (patch.status !== undefined) sets.push(`status = ${str(patch.status)}`);
    if (patch.backend !== undefined) sets.push(`backend = ${str(patch.backend)}`);
    if (patch.backendNote !== undefined) sets.push(`backend_note = ${str(patch.backendNote)}`);
    if (patch.stepsDone !== undefined) sets.push(`steps_done = ${num(patch.stepsDone)}`);
    if (patch.error !== undefined) sets.push(`error = ${str(patch.error)}`);
    if (patch.events !== undefined) {
      sets.push(`events = ${str(patch.events ? JSON.stringify(patch.events) : null)}`);
      sets.push(`t_grok = ${num(patch.events?.T_grok)}`, `t_cross = ${num(patch.events?.T_cross)}`);
    }
    await this.con.run(`UPDATE runs SET ${sets.join(', ')} WHERE id = ${str(id)}`);
  }

  /** Append a batch of evaluations (and per-step weight norms) in one transaction. */
  async appendEvals(id: string, records: EvalRecord[], stepNorms: { step: number; norm: number }[] = []): Promise<void> {
    if (records.length === 0 && stepNorms.length === 0) return;
    const metrics: string[] = [];
    const probes: string[] = [];
    const norms: string[] = [];
    const spectra: string[] = [];
    const rid = str(id);
    for (const r of records) {
      metrics.push(
        `(${rid}, ${r.step}, ${num(r.trainLoss)}, ${num(r.trainAcc)}, ${num(r.testLoss)}, ${num(r.testAcc)}, ${num(r.weightNorm)}, ${num(r.fourier?.topKShare)}, ${num(r.fourier?.gini)})`,
      );
      for (const [probe, s] of Object.entries(r.probes)) probes.push(`(${rid}, ${r.step}, ${str(probe)}, ${num(s!.entropy)}, ${num(s!.effRank)}, ${num(s!.top5Share)})`);
      for (const [tensor, n] of Object.entries(r.tensorNorms)) norms.push(`(${rid}, ${r.step}, ${str(tensor)}, ${num(n)})`);
      for (const [probe, eig] of Object.entries(r.spectra ?? {})) spectra.push(`(${rid}, ${r.step}, ${str(probe)}, ${doubleList(eig!)})`);
    }
    const statements: string[] = [];
    if (metrics.length) statements.push(`INSERT INTO metrics VALUES ${metrics.join(',')}`);
    if (stepNorms.length) statements.push(`INSERT INTO step_norms VALUES ${stepNorms.map((n) => `(${rid}, ${n.step}, ${num(n.norm)})`).join(',')}`);
    if (probes.length) statements.push(`INSERT INTO probe_metrics VALUES ${probes.join(',')}`);
    if (norms.length) statements.push(`INSERT INTO tensor_norms VALUES ${norms.join(',')}`);
    if (spectra.length) statements.push(`INSERT INTO spectra VALUES ${spectra.join(',')}`);
    if (records.length) {
      const last = records[records.length - 1].step;
      statements.push(`UPDATE runs SET steps_done = ${last}, updated_at = ${str(nowIso())} WHERE id = ${rid}`);
    }
    await this.transaction(statements);
  }

  /** Remove evaluations at or after `step` (before resuming from a checkpoint at `step`). */
  async deleteEvalsFrom(id: string, step: number): Promise<void> {
    await this.transaction([
      ...METRIC_TABLES.map((t) => `DELETE FROM ${t} WHERE run_id = ${str(id)} AND step >= ${step}`),
      // The norm after step `step` was recorded before the checkpoint and is not recomputed.
      `DELETE FROM step_norms WHERE run_id = ${str(id)} AND step > ${step}`,
    ]);
  }

  /** ‖θ‖ after every optimiser step, index = step (NaN where missing). */
  async getStepNorms(id: string): Promise<Float64Array> {
    const r = await this.con.runAndReadAll(`SELECT step, weight_norm FROM step_norms WHERE run_id = ${str(id)} ORDER BY step`);
    const rows = r.getRowsJS();
    const last = rows.length ? Number(rows[rows.length - 1][0]) : -1;
    const out = new Float64Array(last + 1).fill(NaN);
    for (const [step, norm] of rows) out[Number(step)] = Number(norm);
    return out;
  }

  async deleteRun(id: string): Promise<void> {
    await this.transaction([
      ...[...METRIC_TABLES, 'step_norms'].map((t) => `DELETE FROM ${t} WHERE run_id = ${str(id)}`),
      `DELETE FROM runs WHERE id = ${str(id)}`,
    ]);
  }

  /** The study's spec as stored, or null when the library has no such study. */
  async getStudySpec(id: string): Promise<string | null> {
    const r = await this.con.runAndReadAll(`SELECT spec FROM studies WHERE id = ${str(id)}`);
    const rows = r.getRowsJS();
    return rows.length ? String(rows[0][0]) : null;
  }

  async upsertStudy(id: string, spec: string, status: string): Promise<void> {
    const t = nowIso();
    const exists = (await this.getStudySpec(id)) !== null;
    await this.con.run(
      exists
        ? `UPDATE studies SET spec = ${str(spec)}, status = ${str(status)}, updated_at = ${str(t)} WHERE id = ${str(id)}`
        : `INSERT INTO studies VALUES (${str(id)}, ${str(spec)}, ${str(t)}, ${str(t)}, ${str(status)})`,
    );
  }

  /** key → run id of a study's runs. */
  async getStudyRuns(id: string): Promise<Map<string, string>> {
    const r = await this.con.runAndReadAll(`SELECT key, run_id FROM study_runs WHERE study_id = ${str(id)}`);
    return new Map(r.getRowsJS().map(([k, v]) => [String(k), String(v)]));
  }

  async setStudyRun(id: string, key: string, runId: string): Promise<void> {
    await this.transaction([
      `DELETE FROM study_runs WHERE study_id = ${str(id)} AND key = ${str(key)}`,
      `INSERT INTO study_runs VALUES (${str(id)}, ${str(key)}, ${str(runId)})`,
    ]);
  }

  async listRuns(): Promise<RunSummary[]> {
    const reader = await this.con.runAndReadAll(`SELECT ${SUMMARY_COLUMNS} FROM runs ORDER BY created_at, id`);
    return reader.getRowObjectsJS().map(summaryOf);
  }

  /** Every run with what a library view shows (backend, origin, progress, lead), in one query. */
  async listRunsDetailed(): Promise<(RunSummary & { backend: string | null; origin: RunOrigin; stepsDone: number; steps: number; lead: number | null; tags: string[] })[]> {
    const reader = await this.con.runAndReadAll(
      `SELECT ${SUMMARY_COLUMNS}, backend, origin, steps_done, config, events, tags FROM runs ORDER BY created_at, id`,
    );
    return reader.getRowObjectsJS().map((r) => ({
      ...summaryOf(r),
      backend: r.backend === null ? null : String(r.backend),
      origin: (r.origin ?? 'trained') as RunOrigin,
      stepsDone: Number(r.steps_done),
      steps: Number((JSON.parse(String(r.config)) as { steps?: number }).steps ?? 0),
      lead: r.events === null ? null : ((JSON.parse(String(r.events)) as RunEvents).lead ?? null),
      tags: parseTags(r.tags),
    }));
  }

  /** Replace a run's tags. */
  async setTags(id: string, tags: string[]): Promise<void> {
    const t = normaliseTags(tags);
    await this.con.run(`UPDATE runs SET tags = ${str(t.length ? JSON.stringify(t) : null)}, updated_at = ${str(nowIso())} WHERE id = ${str(id)}`);
  }

  /** A run by exact id, or by a unique id prefix. */
  async resolveRunId(idOrPrefix: string): Promise<string> {
    const reader = await this.con.runAndReadAll(
      `SELECT id FROM runs WHERE id = ${str(idOrPrefix)} OR starts_with(id, ${str(idOrPrefix)}) ORDER BY id`,
    );
    const ids = reader.getRowsJS().map((r) => String(r[0]));
    if (ids.includes(idOrPrefix)) return idOrPrefix;
    if (ids.length === 1) return ids[0];
    if (ids.length === 0) throw new LibraryError(`no run '${idOrPrefix}' in library ${this.dir}`);
    throw new LibraryError(`'${idOrPrefix}' matches ${ids.length} runs (${ids.slice(0, 3).join(', ')}…); give more of the id`);
  }

  /** resolveRunId for many: exact ids in one query, prefixes one by one. */
  async resolveRunIds(idsOrPrefixes: string[]): Promise<string[]> {
    if (idsOrPrefixes.length === 0) return [];
    const exact = new Set(
      (await this.con.runAndReadAll(`SELECT id FROM runs WHERE id IN (${idsOrPrefixes.map(str).join(', ')})`)).getRowsJS().map((r) => String(r[0])),
    );
    const out: string[] = [];
    for (const x of idsOrPrefixes) out.push(exact.has(x) ? x : await this.resolveRunId(x));
    return out;
  }

  async getRun(id: string): Promise<RunRecord> {
    const reader = await this.con.runAndReadAll(`SELECT * FROM runs WHERE id = ${str(id)}`);
    const rows = reader.getRowObjectsJS();
    if (rows.length === 0) throw new LibraryError(`no run '${id}' in library ${this.dir}`);
    return recordFromRow(rows[0]);
  }

  /** Many runs' records in one query, in the order asked; throws naming the first id that is not here. */
  async getRuns(ids: string[]): Promise<RunRecord[]> {
    if (ids.length === 0) return [];
    const rows = (await this.con.runAndReadAll(`SELECT * FROM runs WHERE id IN (${ids.map(str).join(', ')})`)).getRowObjectsJS();
    const byId = new Map(rows.map((r) => [String(r.id), r]));
    return ids.map((id) => {
      const r = byId.get(id);
      if (!r) throw new LibraryError(`no run '${id}' in library ${this.dir}`);
      return recordFromRow(r);
    });
  }

  async getMetrics(id: string): Promise<MetricRow[]> {
    // Column-wise reads of only the needed columns: a compare of 100 runs × 10,000 evaluations
    // spent most of its time building row objects and decoding the run id of every row.
    const m = (
      await this.con.runAndReadAll(
        `SELECT step, train_acc, test_acc, train_loss, test_loss, weight_norm, fourier_topk_share, fourier_gini FROM metrics WHERE run_id = ${str(id)} ORDER BY step`,
      )
    ).getColumnsObjectJS();
    const rows = new Map<number, MetricRow>();
    const n = m.step.length;
    for (let i = 0; i < n; i++) {
      const step = Number(m.step[i]);
      rows.set(step, {
        step,
        train_acc: orNaN(m.train_acc[i]),
        test_acc: orNaN(m.test_acc[i]),
        train_loss: orNaN(m.train_loss[i]),
        test_loss: orNaN(m.test_loss[i]),
        weight_norm: orNaN(m.weight_norm[i]),
        entropy: {},
        eff_rank: {},
        top5_share: {},
        fourier_topk_share: m.fourier_topk_share[i] === null ? null : Number(m.fourier_topk_share[i]),
        fourier_gini: m.fourier_gini[i] === null ? null : Number(m.fourier_gini[i]),
      });
    }
    const p = (
      await this.con.runAndReadAll(`SELECT step, probe, entropy, eff_rank, top5_share FROM probe_metrics WHERE run_id = ${str(id)} ORDER BY step, probe`)
    ).getColumnsObjectJS();
    const np = p.step.length;
    for (let i = 0; i < np; i++) {
      const row = rows.get(Number(p.step[i]));
      if (!row) continue;
      const probe = String(p.probe[i]);
      row.entropy[probe] = orNaN(p.entropy[i]);
      row.eff_rank[probe] = orNaN(p.eff_rank[i]);
      row.top5_share[probe] = orNaN(p.top5_share[i]);
    }
    return [...rows.values()];
  }

  /** Typed columns of many runs at once, one probe's entropy (core/library/series.ts). */
  async getSeries(ids: string[], probe: string): Promise<Map<string, RunSeries>> {
    return readRunSeries(this.con, ids, probe);
  }

  async getTensorNorms(id: string): Promise<{ step: number; tensor: string; norm: number }[]> {
    const r = await this.con.runAndReadAll(`SELECT step, tensor, norm FROM tensor_norms WHERE run_id = ${str(id)} ORDER BY step, tensor`);
    return r.getRowObjectsJS().map((x) => ({ step: Number(x.step), tensor: String(x.tensor), norm: Number(x.norm) }));
  }

  async getSpectra(id: string): Promise<{ step: number; probe: string; eigenvalues: number[] }[]> {
    const r = await this.con.runAndReadAll(`SELECT step, probe, eigenvalues FROM spectra WHERE run_id = ${str(id)} ORDER BY step, probe`);
    return r.getRowObjectsJS().map((x) => ({ step: Number(x.step), probe: String(x.probe), eigenvalues: (x.eigenvalues as number[]).map(Number) }));
  }

  /** Write one table's rows of a run as Parquet (columns of RUN_TABLES, canonical order). */
  async exportTable(id: string, table: RunTable, file: string): Promise<void> {
    const cols = RUN_TABLES[table].columns.map(([c]) => c).join(', ');
    await this.con.run(
      `COPY (SELECT ${cols} FROM ${table} WHERE run_id = ${str(id)} ORDER BY ${RUN_TABLES[table].order}) TO ${str(file)} (FORMAT parquet)`,
    );
  }

  /** Column names and types of a Parquet file; throws (DuckDB's message) when it is not one. */
  async describeParquet(file: string): Promise<[string, string][]> {
    return this.describeQuery(`SELECT * FROM read_parquet(${str(file)})`);
  }

  /**
   * A digest of a run's data, the same whether the rows sit in this library or in a saved run's
   * Parquet files: every row as DuckDB prints it (shortest round-trip doubles), sorted.
   * Two runs with equal config, backend, status and digest hold the same numbers.
   */
  async dataDigest(source: { runId: string } | { files: Record<RunTable, string> }): Promise<string> {
    const parts: string[] = [];
    for (const table of RUN_TABLE_NAMES) {
      const cols = RUN_TABLES[table].columns.map(([c]) => c).join(', ');
      const from = 'runId' in source ? `${table} WHERE run_id = ${str(source.runId)}` : `read_parquet(${str(source.files[table])})`;
      const r = await this.con.runAndReadAll(
        `SELECT count(*) AS n, sha256(coalesce(string_agg(x::VARCHAR, chr(10) ORDER BY x::VARCHAR), '')) AS h FROM (SELECT ${cols} FROM ${from}) x`,
      );
      const row = r.getRowObjectsJS()[0];
      parts.push(`${table}:${String(row.n)}:${String(row.h)}`);
    }
    return parts.join('|');
  }

  /** Runs that are `sourceId` here: trained under that id, or imported from it. */
  private async runsFromSource(sourceId: string): Promise<string[]> {
    const r = await this.con.runAndReadAll(`SELECT id FROM runs WHERE id = ${str(sourceId)} OR source_id = ${str(sourceId)} ORDER BY id`);
    return r.getRowsJS().map((x) => String(x[0]));
  }

  private async sameRun(id: string, incoming: RunImport, incomingDigest: string): Promise<boolean> {
    const have = await this.getRun(id);
    const a = incoming.record;
    if (canonicalJson(have.config) !== canonicalJson(a.config) || have.backend !== a.backend || have.status !== a.status || have.stepsDone !== a.stepsDone) return false;
    return (await this.dataDigest({ runId: id })) === incomingDigest;
  }

  /**
   * Import runs in ONE transaction: either every run lands with all its rows or none does.
   * A run whose id (or source id) is here with the same content is left alone; one whose id is
   * taken by different content gets a new id and a note saying why; a norm-matched run imported
   * with its mix run has its target id follow the mix run's new id.
   */
  async importRuns(items: RunImport[]): Promise<RunImportOutcome[]> {
    const outcomes: RunImportOutcome[] = [];
    const statements: string[] = [];
    const remap = new Map<string, string>();
    const assigned = new Set<string>();
    for (const item of items) {
      const rec = item.record;
      const digest = await this.dataDigest({ files: item.files });
      let same: string | undefined;
      for (const candidate of await this.runsFromSource(rec.id)) {
        if (await this.sameRun(candidate, item, digest)) {
          same = candidate;
          break;
        }
      }
      if (same) {
        remap.set(rec.id, same);
        outcomes.push({ id: same, sourceId: rec.id, action: 'unchanged', message: `${rec.id}: already in the library as ${same} with the same content; nothing imported` });
        continue;
      }
      const taken = (await this.runsFromSource(rec.id)).includes(rec.id) || assigned.has(rec.id);
      const id = taken ? `${rec.id}-i${randomBytes(3).toString('hex')}` : rec.id;
      remap.set(rec.id, id);
      assigned.add(id);
      const note = taken ? `imported from ${item.sourceName}; id ${rec.id} was already taken by a run with different content` : null;
      outcomes.push({
        id,
        sourceId: rec.id,
        action: taken ? 'renamed' : 'imported',
        message: taken ? `${rec.id}: imported as ${id} (a different run already has id ${rec.id})` : `${rec.id}: imported`,
      });
      const c = rec.config;
      statements.push(
        `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${str(id)}, ${str(rec.createdAt)}, ${str(rec.updatedAt)}, ${str(rec.status)}, ${str(c.task)}, ${str(c.arch)},
          ${str(c.condition)}, ${num(c.seed)}, ${str(c.preset ?? null)}, ${str(JSON.stringify(c))}, ${str(rec.backend)}, ${str(rec.backendNote)},
          ${str(JSON.stringify(rec.versions))}, ${str(rec.events ? JSON.stringify(rec.events) : null)}, ${num(rec.stepsDone)}, ${str(rec.error)},
          ${num(rec.events?.T_grok)}, ${num(rec.events?.T_cross)}, ${str(item.origin)}, ${str(note)}, ${str(rec.id)}, ${str(rec.tags?.length ? JSON.stringify(normaliseTags(rec.tags)) : null)})`,
      );
      for (const table of RUN_TABLE_NAMES) {
        const cols = RUN_TABLES[table].columns.map(([col]) => col).join(', ');
        statements.push(`INSERT INTO ${table} (run_id, ${cols}) SELECT ${str(id)}, ${cols} FROM read_parquet(${str(item.files[table])})`);
      }
    }
    // A norm-matched run imported with its mix run follows the mix run's id here.
    for (const item of items) {
      const target = item.record.config.normTargetRun;
      const newId = remap.get(item.record.id);
      const out = outcomes.find((o) => o.sourceId === item.record.id);
      if (target && remap.has(target) && remap.get(target) !== target && out && out.action !== 'unchanged' && newId) {
        const config = { ...item.record.config, normTargetRun: remap.get(target) };
        statements.push(`UPDATE runs SET config = ${str(JSON.stringify(config))} WHERE id = ${str(newId)}`);
      }
    }
    await this.transaction(statements);
    return outcomes;
  }

  /** Row counts of the runs table and every per-run table (for integrity checks). */
  async tableCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const t of ['runs', ...RUN_TABLE_NAMES]) {
      const r = await this.con.runAndReadAll(`SELECT count(*) FROM ${t}`);
      out[t] = Number(r.getRowsJS()[0][0]);
    }
    return out;
  }

  /** Column names and types of any query's result. */
  async describeQuery(sql: string): Promise<[string, string][]> {
    const r = await this.con.runAndReadAll(`DESCRIBE ${sql}`);
    return r.getRowObjectsJS().map((x) => [String(x.column_name), String(x.column_type)]);
  }

  /**
   * Import an external run (core/library/external.ts decides the mapping): rows of `reader`
   * grouped by step, mapped columns into metrics/probe_metrics, the rest into external_metrics;
   * one transaction.
   */
  async importExternalRows(args: {
    baseId: string;
    config: RunConfig;
    note: string;
    reader: string;
    stepColumn: string;
    columns: { column: string; name: string; target: { table: 'metrics'; field: string } | { table: 'probe'; probe: string } | null }[];
    computeEvents: (rows: { step: number; trainAcc: number; testAcc: number; entropy?: number }[]) => RunEvents;
  }): Promise<RunImportOutcome> {
    const qi = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    const step = qi(args.stepColumn);
    const check = await this.con.runAndReadAll(
      `SELECT count(*) FILTER (WHERE ${step} IS NOT NULL AND (CAST(${step} AS DOUBLE) < 0 OR CAST(${step} AS DOUBLE) <> floor(CAST(${step} AS DOUBLE)))) AS bad, count(${step}) AS n FROM ${args.reader}`,
    );
    const { bad, n } = check.getRowObjectsJS()[0];
    if (Number(bad) > 0) throw new Error(`column ${args.stepColumn} has ${bad} values that are not non-negative whole numbers`);
    if (Number(n) === 0) throw new Error('no rows with a step');
    const exists = async (id: string): Promise<boolean> => (await this.con.runAndReadAll(`SELECT 1 FROM runs WHERE id = ${str(id)}`)).getRowsJS().length > 0;
    const id = (await exists(args.baseId)) ? `${args.baseId}-${randomBytes(3).toString('hex')}` : args.baseId;
    const agg = args.columns.map((c, i) => `any_value(CAST(${qi(c.column)} AS DOUBLE)) AS c${i}`).join(', ');
    const grouped = `(SELECT CAST(${step} AS BIGINT) AS step, ${agg} FROM ${args.reader} WHERE ${step} IS NOT NULL GROUP BY 1)`;
    const metricCol = (field: string): string => {
      const i = args.columns.findIndex((c) => c.target?.table === 'metrics' && c.target.field === field);
      return i < 0 ? 'NULL' : `c${i}`;
    };
    const fields = ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'weight_norm', 'fourier_topk_share', 'fourier_gini'];
    const statements = [
      `CREATE OR REPLACE TEMP TABLE ext_rows AS ${grouped.slice(1, -1)}`,
      `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${str(id)}, ${str(nowIso())}, ${str(nowIso())}, 'completed', ${str(args.config.task)}, ${str(args.config.arch)},
        'baseline', ${num(args.config.seed)}, 'external', ${str(JSON.stringify(args.config))}, 'external', NULL, '{}', NULL, 0, NULL, NULL, NULL, 'external', ${str(args.note)}, NULL, NULL)`,
      `INSERT INTO metrics (run_id, step, ${fields.join(', ')}) SELECT ${str(id)}, step, ${fields.map(metricCol).join(', ')} FROM ext_rows`,
      ...args.columns.flatMap((c, i) =>
        c.target?.table === 'probe'
          ? [`INSERT INTO probe_metrics (run_id, step, probe, entropy) SELECT ${str(id)}, step, ${str(c.target.probe)}, c${i} FROM ext_rows WHERE c${i} IS NOT NULL`]
          : c.target === null
            ? [`INSERT INTO external_metrics SELECT ${str(id)}, step, ${str(c.name)}, c${i} FROM ext_rows WHERE c${i} IS NOT NULL`]
            : [],
      ),
      `UPDATE runs SET steps_done = (SELECT max(step) FROM ext_rows) WHERE id = ${str(id)}`,
    ];
    await this.transaction(statements);
    await this.con.run('DROP TABLE IF EXISTS ext_rows');
    const rows = await this.getMetrics(id);
    const events = args.computeEvents(rows.map((r) => ({ step: r.step, trainAcc: r.train_acc, testAcc: r.test_acc, entropy: r.entropy[args.config.probe] })));
    await this.updateRun(id, { events });
    return { id, sourceId: id, action: 'imported', message: `${id}: imported (${rows.length} steps)` };
  }

  /** Extra columns of an external run, by name. */
  async getExternalMetrics(id: string): Promise<{ step: number; name: string; value: number }[]> {
    const r = await this.con.runAndReadAll(`SELECT step, name, value FROM external_metrics WHERE run_id = ${str(id)} ORDER BY name, step`);
    return r.getRowObjectsJS().map((x) => ({ step: Number(x.step), name: String(x.name), value: Number(x.value) }));
  }

  /** Write any query's result as Parquet (test fixtures, exports). */
  async copyQueryToParquet(sql: string, file: string): Promise<void> {
    await this.con.run(`COPY (${sql}) TO ${str(file)} (FORMAT parquet)`);
  }
}
