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
