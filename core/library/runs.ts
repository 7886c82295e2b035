import { randomBytes } from 'node:crypto';
import type { RunConfig } from '../schema/run-config.js';
import type { RunEvents } from '../analysis/events.js';
import { LibraryError, METRIC_TABLES, nowIso, type LibraryDb } from './db.js';
import { num, str } from './sql.js';
import { RUN_STUDY_SQL, studyRunStatements } from './studies.js';
import { isS5Task } from '../tasks/groups.js';

/** Run records: create, update, list, find by id or prefix, tag, delete. */
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

export const RUN_COLUMNS =
  'id, created_at, updated_at, status, task, arch, condition, seed, preset, config, backend, backend_note, versions, events, steps_done, error, t_grok, t_cross, origin, note, source_id, tags';

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

export function recordFromRow(r: Record<string, unknown>): RunRecord {
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

export function newRunId(config: Pick<RunConfig, 'task' | 'arch' | 'seed'>): string {
  return `${config.task}-${config.arch}-s${config.seed}-${randomBytes(3).toString('hex')}`;
}

/**
 * Record a new run. With `studyKey`, the study's planned key is pointed at it in the same
 * transaction: a process killed in between (tested with 20 SIGKILLs, `npm run stress:kill`) left
 * runs no key pointed at, and the study trained their key again under another id.
 */
export async function createRun(
  db: LibraryDb,
  config: RunConfig,
  versions: Record<string, string>,
  id = newRunId(config),
  studyKey?: { study: string; key: string },
): Promise<string> {
  const t = nowIso();
  const insert = `INSERT INTO runs (${RUN_COLUMNS}) VALUES (${str(id)}, ${str(t)}, ${str(t)}, 'queued', ${str(config.task)}, ${str(config.arch)},
      ${str(config.condition)}, ${num(config.seed)}, ${str(config.preset ?? null)}, ${str(JSON.stringify(config))},
      NULL, NULL, ${str(JSON.stringify(versions))}, NULL, 0, NULL, NULL, NULL, 'trained', NULL, NULL, NULL)`;
  if (!studyKey) await db.con.run(insert);
  else await db.transaction([insert, ...studyRunStatements(studyKey.study, studyKey.key, id)]);
  return id;
}

export async function updateRun(
  db: LibraryDb,
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
  await db.con.run(`UPDATE runs SET ${sets.join(', ')} WHERE id = ${str(id)}`);
}

export async function deleteRun(db: LibraryDb, id: string): Promise<void> {
  await db.transaction([
    ...[...METRIC_TABLES, 'step_norms'].map((t) => `DELETE FROM ${t} WHERE run_id = ${str(id)}`),
    `DELETE FROM runs WHERE id = ${str(id)}`,
  ]);
}

export async function listRuns(db: LibraryDb): Promise<RunSummary[]> {
  const reader = await db.con.runAndReadAll(`SELECT ${SUMMARY_COLUMNS} FROM runs ORDER BY created_at, id`);
  return reader.getRowObjectsJS().map(summaryOf);
}

/** What a library view shows of a run beyond its summary. */
export interface RunListRow extends RunSummary {
  backend: string | null;
  origin: RunOrigin;
  stepsDone: number;
  steps: number;
  lead: number | null;
  tags: string[];
  /** The settings that tell otherwise alike runs apart; p null where the task does not use it (S5), any null where the config lacks it. */
  p: number | null;
  lr: number | null;
  weightDecay: number | null;
  trainFraction: number | null;
  /** The study the run belongs to (studies.ts RUN_STUDY_SQL), or null. */
  study: string | null;
}

const numberOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Every run with what a library view shows (backend, origin, progress, lead, key settings, study),
 * in one query: the config is parsed once per run, as the budget always was, and no metric is read.
 */
export async function listRunsDetailed(db: LibraryDb): Promise<RunListRow[]> {
  const reader = await db.con.runAndReadAll(
    `SELECT ${SUMMARY_COLUMNS.split(', ').map((c) => `runs.${c}`).join(', ')}, backend, origin, steps_done, config, events, tags, rs.study
     FROM runs LEFT JOIN (${RUN_STUDY_SQL}) rs ON rs.run_id = runs.id ORDER BY created_at, id`,
  );
  return reader.getRowObjectsJS().map((r) => {
    const config = JSON.parse(String(r.config)) as Partial<Record<'steps' | 'p' | 'lr' | 'weightDecay' | 'trainFraction', unknown>>;
    // The summary's fields written out: spread among this many more, V8 built the objects on a slow
    // path (measured on 5,000 runs: twice the CPU time of these literals, which list them in less
    // than the seven-field list took before p, lr, weight decay, train fraction and study).
    return {
      id: String(r.id),
      task: String(r.task),
      arch: String(r.arch),
      condition: String(r.condition),
      seed: Number(r.seed),
      status: r.status as RunStatus,
      T_grok: r.t_grok === null ? null : Number(r.t_grok),
      T_cross: r.t_cross === null ? null : Number(r.t_cross),
      backend: r.backend === null ? null : String(r.backend),
      origin: (r.origin ?? 'trained') as RunOrigin,
      stepsDone: Number(r.steps_done),
      steps: Number(config.steps ?? 0),
      lead: r.events === null ? null : ((JSON.parse(String(r.events)) as RunEvents).lead ?? null),
      tags: parseTags(r.tags),
      p: isS5Task(String(r.task)) ? null : numberOrNull(config.p),
      lr: numberOrNull(config.lr),
      weightDecay: numberOrNull(config.weightDecay),
      trainFraction: numberOrNull(config.trainFraction),
      study: r.study === null || r.study === undefined ? null : String(r.study),
    };
  });
}

/** Replace a run's tags. */
export async function setTags(db: LibraryDb, id: string, tags: string[]): Promise<void> {
  const t = normaliseTags(tags);
  await db.con.run(`UPDATE runs SET tags = ${str(t.length ? JSON.stringify(t) : null)}, updated_at = ${str(nowIso())} WHERE id = ${str(id)}`);
}

/** A run by exact id, or by a unique id prefix. */
export async function resolveRunId(db: LibraryDb, idOrPrefix: string): Promise<string> {
  const reader = await db.con.runAndReadAll(
    `SELECT id FROM runs WHERE id = ${str(idOrPrefix)} OR starts_with(id, ${str(idOrPrefix)}) ORDER BY id`,
  );
  const ids = reader.getRowsJS().map((r) => String(r[0]));
  if (ids.includes(idOrPrefix)) return idOrPrefix;
  if (ids.length === 1) return ids[0];
  if (ids.length === 0) throw new LibraryError(`no run '${idOrPrefix}' in library ${db.dir}`);
  throw new LibraryError(`'${idOrPrefix}' matches ${ids.length} runs (${ids.slice(0, 3).join(', ')}…); give more of the id`);
}

/** resolveRunId for many: exact ids in one query, prefixes one by one. */
export async function resolveRunIds(db: LibraryDb, idsOrPrefixes: string[]): Promise<string[]> {
  if (idsOrPrefixes.length === 0) return [];
  const exact = new Set(
    (await db.con.runAndReadAll(`SELECT id FROM runs WHERE id IN (${idsOrPrefixes.map(str).join(', ')})`)).getRowsJS().map((r) => String(r[0])),
  );
  const out: string[] = [];
  for (const x of idsOrPrefixes) out.push(exact.has(x) ? x : await resolveRunId(db, x));
  return out;
}

export async function getRun(db: LibraryDb, id: string): Promise<RunRecord> {
  const reader = await db.con.runAndReadAll(`SELECT * FROM runs WHERE id = ${str(id)}`);
  const rows = reader.getRowObjectsJS();
  if (rows.length === 0) throw new LibraryError(`no run '${id}' in library ${db.dir}`);
  return recordFromRow(rows[0]);
}

/** Many runs' records in one query, in the order asked; throws naming the first id that is not here. */
export async function getRuns(db: LibraryDb, ids: string[]): Promise<RunRecord[]> {
  if (ids.length === 0) return [];
  const rows = (await db.con.runAndReadAll(`SELECT * FROM runs WHERE id IN (${ids.map(str).join(', ')})`)).getRowObjectsJS();
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  return ids.map((id) => {
    const r = byId.get(id);
    if (!r) throw new LibraryError(`no run '${id}' in library ${db.dir}`);
    return recordFromRow(r);
  });
}
