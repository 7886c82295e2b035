import { nowIso, type LibraryDb } from './db.js';
import { str } from './sql.js';

/** Studies remembered in the library: their spec and which run fills each place of the plan. */
/** The study's spec as stored, or null when the library has no such study. */
export async function getStudySpec(db: LibraryDb, id: string): Promise<string | null> {
  const r = await db.con.runAndReadAll(`SELECT spec FROM studies WHERE id = ${str(id)}`);
  const rows = r.getRowsJS();
  return rows.length ? String(rows[0][0]) : null;
}

export async function upsertStudy(db: LibraryDb, id: string, spec: string, status: string): Promise<void> {
  const t = nowIso();
  const exists = (await getStudySpec(db, id)) !== null;
  await db.con.run(
    exists
      ? `UPDATE studies SET spec = ${str(spec)}, status = ${str(status)}, updated_at = ${str(t)} WHERE id = ${str(id)}`
      : `INSERT INTO studies VALUES (${str(id)}, ${str(spec)}, ${str(t)}, ${str(t)}, ${str(status)})`,
  );
}

/** key → run id of a study's runs. */
export async function getStudyRuns(db: LibraryDb, id: string): Promise<Map<string, string>> {
  const r = await db.con.runAndReadAll(`SELECT key, run_id FROM study_runs WHERE study_id = ${str(id)}`);
  return new Map(r.getRowsJS().map(([k, v]) => [String(k), String(v)]));
}

/** The statements that point a study's planned key at a run (in the caller's transaction). */
export function studyRunStatements(id: string, key: string, runId: string): string[] {
  return [`DELETE FROM study_runs WHERE study_id = ${str(id)} AND key = ${str(key)}`, `INSERT INTO study_runs VALUES (${str(id)}, ${str(key)}, ${str(runId)})`];
}

export async function setStudyRun(db: LibraryDb, id: string, key: string, runId: string): Promise<void> {
  await db.transaction(studyRunStatements(id, key, runId));
}

/**
 * Run id → the study it belongs to, as SQL for a join: the study whose plan points at the run
 * (study_runs). A run is created for one study's planned key, but nothing in the tables stops two
 * studies from naming the same run; it then belongs to the study created first (ties by name),
 * the one that trained it. Runs no study names are absent (null after a LEFT JOIN).
 */
export const RUN_STUDY_SQL = `SELECT sr.run_id, first(sr.study_id ORDER BY s.created_at NULLS LAST, sr.study_id) AS study
  FROM study_runs sr LEFT JOIN studies s ON s.id = sr.study_id GROUP BY sr.run_id`;

/** The study a run belongs to (RUN_STUDY_SQL's rule), or null. */
export async function studyOfRun(db: LibraryDb, runId: string): Promise<string | null> {
  const rows = (await db.con.runAndReadAll(`SELECT study FROM (${RUN_STUDY_SQL}) WHERE run_id = ${str(runId)}`)).getRowsJS();
  return rows.length ? String(rows[0][0]) : null;
}

/** A study as the library remembers it, with how many of its runs are completed and failed. */
export interface StudyRecord {
  id: string;
  spec: string;
  createdAt: string;
  updatedAt: string;
  status: string;
  /** Its runs by status (a run deleted from the library meanwhile is not counted). */
  completed: number;
  failed: number;
  recorded: number;
}

/** Every study of the library, most recently updated first. */
export async function listStudies(db: LibraryDb): Promise<StudyRecord[]> {
  const r = await db.con.runAndReadAll(
    `SELECT s.id, s.spec, s.created_at, s.updated_at, s.status,
       count(r.id) FILTER (WHERE r.status = 'completed'), count(r.id) FILTER (WHERE r.status = 'failed'), count(r.id)
     FROM studies s LEFT JOIN study_runs sr ON sr.study_id = s.id LEFT JOIN runs r ON r.id = sr.run_id
     GROUP BY s.id, s.spec, s.created_at, s.updated_at, s.status ORDER BY s.updated_at DESC, s.id`,
  );
  return r.getRowsJS().map(([id, spec, createdAt, updatedAt, status, completed, failed, recorded]) => ({
    id: String(id),
    spec: String(spec),
    createdAt: String(createdAt),
    updatedAt: String(updatedAt),
    status: String(status),
    completed: Number(completed),
    failed: Number(failed),
    recorded: Number(recorded),
  }));
}
