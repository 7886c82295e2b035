import { canonicalJson, type Library } from '../library/library.js';
import { MATCHED_CONDITIONS, RunConfigSchema, type RunConfig } from '../schema/run-config.js';
import { StudySpecSchema, type StudySpec } from '../schema/study-spec.js';
import { planRuns } from './spec.js';

/**
 * Runs of a study imported from another library (a bundle that carries the study's spec, above
 * all a compact export: `export --study NAME --compact`) take their places in the study here, so
 * that `analyze --study NAME` and `study SPEC` see them as the study's own. A run's place is the
 * planned key whose config it has (the plan is a function of the spec; the backend and a
 * norm-matched run's target id, which differ between machines, are left out of the comparison).
 * A place already filled by a completed run stays as it is (the first completed run of a key
 * wins, as on a queue); a library holding another spec under the study's name adopts nothing and
 * says so. Decided 2026-12-05 (docs/decisions.md).
 */
export interface AdoptResult {
  study: string;
  /** Runs that now fill a planned key. */
  adopted: number;
  /** Runs whose key was already filled by a completed run (left as it was). */
  kept: number;
  /** Runs of the bundle that fill no planned key of the spec. */
  unplanned: string[];
  /** Planned runs the library now holds completed, of how many. */
  completed: number;
  planned: number;
  /** Why nothing was adopted (another spec under the name), else null. */
  refused: string | null;
}

/** A config as the plan compares it: defaults filled, without what differs between machines. */
function comparable(config: Record<string, unknown>): string | null {
  // A matched condition needs a target to parse; which one is left out below.
  const parsed = RunConfigSchema.safeParse({ ...config, normTargetRun: (MATCHED_CONDITIONS as readonly unknown[]).includes(config.condition) ? 'planned' : undefined });
  if (!parsed.success) return null;
  const { backend: _b, normTargetRun: _n, ...rest } = parsed.data as RunConfig;
  return canonicalJson(rest);
}

export async function adoptStudyRuns(lib: Library, spec: StudySpec, runIds: string[]): Promise<AdoptResult> {
  const specJson = JSON.stringify(spec);
  const plan = planRuns(spec);
  const result: AdoptResult = { study: spec.name, adopted: 0, kept: 0, unplanned: [], completed: 0, planned: plan.length, refused: null };
  const stored = await lib.getStudySpec(spec.name);
  if (stored !== null) {
    const parsed = StudySpecSchema.safeParse(JSON.parse(stored));
    if (!parsed.success || canonicalJson(parsed.data) !== canonicalJson(StudySpecSchema.parse(spec))) {
      result.refused = `this library has another study named '${spec.name}' (a different spec): the runs were imported but not added to it`;
      return result;
    }
  }
  const byConfig = new Map<string, string>();
  for (const p of plan) {
    const c = comparable(p.config as Record<string, unknown>);
    if (c !== null) byConfig.set(c, p.key);
  }
  // Keep the stored spec text when there is one (the runner compares it as text).
  if (stored === null) await lib.upsertStudy(spec.name, specJson, 'incomplete');
  const current = await lib.getStudyRuns(spec.name);
  const statusOf = async (id: string): Promise<string | null> => {
    try {
      return (await lib.getRun(id)).status;
    } catch {
      return null; // deleted meanwhile
    }
  };
  for (const id of [...new Set(runIds)]) {
    const run = await lib.getRun(id);
    const key = byConfig.get(comparable(run.config as unknown as Record<string, unknown>) ?? '');
    if (key === undefined) {
      result.unplanned.push(id);
      continue;
    }
    const holder = current.get(key);
    if (holder === id) continue;
    if (holder !== undefined && (await statusOf(holder)) === 'completed') {
      result.kept++;
      continue;
    }
    await lib.setStudyRun(spec.name, key, id);
    current.set(key, id);
    result.adopted++;
  }
  for (const id of current.values()) if ((await statusOf(id)) === 'completed') result.completed++;
  const finished = plan.every((p) => current.has(p.key)) && result.completed === plan.length;
  await lib.upsertStudy(spec.name, stored ?? specJson, finished ? 'completed' : 'incomplete');
  return result;
}
