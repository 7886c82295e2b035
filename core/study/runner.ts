import { rmSync } from 'node:fs';
import type { Piscina } from 'piscina';
import type { RunConfig } from '../schema/run-config.js';
import { Library } from '../library/library.js';
import { checkpointDirFor, executeRun, latestCheckpoint, type RunOutcome, type RunProgress } from '../runs/run-executor.js';
import { planRuns, type PlannedRun } from './spec.js';
import type { StudySpec } from '../schema/study-spec.js';
import { GrokscopeError } from '../errors.js';

/**
 * Runs a study through the worker pool, resumably: the library remembers which run stands for
 * each planned key. Re-running a study skips completed runs, resumes stopped or interrupted ones
 * from their checkpoints and restarts failed ones. `norm-matched` runs start when their `mix`
 * run has finished.
 */
export interface StudyProgress {
  total: number;
  done: number;
  failed: number;
  running: Map<string, RunProgress>;
}

export interface StudyRunResult {
  key: string;
  runId: string | null;
  status: string;
  error: string | null;
}

export class StudyError extends GrokscopeError {}

export async function runStudy(opts: {
  spec: StudySpec;
  libraryDir: string;
  pool: Piscina;
  onProgress?: (p: StudyProgress) => void;
  signal?: AbortSignal;
}): Promise<StudyRunResult[]> {
  const { spec, libraryDir, pool } = opts;
  const plan = planRuns(spec);
  const specJson = JSON.stringify(spec);
  const known = await Library.with(libraryDir, async (lib) => {
    const stored = await lib.getStudySpec(spec.name);
    if (stored !== null && stored !== specJson) {
      throw new StudyError(`study '${spec.name}' already exists in ${libraryDir} with a different spec; give this one another name`);
    }
    await lib.upsertStudy(spec.name, specJson, 'running');
    const map = await lib.getStudyRuns(spec.name);
    const statuses = new Map<string, string>();
    for (const [key, runId] of map) {
      try {
        statuses.set(key, (await lib.getRun(runId)).status);
      } catch {
        map.delete(key); // the run was deleted from the library: plan it again
      }
    }
    return { map, statuses };
  });

  const progress: StudyProgress = { total: plan.length, done: 0, failed: 0, running: new Map() };
  const results = new Map<string, Promise<StudyRunResult>>();
  const report = (): void => opts.onProgress?.(progress);

  const execute = async (run: PlannedRun): Promise<StudyRunResult> => {
    let normTargetRun: string | undefined;
    if (run.dependsOn) {
      const dep = await results.get(run.dependsOn)!;
      if (dep.status !== 'completed' || !dep.runId) {
        progress.failed++;
        report();
        return { key: run.key, runId: null, status: 'failed', error: `its mix run ${run.dependsOn} did not complete` };
      }
      normTargetRun = dep.runId;
    }
    if (opts.signal?.aborted) return { key: run.key, runId: known.map.get(run.key) ?? null, status: 'stopped', error: null };
    const existing = known.map.get(run.key);
    const status = existing ? known.statuses.get(run.key) : undefined;
    if (existing && status === 'completed') {
      progress.done++;
      report();
      return { key: run.key, runId: existing, status: 'completed', error: null };
    }
    const config: RunConfig = { ...run.config, ...(normTargetRun ? { normTargetRun } : {}) };
    const canResume = existing !== undefined && status !== 'failed' && latestCheckpoint(checkpointDirFor(libraryDir, existing)) !== null;
    if (existing && !canResume) {
      await Library.with(libraryDir, (lib) => lib.deleteRun(existing));
      rmSync(checkpointDirFor(libraryDir, existing), { recursive: true, force: true });
    }
    let outcome: RunOutcome;
    try {
      outcome = await executeRun({
        libraryDir,
        pool,
        ...(canResume ? { resumeRunId: existing } : { config }),
        signal: opts.signal,
        onCreated: (runId) => Library.with(libraryDir, (lib) => lib.setStudyRun(spec.name, run.key, runId)),
        onProgress: (p) => {
          progress.running.set(run.key, p);
          report();
        },
      });
    } catch (err) {
      progress.running.delete(run.key);
      progress.failed++;
      report();
      return { key: run.key, runId: null, status: 'failed', error: (err as Error).message };
    }
    progress.running.delete(run.key);
    if (outcome.status === 'completed') progress.done++;
    if (outcome.status === 'failed') progress.failed++;
    report();
    return { key: run.key, runId: outcome.runId, status: outcome.status, error: outcome.error };
  };

  // Independent runs first, so dependants find their dependency's promise registered.
  const ordered = [...plan.filter((r) => !r.dependsOn), ...plan.filter((r) => r.dependsOn)];
  for (const run of ordered) results.set(run.key, execute(run));
  const all = await Promise.all([...results.values()]);
  const finished = all.every((r) => r.status === 'completed');
  await Library.with(libraryDir, (lib) => lib.upsertStudy(spec.name, specJson, finished ? 'completed' : opts.signal?.aborted ? 'stopped' : 'incomplete'));
  return plan.map((p) => all.find((r) => r.key === p.key)!);
}
