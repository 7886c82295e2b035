import { randomBytes } from 'node:crypto';
import type { RunConfig } from '../schema/run-config.js';
import { nowIso, type LibraryDb } from './db.js';
import { getMetrics } from './metrics.js';
import { eventsFromMetrics } from './traces.js';
import { RUN_COLUMNS, canonicalJson, getRun, normaliseTags, updateRun, type RunOrigin, type RunRecord } from './runs.js';
import { num, str } from './sql.js';

/**
 * Runs' rows in and out of the library: one Parquet file per table for saved runs, a digest that
 * recognises the same run in either place, imports in one transaction, and other tools' rows.
 */
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
  // Since 2026-11-30. Optional: saved runs written before it have no file for it, and a run
  // without rows in it adds nothing to the digest, so their digests stay what they were.
  eval_scalars: { columns: [['step', 'INTEGER'], ['name', 'VARCHAR'], ['value', 'DOUBLE']], order: 'step, name', optional: true },
} as const satisfies Record<string, { columns: readonly (readonly [string, string])[]; order: string; optional?: boolean }>;

export type RunTable = keyof typeof RUN_TABLES;
export const RUN_TABLE_NAMES = Object.keys(RUN_TABLES) as RunTable[];

/** Tables a saved run may lack (added after the format's first version). */
export function isOptionalTable(table: RunTable): boolean {
  return 'optional' in RUN_TABLES[table];
}

/** What a saved run or bundle brings into the library: its record and one Parquet file per table. */
export interface RunImport {
  record: Omit<RunRecord, 'origin' | 'note' | 'sourceId' | 'tags'> & { tags?: string[] };
  /** table → Parquet file on disk (already validated by the caller); optional tables may be absent. */
  files: Partial<Record<RunTable, string>>;
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

/**
 * Write one table's rows of a run as Parquet (columns of RUN_TABLES, canonical order). For a
 * compact export (saved-run.ts): `empty`, the table's columns without its rows; `small`, Parquet 2
 * encodings (delta steps, byte-stream-split doubles) under zstd — half the bytes of per-step norms,
 * the same values (every reader of Parquet 2, DuckDB and pyarrow among them, reads it).
 */
export async function exportTable(db: LibraryDb, id: string, table: RunTable, file: string, o: { empty?: boolean; small?: boolean } = {}): Promise<void> {
  const cols = RUN_TABLES[table].columns.map(([c]) => c).join(', ');
  await db.con.run(
    `COPY (SELECT ${cols} FROM ${table} WHERE run_id = ${str(id)}${o.empty ? ' AND false' : ''} ORDER BY ${RUN_TABLES[table].order}) TO ${str(file)} (FORMAT parquet${o.small ? ', COMPRESSION zstd, PARQUET_VERSION v2' : ''})`,
  );
}

/** Column names and types of a Parquet file; throws (DuckDB's message) when it is not one. */
export async function describeParquet(db: LibraryDb, file: string): Promise<[string, string][]> {
  return describeQuery(db, `SELECT * FROM read_parquet(${str(file)})`);
}

/**
 * A digest of a run's data, the same whether the rows sit in this library or in a saved run's
 * Parquet files: every row as DuckDB prints it (shortest round-trip doubles), sorted.
 * Two runs with equal config, backend, status and digest hold the same numbers.
 */
export async function dataDigest(db: LibraryDb, source: { runId: string } | { files: Partial<Record<RunTable, string>> }): Promise<string> {
  const parts: string[] = [];
  for (const table of RUN_TABLE_NAMES) {
    const cols = RUN_TABLES[table].columns.map(([c]) => c).join(', ');
    if (!('runId' in source) && source.files[table] === undefined) {
      if (isOptionalTable(table)) continue;
      throw new Error(`saved run lacks its ${table} table`);
    }
    const from = 'runId' in source ? `${table} WHERE run_id = ${str(source.runId)}` : `read_parquet(${str(source.files[table]!)})`;
    const r = await db.con.runAndReadAll(
      `SELECT count(*) AS n, sha256(coalesce(string_agg(x::VARCHAR, chr(10) ORDER BY x::VARCHAR), '')) AS h FROM (SELECT ${cols} FROM ${from}) x`,
    );
    const row = r.getRowObjectsJS()[0];
    if (isOptionalTable(table) && Number(row.n) === 0) continue;
    parts.push(`${table}:${String(row.n)}:${String(row.h)}`);
  }
  return parts.join('|');
}

/** Runs that are `sourceId` here: trained under that id, or imported from it. */
async function runsFromSource(db: LibraryDb, sourceId: string): Promise<string[]> {
  const r = await db.con.runAndReadAll(`SELECT id FROM runs WHERE id = ${str(sourceId)} OR source_id = ${str(sourceId)} ORDER BY id`);
  return r.getRowsJS().map((x) => String(x[0]));
}

async function sameRun(db: LibraryDb, id: string, incoming: RunImport, incomingDigest: string): Promise<boolean> {
  const have = await getRun(db, id);
  const a = incoming.record;
  if (canonicalJson(have.config) !== canonicalJson(a.config) || have.backend !== a.backend || have.status !== a.status || have.stepsDone !== a.stepsDone) return false;
  return (await dataDigest(db, { runId: id })) === incomingDigest;
}

/**
 * Import runs in ONE transaction: either every run lands with all its rows or none does.
 * A run whose id (or source id) is here with the same content is left alone; one whose id is
 * taken by different content gets a new id and a note saying why; a norm-matched run imported
 * with its mix run has its target id follow the mix run's new id.
 */
export async function importRuns(db: LibraryDb, items: RunImport[]): Promise<RunImportOutcome[]> {
  const outcomes: RunImportOutcome[] = [];
  const statements: string[] = [];
  const remap = new Map<string, string>();
  const assigned = new Set<string>();
  for (const item of items) {
    const rec = item.record;
    const digest = await dataDigest(db, { files: item.files });
    let same: string | undefined;
    for (const candidate of await runsFromSource(db, rec.id)) {
      if (await sameRun(db, candidate, item, digest)) {
        same = candidate;
        break;
      }
    }
    if (same) {
      remap.set(rec.id, same);
      outcomes.push({ id: same, sourceId: rec.id, action: 'unchanged', message: `${rec.id}: already in the library as ${same} with the same content; nothing imported` });
      continue;
    }
    const taken = (await runsFromSource(db, rec.id)).includes(rec.id) || assigned.has(rec.id);
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
      const file = item.files[table];
      if (file === undefined) continue; // an optional table the saved run predates
      const cols = RUN_TABLES[table].columns.map(([col]) => col).join(', ');
      statements.push(`INSERT INTO ${table} (run_id, ${cols}) SELECT ${str(id)}, ${cols} FROM read_parquet(${str(file)})`);
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
  await db.transaction(statements);
  return outcomes;
}

/** Row counts of the runs table and every per-run table (for integrity checks). */
export async function tableCounts(db: LibraryDb): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of ['runs', ...RUN_TABLE_NAMES]) {
    const r = await db.con.runAndReadAll(`SELECT count(*) FROM ${t}`);
    out[t] = Number(r.getRowsJS()[0][0]);
  }
  return out;
}

/** Column names and types of any query's result. */
export async function describeQuery(db: LibraryDb, sql: string): Promise<[string, string][]> {
  const r = await db.con.runAndReadAll(`DESCRIBE ${sql}`);
  return r.getRowObjectsJS().map((x) => [String(x.column_name), String(x.column_type)]);
}

/** What importExternalRows has read of a file before it writes anything: its last step, and per column the values it holds (non-null cells). */
export interface ExternalFacts {
  lastStep: number;
  values: number[];
}

/**
 * Import an external run (core/library/external.ts decides the mapping): rows of `reader`
 * grouped by step, mapped columns into metrics/probe_metrics, the rest into external_metrics;
 * one transaction. `settle` sees what was read before anything is written and gives the run's
 * config and note, or throws to refuse the file (nothing written). An id already in the library
 * is never reused: the run gets the base id with a random suffix.
 */
export async function importExternalRows(db: LibraryDb, args: {
  baseId: string;
  settle: (facts: ExternalFacts) => { config: RunConfig; note: string };
  reader: string;
  stepColumn: string;
  columns: { column: string; name: string; target: { table: 'metrics'; field: string } | { table: 'probe'; probe: string } | null }[];
}): Promise<RunImportOutcome> {
  const qi = (s: string): string => `"${s.replace(/"/g, '""')}"`;
  const step = qi(args.stepColumn);
  const check = await db.con.runAndReadAll(
    `SELECT count(*) FILTER (WHERE ${step} IS NOT NULL AND (CAST(${step} AS DOUBLE) < 0 OR CAST(${step} AS DOUBLE) <> floor(CAST(${step} AS DOUBLE)))) AS bad, count(${step}) AS n,
      max(CAST(${step} AS DOUBLE)) AS last${args.columns.map((c, i) => `, count(${qi(c.column)}) FILTER (WHERE ${step} IS NOT NULL) AS v${i}`).join('')} FROM ${args.reader}`,
  );
  const facts = check.getRowObjectsJS()[0];
  const { bad, n } = facts;
  if (Number(bad) > 0) throw new Error(`column ${args.stepColumn} has ${bad} values that are not non-negative whole numbers`);
  if (Number(n) === 0) throw new Error('no rows with a step');
  const { config, note } = args.settle({ lastStep: Number(facts.last), values: args.columns.map((_c, i) => Number(facts[`v${i}`])) });
  const exists = async (id: string): Promise<boolean> => (await db.con.runAndReadAll(`SELECT 1 FROM runs WHERE id = ${str(id)}`)).getRowsJS().length > 0;
  let id = args.baseId;
  while (await exists(id)) id = `${args.baseId}-${randomBytes(3).toString('hex')}`;
  const agg = args.columns.map((c, i) => `any_value(CAST(${qi(c.column)} AS DOUBLE)) AS c${i}`).join(', ');
  const grouped = `(SELECT CAST(${step} AS BIGINT) AS step, ${agg} FROM ${args.reader} WHERE ${step} IS NOT NULL GROUP BY 1)`;
  const metricCol = (field: string): string => {
    const i = args.columns.findIndex((c) => c.target?.table === 'metrics' && c.target.field === field);
    return i < 0 ? 'NULL' : `c${i}`;
  };
  const fields = ['train_loss', 'train_acc', 'test_loss', 'test_acc', 'weight_norm', 'fourier_topk_share', 'fourier_gini'];
  const statements = [
    `CREATE OR REPLACE TEMP TABLE ext_rows AS ${grouped.slice(1, -1)}`,
    `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${str(id)}, ${str(nowIso())}, ${str(nowIso())}, 'completed', ${str(config.task)}, ${str(config.arch)},
      ${str(config.condition)}, ${num(config.seed)}, 'external', ${str(JSON.stringify(config))}, 'external', NULL, '{}', NULL, 0, NULL, NULL, NULL, 'external', ${str(note)}, NULL, NULL)`,
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
  await db.transaction(statements);
  await db.con.run('DROP TABLE IF EXISTS ext_rows');
  const rows = await getMetrics(db, id);
  const events = eventsFromMetrics(config, rows);
  await updateRun(db, id, { events });
  return { id, sourceId: id, action: 'imported', message: `${id}: imported (${rows.length} steps)` };
}

/** Write any query's result as Parquet (test fixtures, exports). */
export async function copyQueryToParquet(db: LibraryDb, sql: string, file: string): Promise<void> {
  await copyQuery(db, sql, file, 'parquet');
}

/** A query's rows to a CSV (with a header) or Parquet file. */
export async function copyQuery(db: LibraryDb, sql: string, file: string, format: 'csv' | 'parquet'): Promise<void> {
  await db.con.run(`COPY (${sql}) TO ${str(file)} (${format === 'csv' ? 'FORMAT csv, HEADER' : 'FORMAT parquet'})`);
}
